import { normalAt, pcgHash, Rng, uniformAt } from "./rng.ts";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}

Deno.test("pcgHash() matches the published reference values", () => {
  // pcg_hash(0) and pcg_hash(1) computed with 32-bit unsigned arithmetic in C.
  assert(pcgHash(0) === 129708002, `pcgHash(0) = ${pcgHash(0)}`);
  assert(pcgHash(1) === 2831084092, `pcgHash(1) = ${pcgHash(1)}`);
});

Deno.test("uniformAt() is reproducible and uniform", () => {
  const n = 200_000;
  let sum = 0, sumSq = 0, min = 1, max = 0;
  for (let i = 0; i < n; i++) {
    const u = uniformAt(123, i);
    sum += u;
    sumSq += u * u;
    min = Math.min(min, u);
    max = Math.max(max, u);
  }
  const mean = sum / n, variance = sumSq / n - mean * mean;
  assert(Math.abs(mean - 0.5) < 0.005, `mean ${mean}`);
  assert(Math.abs(variance - 1 / 12) < 0.002, `variance ${variance}`);
  assert(min >= 0 && max < 1, `range [${min}, ${max}]`);
  assert(uniformAt(5, 10) === uniformAt(5, 10), "same (seed, index) must give the same number");
  assert(uniformAt(5, 10) !== uniformAt(6, 10), "different seeds must differ");
});

Deno.test("normalAt() has mean 0 and variance 1", () => {
  const n = 200_000;
  let sum = 0, sumSq = 0;
  for (let i = 0; i < n; i++) {
    const z = normalAt(9, i);
    sum += z;
    sumSq += z * z;
  }
  const mean = sum / n, variance = sumSq / n - mean * mean;
  assert(Math.abs(mean) < 0.01, `mean ${mean}`);
  assert(Math.abs(variance - 1) < 0.02, `variance ${variance}`);
});

Deno.test("Rng.shuffle() is a seeded permutation", () => {
  const a = new Rng(3).shuffle([...Array(50).keys()]);
  const b = new Rng(3).shuffle([...Array(50).keys()]);
  assert(a.join() === b.join(), "same seed, same order");
  assert([...a].sort((x, y) => x - y).join() === [...Array(50).keys()].join(), "a permutation");
  assert(a.join() !== [...Array(50).keys()].join(), "actually shuffled");
});
