/**
 * What a WebGPU kernel sees of its backend: the device, the batching executor, the buffer pool, the texture
 * cache and the adapter-dependent choices, plus the argument checks and launch helpers every kernel family
 * shares. The backend makes one per device and passes it to each kernel of `_kernels/table.ts`.
 *
 * @module
 */

import type { DType, KernelAttrs, Storage, View } from "../backend.ts";
import type { KernelName } from "../kernel_names.ts";
import type { BufferOperand, Dispatch, Executor, TextureOperand, UniformWriter } from "./_exec.ts";
import type { BufferPool } from "./_pool.ts";
import { fail, type GpuStorage, shapeStr, sizeOf } from "./_storage.ts";
import type { TextureCache } from "./_textures.ts";

/** Matmul kernel variants (see `_kernels/matmul.ts`). */
export type MatmulVariant = "naive" | "texture" | "tiled";

/** One WebGPU kernel: checks its views and enqueues its launches. */
export type GpuKernel<K extends KernelName> = (
  ins: readonly View[],
  outs: readonly View[],
  attrs: KernelAttrs[K],
  ctx: GpuContext,
) => void;

/** A table of WebGPU kernels by name (one per kernel family file, all of them in `_kernels/table.ts`). */
export type GpuKernels<N extends KernelName = KernelName> = { readonly [K in N]: GpuKernel<K> };

/** The parts of the backend a {@linkcode GpuContext} is built from. */
export interface GpuContextParts {
  /** The device. */
  device: GPUDevice;
  /** Batching executor. */
  exec: Executor;
  /** Pool of storage buffers (scratch buffers come from here too). */
  pool: BufferPool;
  /** Texture copies of storages. */
  textures: TextureCache;
  /** True on a CPU/fallback adapter (llvmpipe). */
  isFallback: boolean;
  /** A forced matmul variant, or undefined for the rule table. */
  matmulVariant: MatmulVariant | undefined;
  /** Smallest contiguous f32 launch that reads textures. */
  ewTexMin: number;
  /** The live storage behind a handle; throws naming `what` when it is not one of this backend's. */
  lookup: (s: Storage, what: string) => GpuStorage;
}

/** The backend as its kernels see it. */
export class GpuContext {
  /** The device. */
  readonly device: GPUDevice;
  /** Batching executor. */
  readonly exec: Executor;
  /** Pool of storage buffers. */
  readonly pool: BufferPool;
  /** Texture copies of storages. */
  readonly textures: TextureCache;
  /** True on a CPU/fallback adapter (llvmpipe). */
  readonly isFallback: boolean;
  /** A forced matmul variant, or undefined for the rule table. */
  readonly matmulVariant: MatmulVariant | undefined;
  /** Smallest contiguous f32 launch that reads textures. */
  readonly ewTexMin: number;
  #lookup: (s: Storage, what: string) => GpuStorage;

  /** Bundle the backend's parts. */
  constructor(parts: GpuContextParts) {
    this.device = parts.device;
    this.exec = parts.exec;
    this.pool = parts.pool;
    this.textures = parts.textures;
    this.isFallback = parts.isFallback;
    this.matmulVariant = parts.matmulVariant;
    this.ewTexMin = parts.ewTexMin;
    this.#lookup = parts.lookup;
  }

  /** Throw unless there are `nIn` inputs and `nOut` outputs, each a view inside a live storage of this backend. */
  arity(kernel: string, ins: readonly View[], outs: readonly View[], nIn: number, nOut: number): void {
    if (ins.length !== nIn || outs.length !== nOut) {
      fail(kernel, `expects ${nIn} inputs and ${nOut} outputs, got ${ins.length} and ${outs.length}`);
    }
    ins.forEach((v, i) => this.#checkView(kernel, `input ${i}`, v));
    outs.forEach((v, i) => this.#checkView(kernel, `output ${i}`, v));
  }

  #checkView(kernel: string, what: string, v: View): void {
    const s = this.#lookup(v.storage, `${kernel} ${what}`);
    if (v.shape.length !== v.strides.length) {
      fail(kernel, `${what}: shape ${shapeStr(v.shape)} and strides ${shapeStr(v.strides)} differ in rank`);
    }
    if (sizeOf(v.shape) === 0) return;
    let lo = v.offset, hi = v.offset;
    v.shape.forEach((n, d) => {
      const st = v.strides[d]!;
      if (st >= 0) hi += (n - 1) * st;
      else lo += (n - 1) * st;
    });
    if (lo < 0 || hi >= s.size) {
      fail(
        kernel,
        `${what}: view shape ${shapeStr(v.shape)} strides ${
          shapeStr(v.strides)
        } offset ${v.offset} reaches outside storage ${s.id} of ${s.size} elements`,
      );
    }
  }

  /** Throw unless `v` is row-major contiguous (size-1 axes may have any stride). */
  contiguous(kernel: string, what: string, v: View): void {
    let expect = 1;
    for (let d = v.shape.length - 1; d >= 0; d--) {
      const n = v.shape[d]!;
      if (n !== 1 && v.strides[d] !== expect) {
        fail(
          kernel,
          `${what} must be contiguous (row-major), got shape ${shapeStr(v.shape)} strides ${
            shapeStr(v.strides)
          }`,
        );
      }
      expect *= n;
    }
  }

  /** Throw unless `v` has exactly `shape`. */
  shape(kernel: string, what: string, v: View, shape: readonly number[]): void {
    if (v.shape.length !== shape.length || v.shape.some((n, i) => n !== shape[i])) {
      fail(kernel, `${what} has shape ${shapeStr(v.shape)}, expected ${shapeStr(shape)}`);
    }
  }

  /** Throw unless `v` holds `dtype`. */
  dtype(kernel: string, what: string, v: View, dtype: DType): void {
    if (v.storage.dtype !== dtype) fail(kernel, `${what} must be ${dtype}, got ${v.storage.dtype}`);
  }

  /** Rows and columns of a 2-D input. */
  rows(kernel: string, x: View): [number, number] {
    if (x.shape.length !== 2) fail(kernel, `input must be 2-D (rows, cols), got shape ${shapeStr(x.shape)}`);
    return [x.shape[0]!, x.shape[1]!];
  }

  /** The buffer operand of a view or storage. */
  buf(v: View | GpuStorage, write = false): BufferOperand {
    const s = "storage" in v ? (v.storage as GpuStorage) : v;
    return { buffer: s.buffer, type: s.dtype === "i32" ? "i32" : "f32", write };
  }

  /** Mark outputs written (cached textures of them go stale). */
  touch(...outs: View[]): void {
    for (const o of outs) (o.storage as GpuStorage).version++;
  }

  /** Record one dispatch. */
  launch(d: Dispatch): void {
    this.exec.dispatch(d);
  }

  /** Append a 2-D view's offset, row stride and column stride. */
  m2(u: UniformWriter, v: View): void {
    u.i32(v.offset), u.i32(v.strides[0]!), u.i32(v.strides[1]!);
  }

  /** Append a 1-D view's offset and stride. */
  v1(u: UniformWriter, v: View): void {
    u.i32(v.offset), u.i32(v.strides[0]!);
  }

  /**
   * The 2-D input of a row kernel: on CPU-like adapters a large f32 input is read through a texture of the viewed
   * region (texel fetches are several times cheaper than storage loads on llvmpipe), else from its buffer.
   */
  rowSource(
    x: View,
    R: number,
    C: number,
  ): { op: BufferOperand | TextureOperand; tex: boolean; m2: (u: UniformWriter) => void } {
    const st = x.storage as GpuStorage;
    const rs = x.strides[0]!, cs = x.strides[1]!;
    if (st.dtype === "f32" && R * C >= this.ewTexMin && rs >= 0 && cs >= 0) {
      const last = x.offset + (R - 1) * rs + (C - 1) * cs;
      const start = Math.floor(x.offset / 4), count = Math.floor(last / 4) - start + 1;
      if (this.textures.rows(count) > 0) {
        const off = x.offset - start * 4;
        return {
          op: { texture: this.textures.raw(st, start, count) },
          tex: true,
          m2: (u) => (u.i32(off), u.i32(rs), u.i32(cs)),
        };
      }
    }
    return { op: this.buf(x), tex: false, m2: (u) => this.m2(u, x) };
  }
}
