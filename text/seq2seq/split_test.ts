import { strict as assert } from "node:assert";
import { lengthAtPercentile, percentile, splitTrainValid, truncateSequences } from "./split.ts";

Deno.test("percentile() equals numpy.percentile (linear)", async (t) => {
  // values from numpy 1.24.2: np.percentile([3,1,4,1,5,9,2,6,5,3,5], q)
  const a = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
  const want: [number, number][] = [[0, 1], [10, 1], [25, 2.5], [50, 4], [90, 6], [97, 8.1], [99, 8.7], [
    100,
    9,
  ]];
  await t.step("11 values", () => {
    for (const [q, v] of want) {
      assert.ok(Math.abs(percentile(a, q) - v) < 1e-12, `q=${q}: ${percentile(a, q)}`);
    }
  });
  await t.step("the lesson's int(): 1..29, 100, 200 -> 97th 109.99..., 99th 169.99... -> 169", () => {
    const b = [...Array.from({ length: 29 }, (_, i) => i + 1), 100, 200];
    assert.ok(Math.abs(percentile(b, 97) - 110) < 1e-9);
    assert.equal(lengthAtPercentile(b, 99), 169);
  });
  await t.step("one value, bad q, empty sample", () => {
    assert.equal(percentile([4], 37), 4);
    assert.throws(() => percentile([], 50), /empty sample/);
    assert.throws(() => percentile([1], 101), /q must be in/);
  });
});

Deno.test("truncateSequences() cuts long sequences only", () => {
  const s = [[1, 2, 3, 4], [5], []];
  const out = truncateSequences(s, 2);
  assert.deepEqual(out, [[1, 2], [5], []]);
  assert.equal(out[1], s[1]);
  assert.deepEqual(s[0], [1, 2, 3, 4]);
  assert.throws(() => truncateSequences(s, -1), /maxLen/);
});

Deno.test("splitTrainValid() is seeded, stable under appends and close to validPct", async (t) => {
  const items = Array.from({ length: 20_000 }, (_, i) => i);
  const a = splitTrainValid(items, { seed: 3 });
  await t.step("about 10% in validation, every item once, order kept", () => {
    assert.ok(Math.abs(a.valid.length / items.length - 0.1) < 0.01, `${a.valid.length}`);
    assert.equal(a.train.length + a.valid.length, items.length);
    assert.deepEqual(a.valid, a.validIdx);
    assert.ok(a.train.every((x, i) => i === 0 || x > a.train[i - 1]!));
  });
  await t.step("same seed same split; appended items do not move the others", () => {
    const b = splitTrainValid(items.slice(0, 5000), { seed: 3 });
    assert.deepEqual(b.validIdx, a.validIdx.filter((i) => i < 5000));
    assert.notDeepEqual(splitTrainValid(items, { seed: 4 }).validIdx, a.validIdx);
  });
  await t.step("0 and 1", () => {
    assert.equal(splitTrainValid(items, { validPct: 0 }).valid.length, 0);
    assert.equal(splitTrainValid(items, { validPct: 1 }).train.length, 0);
    assert.throws(() => splitTrainValid(items, { validPct: 2 }), /validPct/);
  });
});
