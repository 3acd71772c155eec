import { strict as assert } from "node:assert";
import { ClassifierLoader } from "./clas_loader.ts";

Deno.test("ClassifierLoader pads sortish batches before the text", async (t) => {
  const docs = Array.from(
    { length: 103 },
    (_, i) => Int32Array.from({ length: 1 + ((i * 37) % 60) }, () => 100 + i),
  );
  const labels = Int32Array.from(docs, (_, i) => i % 2);
  await t.step("training epoch: every document once, rows padded on the left, labels aligned", () => {
    const dl = new ClassifierLoader(docs, labels, { bs: 8, seed: 3 });
    const seen: number[] = [];
    for (const b of dl.batches()) {
      assert.equal(b.rows, b.indices.length);
      b.indices.forEach((k, r) => {
        const row = b.data.subarray(r * b.cols, (r + 1) * b.cols);
        const len = docs[k]!.length;
        assert.ok(row.subarray(0, b.cols - len).every((v) => v === 1), "pads first");
        assert.ok(row.subarray(b.cols - len).every((v) => v === 100 + k), "then the text");
        assert.equal(b.labels[r], k % 2);
      });
      seen.push(...b.indices);
    }
    assert.deepStrictEqual(seen.sort((a, b) => a - b), Array.from({ length: 103 }, (_, i) => i));
    assert.equal(dl.length, 13);
  });
  await t.step("validation: sorted longest first; seqLen alignment", () => {
    const dl = new ClassifierLoader(docs, labels, { bs: 8, shuffle: false, seqLen: 16 });
    const bs = [...dl.batches()];
    const cols = bs.map((b) => b.cols);
    assert.deepStrictEqual(cols, [...cols].sort((a, b) => b - a));
    const b = bs[1]!;
    const k = b.indices.at(-1)!;
    const start = Math.floor((b.cols - docs[k]!.length) / 16) * 16;
    assert.equal(b.data[(b.rows - 1) * b.cols + start], 100 + k);
  });
  await t.step("label count must match", () => {
    assert.throws(() => new ClassifierLoader(docs, labels.subarray(1)), /103 documents but 102 labels/);
  });
});

Deno.test("ClassifierLoader.rng is the shuffling sampler's generator (none without shuffling)", () => {
  const docs = [Int32Array.of(5), Int32Array.of(6, 7), Int32Array.of(8, 9, 10)];
  const shuffled = new ClassifierLoader(docs, Int32Array.of(0, 1, 0), { bs: 1, seed: 4 });
  const fixed = new ClassifierLoader(docs, Int32Array.of(0, 1, 0), { bs: 1, shuffle: false });
  const before = shuffled.rng!.counter;
  [...shuffled.batches()];
  if (!(shuffled.rng!.counter > before) || fixed.rng !== undefined) throw new Error("rng not exposed");
});
