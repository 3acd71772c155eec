import { strict as assert } from "node:assert";
import {
  BleuAccumulator,
  type BleuScore,
  type BleuScoreOptions,
  computeBleu,
  corpusBleuScore,
  sentenceBleuScore,
  tokenize13a,
} from "./bleu.ts";

interface Expected {
  score: number;
  counts: number[];
  totals: number[];
  precisions: number[];
  bp: number;
  sys_len: number;
  ref_len: number;
}
interface Fixtures {
  sacrebleu: string;
  tokenize13a: { input: string; tokens: string }[];
  sentence: {
    name: string;
    hyp: string;
    refs: (string | null)[];
    options: BleuScoreOptions;
    expected: Expected;
  }[];
  corpus: {
    name: string;
    hyps: string[];
    refs: (string | null)[][];
    options: BleuScoreOptions;
    expected: Expected;
  }[];
}

const FIX: Fixtures = JSON.parse(
  await Deno.readTextFile(new URL("../tests/fixtures/sacrebleu.json", import.meta.url)),
);

function same(got: BleuScore, want: Expected, name: string): void {
  const close = (a: number, b: number, what: string) =>
    assert.ok(Math.abs(a - b) <= 1e-9, `${name}: ${what} ${a} != sacreBLEU ${b}`);
  close(got.score, want.score, "score");
  close(got.bp, want.bp, "bp");
  assert.equal(got.sysLen, want.sys_len, `${name}: sys_len`);
  assert.equal(got.refLen, want.ref_len, `${name}: ref_len`);
  assert.deepEqual(got.counts, want.counts, `${name}: counts`);
  assert.deepEqual(got.totals, want.totals, `${name}: totals`);
  want.precisions.forEach((p, i) => close(got.precisions[i]!, p, `precision ${i + 1}`));
}

Deno.test("tokenize13a() splits like sacreBLEU's 13a tokenizer", async (t) => {
  assert.equal(FIX.sacrebleu, "2.6.0");
  await t.step(`${FIX.tokenize13a.length} fixture strings (unicode, entities, odd whitespace)`, () => {
    for (const c of FIX.tokenize13a) {
      assert.equal(tokenize13a(c.input), c.tokens, JSON.stringify(c.input));
    }
  });
  await t.step("numbers keep their separators, others split", () => {
    assert.equal(tokenize13a("1,000.5 3-4 a-b x.y"), "1,000.5 3 - 4 a-b x . y");
    assert.equal(tokenize13a("&quot;hi&quot; &amp; bye"), '" hi " & bye');
  });
});

Deno.test("sentenceBleuScore() equals sacrebleu.sentence_bleu", async (t) => {
  await t.step("the lesson's example is 48.89", () => {
    const s = sentenceBleuScore("what factors might influence their location ?", [
      "what factors influence their location ?",
    ]);
    assert.equal(s.score.toFixed(2), "48.89");
    assert.deepEqual([s.sysLen, s.refLen], [7, 6]);
  });
  await t.step(`${FIX.sentence.length} fixture cases to 1e-9`, () => {
    for (const c of FIX.sentence) same(sentenceBleuScore(c.hyp, c.refs, c.options), c.expected, c.name);
  });
  await t.step("a segment with no reference at all is an error", () => {
    assert.throws(() => sentenceBleuScore("a", [null]), /segment 1 has no reference/);
  });
});

Deno.test("corpusBleuScore() equals sacrebleu.corpus_bleu", async (t) => {
  await t.step(`${FIX.corpus.length} fixture corpora to 1e-9 (multiple and missing references)`, () => {
    for (const c of FIX.corpus) same(corpusBleuScore(c.hyps, c.refs, c.options), c.expected, c.name);
  });
  await t.step("a reference stream of the wrong length is an error", () => {
    assert.throws(() => corpusBleuScore(["a", "b"], [["a"]]), /stream 0 has 1 segments for 2 hypotheses/);
    assert.throws(() => corpusBleuScore(["a"], []), /no reference streams/);
  });
  await t.step("the accumulator adds up to the corpus score in any batching", () => {
    const c = FIX.corpus.find((x) => x.hyps.length > 20 && x.refs.length > 1)!;
    const acc = new BleuAccumulator(c.options);
    c.hyps.forEach((h, i) => acc.add(h, c.refs.map((s) => s[i])));
    same(acc.score(), c.expected, c.name);
    assert.equal(acc.segments, c.hyps.length);
  });
});

Deno.test("computeBleu() handles the edge cases of sacreBLEU's compute_bleu", async (t) => {
  await t.step("no match at all scores 0 with the brevity penalty still reported", () => {
    const s = computeBleu([0, 0, 0, 0], [3, 2, 1, 0], 3, 6);
    assert.equal(s.score, 0);
    assert.ok(Math.abs(s.bp - Math.exp(1 - 2)) < 1e-15);
  });
  await t.step("exp smoothing halves each further zero precision", () => {
    const s = computeBleu([4, 0, 0, 0], [4, 3, 2, 1], 4, 4, { smooth: "exp" });
    assert.deepEqual(s.precisions, [100, 100 / 6, 100 / 8, 100 / 8]);
    assert.ok(
      Math.abs(s.score - Math.exp((Math.log(100) + Math.log(100 / 6) + 2 * Math.log(12.5)) / 4)) < 1e-12,
    );
  });
  await t.step("inputs are not modified by add-k", () => {
    const c = [1, 0, 0, 0], tot = [2, 1, 0, 0];
    computeBleu(c, tot, 2, 2, { smooth: "add-k" });
    assert.deepEqual([c, tot], [[1, 0, 0, 0], [2, 1, 0, 0]]);
  });
  await t.step("a bad n-gram order is an error", () => {
    assert.throws(() => new BleuAccumulator({ maxNgramOrder: 0 }), /maxNgramOrder/);
  });
});
