import { assert, assertClose, assertThrows, gradcheck, vals } from "./_gradcheck.ts";
import { argmax, argmin, logSoftmax, logSumExp, max, mean, min, softmax, sum, sumTo } from "./ops_reduce.ts";
import { reshape, transpose } from "./ops_shape.ts";
import { arange, type Tensor, tensor, tidy, zeros } from "./tensor.ts";
import { CpuBackend } from "../gpu/cpu/mod.ts";

const shape = (t: Tensor) => t.shape.join();

Deno.test("reductions over any axes with keepdim", async (t) => {
  await t.step("sum and mean", () =>
    tidy(() => {
      const x = reshape(arange(24, { dtype: "f32" }), [2, 3, 4]);
      assertClose(vals(sum(x)), [276]);
      assertClose(vals(sum(x, { axis: [0, 2] })), [60, 92, 124]);
      const k = sum(x, { axis: [0, 2], keepdim: true });
      assert(shape(k) === "1,3,1", `keepdim shape ${k.shape}`);
      assertClose(vals(mean(x, { axis: -1 })), [1.5, 5.5, 9.5, 13.5, 17.5, 21.5]);
      assertClose(vals(sum(transpose(reshape(x, [6, 4])), { axis: 1 })), [60, 66, 72, 78]); // strided input
      assert(shape(sum(x, { axis: [] })) === "2,3,4", "empty axis list is identity");
    }));
  await t.step("a sum over the first axis reads the matrix in place (no transposed copy)", () => {
    const cpu = new CpuBackend();
    tidy(() => {
      const x = reshape(arange(1000 * 50, { dtype: "f32", backend: cpu }), [1000, 50]);
      const before = cpu.stats().peakBytes;
      const s = sum(x, { axis: 0 }); // a bias gradient
      assertClose(vals(s).slice(0, 2), [24975000, 24976000]);
      const extra = cpu.stats().peakBytes - before;
      assert(extra <= 50 * 4, `sum over axis 0 allocated ${extra} bytes beyond its 200-byte output`);
      assertClose(vals(sum(transpose(x), { axis: 1 })).slice(0, 2), [24975000, 24976000]);
    });
    cpu.dispose();
  });
  await t.step("max, min, argmax, argmin", () =>
    tidy(() => {
      const x = tensor([[3, 9, 1], [7, -2, 7]]);
      assertClose(vals(max(x, { axis: 1 })), [9, 7]);
      assertClose(vals(min(x, { axis: 0 })), [3, -2, 1]);
      assertClose(vals(max(x)), [9]);
      const am = argmax(x, { axis: 1 });
      assert(am.dtype === "i32", "argmax is i32");
      assertClose(vals(am), [1, 0]); // ties resolve to the first index
      assertClose(vals(argmin(x, { axis: 0 })), [0, 1, 0]);
      assertClose(vals(argmax(x)), [1]);
      assert(shape(argmax(x, { axis: 0, keepdim: true })) === "1,3", "argmax keepdim");
    }));
  await t.step("empty and size-1 axes", () =>
    tidy(() => {
      assertClose(vals(sum(zeros([2, 0]), { axis: 1 })), [0, 0]);
      assert(Number.isNaN(vals(mean(zeros([2, 0]), { axis: 1 }))[0]!), "mean of nothing is NaN");
      assert(shape(sum(zeros([0, 3]), { axis: 1 })) === "0", "reduce of empty rows");
      assertClose(vals(sum(tensor([[5]]), { axis: 0 })), [5]);
      assertThrows(() => max(zeros([2, 0]), { axis: 1 }), "max", "[2, 0]", "empty");
      assertThrows(() => sum(zeros([2]), { axis: 1 }), "sum", "axis 1");
    }));
});

Deno.test("softmax and logSoftmax along any axis", () =>
  tidy(() => {
    const x = tensor([[1, 2, 3], [1, 1, 1]]);
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)], z = e[0]! + e[1]! + e[2]!;
    assertClose(vals(softmax(x)), [e[0]! / z, e[1]! / z, e[2]! / z, 1 / 3, 1 / 3, 1 / 3]);
    const s0 = softmax(x, 0);
    assert(shape(s0) === "2,3", "softmax axis 0 shape");
    const s1 = 1 / (1 + Math.exp(-1)), s2 = 1 / (1 + Math.exp(-2));
    assertClose(vals(s0), [0.5, s1, s2, 0.5, 1 - s1, 1 - s2]);
    assertClose(vals(logSoftmax(x)).slice(0, 3), [1, 2, 3].map((v) => v - Math.log(z)));
    assertClose(vals(logSumExp(x, { axis: 1 })), [Math.log(z), 1 + Math.log(3)]);
    assertClose(vals(logSumExp(tensor([[1000, 1000]]))), [1000 + Math.LN2]); // no overflow
    assert(shape(logSumExp(x, { axis: 0, keepdim: true })) === "1,3", "logSumExp keepdim");
    const big = tensor([1000, 0]); // stable
    assertClose(vals(logSoftmax(big)), [0, -1000]);
  }));

Deno.test("sumTo reduces broadcast axes", () =>
  tidy(() => {
    const g = reshape(arange(12, { dtype: "f32" }), [2, 2, 3]);
    assertClose(vals(sumTo(g, [1, 3])), [18, 22, 26]);
    assertClose(vals(sumTo(g, [2, 1])), [24, 42]);
  }));

Deno.test("reduction gradients match finite differences (f64)", async (t) => {
  const cases: [string, (x: Tensor) => Tensor, number[]][] = [
    ["sum all", (x) => sum(x), [2, 3]],
    ["sum axes keepdim", (x) => sum(x, { axis: [0, 2], keepdim: true }), [2, 3, 2]],
    ["mean axis", (x) => mean(x, { axis: 1 }), [2, 3, 2]],
    ["max axis", (x) => max(x, { axis: -1 }), [3, 4]],
    ["min axes", (x) => min(x, { axis: [0, 1] }), [2, 2, 3]],
    ["softmax last", (x) => softmax(x), [3, 4]],
    ["softmax axis 0", (x) => softmax(x, 0), [3, 2, 2]],
    ["logSoftmax last", (x) => logSoftmax(x), [2, 5]],
    ["logSoftmax axis 1", (x) => logSoftmax(x, 1), [2, 3, 2]],
    ["softmax of strided", (x) => softmax(transpose(x)), [3, 2]],
    ["logSumExp axes", (x) => logSumExp(x, { axis: [0, 2] }), [2, 3, 2]],
    ["logSumExp all", (x) => logSumExp(x), [3, 2]],
  ];
  for (const [name, fn, s] of cases) await t.step(name, () => gradcheck(name, (x) => fn(x!), [{ shape: s }]));
});
