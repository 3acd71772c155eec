import { strict as assert } from "node:assert";
import { Attention } from "./attention.ts";
import { sum } from "../ops_reduce.ts";
import { fromArray, type Tensor, tidy } from "../tensor.ts";

function close(a: number, e: number, tol = 1e-5): void {
  assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `expected ${e}, got ${a}`);
}

Deno.test("Attention() computes the lesson-11 formula and masks padding", async (t) => {
  const attn = new Attention(2, 1, 2);
  const set = (p: Tensor, v: number[]) => p.backend.write(p.view.storage, Float32Array.from(v));
  set(attn.w1, [1, 0, 0, 1]); // identity
  set(attn.l2.weight, [0, 0]);
  set(attn.l2.bias!, [0, 0]);
  set(attn.v, [1, 1]);
  const enc = [0.5, 0, 0, 0.25, 1, 1]; // (1, 3, 2)
  await t.step("weights = softmax(tanh(enc) . V), context = sum a * enc", () =>
    tidy(() => {
      const r = attn.forward(fromArray(enc, [1, 3, 2]), fromArray([3], [1, 1]));
      const s = [Math.tanh(0.5), Math.tanh(0.25), 2 * Math.tanh(1)];
      const z = s.reduce((acc, x) => acc + Math.exp(x), 0);
      const a = s.map((x) => Math.exp(x) / z);
      const w = r.weights.dataSync();
      a.forEach((v, i) => close(w[i]!, v));
      const c = r.context.dataSync();
      close(c[0]!, a[0]! * 0.5 + a[2]!);
      close(c[1]!, a[1]! * 0.25 + a[2]!);
    }));
  await t.step("masked positions get zero weight; gradients reach every parameter", () =>
    tidy(() => {
      const r = attn.forward(
        fromArray(enc, [1, 3, 2]),
        fromArray([3], [1, 1]),
        fromArray([1, 0, 0], [1, 3], { dtype: "i32" }),
      );
      const w = r.weights.dataSync();
      assert.equal(w[0], 0);
      close(w[1]! + w[2]!, 1);
      sum(r.context).backward();
      for (const [name, p] of attn.namedParameters()) assert.ok(p.grad !== null, `${name} has a gradient`);
    }));
  assert.throws(() => attn.forward(fromArray([1, 2], [1, 2]), fromArray([1], [1, 1])), /need enc/);
  attn.dispose();
});
