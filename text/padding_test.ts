import { strict as assert } from "node:assert";
import { padBatch } from "./padding.ts";

Deno.test("padBatch() pads with xxpad before or after the text", async (t) => {
  const seqs = [Int32Array.of(10, 11, 12, 13, 14, 15, 16), Int32Array.of(20, 21), Int32Array.of()];
  await t.step("classifier: pads first", () => {
    const p = padBatch(seqs);
    assert.deepStrictEqual([p.rows, p.cols, Array.from(p.lengths)], [3, 7, [7, 2, 0]]);
    assert.deepStrictEqual(Array.from(p.data), [
      ...[10, 11, 12, 13, 14, 15, 16],
      ...[1, 1, 1, 1, 1, 20, 21],
      ...[1, 1, 1, 1, 1, 1, 1],
    ]);
  });
  await t.step("seq2seq: pads last, custom pad id, minLen", () => {
    const p = padBatch(seqs.slice(1, 2), { padFirst: false, padIdx: 0, minLen: 4 });
    assert.deepStrictEqual(Array.from(p.data), [20, 21, 0, 0]);
  });
  await t.step("fastai 2 seq_len alignment: whole chunks before, the rest after", () => {
    const p = padBatch(seqs, { seqLen: 3 });
    assert.deepStrictEqual(Array.from(p.data.subarray(7, 14)), [1, 1, 1, 20, 21, 1, 1]);
    assert.deepStrictEqual(Array.from(p.data.subarray(14)), [1, 1, 1, 1, 1, 1, 1]);
    const q = padBatch([Int32Array.of(5), Int32Array.of(1, 2, 3, 4, 5, 6, 7, 8)], { seqLen: 3 });
    assert.deepStrictEqual(Array.from(q.data.subarray(0, 8)), [1, 1, 1, 1, 1, 1, 5, 1]);
    assert.throws(() => padBatch(seqs, { seqLen: 0 }), /seqLen must be a positive integer/);
  });
});
