import { strict as assert } from "node:assert";
import { Adam, clipGradNorm, SGD } from "./optim.ts";
import { fromArray, liveTensors, type Tensor } from "./tensor.ts";

function close(a: number, e: number, tol = 1e-6): void {
  assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `expected ${e}, got ${a}`);
}
function param(v: number[]): Tensor {
  return fromArray(v, [v.length], { requiresGrad: true });
}
function setGrad(p: Tensor, g: number[]): void {
  p.grad?.dispose();
  p.grad = fromArray(g, [g.length]);
}

Deno.test("SGD() with momentum follows PyTorch's update", () => {
  const p = param([1]);
  const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
  setGrad(p, [1]);
  opt.step(); // buf = 1, p = 1 - 0.1
  setGrad(p, [2]);
  opt.step(); // buf = 0.9 + 2 = 2.9, p = 0.9 - 0.29
  close(p.dataSync()[0]!, 0.61);
  opt.dispose();
  p.dispose();
});

Deno.test("Adam()/AdamW follow the formulas with bias correction", async (t) => {
  const adamRef = (
    p0: number,
    grads: number[],
    lr: number,
    b1: number,
    b2: number,
    eps: number,
    wd: number,
    decoupled: boolean,
  ) => {
    let p = p0, m = 0, v = 0;
    grads.forEach((g0, i) => {
      const step = i + 1;
      let g = g0;
      if (decoupled) p *= 1 - lr * wd;
      else g += wd * p;
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      const mh = m / (1 - b1 ** step), vh = v / (1 - b2 ** step);
      p -= lr * mh / (Math.sqrt(vh) + eps);
    });
    return p;
  };
  for (const decoupled of [true, false]) {
    await t.step(decoupled ? "AdamW (decoupled weight decay)" : "Adam with L2", () => {
      const p = param([0.5]);
      const opt = new Adam([{ params: [p], lr: 0.01, wd: 0.1 }], {
        beta1: 0.8,
        beta2: 0.99,
        eps: 1e-5,
        decoupled,
      });
      for (const g of [0.3, -0.2, 0.7]) {
        setGrad(p, [g]);
        opt.step();
      }
      close(p.dataSync()[0]!, adamRef(0.5, [0.3, -0.2, 0.7], 0.01, 0.8, 0.99, 1e-5, 0.1, decoupled), 1e-5);
      opt.dispose();
      p.dispose();
    });
  }
});

Deno.test("Optimizer param groups: per-group lr, frozen params skipped, setHyper", () => {
  const a = param([1]), b = param([1]), frozen = param([1]);
  const opt = new SGD([{ params: [a], lr: 0.1 }, { params: [b, frozen], lr: 1 }], { momentum: 0 });
  setGrad(a, [1]);
  setGrad(b, [1]);
  opt.step();
  close(a.dataSync()[0]!, 0.9);
  close(b.dataSync()[0]!, 0);
  close(frozen.dataSync()[0]!, 1, 0); // no gradient: not updated
  opt.setHyper("lr", [0.5, 0.25]);
  assert.deepEqual(opt.groups.map((g) => g.lr), [0.5, 0.25]);
  assert.throws(() => opt.setHyper("lr", [1]), /1 values for 2 groups/);
  assert.throws(() => new SGD([{ params: [a] }, { params: [a] }]), /appears twice/);
  opt.dispose();
  for (const p of [a, b, frozen]) p.dispose();
});

Deno.test("clipGradNorm() scales gradients to the global norm", () => {
  const a = param([0, 0]), b = param([0]);
  setGrad(a, [3, 0]);
  setGrad(b, [4]); // global norm 5
  const before = liveTensors();
  const norm = clipGradNorm([a, b], 1)!;
  close(norm.dataSync()[0]!, 5);
  norm.dispose();
  assert.equal(liveTensors(), before, "no leaked temporaries");
  close(a.grad!.dataSync()[0]!, 3 / (5 + 1e-6));
  close(b.grad!.dataSync()[0]!, 4 / (5 + 1e-6));
  setGrad(a, [0.3, 0.4]);
  setGrad(b, [0]);
  clipGradNorm([a, b], 1)!.dispose();
  close(a.grad!.dataSync()[0]!, 0.3); // below the limit: unchanged
  a.dispose();
  b.dispose();
});
