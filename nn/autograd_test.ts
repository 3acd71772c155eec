import { assert, assertClose, assertThrows, vals } from "./_gradcheck.ts";
import { backward } from "./autograd.ts";
import { isGradEnabled, noGrad } from "./engine.ts";
import { add, exp, mul, sub, tanh } from "./ops_elementwise.ts";
import { split } from "./ops_shape.ts";
import { sum } from "./ops_reduce.ts";
import { liveTensors, ones, tensor, tidy, zeros } from "./tensor.ts";

Deno.test("backward() accumulates gradients of tensors used more than once", async (t) => {
  await t.step("x * x and a diamond graph", () => {
    const x = tensor([1, -2, 3], { requiresGrad: true });
    tidy(() => {
      const a = mul(x, 2), b = exp(x); // two paths from x
      sum(add(mul(a, b), mul(x, x))).backward();
    });
    const xs = [1, -2, 3];
    assertClose(vals(x.grad!), xs.map((v) => 2 * Math.exp(v) + 2 * v * Math.exp(v) + 2 * v), { rtol: 1e-5 });
    tidy(() => sum(x).backward()); // a second backward adds to grad
    assertClose(vals(x.grad!), xs.map((v) => 2 * Math.exp(v) + 2 * v * Math.exp(v) + 2 * v + 1), {
      rtol: 1e-5,
    });
    x.zeroGrad();
    assert(x.grad === null, "zeroGrad");
    x.dispose();
  });
  await t.step("multi-output ops (split) route each part's gradient", () => {
    const x = tensor([1, 2, 3, 4, 5], { requiresGrad: true });
    tidy(() => {
      const [a, b] = split(x, [2, 3]);
      sum(add(sum(mul(a!, 3)), sum(mul(b!, b!)))).backward();
    });
    assertClose(vals(x.grad!), [3, 3, 6, 8, 10]);
    x.dispose();
  });
  await t.step("explicit output gradient for a non-scalar", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    tidy(() => mul(x, 3).backward(tensor([1, 10])));
    assertClose(vals(x.grad!), [3, 30]);
    x.dispose();
  });
});

Deno.test("requiresGrad propagation, detach and noGrad", () => {
  const w = tensor([2], { requiresGrad: true });
  tidy(() => {
    const c = ones([1]);
    assert(!add(c, c).requiresGrad, "constants do not require grad");
    const y = mul(w, c);
    assert(y.requiresGrad && y.gradFn?.name === "mul", "op output tracks its creator");
    const d = y.detach();
    assert(!d.requiresGrad && d.gradFn === null && vals(d)[0] === 2, "detach cuts the graph");
    const z = noGrad(() => {
      assert(!isGradEnabled(), "noGrad switches recording off");
      return mul(w, w);
    });
    assert(isGradEnabled() && !z.requiresGrad && z.gradFn === null, "nothing recorded under noGrad");
    sum(add(mul(d, w), y)).backward();
  });
  assertClose(vals(w.grad!), [3]); // d contributes as a constant
  assertThrows(() => tensor([1], { dtype: "i32" }).requireGrad(), "i32", "no gradient");
  w.dispose();
});

Deno.test("backward() reports bad use clearly", () =>
  tidy(() => {
    const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
    const y = mul(x, 2);
    assertThrows(() => y.backward(), "backward", "[2, 2]", "not a scalar");
    assertThrows(() => y.backward(ones([3])), "backward", "[3]", "[2, 2]");
    assertThrows(() => backward(ones([1])), "backward", "does not require grad");
    const h = tanh(x);
    const m = sum(mul(h, h)); // mul's gradient reads h
    h.dispose();
    assertThrows(() => m.backward(), "backward of mul", "[2, 2]", "dispose");
  }));

Deno.test("backward() handles deep graphs without recursion", () => {
  const x = tensor([0.5], { requiresGrad: true });
  tidy(() => {
    let y = x;
    for (let i = 0; i < 10000; i++) y = add(y, 0);
    sum(y).backward();
  });
  assertClose(vals(x.grad!), [1]);
  x.dispose();
});

Deno.test("backward() frees every intermediate gradient", () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  const w = zeros([3], { requiresGrad: true });
  const live0 = liveTensors();
  tidy(() => sum(mul(sub(x, w), exp(x))).backward());
  assert(liveTensors() === live0 + 2, `only x.grad and w.grad are new: ${liveTensors() - live0}`);
  x.dispose();
  w.dispose();
  assert(liveTensors() === live0 - 2, "dispose frees leaf grads too");
});
