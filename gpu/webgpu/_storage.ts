/**
 * A WebGPU storage (a pooled GPU buffer with a version bumped on every write) and the small helpers every kernel
 * file shares: error messages naming the kernel, shape rendering, element counts.
 *
 * @module
 */

import type { DType, Storage } from "../backend.ts";

/** One storage of the WebGPU backend. */
export class GpuStorage implements Storage {
  /** Unique id within its backend. */
  readonly id: number;
  /** Number of elements. */
  readonly size: number;
  /** Element type. */
  readonly dtype: DType;
  /** The GPU buffer holding the elements. */
  buffer: GPUBuffer;
  /** Bumped on every write, so cached textures know when they are stale. */
  version = 0;
  /** Set by `free`. */
  freed = false;
  /** Wrap `buffer` as storage `id` of `size` elements. */
  constructor(id: number, size: number, dtype: DType, buffer: GPUBuffer) {
    this.id = id;
    this.size = size;
    this.dtype = dtype;
    this.buffer = buffer;
  }
}

/** Element count of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** `[2, 3]`-style rendering of a shape. */
export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** Throw `webgpu <kernel>: <msg>`. */
export function fail(kernel: string, msg: string): never {
  throw new Error(`webgpu ${kernel}: ${msg}`);
}
