#!/usr/bin/python3
"""Makes the SentencePiece fixtures read by text/subword_test.ts (run from this folder with Debian's
/usr/bin/python3 and python3-sentencepiece 0.1.97):

  spm_unigram.model  unigram, vocab 400, byte fallback, user symbols xxbos/xxmaj, identity normaliser,
                     extra whitespace removed (the default)
  spm_bpe.model      BPE, vocab 300, identity normaliser, extra whitespace kept
  spm_expected.json  for each model: test sentences with SentencePiece's ids and decoded text

The training text is generated here from a fixed seed (no external data). Run `deno fmt spm_expected.json`
afterwards (the repository's format check covers JSON files)."""
import json
import random

import sentencepiece as spm

WORDS = ("the of and to in a is that for it as was with be by on not he this are or his from at which but have "
         "an they you were her she there would their we him been has when who will more no if out so said what up "
         "its about into than them can only other new some could time these two may then do first any my now such "
         "like our over man me even most made after also did many before must through back years where much your "
         "way well café naïve 東京 2024 3,000 1.5").split()


def main() -> None:
    rnd = random.Random(1)
    lines = []
    for _ in range(3000):
        n = rnd.randint(3, 14)
        ws = [WORDS[min(len(WORDS) - 1, int(rnd.random() ** 3 * len(WORDS)))] for _ in range(n)]
        ws[0] = ws[0].capitalize()
        lines.append(" ".join(ws) + rnd.choice([".", ",", " !", "?"]))
    with open("spm_corpus.tmp.txt", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    spm.SentencePieceTrainer.train(input="spm_corpus.tmp.txt", model_prefix="spm_unigram", vocab_size=400,
                                   model_type="unigram", byte_fallback=True, user_defined_symbols=["xxbos", "xxmaj"],
                                   normalization_rule_name="identity", character_coverage=1.0, minloglevel=2)
    spm.SentencePieceTrainer.train(input="spm_corpus.tmp.txt", model_prefix="spm_bpe", vocab_size=300,
                                   model_type="bpe", normalization_rule_name="identity",
                                   remove_extra_whitespaces=False, character_coverage=1.0, minloglevel=2)
    tests = lines[:40] + [
        "xxbos xxmaj the café is naïve",
        "unseen ZQX chars: € ß Ω 😀",
        "東京 2024 and 3,000 or 1.5",
        "the   many    spaces",
        "well-made,before;after",
    ]
    out = {}
    for name in ("spm_unigram", "spm_bpe"):
        sp = spm.SentencePieceProcessor(model_file=f"{name}.model")
        ids = sp.encode(tests, out_type=int)
        out[name] = [{"text": t, "ids": i, "decoded": sp.decode(i)} for t, i in zip(tests, ids)]
    with open("spm_expected.json", "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))


if __name__ == "__main__":
    main()
