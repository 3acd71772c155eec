/**
 * Resolved kernel arguments, the kernel signature and context, and the shape checks every CPU kernel shares.
 *
 * @module
 */

import type { DType, KernelAttrs, TypedArray } from "../backend.ts";
import type { KernelName } from "../kernel_names.ts";
import type { BlasGemm } from "./_blas_gemm.ts";
import type { MatmulKernel, PartRunner } from "./_gemm.ts";

/** A view whose storage has been resolved to its backing array. */
export interface Arg {
  /** Backing array of the storage. */
  readonly data: TypedArray;
  /** Element type. */
  readonly dtype: DType;
  /** Storage id (for messages). */
  readonly id: number;
  /** Logical shape. */
  readonly shape: readonly number[];
  /** Element strides. */
  readonly strides: readonly number[];
  /** First element. */
  readonly offset: number;
}

/** A 2-D window: element (i, j) is `data[off + i * rs + j * cs]`. */
export interface Mat {
  /** Backing array. */
  data: TypedArray;
  /** First element. */
  off: number;
  /** Row stride. */
  rs: number;
  /** Column stride. */
  cs: number;
  /** Rows. */
  rows: number;
  /** Columns. */
  cols: number;
}

/** `[2, 3]`-style rendering of a shape. */
export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** Element count of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** Raised by a CPU kernel given bad arguments; the message names the kernel and the shapes (not exported from mod.ts). */
export class KernelError extends Error {
  /** Build the error for kernel `kernel`. */
  constructor(kernel: string, message: string) {
    super(`cpu kernel "${kernel}": ${message}`);
    this.name = "KernelError";
  }
}

/** Throw unless there are `nIn` inputs and `nOut` outputs. */
export function expectArity(
  kernel: string,
  ins: readonly Arg[],
  outs: readonly Arg[],
  nIn: number,
  nOut: number,
): void {
  if (ins.length !== nIn || outs.length !== nOut) {
    throw new KernelError(
      kernel,
      `expects ${nIn} input(s) and ${nOut} output(s), got ${ins.length} input(s) ${
        shapesStr(ins)
      } and ${outs.length} output(s) ${shapesStr(outs)}`,
    );
  }
}

/** Render the shapes of several args. */
export function shapesStr(args: readonly Arg[]): string {
  return args.map((a) => shapeStr(a.shape)).join(" ");
}

/** Throw unless `arg` has exactly `shape`. */
export function expectShape(kernel: string, what: string, arg: Arg, shape: readonly number[]): void {
  if (arg.shape.length !== shape.length || arg.shape.some((s, i) => s !== shape[i])) {
    throw new KernelError(kernel, `${what} has shape ${shapeStr(arg.shape)}, expected ${shapeStr(shape)}`);
  }
}

/** Throw unless `arg` has rank `rank`; returns its shape. */
export function expectRank(kernel: string, what: string, arg: Arg, rank: number): readonly number[] {
  if (arg.shape.length !== rank) {
    throw new KernelError(kernel, `${what} must have rank ${rank}, got shape ${shapeStr(arg.shape)}`);
  }
  return arg.shape;
}

/** Throw unless `arg` has dtype `dtype`. */
export function expectDtype(kernel: string, what: string, arg: Arg, dtype: DType): void {
  if (arg.dtype !== dtype) {
    throw new KernelError(
      kernel,
      `${what} must be ${dtype}, got ${arg.dtype} (shape ${shapeStr(arg.shape)})`,
    );
  }
}

/** True when `arg` is row-major contiguous (axes of size 1 may have any stride). */
export function isContiguous(arg: Arg): boolean {
  let expect = 1;
  for (let d = arg.shape.length - 1; d >= 0; d--) {
    const n = arg.shape[d]!;
    if (n !== 1 && arg.strides[d] !== expect) return false;
    expect *= n;
  }
  return true;
}

/** Throw unless output `arg` is contiguous. */
export function expectContiguous(kernel: string, what: string, arg: Arg): void {
  if (!isContiguous(arg)) {
    throw new KernelError(
      kernel,
      `${what} must be contiguous, got shape ${shapeStr(arg.shape)} strides ${shapeStr(arg.strides)}`,
    );
  }
}

/** View a rank-2 arg as a {@linkcode Mat}. */
export function mat(arg: Arg): Mat {
  return {
    data: arg.data,
    off: arg.offset,
    rs: arg.strides[0]!,
    cs: arg.strides[1]!,
    rows: arg.shape[0]!,
    cols: arg.shape[1]!,
  };
}

/** A rank-1 arg as (data, offset, stride). */
export function vec(arg: Arg): { data: TypedArray; off: number; s: number; n: number } {
  return { data: arg.data, off: arg.offset, s: arg.strides[0]!, n: arg.shape[0]! };
}

/** Rows and columns of a rank-2 input 0. */
export function rowsCols(kernel: string, x: Arg): [number, number] {
  const s = expectRank(kernel, "input 0", x, 2);
  return [s[0]!, s[1]!];
}

/** What a kernel may use of its backend besides its arguments. */
export interface CpuContext {
  /** Worker threads for large products (created on first use), or undefined on a one-thread backend. */
  readonly runner: PartRunner | undefined;
  /** Which kernel f32 products use (`CpuBackendOptions.matmul`, resolved: never `"auto"`). */
  readonly matmul: MatmulKernel;
  /** The BLAS and its thread count when `matmul` is `"blas"`. */
  readonly blas: BlasGemm | undefined;
}

/** One CPU kernel: checks its resolved arguments and computes the outputs now. */
export type CpuKernel<K extends KernelName> = (
  ins: readonly Arg[],
  outs: readonly Arg[],
  attrs: KernelAttrs[K],
  ctx: CpuContext,
) => void;

/** A table of CPU kernels by name (one per kernel family file, all of them in `_kernels/table.ts`). */
export type CpuKernels<N extends KernelName = KernelName> = { readonly [K in N]: CpuKernel<K> };
