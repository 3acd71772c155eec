/**
 * CPU row kernels over the last axis of `(R, C)`: `softmax` / log-softmax, `crossEntropy` and
 * `crossEntropyBackward`. f32 rows with unit column stride go through the WebAssembly exp module
 * (`../_wasm_exp.ts`); rows it cannot do exactly fall back to the double-precision loops here.
 *
 * @module
 */

import type { KernelAttrs, TypedArray } from "../../backend.ts";
import {
  type Arg,
  type CpuKernels,
  expectArity,
  expectContiguous,
  expectDtype,
  expectShape,
  KernelError,
  mat,
  rowsCols,
  vec,
} from "../_args.ts";
import { wasmRowsLogSumExp, wasmRowsSoftmax, wasmRowsSoftmaxGrad } from "../_wasm_exp.ts";

/** `softmax` kernel over the last axis of `(R, C)`. */
export function softmax(ins: readonly Arg[], outs: readonly Arg[], attrs: KernelAttrs["softmax"]): void {
  expectArity("softmax", ins, outs, 1, 1);
  const [R, C] = rowsCols("softmax", ins[0]!);
  const y = outs[0]!;
  expectShape("softmax", "output", y, [R, C]);
  expectContiguous("softmax", "output", y);
  const { data: x, off, rs, cs } = mat(ins[0]!);
  const out = y.data, yo = y.offset;
  const simd = x instanceof Float32Array && out instanceof Float32Array && cs === 1 && ins[0]!.id !== y.id;
  if (attrs.log) {
    // log-sum-exp rows from the WebAssembly kernel when it applies (NaN where a row's max is not finite).
    const lse = lseScratch(R);
    const fast = simd && wasmRowsLogSumExp(x, off, rs, R, C, lse);
    for (let r = 0; r < R; r++) {
      const p0 = off + r * rs, q0 = yo + r * C;
      let l = lse[r]!;
      if (!fast || l !== l) l = rowLogSumExp(x, p0, cs, C);
      for (let c = 0, p = p0; c < C; c++, p += cs) out[q0 + c] = x[p]! - l;
    }
    return;
  }
  if (
    simd &&
    wasmRowsSoftmax(x, off, rs, R, C, out, yo, (r) => softmaxRow(x, off + r * rs, cs, C, out, yo + r * C))
  ) {
    return;
  }
  for (let r = 0; r < R; r++) softmaxRow(x, off + r * rs, cs, C, out, yo + r * C);
}

/** One softmax row in double precision: `C` elements from `x[p0]` (stride `cs`) to `out[q0..]`. */
function softmaxRow(x: TypedArray, p0: number, cs: number, C: number, out: TypedArray, q0: number): void {
  // One exp per element: keep exp(x - max) in double precision while summing, then scale.
  let max = -Infinity;
  for (let c = 0, p = p0; c < C; c++, p += cs) if (x[p]! > max) max = x[p]!;
  if (max === -Infinity || max === Infinity || max !== max) {
    const lse = rowLogSumExp(x, p0, cs, C);
    for (let c = 0, p = p0; c < C; c++, p += cs) out[q0 + c] = Math.exp(x[p]! - lse);
    return;
  }
  const e = rowScratch(C);
  let sum = 0;
  for (let c = 0, p = p0; c < C; c++, p += cs) {
    const v = Math.exp(x[p]! - max);
    e[c] = v;
    sum += v;
  }
  const inv = 1 / sum;
  for (let c = 0; c < C; c++) out[q0 + c] = e[c]! * inv;
}

let scratch = new Float64Array(1024);

function rowScratch(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(n);
  return scratch;
}

function rowLogSumExp(x: TypedArray, p: number, cs: number, C: number): number {
  let max = -Infinity;
  for (let c = 0, q = p; c < C; c++, q += cs) if (x[q]! > max) max = x[q]!;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let c = 0, q = p; c < C; c++, q += cs) sum += Math.exp(x[q]! - max);
  return max + Math.log(sum);
}

function checkTargets(kernel: string, logits: Arg, targets: Arg): [number, number] {
  const [R, C] = rowsCols(kernel, logits);
  expectDtype(kernel, "targets", targets, "i32");
  expectShape(kernel, "targets", targets, [R]);
  return [R, C];
}

function target(kernel: string, tv: ReturnType<typeof vec>, r: number, C: number, ignore: number): number {
  const t = tv.data[tv.off + r * tv.s]!;
  if (t !== ignore && !(t >= 0 && t < C)) {
    throw new KernelError(
      kernel,
      `target ${t} at row ${r} is outside [0, ${C}) and is not ignoreIndex ${ignore}`,
    );
  }
  return t;
}

/** `crossEntropy` kernel: per-row loss and log-sum-exp. */
export function crossEntropy(
  ins: readonly Arg[],
  outs: readonly Arg[],
  attrs: KernelAttrs["crossEntropy"],
): void {
  const k = "crossEntropy";
  expectArity(k, ins, outs, 2, 2);
  const [R, C] = checkTargets(k, ins[0]!, ins[1]!);
  expectShape(k, "output loss", outs[0]!, [R]);
  expectShape(k, "output logSumExp", outs[1]!, [R]);
  const x = mat(ins[0]!), tv = vec(ins[1]!), loss = vec(outs[0]!), lseOut = vec(outs[1]!);
  for (let r = 0; r < R; r++) target(k, tv, r, C, attrs.ignoreIndex);
  const lse = lseScratch(R);
  const fast = x.data instanceof Float32Array && x.cs === 1 &&
    wasmRowsLogSumExp(x.data, x.off, x.rs, R, C, lse);
  for (let r = 0; r < R; r++) {
    const t = tv.data[tv.off + r * tv.s]!;
    let l = lse[r]!;
    if (!fast || l !== l) l = rowLogSumExp(x.data, x.off + r * x.rs, x.cs, C);
    lseOut.data[lseOut.off + r * lseOut.s] = l;
    loss.data[loss.off + r * loss.s] = t === attrs.ignoreIndex ? 0 : l - x.data[x.off + r * x.rs + t * x.cs]!;
  }
}

let lseBuf = new Float64Array(1024), gBuf = new Float64Array(1024);

function lseScratch(n: number): Float64Array {
  if (lseBuf.length < n) lseBuf = new Float64Array(n);
  return lseBuf;
}

function gScratch(n: number): Float64Array {
  if (gBuf.length < n) gBuf = new Float64Array(n);
  return gBuf;
}

/** `crossEntropyBackward` kernel: `gradLoss * (softmax - onehot)`, zero on ignored rows. */
export function crossEntropyBackward(
  ins: readonly Arg[],
  outs: readonly Arg[],
  attrs: KernelAttrs["crossEntropyBackward"],
): void {
  const k = "crossEntropyBackward";
  expectArity(k, ins, outs, 4, 1);
  const [R, C] = checkTargets(k, ins[0]!, ins[1]!);
  expectShape(k, "logSumExp", ins[2]!, [R]);
  expectShape(k, "gradLoss", ins[3]!, [R]);
  const y = outs[0]!;
  expectShape(k, "output", y, [R, C]);
  expectContiguous(k, "output", y);
  const x = mat(ins[0]!), tv = vec(ins[1]!), lv = vec(ins[2]!), gv = vec(ins[3]!), out = y.data;
  const ignore = attrs.ignoreIndex;
  /** Row r in double precision: the reference the WebAssembly path matches to f32 rounding. */
  const slow = (r: number) => {
    const t = tv.data[tv.off + r * tv.s]!;
    const q = y.offset + r * C;
    if (t === ignore) {
      out.fill(0, q, q + C);
      return;
    }
    const lse = lv.data[lv.off + r * lv.s]!, g = gv.data[gv.off + r * gv.s]!;
    let p = x.off + r * x.rs;
    for (let c = 0; c < C; c++, p += x.cs) out[q + c] = g * (Math.exp(x.data[p]! - lse) - (c === t ? 1 : 0));
  };
  for (let r = 0; r < R; r++) target(k, tv, r, C, ignore);
  if (x.data instanceof Float32Array && out instanceof Float32Array && x.cs === 1 && ins[0]!.id !== y.id) {
    const lse = lseScratch(R), g = gScratch(R);
    for (let r = 0; r < R; r++) {
      const t = tv.data[tv.off + r * tv.s]!;
      lse[r] = t === ignore ? 0 : lv.data[lv.off + r * lv.s]!;
      g[r] = t === ignore ? 0 : gv.data[gv.off + r * gv.s]!;
    }
    if (wasmRowsSoftmaxGrad(x.data, x.off, x.rs, R, C, lse, g, out, y.offset, slow)) {
      for (let r = 0; r < R; r++) {
        const t = tv.data[tv.off + r * tv.s]!, q = y.offset + r * C;
        if (t === ignore) out.fill(0, q, q + C);
        else out[q + t] = g[r]! * (Math.exp(x.data[x.off + r * x.rs + t]! - lse[r]!) - 1);
      }
      return;
    }
  }
  for (let r = 0; r < R; r++) slow(r);
}

/** The row family. */
export const ROWS_KERNELS: CpuKernels<"softmax" | "crossEntropy" | "crossEntropyBackward"> = {
  softmax,
  crossEntropy,
  crossEntropyBackward,
};
