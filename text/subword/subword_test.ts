import { deepStrictEqual, ok } from "node:assert/strict";
import { type PieceType, SUBWORD_SPECIALS, SubwordTokenizer, trainSubword } from "./subword.ts";
import { digamma } from "./_unigram.ts";
import { SegmentCache } from "./_cache.ts";
import { uniformAt } from "../../gpu/rng.ts";

const assert = (cond: unknown, msg?: string): void => ok(cond, msg);
const assertEquals = <T>(actual: T, expected: T, msg?: string): void =>
  deepStrictEqual(actual, expected, msg);
// deno-lint-ignore no-explicit-any
function assertThrows(fn: () => unknown, cls: new (...a: any[]) => Error, includes: string): void {
  try {
    fn();
  } catch (e) {
    ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    ok(
      (e as Error).message.includes(includes),
      `message ${JSON.stringify((e as Error).message)} lacks ${includes}`,
    );
    return;
  }
  throw new Error(`expected ${cls.name} containing ${JSON.stringify(includes)}, nothing thrown`);
}

// A small English corpus made from a seeded generator (no files needed).
const WORDS = (
  "the of and to in a is that for it as was with be by on not he this are or his from at which but have an " +
  "they you were her she there would their we him been has when who will more no if out so said what up its " +
  "about into than them can only other new some could time these two may then do first any my now such like " +
  "our over man me even most made after also did many before must through back years where much your way well"
).split(" ");
function corpus(lines: number, seed = 1): string[] {
  const out: string[] = [];
  let k = 0;
  for (let i = 0; i < lines; i++) {
    const n = 4 + Math.floor(uniformAt(seed, k++) * 12);
    const ws: string[] = [];
    for (let j = 0; j < n; j++) {
      // Zipf-like: low indices far more often
      const r = uniformAt(seed, k++);
      let w = WORDS[Math.floor(r * r * r * WORDS.length)]!;
      if (j === 0) w = w[0]!.toUpperCase() + w.slice(1);
      ws.push(w);
    }
    out.push(ws.join(" ") + (uniformAt(seed, k++) < 0.5 ? "." : ","));
  }
  return out;
}
const CORPUS = corpus(1500);

const RANGES: Array<[number, number]> = [
  [0x20, 0x7e],
  [0x20, 0x20],
  [0x0a, 0x0a],
  [0x09, 0x09],
  [0xa0, 0x17f],
  [0x300, 0x36f],
  [0x391, 0x3c9],
  [0x4e00, 0x4fff],
  [0x3040, 0x30ff],
  [0x1f600, 0x1f64f],
  [0x2581, 0x2581],
  [0xfff0, 0xfffd],
  [0x10000, 0x1007f],
  [0x0, 0x1f],
];
function randomString(seed: number, len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) {
    const [a, b] = RANGES[Math.floor(uniformAt(seed, 2 * i) * RANGES.length)]!;
    s += String.fromCodePoint(a + Math.floor(uniformAt(seed, 2 * i + 1) * (b - a + 1)));
  }
  return s;
}

const VARIED = [
  "",
  " ",
  "   ",
  "The cat",
  "  leading and trailing  ",
  "multiple   spaces\tand\ttabs\r\nand newlines\n\n",
  "Chinese 中文分词测试 and Japanese ひらがなカタカナ",
  "emoji 😀👍🏽 👨‍👩‍👧 flags 🇫🇷",
  "literal ▁ marks ▁▁ and xxbos xxmaj specials xxunk inside xxmajor",
  "numbers 1.00 3,000 and e-mails a@b.com https://x.y/z?q=1",
  "\u0000NUL and \u0007 bell",
  "é composed vs e\u0301 decomposed",
];

let cachedUni: SubwordTokenizer | undefined, cachedBpe: SubwordTokenizer | undefined;
const uni = () => cachedUni ??= SubwordTokenizer.train(CORPUS, { vocabSize: 400, characterCoverage: 1 });
const bpe = () =>
  cachedBpe ??= SubwordTokenizer.train(CORPUS, { vocabSize: 400, model: "bpe", characterCoverage: 1 });

Deno.test("SubwordTokenizer.train() gives exactly vocabSize pieces, specials first", async (t) => {
  for (const [name, tok] of [["unigram", uni], ["bpe", bpe]] as const) {
    await t.step(name, () => {
      const m = tok();
      assertEquals(m.size, 400);
      SUBWORD_SPECIALS.forEach((s, i) => assertEquals(m.idToPiece(i), s));
      assertEquals(m.pieceType(0), "unknown");
      assertEquals(m.pieceType(2), "user");
      assertEquals(m.idToPiece(9), "<0x00>");
      assertEquals(m.idToPiece(264), "<0xFF>");
      assertEquals(m.pieceType(265), "normal");
      const pieces = Array.from({ length: m.size }, (_, i) => m.idToPiece(i));
      assertEquals(new Set(pieces).size, m.size, "pieces are unique");
      // frequent whole words become single pieces
      assertEquals(m.encodePieces("the"), ["▁the"]);
      // normal pieces sorted by score
      for (let i = 266; i < m.size; i++) assert(m.score(i) <= m.score(i - 1), `score order at ${i}`);
      // pieces never hold a space mark after their first character
      for (let i = 265; i < m.size; i++) assert(!m.idToPiece(i).slice(1).includes("▁"), m.idToPiece(i));
    });
  }
  await t.step("vocab 30000 default and 0.9995 coverage are recorded", () => {
    assertEquals(uni().settings.training?.characterCoverage, 1);
    assertEquals(uni().settings.training?.model, "unigram");
  });
});

Deno.test("encode()/decode() round-trip exactly", async (t) => {
  for (const [name, tok] of [["unigram", uni], ["bpe", bpe]] as const) {
    await t.step(`${name}: varied strings`, () => {
      for (const s of VARIED) assertEquals(tok().decode(tok().encode(s)), s, JSON.stringify(s));
    });
    await t.step(`${name}: 300 random Unicode strings`, () => {
      for (let k = 0; k < 300; k++) {
        const s = randomString(1000 + k, 1 + (k % 40));
        assertEquals(tok().decode(tok().encode(s)), s, JSON.stringify(s));
      }
    });
  }
  await t.step("the corpus itself", () => {
    for (const s of CORPUS.slice(0, 200)) assertEquals(uni().decode(uni().encode(s)), s);
  });
  await t.step("specials in text map to their ids; a literal ▁ is not a space", () => {
    const ids = uni().encode("xxbos xxmaj the");
    assertEquals(ids.filter((i) => i < 9), [2, 8]);
    const lit = uni().encode("a▁b");
    assert(lit.includes(0xe2 + 9) && lit.includes(0x96 + 9) && lit.includes(0x81 + 9), "literal ▁ as bytes");
    assertEquals(uni().decode(lit), "a▁b");
  });
  await t.step("invalid UTF-8 decoded to U+FFFD round-trips", () => {
    const s = new TextDecoder().decode(new Uint8Array([0x61, 0xff, 0xfe, 0x62, 0xc3, 0x28, 0xe2, 0x82]));
    assert(s.includes("\ufffd"));
    assertEquals(uni().decode(uni().encode(s)), s);
    assertEquals(bpe().decode(bpe().encode(s)), s);
  });
  await t.step("without byte fallback, unknown characters are xxunk; covered text still round-trips", () => {
    const tok = SubwordTokenizer.train(CORPUS, { vocabSize: 150, byteFallback: false, characterCoverage: 1 });
    assertEquals(tok.size, 150);
    assertEquals(tok.pieceType(9), "normal");
    assertEquals(tok.encode("the 中").slice(-1), [0]);
    for (const s of CORPUS.slice(0, 100)) assertEquals(tok.decode(tok.encode(s)), s);
    assertEquals(tok.decode(tok.encode("  The   way.  ")), "  The   way.  ");
  });
});

function handModel(model: "unigram" | "bpe", normal: Array<[string, number]>): SubwordTokenizer {
  const pieces: Array<[string, number, PieceType]> = [["xxunk", 0, "unknown"]];
  for (const [p, s] of normal) pieces.push([p, s, "normal"]);
  return new SubwordTokenizer(model, pieces, {
    addDummyPrefix: true,
    normalization: "identity",
    removeExtraWhitespaces: false,
    textSpecials: [],
  });
}

Deno.test("unigram encode picks the most likely segmentation", async (t) => {
  await t.step("Viterbi beats greedy longest match", () => {
    // "▁abc": ▁ab + c = -1 - 5 = -6; ▁a + bc = -2 - 2 = -4 (best); ▁ + a + b + c = -12
    const m = handModel("unigram", [["▁ab", -1], ["▁a", -2], ["bc", -2], ["c", -5], ["▁", -3], ["a", -3], [
      "b",
      -3,
    ]]);
    assertEquals(m.encodePieces("abc"), ["▁a", "bc"]);
  });
  await t.step("changing one score flips the choice", () => {
    const m = handModel("unigram", [["▁ab", -1], ["▁a", -2], ["bc", -4.5], ["c", -3], ["▁", -3], ["a", -3], [
      "b",
      -3,
    ]]);
    // ▁ab + c = -4 beats ▁a + bc = -6.5
    assertEquals(m.encodePieces("abc"), ["▁ab", "c"]);
  });
  await t.step("unknown characters cost min score - 10 and become xxunk without byte pieces", () => {
    const m = handModel("unigram", [["▁", -1], ["a", -1]]);
    assertEquals(m.encode("aza"), [1, 2, 0, 2]);
    assertEquals(m.decode(m.encode("aza")), "axxunka");
  });
  await t.step("digamma matches known values", () => {
    assert(Math.abs(digamma(1) + 0.5772156649015329) < 1e-9);
    assert(Math.abs(digamma(0.5) + 1.9635100260214235) < 1e-9);
    assert(Math.abs(digamma(100) - 4.600161852738087) < 1e-9);
  });
});

/** Reference BPE: recount all pairs before every merge (slow but obviously right). */
function naiveBpe(words: Map<string, number>, merges: number): string[] {
  const segs = [...words].map(([w, f]) => ({ syms: [...w], f }));
  const out: string[] = [];
  for (let m = 0; m < merges; m++) {
    const counts = new Map<string, [number, string, string]>();
    for (const { syms, f } of segs) {
      for (let i = 0; i + 1 < syms.length; i++) {
        const k = syms[i]! + "\u0000" + syms[i + 1]!;
        const c = counts.get(k);
        counts.set(k, [(c?.[0] ?? 0) + f, syms[i]!, syms[i + 1]!]);
      }
    }
    let best: [number, string, string] | undefined;
    for (const v of counts.values()) {
      if (!best || v[0] > best[0] || (v[0] === best[0] && v[1] + v[2] < best[1] + best[2])) best = v;
    }
    if (!best) break;
    out.push(best[1] + best[2]);
    for (const s of segs) {
      const next: string[] = [];
      for (let i = 0; i < s.syms.length; i++) {
        if (i + 1 < s.syms.length && s.syms[i] === best[1] && s.syms[i + 1] === best[2]) {
          next.push(best[1] + best[2]);
          i++;
        } else next.push(s.syms[i]!);
      }
      s.syms = next;
    }
  }
  return out;
}

function mergesOf(tok: SubwordTokenizer, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < tok.size; i++) {
    if (tok.pieceType(i) === "normal" && [...tok.idToPiece(i)].length > 1) out.push(tok.idToPiece(i));
  }
  return out.slice(0, n);
}

Deno.test("BPE merges in the expected order", async (t) => {
  await t.step("hand-computed tiny corpus", () => {
    // segments ▁aaab, ▁aab, ▁ab (once each). Pairs: ▁a 3, aa 3, ab 3 -> tie, smallest string "aa" first;
    // then ▁aa 2 and ab 2 -> "ab"; then ▁aa 2; then ▁aaab, ▁aab, ▁ab (all 1, in string order).
    const tok = trainSubword(["aaab aab ab"], {
      model: "bpe",
      vocabSize: 1 + 3 + 6,
      specials: ["xxunk"],
      byteFallback: false,
    });
    assertEquals(mergesOf(tok, 6), ["aa", "ab", "▁aa", "▁aaab", "▁aab", "▁ab"]);
    assertEquals(tok.encodePieces("aab aaab"), ["▁aab", "▁aaab"]);
    assertEquals(tok.score(tok.pieceToId("aa")), 0);
    assertEquals(tok.score(tok.pieceToId("ab")), -1);
  });
  await t.step("incremental counting equals naive recounting on a random corpus", () => {
    const text = corpus(300, 7);
    const tok = trainSubword(text, {
      model: "bpe",
      vocabSize: 9 + 45 + 120,
      byteFallback: false,
      characterCoverage: 1,
    });
    const words = new Map<string, number>();
    for (const line of text) {
      for (const seg of (" " + line).replaceAll(" ", "\u0000▁").split("\u0000").filter((s) => s)) {
        for (const part of seg.split(/(?<=[a-zA-Z])(?=[.,])/)) words.set(part, (words.get(part) ?? 0) + 1);
      }
    }
    const chars = new Set([...text.join(" ").replaceAll(" ", "▁")]).size + 1; // + the dummy-prefix ▁ (present)
    const n = tok.size - 9 - (chars - 1);
    assertEquals(mergesOf(tok, n), naiveBpe(words, n));
  });
  await t.step("encode applies merges by rank, not by length", () => {
    const m = handModel("bpe", [["bc", 0], ["▁a", -1], ["▁ab", -2], ["▁", -3], ["a", -4], ["b", -5], [
      "c",
      -6,
    ]]);
    // bc merges first, so ▁ab can never form
    assertEquals(m.encodePieces("abc"), ["▁a", "bc"]);
  });
});

Deno.test("bad input gives clear errors or stays bounded", async (t) => {
  await t.step("empty corpus", () => {
    assertThrows(() => SubwordTokenizer.train([], { vocabSize: 300 }), Error, "no text to train on");
    assertThrows(() => SubwordTokenizer.train(["", ""], { vocabSize: 300 }), Error, "no text to train on");
  });
  await t.step("vocabSize larger than possible", () => {
    assertThrows(
      () => SubwordTokenizer.train(["ab ab ab"], { vocabSize: 5000, characterCoverage: 1 }),
      Error,
      "vocabSize too large",
    );
    assertThrows(
      () => SubwordTokenizer.train(["ab ab ab"], { vocabSize: 5000, model: "bpe", characterCoverage: 1 }),
      Error,
      "vocabSize too large",
    );
  });
  await t.step("vocabSize too small for specials + bytes + alphabet", () => {
    assertThrows(
      () => SubwordTokenizer.train(CORPUS, { vocabSize: 270 }),
      Error,
      "vocabSize 270 is too small",
    );
  });
  await t.step("bad options and items", () => {
    assertThrows(
      () => SubwordTokenizer.train(CORPUS, { characterCoverage: 0 }),
      RangeError,
      "characterCoverage",
    );
    assertThrows(() => SubwordTokenizer.train(CORPUS, { vocabSize: 1.5 }), RangeError, "vocabSize");
    assertThrows(() => SubwordTokenizer.train(["ok", 3 as unknown as string]), TypeError, "corpus item 1");
    assertThrows(() => uni().decode([0, 99999]), RangeError, "id 99999 at 1");
  });
  await t.step("a 1 MB single word encodes (bounded time) and round-trips", () => {
    const big = "abcdefghij".repeat(100_000);
    for (const tok of [uni(), bpe()]) {
      const ids = tok.encode(big);
      assert(ids.length > 1000 && ids.length <= big.length + 1);
      assertEquals(tok.decode(ids), big);
    }
    const run = "a".repeat(1_000_000);
    assertEquals(uni().decode(uni().encode(run)), run);
  });
  await t.step("a 1 MB word in the training corpus is skipped, not trained on", () => {
    const tok = SubwordTokenizer.train([...CORPUS.slice(0, 300), "x".repeat(1_000_000)], {
      vocabSize: 320,
      characterCoverage: 1,
    });
    assertEquals(tok.settings.training?.skippedLongSegments, 1);
  });
});

Deno.test("toJSON()/fromJSON() restore the same model", () => {
  for (const tok of [uni(), bpe()]) {
    const back = SubwordTokenizer.fromJSON(JSON.stringify(tok.toJSON()));
    assertEquals(back.size, tok.size);
    assertEquals(back.model, tok.model);
    for (const s of [...VARIED, ...CORPUS.slice(0, 50)]) assertEquals(back.encode(s), tok.encode(s));
  }
  assertThrows(() => SubwordTokenizer.fromJSON("{}"), Error, "denofit.subword");
  assertThrows(
    () =>
      SubwordTokenizer.fromJSON({ ...uni().toJSON(), pieces: [["a", "x" as unknown as number, "normal"]] }),
    Error,
    "piece 0",
  );
});

Deno.test("SubwordTokenizer.fromSentencePiece() encodes like SentencePiece", async (t) => {
  const dir = new URL("./testdata/", import.meta.url);
  const expected = JSON.parse(await Deno.readTextFile(new URL("spm_expected.json", dir))) as Record<
    string,
    Array<{ text: string; ids: number[]; decoded: string }>
  >;
  for (const name of ["spm_unigram", "spm_bpe"]) {
    await t.step(name, async () => {
      const tok = SubwordTokenizer.fromSentencePiece(await Deno.readFile(new URL(`${name}.model`, dir)));
      assertEquals(tok.model, name === "spm_unigram" ? "unigram" : "bpe");
      assertEquals(tok.size, name === "spm_unigram" ? 400 : 300);
      assertEquals([tok.idToPiece(0), tok.pieceType(0)], ["<unk>", "unknown"]);
      assertEquals(tok.pieceType(1), "control");
      const cases = expected[name]!;
      assert(cases.length >= 45);
      for (const c of cases) {
        assertEquals(tok.encode(c.text), c.ids, c.text);
        assertEquals(tok.decode(c.ids), c.decoded, c.text);
      }
    });
  }
  await t.step("byte pieces and user symbols are read with their types", async () => {
    const tok = SubwordTokenizer.fromSentencePiece(await Deno.readFile(new URL("spm_unigram.model", dir)));
    assertEquals(tok.pieceType(tok.pieceToId("<0x41>")), "byte");
    assertEquals(tok.pieceType(tok.pieceToId("xxbos")), "user");
    assertEquals(tok.settings.removeExtraWhitespaces, true);
  });
  await t.step("truncated or foreign files give clear errors", async () => {
    const bytes = await Deno.readFile(new URL("spm_bpe.model", dir));
    assertThrows(
      () => SubwordTokenizer.fromSentencePiece(bytes.subarray(0, 101)),
      Error,
      "sentencepiece model",
    );
    assertThrows(() => SubwordTokenizer.fromSentencePiece(new Uint8Array(0)), Error, "no pieces found");
  });
});

Deno.test("unigram training is deterministic and yields a proper distribution", async (t) => {
  await t.step("same corpus, same pieces and scores", () => {
    const again = SubwordTokenizer.train(CORPUS, { vocabSize: 400, characterCoverage: 1 });
    assertEquals(again.toJSON(), uni().toJSON());
  });
  await t.step("piece probabilities (exp of scores) sum to at most 1, and most of it", () => {
    let mass = 0;
    for (let i = 0; i < uni().size; i++) {
      if (uni().pieceType(i) === "normal") mass += Math.exp(uni().score(i));
    }
    assert(mass > 0.5 && mass <= 1.0001, `mass ${mass}`);
  });
  await t.step("pieces never mix scripts (letters with digits or punctuation)", () => {
    const tok = SubwordTokenizer.train(
      [...CORPUS, ...CORPUS.map((s) => s.replace(/e/g, "3") + " 2024,2025")],
      {
        vocabSize: 500,
        characterCoverage: 1,
      },
    );
    for (let i = 0; i < tok.size; i++) {
      if (tok.pieceType(i) !== "normal") continue;
      const p = tok.idToPiece(i).replace(/^▁/, "");
      assert(!/[a-zA-Z]/.test(p) || /^[a-zA-Z]+$/.test(p), `mixed piece ${p}`);
    }
  });
});

Deno.test("save()/load() write JSON and read JSON or SentencePiece files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/m.json`;
    await uni().save(path);
    const back = await SubwordTokenizer.load(path);
    assertEquals(back.encode(VARIED[6]!), uni().encode(VARIED[6]!));
    const spmModel = await SubwordTokenizer.load(new URL("./testdata/spm_bpe.model", import.meta.url));
    assertEquals(spmModel.model, "bpe");
    await Deno.writeTextFile(`${dir}/bad.json`, "{ not json");
    let msg = "";
    await SubwordTokenizer.load(`${dir}/bad.json`).catch((e) => msg = (e as Error).message);
    assert(msg.includes("bad.json"), msg);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SubwordTokenizer.trainAsync() trains from a stream like train() from an array", async () => {
  async function* stream() {
    for (const s of CORPUS) yield s;
  }
  const tok = await SubwordTokenizer.trainAsync(stream(), { vocabSize: 400, characterCoverage: 1 });
  assertEquals(tok.toJSON(), uni().toJSON());
});

Deno.test("characterCoverage drops rare characters to byte fallback", async (t) => {
  const text = [...CORPUS.slice(0, 600), "Ω once"];
  const piecesOf = (tok: SubwordTokenizer) => Array.from({ length: tok.size }, (_, i) => tok.idToPiece(i));
  await t.step("0.9995 (default) leaves Ω out; it encodes as its two UTF-8 bytes and decodes back", () => {
    const tok = SubwordTokenizer.train(text, { vocabSize: 350 });
    assert(!piecesOf(tok).includes("Ω"));
    assertEquals(tok.encodePieces("Ω").slice(-2), ["<0xCE>", "<0xA9>"]);
    assertEquals(tok.decode(tok.encode("a Ω b")), "a Ω b");
  });
  await t.step("1.0 keeps it", () => {
    const tok = SubwordTokenizer.train(text, { vocabSize: 350, characterCoverage: 1 });
    assert(piecesOf(tok).includes("Ω"));
  });
  await t.step("lone surrogates cannot be UTF-8: they decode as U+FFFD", () => {
    assertEquals(uni().decode(uni().encode("a\ud800b")), "a\ufffdb");
  });
});

Deno.test("SegmentCache returns what was stored and empties itself when full", () => {
  const cache = new SegmentCache(4);
  const text = "alpha beta gamma delta epsilon zeta";
  const words = text.split(" ").map((w) => [text.indexOf(w), text.indexOf(w) + w.length] as const);
  words.forEach(([s, e], i) => cache.set(text, s, e, SegmentCache.hash(text, s, e), [i, i + 100]));
  // 6 entries into a cache of 4: emptied after the 4th, so only the last two remain
  const got = words.map(([s, e]) => {
    const out: number[] = [];
    return cache.appendTo(text, s, e, SegmentCache.hash(text, s, e), out) ? out : null;
  });
  assertEquals(got, [null, null, null, null, [4, 104], [5, 105]]);
  // same hash and length but different text is a miss
  assertEquals(cache.appendTo("zetb", 0, 4, SegmentCache.hash(text, 31, 35), []), false);
  // cached and uncached encodings agree
  const fresh = SubwordTokenizer.fromJSON(uni().toJSON());
  for (const s of CORPUS.slice(0, 50)) assertEquals(fresh.encode(s), uni().encode(s));
});

Deno.test("toSentencePiece() writes a .model that reads back to the same model", () => {
  for (const tok of [uni(), bpe()]) {
    const back = SubwordTokenizer.fromSentencePiece(tok.toSentencePiece());
    assertEquals(back.model, tok.model);
    assertEquals(back.size, tok.size);
    for (let i = 0; i < tok.size; i++) {
      assertEquals([back.idToPiece(i), back.pieceType(i)], [tok.idToPiece(i), tok.pieceType(i)]);
      assertEquals(back.score(i), Math.fround(tok.score(i)));
    }
    assertEquals(back.settings.normalization, "identity");
    assertEquals(back.settings.removeExtraWhitespaces, false);
    for (const s of CORPUS.slice(0, 100)) assertEquals(back.encode(s), tok.encode(s), s);
  }
});
