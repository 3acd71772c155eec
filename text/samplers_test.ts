import { strict as assert } from "node:assert";
import { Rng } from "../gpu/rng.ts";
import { SortishSampler, SortSampler, sortSampler } from "./samplers.ts";

Deno.test("sortSampler() orders longest first, ties stable", () => {
  assert.deepStrictEqual(sortSampler([2, 5, 5, 1, 7, 2]), [4, 1, 2, 0, 5, 3]);
  assert.deepStrictEqual(sortSampler([]), []);
  const s = new SortSampler([2, 5, 5, 1, 7, 2]);
  assert.deepStrictEqual([s.length, s.indices()], [6, [4, 1, 2, 0, 5, 3]]);
});

Deno.test("SortishSampler follows fastai's algorithm", async (t) => {
  const n = 2345;
  const lengths = Array.from({ length: n }, (_, i) => 1 + ((i * 7919) % 977));
  const bs = 10;
  await t.step("a permutation whose first batch holds the longest item first", () => {
    const idx = new SortishSampler(lengths, { bs, seed: 11 }).indices();
    assert.equal(idx.length, n);
    assert.equal(new Set(idx).size, n);
    assert.equal(lengths[idx[0]!], Math.max(...lengths));
  });
  await t.step(
    "batches are exactly the bs-slices of the chunk-sorted shuffle, whole and in some order",
    () => {
      const idx = new SortishSampler(lengths, { bs, seed: 11 }).indices();
      // the same first shuffle, from a fresh generator with the same seed
      const shuffled = new Rng(11).shuffle(Array.from({ length: n }, (_, i) => i));
      let sorted: number[] = [];
      for (let i = 0; i < n; i += bs * 50) {
        sorted = sorted.concat(shuffled.slice(i, i + bs * 50).sort((a, b) => lengths[b]! - lengths[a]!));
      }
      const batchOf = new Map<number, number>();
      const sizes: number[] = [];
      for (let i = 0; i < n; i += bs) {
        sorted.slice(i, i + bs).forEach((v) => batchOf.set(v, i / bs));
        sizes.push(Math.min(bs, n - i));
      }
      // walk the output: each expected batch must appear as one contiguous run, items in sorted order
      let k = 0;
      const seen = new Set<number>();
      while (k < n) {
        const b = batchOf.get(idx[k]!)!;
        assert.ok(!seen.has(b), `batch ${b} split`);
        seen.add(b);
        const run = idx.slice(k, k + sizes[b]!);
        assert.deepStrictEqual(run, sorted.slice(b * bs, b * bs + sizes[b]!));
        k += sizes[b]!;
      }
      assert.equal(seen.size, sizes.length);
      assert.notEqual(batchOf.get(idx[bs]!), 1, "the other batches are shuffled");
    },
  );
  await t.step("deterministic for a seed, new order each epoch", () => {
    const a = new SortishSampler(lengths, { bs, seed: 4 });
    const b = new SortishSampler(lengths, { bs, seed: 4 });
    const e1 = a.indices();
    assert.deepStrictEqual(e1, b.indices());
    assert.notDeepStrictEqual(e1, a.indices());
  });
});
