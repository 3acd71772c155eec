/**
 * CPU `random` and `dropout` kernels on the counter-based generator of `../../rng.ts`: element `i` draws at
 * `(seed, counter + i)`, so the WebGPU backend produces the same numbers.
 *
 * @module
 */

import type { KernelAttrs } from "../../backend.ts";
import { normalAt, streamKey, uniformFromKey } from "../../rng.ts";
import {
  type Arg,
  type CpuKernels,
  expectArity,
  expectContiguous,
  isContiguous,
  KernelError,
  sizeOf,
} from "../_args.ts";
import { COPY_EXPR } from "../_strided.ts";
import { runElementwise } from "./elementwise.ts";

/** `random` kernel: element i draws at `(seed, counter + i)`. */
export function random(ins: readonly Arg[], outs: readonly Arg[], attrs: KernelAttrs["random"]): void {
  expectArity("random", ins, outs, 0, 1);
  const y = outs[0]!;
  expectContiguous("random", "output", y);
  const n = sizeOf(y.shape), out = y.data, o = y.offset;
  const { seed, counter, a, b } = attrs;
  const key = streamKey(seed >>> 0, 0);
  switch (attrs.dist) {
    case "uniform":
      for (let i = 0; i < n; i++) out[o + i] = a + (b - a) * uniformFromKey(key, counter + i);
      break;
    case "normal":
      for (let i = 0; i < n; i++) out[o + i] = a + b * normalAt(seed >>> 0, counter + i);
      break;
    case "bernoulli":
      for (let i = 0; i < n; i++) out[o + i] = uniformFromKey(key, counter + i) < a ? 1 : 0;
      break;
    default:
      throw new KernelError("random", `unknown dist "${attrs.dist}"`);
  }
}

/** `dropout` kernel: `y = x * keep(i) / (1 - p)` with `keep(i) = uniform(seed, counter + i) < 1 - p`. */
export function dropout(ins: readonly Arg[], outs: readonly Arg[], attrs: KernelAttrs["dropout"]): void {
  expectArity("dropout", ins, outs, 1, 1);
  const { p, seed, counter } = attrs;
  if (!(p >= 0 && p <= 1)) throw new KernelError("dropout", `p must be in [0, 1], got ${p}`);
  const y = outs[0]!, x = ins[0]!;
  expectContiguous("dropout", "output", y);
  const n = sizeOf(y.shape), keepP = 1 - p, scale = p === 1 ? 0 : 1 / keepP;
  const key = streamKey(seed >>> 0, 0);
  if (x.data instanceof Float32Array && y.data instanceof Float32Array && isContiguous(x)) {
    // The same draws as below in one pass, with the hash inlined (5x faster on the weight-dropped W_hh).
    return dropoutF32(x.data, x.offset, y.data, y.offset, n, { key, counter, keepP, scale });
  }
  runElementwise("dropout", ins, y, COPY_EXPR);
  const out = y.data, o = y.offset;
  for (let i = 0; i < n; i++) out[o + i] = uniformFromKey(key, counter + i) < keepP ? out[o + i]! * scale : 0;
}

/**
 * `y[yo + i] = keep(i) ? x[xo + i] * scale : 0` with `keep(i) = uniformFromKey(key, counter + i) < keepP`: the
 * PCG hash of `../../rng.ts` inlined and the comparison done on its top 24 bits (exact: `u = bits / 2^24`).
 */
function dropoutF32(
  x: Float32Array,
  xo: number,
  y: Float32Array,
  yo: number,
  n: number,
  { key, counter, keepP, scale }: { key: number; counter: number; keepP: number; scale: number },
): void {
  // u < keepP  <=>  bits < keepP * 2^24 (bits is an integer, so compare with the ceiling).
  const limit = Math.ceil(keepP * 16777216);
  for (let i = 0; i < n; i++) {
    const state = (Math.imul((counter + i + key) >>> 0, 747796405) + 2891336453) >>> 0;
    const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
    const bits = (((word >>> 22) ^ word) >>> 0) >>> 8;
    y[yo + i] = bits < limit ? x[xo + i]! * scale : 0;
  }
}

/** The random family. */
export const RANDOM_KERNELS: CpuKernels<"random" | "dropout"> = { random, dropout };
