/**
 * CPU elementwise kernels: `unary`, `binary`, `where` and `copy` over coalesced strided views (generated loops in
 * `../_strided.ts`; large f32 add / sub / mul / div on the WebAssembly SIMD module of `../_wasm_exp.ts`), computed
 * in double precision and stored in the output's dtype.
 *
 * @module
 */

import type { KernelAttrs, TypedArray } from "../../backend.ts";
import {
  type Arg,
  type CpuKernels,
  expectArity,
  expectContiguous,
  expectShape,
  KernelError,
} from "../_args.ts";
import { BINARY_EXPR, COPY_EXPR, elementwiseLoop, makePlan, UNARY_EXPR, WHERE_EXPR } from "../_strided.ts";
import { wasmBinaryF32 } from "../_wasm_exp.ts";
import { WASM_BINARY_OPS } from "../_wasm/exp_wat.ts";

/** Check `ins` against `y`'s shape and compute `expr` over them into `y` (`simd`: a WebAssembly binary op). */
export function runElementwise(
  kernel: string,
  ins: readonly Arg[],
  y: Arg,
  expr: string,
  A = 0,
  B = 0,
  simd?: string,
): void {
  for (let k = 0; k < ins.length; k++) expectShape(kernel, `input ${k}`, ins[k]!, y.shape);
  const plan = makePlan(y.shape, [y, ...ins]);
  const X = ins.map((x) => x.data);
  if (
    simd !== undefined && y.data instanceof Float32Array && X.every((x) => x instanceof Float32Array) &&
    wasmBinaryF32(simd, y.data, X as Float32Array[], [y.id, ...ins.map((x) => x.id)], plan)
  ) return;
  elementwiseLoop(ins.length, expr)(y.data, X, plan, A, B);
}

/** Binary ops with a WebAssembly SIMD path for large f32 operands (bitwise the same results). */
const SIMD_BINARY = new Set<string>(WASM_BINARY_OPS);

/** `unary` kernel. */
export function unary(ins: readonly Arg[], outs: readonly Arg[], attrs: KernelAttrs["unary"]): void {
  expectArity("unary", ins, outs, 1, 1);
  const expr = UNARY_EXPR[attrs.op];
  if (expr === undefined) throw new KernelError("unary", `unknown op "${attrs.op}"`);
  const y = outs[0]!;
  expectContiguous("unary", "output", y);
  let A = attrs.alpha ?? 0, B = attrs.beta ?? 0;
  if (attrs.op === "clamp") A = attrs.alpha ?? -Infinity, B = attrs.beta ?? Infinity;
  runElementwise(`unary ${attrs.op}`, ins, y, expr, A, B);
}

/** `binary` kernel. */
export function binary(ins: readonly Arg[], outs: readonly Arg[], attrs: KernelAttrs["binary"]): void {
  expectArity("binary", ins, outs, 2, 1);
  const expr = BINARY_EXPR[attrs.op];
  if (expr === undefined) throw new KernelError("binary", `unknown op "${attrs.op}"`);
  expectContiguous("binary", "output", outs[0]!);
  runElementwise(
    `binary ${attrs.op}`,
    ins,
    outs[0]!,
    expr,
    0,
    0,
    SIMD_BINARY.has(attrs.op) ? attrs.op : undefined,
  );
}

/** `where` kernel. */
export function where(ins: readonly Arg[], outs: readonly Arg[]): void {
  expectArity("where", ins, outs, 3, 1);
  expectContiguous("where", "output", outs[0]!);
  runElementwise("where", ins, outs[0]!, WHERE_EXPR);
}

/** `copy` kernel: any view to any view of the same shape (an overlapping source is read before writing). */
export function copy(ins: readonly Arg[], outs: readonly Arg[]): void {
  expectArity("copy", ins, outs, 1, 1);
  const x = ins[0]!, y = outs[0]!;
  const src = x.id === y.id ? { ...x, data: x.data.slice() } : x;
  expectShape("copy", "input 0", src, y.shape);
  const plan = makePlan(y.shape, [y, src]);
  if (src.data.constructor === y.data.constructor && copyRuns(y.data, src.data, plan)) return;
  runElementwise("copy", [src], y, COPY_EXPR);
}

/**
 * Copy as `TypedArray.set` runs (a memcpy each) when both sides step by 1 along the coalesced last axis and runs
 * are at least 16 long; false (nothing copied) otherwise. Same dtype only, so the values are those of the loop.
 */
function copyRuns(Y: TypedArray, X: TypedArray, plan: ReturnType<typeof makePlan>): boolean {
  const { shape, strides: S, offsets: O } = plan, r = shape.length, n = shape[r - 1]!;
  if (plan.size === 0 || n < 16 || S[0]![r - 1] !== 1 || S[1]![r - 1] !== 1) return false;
  const idx = new Array<number>(r).fill(0);
  let yo = O[0]!, xo = O[1]!;
  for (let t = 0, runs = plan.size / n; t < runs; t++) {
    Y.set(X.subarray(xo, xo + n), yo);
    for (let d = r - 2; d >= 0; d--) {
      yo += S[0]![d]!, xo += S[1]![d]!;
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
      yo -= S[0]![d]! * shape[d]!, xo -= S[1]![d]! * shape[d]!;
    }
  }
  return true;
}

/** The elementwise family. */
export const ELEMENTWISE_KERNELS: CpuKernels<"unary" | "binary" | "where" | "copy"> = {
  unary,
  binary,
  where,
  copy,
};
