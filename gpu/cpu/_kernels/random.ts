/**
 * CPU `random` and `dropout` kernels on the counter-based generator of `../../rng.ts`: element `i` draws at
 * `(seed, counter + i)`, so the WebGPU backend produces the same numbers.
 *
 * @module
 */

import type { KernelAttrs } from "../../backend.ts";
import { normalAt, streamKey, uniformFromKey } from "../../rng.ts";
import { type Arg, type CpuKernels, expectArity, expectContiguous, KernelError, sizeOf } from "../_args.ts";
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
  const y = outs[0]!;
  expectContiguous("dropout", "output", y);
  runElementwise("dropout", ins, y, COPY_EXPR);
  const n = sizeOf(y.shape), out = y.data, o = y.offset;
  const keepP = 1 - p, scale = p === 1 ? 0 : 1 / keepP;
  const key = streamKey(seed >>> 0, 0);
  for (let i = 0; i < n; i++) out[o + i] = uniformFromKey(key, counter + i) < keepP ? out[o + i]! * scale : 0;
}

/** The random family. */
export const RANDOM_KERNELS: CpuKernels<"random" | "dropout"> = { random, dropout };
