/**
 * Test helpers (private): a finite-difference gradient check in f64 and small assertions. Used by the op
 * tests; not part of the public API.
 *
 * @module
 */

import { Rng } from "../gpu/rng.ts";
import { noGrad } from "./engine.ts";
import { fromArray, type Tensor, tidy } from "./tensor.ts";
import { mul } from "./ops_elementwise.ts";
import { sum } from "./ops_reduce.ts";

/** Throw `msg` unless `cond`. */
export function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

/** Assert two number lists agree within `atol + rtol * |expected|` elementwise. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol = 1e-6, rtol = 1e-5, what = "values" }: { atol?: number; rtol?: number; what?: string } = {},
): void {
  assert(
    actual.length === expected.length,
    `${what}: length ${actual.length} != expected ${expected.length}`,
  );
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue;
    assert(
      Math.abs(a - e) <= atol + rtol * Math.abs(e),
      `${what}[${i}]: got ${a}, expected ${e}\n  actual   ${Array.from(actual).slice(0, 12)}\n  expected ${
        Array.from(expected).slice(0, 12)
      }`,
    );
  }
}

/** Assert `fn` throws an error whose message contains every fragment. */
export function assertThrows(fn: () => unknown, ...fragments: string[]): void {
  let msg: string | null = null;
  try {
    fn();
  } catch (err) {
    msg = err instanceof Error ? err.message : String(err);
  }
  assert(msg !== null, `expected an error mentioning ${fragments.join(", ")}`);
  for (const f of fragments) assert(msg.includes(f), `error "${msg}" does not mention "${f}"`);
}

/** Values of `t` as a plain array. */
export function vals(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

/** One differentiable input of {@linkcode gradcheck}: a shape and optional values (random normal otherwise). */
export interface GradInput {
  /** Shape. */
  shape: readonly number[];
  /** Values (row-major); default seeded normal numbers. */
  data?: readonly number[];
}

/**
 * Compare the autograd gradient of `fn` w.r.t. every input against central finite differences, in f64.
 * The objective is `sum(fn(...xs) * W)` for fixed random `W`, so every output element is exercised.
 */
export function gradcheck(
  name: string,
  fn: (...xs: Tensor[]) => Tensor,
  inputs: readonly GradInput[],
  { eps = 1e-6, atol = 1e-6, rtol = 1e-5, seed = 1 }: {
    eps?: number;
    atol?: number;
    rtol?: number;
    seed?: number;
  } = {},
): void {
  const rng = new Rng(seed);
  const data = inputs.map((inp) => {
    const n = inp.shape.reduce((a, b) => a * b, 1);
    return Float64Array.from(inp.data ?? Array.from({ length: n }, () => rng.normal()));
  });
  let weights: Float64Array | null = null;
  const objective = (arrays: Float64Array[]): number =>
    noGrad(() =>
      tidy(() => {
        const xs = arrays.map((a, i) => fromArray(a, inputs[i]!.shape, { dtype: "f64" }));
        const y = fn(...xs);
        const w = fromArray(weights!, y.shape, { dtype: "f64" });
        return sum(mul(y, w)).dataSync()[0]!;
      })
    );
  const analytic = tidy(() => {
    const xs = data.map((a, i) => fromArray(a, inputs[i]!.shape, { dtype: "f64", requiresGrad: true }));
    const y = fn(...xs);
    assert(y.dtype === "f64", `${name}: output dtype ${y.dtype}, expected f64`);
    weights = Float64Array.from({ length: y.size }, () => rng.normal());
    sum(mul(y, fromArray(weights, y.shape, { dtype: "f64" }))).backward();
    const grads = xs.map((x) => (x.grad ? Array.from(x.grad.dataSync()) : new Array<number>(x.size).fill(0)));
    for (const x of xs) x.dispose();
    return grads;
  });
  data.forEach((arr, i) => {
    const numeric: number[] = [];
    for (let j = 0; j < arr.length; j++) {
      const keep = arr[j]!;
      arr[j] = keep + eps;
      const up = objective(data);
      arr[j] = keep - eps;
      const down = objective(data);
      arr[j] = keep;
      numeric.push((up - down) / (2 * eps));
    }
    assertClose(analytic[i]!, numeric, { atol, rtol, what: `${name} d/dinput${i}` });
  });
}
