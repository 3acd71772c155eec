import { strict as assert } from "node:assert";
import { embeddingFromVectors } from "./embedding.ts";
import { CosineIndex, nearestWords } from "./neighbours.ts";
import { WordVectors } from "./word_vectors.ts";
import { Rng } from "../../gpu/rng.ts";

/** Vectors with a known scale: 2,000 words x 50 dims, N(0.1, 0.3). */
function gaussianVectors(n: number, dim: number, mean: number, std: number): WordVectors {
  const rng = new Rng(9);
  const words = Array.from({ length: n }, (_, i) => `w${i}`);
  return new WordVectors(words, dim, Float32Array.from({ length: n * dim }, () => mean + std * rng.normal()));
}

function stats(a: ArrayLike<number>): { mean: number; std: number } {
  let s = 0, s2 = 0;
  for (let i = 0; i < a.length; i++) [s, s2] = [s + a[i]!, s2 + a[i]! ** 2];
  const mean = s / a.length;
  return { mean, std: Math.sqrt(s2 / a.length - mean * mean) };
}

Deno.test("embeddingFromVectors() copies found rows and draws missing rows at the measured std", async (t) => {
  const wv = gaussianVectors(2000, 50, 0.1, 0.3);
  const itos = [
    "xxunk",
    "xxpad",
    ...Array.from({ length: 1500 }, (_, i) => `w${i}`),
    ...Array.from({ length: 1000 }, (_, i) => `new${i}`),
  ];
  const e = embeddingFromVectors(itos, wv, { zeroRows: [1], seed: 5 });
  const rows = (from: number, to: number) => e.weight.subarray(from * 50, to * 50);
  await t.step("counts and measured std", () => {
    assert.deepEqual([e.found, e.missing, e.dim, e.scale], [1500, 1001, 50, 1]);
    assert.deepEqual(e.missingWords.slice(0, 3), ["xxunk", "new0", "new1"]);
    assert.equal(e.missingWords.length, 20);
    const s = stats(rows(2, 1502));
    assert.ok(Math.abs(e.foundStd - s.std) < 1e-6 && Math.abs(e.foundMean - s.mean) < 1e-6);
    assert.ok(Math.abs(e.foundStd - 0.3) < 0.01, `${e.foundStd}`);
  });
  await t.step("found rows are the vectors; the pad row is zero", () => {
    assert.deepEqual(Array.from(rows(2, 3)), Array.from(wv.get("w0")!));
    assert.deepEqual(Array.from(rows(1501, 1502)), Array.from(wv.get("w1499")!));
    assert.ok(rows(1, 2).every((v) => v === 0));
  });
  await t.step("missing rows: mean 0, std of the found rows", () => {
    const s = stats(rows(1502, 2502));
    assert.ok(Math.abs(s.std - e.foundStd) < 0.01, `random std ${s.std} vs ${e.foundStd}`);
    assert.ok(Math.abs(s.mean) < 0.01, `random mean ${s.mean}`);
  });
  await t.step("targetStd rescales found and random rows (the lesson's x3, measured)", () => {
    const e1 = embeddingFromVectors(itos, wv, { zeroRows: [1], seed: 5, targetStd: 1 });
    assert.ok(Math.abs(e1.scale - 1 / e.foundStd) < 1e-12);
    assert.ok(Math.abs(stats(e1.weight.subarray(100, 1502 * 50)).std - 1) < 1e-3);
    assert.ok(Math.abs(stats(e1.weight.subarray(1502 * 50)).std - 1) < 0.02);
  });
  await t.step("seeded: same seed same rows, other seed other rows", () => {
    const again = embeddingFromVectors(itos, wv, { zeroRows: [1], seed: 5 });
    const other = embeddingFromVectors(itos, wv, { zeroRows: [1], seed: 6 });
    assert.deepEqual(again.weight, e.weight);
    assert.notDeepEqual(other.weight.subarray(0, 50), e.weight.subarray(0, 50));
  });
  await t.step("case fallback finds lowercase vectors", () => {
    const r = embeddingFromVectors(["W3", "w4"], wv);
    assert.equal(r.found, 2);
    assert.equal(embeddingFromVectors(["W3"], wv, { caseFallback: false }).found, 0);
  });
  await t.step("nothing found: random rows at std 1", () => {
    const r = embeddingFromVectors(["a", "b"], wv);
    assert.deepEqual([r.found, r.missing, r.foundStd], [0, 2, 1]);
  });
  await t.step("a bad targetStd", () => {
    assert.throws(() => embeddingFromVectors(itos, wv, { targetStd: 0 }), /targetStd must be > 0/);
  });
});

Deno.test("CosineIndex.nearest() ranks by cosine similarity", async (t) => {
  const words = ["roi", "reine", "homme", "femme", "pomme", "zero"];
  const wv = new WordVectors(
    words,
    3,
    new Float32Array([1, 1, 0, 1, 0.9, 0.1, 1, 0, 0, 0.8, 0, 0.3, 0, 0, 1, 0, 0, 0]),
  );
  const index = new CosineIndex(wv);
  await t.step("a word query leaves the word out; similarities are cosines", () => {
    const nn = index.nearest("roi", { k: 3 });
    assert.deepEqual(nn.map((n) => n.word), ["reine", "homme", "femme"]);
    const cos = (1 + 0.9) / (Math.sqrt(2) * Math.sqrt(1 + 0.81 + 0.01));
    assert.ok(Math.abs(nn[0]!.similarity - cos) < 1e-6);
    for (let i = 1; i < nn.length; i++) assert.ok(nn[i - 1]!.similarity >= nn[i]!.similarity);
  });
  await t.step("a vector query, exclusions, k larger than the table", () => {
    const nn = index.nearest([0, 0, 2], { k: 10, exclude: ["zero"] });
    assert.equal(nn.length, 5);
    assert.equal(nn[0]!.word, "pomme");
    assert.ok(Math.abs(nn[0]!.similarity - 1) < 1e-6);
  });
  await t.step("nearestWords() and errors", () => {
    assert.deepEqual(nearestWords(wv, "pomme", { k: 1 }).map((n) => n.word), ["femme"]);
    assert.throws(() => index.nearest("roy"), /"roy" has no vector/);
    assert.throws(() => index.nearest([1, 2]), /query has 2 values/);
  });
});
