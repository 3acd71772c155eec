import type { View } from "../../backend.ts";
import { normalAt, streamKey, uniformFromKey } from "../../rng.ts";
import { assert, assertClose, assertThrows, outView, randomView, readView, store } from "../_test_util.ts";
import { CpuBackend } from "../mod.ts";

const cpu = new CpuBackend();

function moments(x: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0, s2 = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!, s2 += x[i]! * x[i]!;
  const mean = s / x.length;
  return { mean, variance: s2 / x.length - mean * mean };
}

Deno.test("random kernel draws the shared counter-based streams", async (t) => {
  const n = 100_000;
  await t.step("uniform [a, b): mean, variance, range and the exact rng.ts stream", () => {
    const y = outView(cpu, [n]);
    cpu.run("random", [], [y], { dist: "uniform", seed: 3, counter: 10, a: -1, b: 3 });
    const v = readView(cpu, y), { mean, variance } = moments(v);
    assert(Math.abs(mean - 1) < 0.02, `mean ${mean}`);
    assert(Math.abs(variance - 16 / 12) < 0.02, `variance ${variance}`);
    assert(v.every((x) => x >= -1 && x < 3), "range");
    const key = streamKey(3, 0);
    for (const i of [0, 1, 777, n - 1]) {
      assert(
        v[i] === Math.fround(-1 + 4 * uniformFromKey(key, 10 + i)),
        `element ${i} is not uniform(3, 10 + ${i})`,
      );
    }
  });
  await t.step("normal: mean a, std b, equal to normalAt", () => {
    const y = outView(cpu, [n], "f64");
    cpu.run("random", [], [y], { dist: "normal", seed: 5, counter: 0, a: 2, b: 0.5 });
    const v = readView(cpu, y), { mean, variance } = moments(v);
    assert(Math.abs(mean - 2) < 0.01, `mean ${mean}`);
    assert(Math.abs(variance - 0.25) < 0.01, `variance ${variance}`);
    assert(v[42] === 2 + 0.5 * normalAt(5, 42), "element 42 is 2 + 0.5 * normalAt(5, 42)");
  });
  await t.step("bernoulli: 1 with probability a", () => {
    const y = outView(cpu, [n], "i32");
    cpu.run("random", [], [y], { dist: "bernoulli", seed: 9, counter: 0, a: 0.3, b: 0 });
    const v = readView(cpu, y);
    assert(v.every((x) => x === 0 || x === 1), "values are 0/1");
    assert(Math.abs(moments(v).mean - 0.3) < 0.01, `mean ${moments(v).mean}`);
  });
  await t.step("reproducible: same (seed, counter) gives the same numbers; counters continue streams", () => {
    const a = outView(cpu, [2, 50]), b = outView(cpu, [2, 50]), tail = outView(cpu, [30]);
    cpu.run("random", [], [a], { dist: "normal", seed: 1, counter: 7, a: 0, b: 1 });
    cpu.run("random", [], [b], { dist: "normal", seed: 1, counter: 7, a: 0, b: 1 });
    cpu.run("random", [], [tail], { dist: "normal", seed: 1, counter: 77, a: 0, b: 1 });
    const va = readView(cpu, a);
    assertClose(readView(cpu, b), va, "same seed", { rtol: 0, atol: 0 });
    assertClose(readView(cpu, tail), va.subarray(70), "counter 77 continues counter 7 at element 70", {
      rtol: 0,
      atol: 0,
    });
    const c = outView(cpu, [2, 50]);
    cpu.run("random", [], [c], { dist: "normal", seed: 2, counter: 7, a: 0, b: 1 });
    assert(readView(cpu, c).some((x, i) => x !== va[i]), "another seed gives other numbers");
  });
});

Deno.test("dropout kernel keeps about 1 - p, scales by 1 / (1 - p) and replays its mask", async (t) => {
  const [R, C] = [200, 501];
  const x = randomView(cpu, [R, C], { kind: "colmajor", lo: 0.5, hi: 1.5 });
  for (const p of [0, 0.1, 0.5, 0.9]) {
    await t.step(`p = ${p}`, () => {
      const y = outView(cpu, [R, C]);
      cpu.run("dropout", [x.view], [y], { p, seed: 11, counter: 1000 });
      const v = readView(cpu, y);
      let kept = 0;
      for (let i = 0; i < v.length; i++) {
        if (v[i] === 0) continue;
        kept++;
        assertClose([v[i]!], [Math.fround(x.values[i]! / (1 - p))], `kept element ${i}`);
      }
      const frac = kept / v.length;
      assert(Math.abs(frac - (1 - p)) < 0.01, `kept fraction ${frac}, expected ${1 - p}`);
      // The backward pass: the same kernel on the gradient with the same seed drops the same elements.
      const ones: View = { storage: store(cpu, "f32", [1]), shape: [R, C], strides: [0, 0], offset: 0 };
      const g = outView(cpu, [R, C]);
      cpu.run("dropout", [ones], [g], { p, seed: 11, counter: 1000 });
      const gv = readView(cpu, g);
      for (let i = 0; i < v.length; i++) {
        const want = v[i] === 0 ? 0 : Math.fround(1 / (1 - p));
        assert(gv[i] === want, `grad mask ${i}: ${gv[i]} vs ${want}`);
      }
    });
  }
  await t.step("a contiguous f32 input (the fused one-pass loop) gives the strided path's bits", () => {
    const xc = randomView(cpu, [R, C], { lo: 0.5, hi: 1.5 });
    // The same logical values laid out column-major, which takes the copy-then-mask path.
    const xs: View = { ...outView(cpu, [C, R]), shape: [R, C], strides: [1, R] };
    cpu.run("copy", [xc.view], [xs], {});
    for (const [p, counter] of [[0.1, 0], [1 / 3, 2 ** 32 - 5000], [0.5, 123456789]] as const) {
      const a = outView(cpu, [R, C]), b = outView(cpu, [R, C]);
      cpu.run("dropout", [xc.view], [a], { p, seed: 7, counter });
      cpu.run("dropout", [xs], [b], { p, seed: 7, counter });
      const va = readView(cpu, a), vb = readView(cpu, b);
      assert(va.some((v) => v === 0) && va.some((v) => v !== 0), `p ${p}: a mix of kept and dropped`);
      assert(va.every((v, i) => Object.is(v, vb[i])), `p ${p}, counter ${counter}: fused and strided differ`);
    }
  });
  await t.step("p = 1 drops everything; p outside [0, 1] is an error", () => {
    const y = outView(cpu, [R, C]);
    cpu.run("dropout", [x.view], [y], { p: 1, seed: 1, counter: 0 });
    assert(readView(cpu, y).every((v) => v === 0), "p = 1 gives zeros");
    assertThrows(() => cpu.run("dropout", [x.view], [y], { p: 1.5, seed: 1, counter: 0 }), [
      "dropout",
      "1.5",
    ]);
  });
});
