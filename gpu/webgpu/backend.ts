/**
 * The WebGPU backend: storages are pooled GPU buffers, kernels are WGSL compute pipelines cached by a
 * shape-independent key, launches are batched into one compute pass and submitted every few dozen dispatches
 * or when data must move, and data comes back only through the async {@linkcode WebGpuBackend.read}.
 *
 * This file holds storage (alloc, free, write, read) and dispatch: `run` calls the kernel of that name in
 * `_kernels/table.ts` (one file per kernel family in `_kernels/`, the same names as the CPU backend's, each with
 * its WGSL and launch code) with the backend's {@linkcode GpuContext} (`_context.ts`: device, batching executor
 * of `_exec.ts`, buffer pool of `_pool.ts`, texture cache of `_textures.ts`, shared argument checks).
 *
 * @example Add two vectors on the GPU (skipped when there is no adapter)
 * ```ts
 * import { createWebGpuBackend } from "./mod.ts";
 * const made = await createWebGpuBackend();
 * if (made.backend) {
 *   const gpu = made.backend;
 *   const a = gpu.alloc(3, "f32"), b = gpu.alloc(3, "f32"), y = gpu.alloc(3, "f32");
 *   gpu.write(a, new Float32Array([1, 2, 3]));
 *   gpu.write(b, new Float32Array([10, 20, 30]));
 *   const v = (s: typeof a) => ({ storage: s, shape: [3], strides: [1], offset: 0 });
 *   gpu.run("binary", [v(a), v(b)], [v(y)], { op: "add" });
 *   const out = await gpu.read(y);
 *   if (out[2] !== 33) throw new Error(`expected 33, got ${out[2]}`);
 *   gpu.dispose();
 * }
 * ```
 *
 * @module
 */

import type { Backend, DType, KernelAttrs, MemoryStats, Storage, TypedArray, View } from "../backend.ts";
import type { KernelName } from "../kernel_names.ts";
import { GpuContext, type GpuKernel, type MatmulVariant } from "./_context.ts";
import { type DeviceInfo, requestDevice } from "./_device.ts";
import { type ExecStats, Executor } from "./_exec.ts";
import { GPU_KERNELS } from "./_kernels/table.ts";
import { BufferPool, type PoolStats } from "./_pool.ts";
import { fail, GpuStorage } from "./_storage.ts";
import { TextureCache } from "./_textures.ts";

export type { ExecStats } from "./_exec.ts";
export type { MatmulVariant } from "./_context.ts";
export type { PoolStats } from "./_pool.ts";

/** Options of {@linkcode createWebGpuBackend}. */
export interface WebGpuBackendOptions {
  /** Adapter power preference. @default "high-performance" */
  powerPreference?: GPUPowerPreference;
  /** Force one matmul variant instead of the per-adapter rule table (tests, benchmarks). */
  matmulVariant?: MatmulVariant;
  /**
   * Smallest contiguous f32 elementwise launch (elements) that goes through textures instead of storage
   * buffers. @default 65536 on CPU-like adapters, never on GPUs
   */
  elementwiseTextureMin?: number;
}

/** Result of {@linkcode createWebGpuBackend}: the backend, or null and the reason. */
export type CreateWebGpuResult =
  | { backend: WebGpuBackend; reason: string }
  | { backend: null; reason: string };

/** Extra statistics of the WebGPU backend. */
export interface WebGpuStats extends MemoryStats {
  /** Buffer pool counters. */
  pool: PoolStats;
  /** Dispatch/submit/pipeline counters. */
  exec: ExecStats;
  /** Bytes held by cached matmul textures. */
  textureBytes: number;
}

const USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/**
 * Create the WebGPU backend, or return `backend: null` and why (no `navigator.gpu`, no adapter, device refused).
 *
 * @param options Adapter preference and variant overrides.
 * @returns The backend and the adapter description, or null and the reason.
 */
export async function createWebGpuBackend(options: WebGpuBackendOptions = {}): Promise<CreateWebGpuResult> {
  const r = await requestDevice(options.powerPreference ?? "high-performance");
  if (!r.ok) return { backend: null, reason: r.reason };
  return { backend: new WebGpuBackend(r.info, options), reason: r.info.description };
}

/** The WebGPU implementation of {@linkcode Backend} (f32 and i32 storages). */
export class WebGpuBackend implements Backend {
  /** Always `"webgpu"`. */
  readonly name = "webgpu";
  /** Adapter description. */
  readonly description: string;
  /** Dtypes stored: f32 and i32 (no f64 in WGSL). */
  readonly dtypes: readonly DType[] = ["f32", "i32"];
  /** True on a CPU/fallback adapter (llvmpipe): matmul uses the texture variant. */
  readonly isFallbackAdapter: boolean;
  /** Device features enabled (`shader-f16`, `timestamp-query` when offered). */
  readonly features: ReadonlySet<string>;
  /** The device (for benchmarks that time with timestamp queries). */
  readonly device: GPUDevice;
  #exec: Executor;
  #pool: BufferPool;
  #staging: BufferPool;
  #storages = new Map<number, GpuStorage>();
  #nextId = 1;
  #live = 0;
  #peak = 0;
  #lost: string | null = null;
  #error: string | null = null;
  #disposed = false;
  #textures: TextureCache;
  #ctx: GpuContext;

  /** Wrap an already created device (use {@linkcode createWebGpuBackend}). */
  constructor(info: DeviceInfo, options: WebGpuBackendOptions = {}) {
    this.device = info.device;
    this.description = info.description;
    this.isFallbackAdapter = info.isFallback;
    this.features = info.features;
    this.#exec = new Executor(info.device);
    this.#exec.check = () => this.#check();
    this.#pool = new BufferPool(info.device, USAGE);
    this.#textures = new TextureCache(info.device, this.#exec, this.#pool);
    this.#ctx = new GpuContext({
      device: info.device,
      exec: this.#exec,
      pool: this.#pool,
      textures: this.#textures,
      isFallback: info.isFallback,
      matmulVariant: options.matmulVariant,
      ewTexMin: options.elementwiseTextureMin ?? (info.isFallback ? 1 << 16 : Infinity),
      lookup: (s, what) => this.#storage(s, what),
    });
    this.#staging = new BufferPool(info.device, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 256 << 20);
    info.device.lost.then((l) => {
      if (!this.#disposed) this.#lost = `the WebGPU device was lost (${l.reason}): ${l.message}`;
    });
    info.device.addEventListener("uncapturederror", (e: Event) => {
      this.#error ??= (e as GPUUncapturedErrorEvent).error.message;
    });
  }

  #check(): void {
    if (this.#disposed) throw new Error("webgpu: the backend was disposed");
    if (this.#lost) throw new Error(`webgpu: ${this.#lost}; create a new backend`);
  }

  #storage(s: Storage, what: string): GpuStorage {
    const g = this.#storages.get(s.id);
    if (!g || g !== s) {
      throw new Error(
        `webgpu: ${what} (storage ${s.id}) ${
          g ? "belongs to another backend" : "was freed or never allocated here"
        }`,
      );
    }
    return g;
  }

  /** Allocate `size` elements of `dtype` from the buffer pool. */
  alloc(size: number, dtype: DType): Storage {
    this.#check();
    if (!Number.isInteger(size) || size < 0) {
      throw new RangeError(`webgpu alloc: size must be an integer >= 0, got ${size}`);
    }
    if (dtype === "f64") {
      throw new TypeError(
        "webgpu alloc: dtype f64 is not supported on WebGPU (WGSL has no f64); use f32, or the CPU backend for f64",
      );
    }
    if (dtype !== "f32" && dtype !== "i32") {
      throw new TypeError(`webgpu alloc: unknown dtype "${dtype}" (expected f32 or i32)`);
    }
    const bytes = size * 4;
    const max = this.device.limits.maxStorageBufferBindingSize;
    if (bytes > max) {
      throw new RangeError(
        `webgpu alloc: ${bytes} bytes exceeds this adapter's maxStorageBufferBindingSize ${max}`,
      );
    }
    const s = new GpuStorage(this.#nextId++, size, dtype, this.#pool.acquire(bytes));
    this.#storages.set(s.id, s);
    this.#live += bytes;
    this.#peak = Math.max(this.#peak, this.#live);
    return s;
  }

  /** Return a storage's buffer to the pool. */
  free(storage: Storage): void {
    const s = this.#storage(storage, "free()");
    this.#storages.delete(s.id);
    s.freed = true;
    this.#live -= s.size * 4;
    this.#pool.release(s.buffer);
    this.#textures.forget(s.id);
  }

  /** Copy `data` into `storage` at element `offset` (ordered after every kernel enqueued before). */
  write(storage: Storage, data: TypedArray, offset = 0): void {
    this.#check();
    const s = this.#storage(storage, "write()");
    const want = s.dtype === "f32" ? Float32Array : Int32Array;
    if (!(data instanceof want)) {
      throw new TypeError(
        `webgpu write: storage ${s.id} holds ${s.dtype}; pass a ${want.name}, got ${data.constructor.name}`,
      );
    }
    if (!Number.isInteger(offset) || offset < 0 || offset + data.length > s.size) {
      throw new RangeError(
        `webgpu write: ${data.length} elements at offset ${offset} do not fit storage ${s.id} of ${s.size}`,
      );
    }
    if (data.length === 0) return;
    if (this.#exec.isBusy(s.buffer)) this.#exec.flush();
    this.device.queue.writeBuffer(
      s.buffer,
      offset * 4,
      data.buffer as ArrayBuffer,
      data.byteOffset,
      data.byteLength,
    );
    s.version++;
  }

  /** Read a whole storage back (flushes queued work; ~11 ms on llvmpipe, so read rarely). */
  async read(storage: Storage): Promise<TypedArray> {
    this.#check();
    const s = this.#storage(storage, "read()");
    const bytes = s.size * 4;
    const Ctor = s.dtype === "f32" ? Float32Array : Int32Array;
    if (bytes === 0) return new Ctor(0);
    const staging = this.#staging.acquire(bytes);
    const enc = this.#exec.encoderForCopy();
    enc.copyBufferToBuffer(s.buffer, 0, staging, 0, Math.ceil(bytes / 4) * 4);
    this.#exec.flush();
    let lostListener: Promise<never> | null = null;
    lostListener = this.device.lost.then((l) => {
      throw new Error(`webgpu read: the device was lost while reading (${l.reason}): ${l.message}`);
    });
    try {
      await Promise.race([staging.mapAsync(GPUMapMode.READ, 0, staging.size), lostListener]);
    } catch (err) {
      throw new Error(`webgpu read of storage ${s.id} failed: ${(err as Error).message}${this.#errorNote()}`);
    }
    const copy = staging.getMappedRange(0, staging.size).slice(0, bytes);
    staging.unmap();
    this.#staging.release(staging);
    if (this.#error) {
      const e = this.#error;
      this.#error = null;
      throw new Error(`webgpu: a GPU validation error happened before this read: ${e}`);
    }
    return new Ctor(copy);
  }

  #errorNote(): string {
    return this.#error ? ` (earlier GPU error: ${this.#error})` : "";
  }

  /** Submit queued work. */
  flush(): void {
    this.#exec.flush();
  }

  /** Wait until the GPU has finished everything submitted so far. */
  async sync(): Promise<void> {
    this.#exec.flush();
    await Promise.race([
      this.device.queue.onSubmittedWorkDone(),
      this.device.lost.then((l) => {
        throw new Error(`webgpu sync: the device was lost (${l.reason}): ${l.message}`);
      }),
    ]);
  }

  /**
   * Start timing compute passes with GPU timestamps (benchmarks; needs the `timestamp-query` feature, see
   * {@linkcode WebGpuBackend.features}).
   */
  enableTimestamps(): void {
    this.#exec.enableTimestamps();
  }

  /** GPU nanoseconds spent inside compute passes since {@linkcode WebGpuBackend.enableTimestamps}. */
  gpuTimeNs(): Promise<number> {
    return this.#exec.gpuTimeNs();
  }

  /** Memory statistics (live/peak bytes of storages). */
  stats(): WebGpuStats {
    return {
      liveStorages: this.#storages.size,
      liveBytes: this.#live,
      peakBytes: this.#peak,
      pool: this.#pool.stats(),
      exec: this.#exec.stats(),
      textureBytes: this.#textures.bytes,
    };
  }

  /** Release every buffer, texture and the device. */
  dispose(): void {
    if (this.#disposed) return;
    this.#exec.dispose();
    this.#disposed = true;
    for (const s of this.#storages.values()) s.buffer.destroy();
    this.#storages.clear();
    this.#textures.dispose();
    this.#pool.dispose();
    this.#staging.dispose();
    this.device.destroy();
  }

  /** Enqueue kernel `name` (see `KernelAttrs` for each kernel's inputs, outputs and attributes). */
  run<K extends KernelName>(
    name: K,
    inputs: readonly View[],
    outputs: readonly View[],
    attrs: KernelAttrs[K],
  ): void {
    this.#check();
    const kernel = (GPU_KERNELS as Partial<Record<string, GpuKernel<K>>>)[name];
    if (!kernel) fail(String(name), "unknown kernel");
    kernel(inputs, outputs, attrs, this.#ctx);
  }
}
