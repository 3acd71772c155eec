import { assert, assertClose, assertThrows, gradcheck, vals } from "./_gradcheck.ts";
import {
  abs,
  add,
  cast,
  clamp,
  cos,
  div,
  eq,
  exp,
  ge,
  gt,
  le,
  log,
  lt,
  maximum,
  minimum,
  mul,
  ne,
  neg,
  pow,
  reciprocal,
  relu,
  rsqrt,
  sigmoid,
  sin,
  sqrt,
  square,
  sub,
  tanh,
  where,
} from "./ops_elementwise.ts";
import { slice, transpose } from "./ops_shape.ts";
import { arange, liveTensors, tensor, tidy, zeros } from "./tensor.ts";

const pos = (n: number, seed = 0) => Array.from({ length: n }, (_, i) => 0.5 + ((i * 7 + seed) % 11) / 7);

Deno.test("binary ops broadcast like NumPy", async (t) => {
  await t.step("row, column and scalar corners", () =>
    tidy(() => {
      const col = tensor([[1], [2], [3]]); // (3, 1)
      const row = tensor([10, 20]); // (2)
      assert(fmt(add(col, row)) === "3,2", "shape (3,1)+(2) = (3,2)");
      assertClose(vals(add(col, row)), [11, 21, 12, 22, 13, 23]);
      assertClose(vals(sub(row, col)), [9, 19, 8, 18, 7, 17]);
      assertClose(vals(mul(tensor(2), row)), [20, 40]); // 0-d tensor
      assertClose(vals(div(1, tensor([2, 4]))), [0.5, 0.25]); // number on the left
      assertClose(vals(sub(5, tensor([1, 2]))), [4, 3]);
      assertClose(vals(pow(tensor([2, 3]), tensor([[1], [2]]))), [2, 3, 4, 9]);
    }));
  await t.step("size-1 and empty axes", () =>
    tidy(() => {
      const e = add(zeros([0, 3]), tensor([1, 2, 3]));
      assert(fmt(e) === "0,3" && e.size === 0, `empty broadcast gave ${e.shape}`);
      const one = add(zeros([1, 1, 1]), tensor([[5]]));
      assert(fmt(one) === "1,1,1" && vals(one)[0] === 5, "all size-1 axes");
    }));
  await t.step("non-contiguous inputs", () =>
    tidy(() => {
      const m = tensor([[1, 2, 3], [4, 5, 6]]);
      const tr = transpose(m); // (3, 2) strided
      assertClose(vals(add(tr, tensor([100, 200]))), [101, 204, 102, 205, 103, 206]);
      const every2 = slice(tensor([0, 1, 2, 3, 4, 5]), [[1, 6, 2]]); // 1, 3, 5
      assertClose(vals(mul(every2, every2)), [1, 9, 25]);
    }));
  await t.step("i32 arithmetic stays i32", () =>
    tidy(() => {
      const y = add(arange(4), 1);
      assert(y.dtype === "i32", `dtype ${y.dtype}`);
      assertClose(vals(mul(y, y)), [1, 4, 9, 16]);
    }));
});

Deno.test("binary ops reject mismatched shapes and dtypes, naming op and shapes", () =>
  tidy(() => {
    assertThrows(() => add(zeros([2, 3]), zeros([4])), "add", "[2, 3]", "[4]");
    assertThrows(() => mul(zeros([2]), arange(2)), "mul", "dtype", "f32", "i32");
    assertThrows(() => lt(arange(3), 1.5), "lt", "1.5", "i32");
    assertThrows(() => add(1, 2), "add", "at least one tensor");
    assertThrows(() => mul(1, 2), "mul", "at least one tensor");
    const dead = zeros([2]);
    dead.dispose();
    assertThrows(() => exp(dead), "exp", "[2]", "dispose");
  }));

Deno.test("unary ops compute the right values", () =>
  tidy(() => {
    const x = tensor([-2, -0.5, 0, 0.5, 3]);
    const ref = [-2, -0.5, 0, 0.5, 3];
    assertClose(vals(neg(x)), ref.map((v) => -v));
    assertClose(vals(exp(x)), ref.map(Math.exp));
    assertClose(vals(tanh(x)), ref.map(Math.tanh));
    assertClose(vals(sigmoid(x)), ref.map((v) => 1 / (1 + Math.exp(-v))));
    assertClose(vals(relu(x)), ref.map((v) => Math.max(v, 0)));
    assertClose(vals(abs(x)), ref.map(Math.abs));
    assertClose(vals(square(x)), ref.map((v) => v * v));
    assertClose(vals(clamp(x, { min: -1, max: 1 })), [-1, -0.5, 0, 0.5, 1]);
    const p = tensor([0.25, 1, 4]);
    assertClose(vals(sqrt(p)), [0.5, 1, 2]);
    assertClose(vals(log(p)), [Math.log(0.25), 0, Math.log(4)]);
    assertClose(vals(pow(p, 0.5)), [0.5, 1, 2]);
    assertClose(vals(rsqrt(p)), [2, 1, 0.5]);
    assertClose(vals(reciprocal(p)), [4, 1, 0.25]);
    assertClose(vals(sin(x)), ref.map(Math.sin));
    assertClose(vals(cos(x)), ref.map(Math.cos));
    assertThrows(() => clamp(x, { min: 1, max: 0 }), "clamp", "min");
  }));

Deno.test("comparisons, where and cast", () =>
  tidy(() => {
    const a = tensor([1, 2, 3]), b = tensor([3, 2, 1]);
    assertClose(vals(eq(a, b)), [0, 1, 0]);
    assertClose(vals(ne(a, b)), [1, 0, 1]);
    assertClose(vals(lt(a, b)), [1, 0, 0]);
    assertClose(vals(le(a, 2)), [1, 1, 0]);
    assertClose(vals(gt(a, b)), [0, 0, 1]);
    assertClose(vals(ge(a, b)), [0, 1, 1]);
    assertClose(vals(maximum(a, b)), [3, 2, 3]);
    assertClose(vals(minimum(a, 2)), [1, 2, 2]);
    const w = where(gt(a, 1), { then: a, else: tensor([[-1], [-2]]) }); // broadcast to (2, 3)
    assertClose(vals(w), [-1, 2, 3, -2, 2, 3]);
    assertClose(vals(where(arange(3), { then: 7, else: 0 })), [0, 7, 7]);
    const c = cast(tensor([1.7, -2.2]), "i32");
    assert(c.dtype === "i32", "cast dtype");
    assertClose(vals(c), [1, -2]);
  }));

Deno.test("elementwise gradients match finite differences (f64)", async (t) => {
  const s23 = [2, 3], s3 = [3], s21 = [2, 1];
  const cases: [string, (...x: import("./tensor.ts").Tensor[]) => import("./tensor.ts").Tensor, {
    shape: number[];
    data?: number[];
  }[]][] = [
    ["add broadcast", (a, b) => add(a!, b!), [{ shape: s23 }, { shape: s3 }]],
    ["sub broadcast", (a, b) => sub(a!, b!), [{ shape: s21 }, { shape: s23 }]],
    ["mul broadcast", (a, b) => mul(a!, b!), [{ shape: s23 }, { shape: s21 }]],
    ["div broadcast", (a, b) => div(a!, b!), [{ shape: s23 }, { shape: s3, data: pos(3) }]],
    ["add scalar", (a) => add(mul(a!, 3), 2), [{ shape: s23 }]],
    ["rsub scalar", (a) => sub(1, div(2, a!)), [{ shape: s3, data: pos(3) }]],
    ["pow tensor", (a, b) => pow(a!, b!), [{ shape: s23, data: pos(6) }, { shape: s3 }]],
    ["pow scalar", (a) => pow(a!, 3), [{ shape: s23 }]],
    ["neg", (a) => neg(a!), [{ shape: s23 }]],
    ["exp", (a) => exp(a!), [{ shape: s23 }]],
    ["log", (a) => log(a!), [{ shape: s23, data: pos(6) }]],
    ["sqrt", (a) => sqrt(a!), [{ shape: s23, data: pos(6) }]],
    ["square", (a) => square(a!), [{ shape: s23 }]],
    ["tanh", (a) => tanh(a!), [{ shape: s23 }]],
    ["rsqrt", (a) => rsqrt(a!), [{ shape: s23, data: pos(6) }]],
    ["reciprocal", (a) => reciprocal(a!), [{ shape: s23, data: pos(6) }]],
    ["sin", (a) => sin(a!), [{ shape: s23 }]],
    ["cos", (a) => cos(a!), [{ shape: s23 }]],
    ["sigmoid", (a) => sigmoid(a!), [{ shape: s23 }]],
    ["relu", (a) => relu(a!), [{ shape: s23 }]],
    ["abs", (a) => abs(a!), [{ shape: s23 }]],
    ["clamp", (a) => clamp(a!, { min: -0.5, max: 0.7 }), [{ shape: [4, 3] }]],
    ["maximum", (a, b) => maximum(a!, b!), [{ shape: s23 }, { shape: s3 }]],
    ["minimum", (a, b) => minimum(a!, b!), [{ shape: s23 }, { shape: s21 }]],
    ["where", (a, b) => where(gt(a!, 0), { then: a!, else: mul(b!, 2) }), [{ shape: s23 }, { shape: s3 }]],
    ["cast f64->f32->f64", (a) => cast(mul(a!, 1), "f64"), [{ shape: s3 }]],
    ["strided input", (a) => mul(transpose(a!), tensor([1, 2], { dtype: "f64" })), [{ shape: [2, 3] }]],
    ["used twice", (a) => mul(add(a!, a!), a!), [{ shape: s3 }]],
  ];
  for (const [name, fn, inputs] of cases) await t.step(name, () => gradcheck(name, fn, inputs));
});

Deno.test("elementwise ops leave no tensors behind inside tidy", () => {
  const before = liveTensors();
  tidy(() => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    maximum(x, 2).sum().backward();
    x.dispose();
  });
  assert(liveTensors() === before, `live ${liveTensors()} vs ${before}`);
});

function fmt(t: { shape: readonly number[] }): string {
  return t.shape.join();
}
