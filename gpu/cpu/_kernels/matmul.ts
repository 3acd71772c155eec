/**
 * CPU `matmul` kernel: checks the operands and hands the product to the GEMM of `../_gemm.ts` (for f32 the
 * machine's BLAS when the backend uses it, else the WebAssembly SIMD kernel of `../_wasm_matmul.ts`; the
 * JavaScript f64-accumulating one otherwise), split across the backend's worker threads when it is large (BLAS
 * products across the library's own threads).
 *
 * @module
 */

import type { KernelAttrs } from "../../backend.ts";
import {
  type Arg,
  type CpuContext,
  type CpuKernels,
  expectArity,
  expectContiguous,
  KernelError,
  shapeStr,
} from "../_args.ts";
import { type Problem, runProblem } from "../_gemm.ts";

/**
 * `matmul` kernel: `c (B, M, N) (+)= a (B, M, K) @ b (B, K, N)`; rank-2 operands are a batch of one. With a
 * runner in `ctx` (and storages in shared memory) large products are split across its threads. f32 products use
 * `ctx.matmul` (`"blas"`: `ctx.blas`); f64 and i32 ones always use the JavaScript kernel.
 */
export function matmul(
  ins: readonly Arg[],
  outs: readonly Arg[],
  attrs: KernelAttrs["matmul"],
  ctx: CpuContext,
): void {
  expectArity("matmul", ins, outs, 2, 1);
  const [a, b] = ins as [Arg, Arg];
  const c = outs[0]!;
  const rank = a.shape.length;
  const shapes = `a ${shapeStr(a.shape)} @ b ${shapeStr(b.shape)} -> c ${shapeStr(c.shape)}`;
  if ((rank !== 2 && rank !== 3) || b.shape.length !== rank || c.shape.length !== rank) {
    throw new KernelError("matmul", `operands must all be rank 3 (B, M, K) or rank 2 (M, K): ${shapes}`);
  }
  const o = rank - 2;
  const batch = rank === 3 ? a.shape[0]! : 1;
  const m = a.shape[o]!, k = a.shape[o + 1]!, n = b.shape[o + 1]!;
  if (
    b.shape[o] !== k || c.shape[o] !== m || c.shape[o + 1] !== n ||
    (rank === 3 && (b.shape[0] !== batch || c.shape[0] !== batch))
  ) {
    throw new KernelError("matmul", `shape mismatch: ${shapes}`);
  }
  expectContiguous("matmul", "output", c);
  if (c.id === a.id || c.id === b.id) {
    throw new KernelError("matmul", `output storage #${c.id} aliases an input (${shapes})`);
  }
  const f32 = a.data instanceof Float32Array && b.data instanceof Float32Array &&
    c.data instanceof Float32Array;
  const problem: Problem = {
    a: { data: a.data, off: a.offset, rs: a.strides[o]!, cs: a.strides[o + 1]! },
    b: { data: b.data, off: b.offset, rs: b.strides[o]!, cs: b.strides[o + 1]! },
    aBs: rank === 3 ? a.strides[0]! : 0,
    bBs: rank === 3 ? b.strides[0]! : 0,
    cOff: c.offset,
    m,
    n,
    k,
    accumulate: attrs.accumulate ?? false,
    wasm: ctx.matmul === "wasm" && f32,
    ...(ctx.matmul === "blas" && f32 && ctx.blas ? { blas: ctx.blas } : {}),
  };
  runProblem(problem, c.data, batch, ctx.runner);
}

/** The matmul family. */
export const MATMUL_KERNELS: CpuKernels<"matmul"> = { matmul };
