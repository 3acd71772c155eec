#!/usr/bin/python3
"""SentencePiece peer for bench/text_subword.ts (Debian python3-sentencepiece 0.1.97, run with /usr/bin/python3).

usage: spm_peer.py CORPUS_TXT VOCAB_SIZE OUT_DIR [unigram|bpe ...]
       spm_peer.py --encode MODEL CORPUS_TXT OUT_IDS   (encode with any .model, e.g. one written by denofit)

For each model type: trains in-process (time of SentencePieceTrainer.train), then encodes every line of the corpus
in one batch call with 1 and with 2 threads (median of 3 runs, model already loaded). Prints one JSON object per
line and writes OUT_DIR/spm_<type>.model and OUT_DIR/spm_<type>.ids (the ids of each line, space-separated) so the
Deno side can compare its own encoding of the same model.
"""
import json
import sys
import time

import sentencepiece as spm


def encode_only(model: str, corpus: str, out_ids: str) -> None:
    sp = spm.SentencePieceProcessor(model_file=model)
    with open(corpus, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    with open(out_ids, "w", encoding="utf-8") as f:
        for x in sp.encode(lines, out_type=int):
            f.write(" ".join(map(str, x)) + "\n")


def main() -> None:
    if sys.argv[1] == "--encode":
        encode_only(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    corpus, vocab, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    types = sys.argv[4:] or ["unigram", "bpe"]
    with open(corpus, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for t in types:
        prefix = f"{out}/spm_{t}"
        t0, c0 = time.perf_counter(), time.process_time()
        spm.SentencePieceTrainer.train(
            input=corpus, model_prefix=prefix, vocab_size=vocab, model_type=t,
            character_coverage=0.9995, num_threads=2, minloglevel=2,
        )
        train_s, train_cpu = time.perf_counter() - t0, time.process_time() - c0
        print(json.dumps({"case": f"subword_{t}_train_brown_{vocab}", "value": train_s, "unit": "s",
                          "cpu_s": train_cpu,
                          "note": "SentencePieceTrainer.train in-process, num_threads=2; cpu_s = all threads"}),
              flush=True)
        sp = spm.SentencePieceProcessor(model_file=f"{prefix}.model")
        ids = None
        for threads in (1, 2):
            times, cpus = [], []
            for _ in range(3):
                t0, c0 = time.perf_counter(), time.process_time()
                ids = sp.encode(lines, out_type=int, num_threads=threads)
                times.append(time.perf_counter() - t0)
                cpus.append(time.process_time() - c0)
            times.sort()
            cpus.sort()
            tokens = sum(len(x) for x in ids)
            print(json.dumps({"case": f"subword_{t}_encode_brown_{vocab}_threads{threads}",
                              "value": tokens / times[1], "unit": "tokens/s", "tokens": tokens,
                              "per_cpu_s": tokens / cpus[1],
                              "note": f"sp.encode(batch of {len(lines)} lines, num_threads={threads}), median of 3"}),
                  flush=True)
        with open(f"{prefix}.ids", "w", encoding="utf-8") as f:
            for x in ids:
                f.write(" ".join(map(str, x)) + "\n")


if __name__ == "__main__":
    main()
