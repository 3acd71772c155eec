/**
 * The WebGPU backend: storages are pooled GPU buffers, kernels are WGSL compute pipelines cached by a
 * shape-independent key, launches are batched into one compute pass and submitted every few dozen dispatches
 * or when data must move, and data comes back only through the async {@linkcode WebGpuBackend.read}.
 *
 * This file is the engine's hub (validation and launch of every kernel), so it is longer than most; the WGSL
 * lives in `_elementwise.ts`, `_rows.ts`, `_fused.ts` and `_matmul.ts`, batching in `_exec.ts`.
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
import { streamKey } from "../rng.ts";
import { type DeviceInfo, requestDevice } from "./_device.ts";
import {
  binaryOp,
  copyOp,
  dropoutOp,
  elementwiseCode,
  elementwiseTextureCode,
  elementwiseUniforms,
  type EwOp,
  makePlan,
  MAX_RANK,
  unaryOp,
  whereOp,
} from "./_elementwise.ts";
import {
  type BufferOperand,
  type Dispatch,
  type ExecStats,
  Executor,
  type TextureOperand,
  UniformWriter,
} from "./_exec.ts";
import {
  adamCode,
  gatherCode,
  gruCellBackwardCode,
  gruCellCode,
  lstmCellBackwardCode,
  lstmCellCode,
  randomCode,
  scatterAddCode,
  sgdCode,
} from "./_fused.ts";
import {
  chooseMatmul,
  type MatmulVariant,
  naiveCode,
  packCode,
  packTextureCode,
  TEX_W,
  textureBlocking,
  textureCode,
  tiledCode,
} from "./_matmul.ts";
import { BufferPool, type PoolStats } from "./_pool.ts";
import { crossEntropyBackwardCode, crossEntropyCode, reduceCode, softmaxCode } from "./_rows.ts";

export type { ExecStats } from "./_exec.ts";
export type { MatmulVariant } from "./_matmul.ts";
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

/** Bytes of matmul operand textures kept cached before the least recently used are dropped. */
const TEXTURE_BUDGET = 1 << 30;

const USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

class GpuStorage implements Storage {
  readonly id: number;
  readonly size: number;
  readonly dtype: DType;
  buffer: GPUBuffer;
  /** Bumped on every write, so cached textures know when they are stale. */
  version = 0;
  freed = false;
  constructor(id: number, size: number, dtype: DType, buffer: GPUBuffer) {
    this.id = id;
    this.size = size;
    this.dtype = dtype;
    this.buffer = buffer;
  }
}

interface TexEntry {
  texture: GPUTexture;
  rows: number;
  version: number;
  storageId: number;
}

/** A strided matrix description in elements. */
interface Mat3 {
  off: number;
  s: [number, number, number];
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

function fail(kernel: string, msg: string): never {
  throw new Error(`webgpu ${kernel}: ${msg}`);
}

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
  #matmulVariant: MatmulVariant | undefined;
  #ewTexMin: number;
  #outTextures: GPUTexture[] = [];
  #textures = new Map<string, TexEntry>();
  #freeTextures: GPUTexture[] = [];
  #textureBytes = 0;

  /** Wrap an already created device (use {@linkcode createWebGpuBackend}). */
  constructor(info: DeviceInfo, options: WebGpuBackendOptions = {}) {
    this.device = info.device;
    this.description = info.description;
    this.isFallbackAdapter = info.isFallback;
    this.features = info.features;
    this.#matmulVariant = options.matmulVariant;
    this.#ewTexMin = options.elementwiseTextureMin ?? (info.isFallback ? 1 << 16 : Infinity);
    this.#exec = new Executor(info.device);
    this.#exec.check = () => this.#check();
    this.#pool = new BufferPool(info.device, USAGE);
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
    for (const [k, e] of this.#textures) {
      if (e.storageId === s.id) {
        this.#textures.delete(k);
        this.#recycleTexture(e.texture);
      }
    }
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
      textureBytes: this.#textureBytes,
    };
  }

  /** Release every buffer, texture and the device. */
  dispose(): void {
    if (this.#disposed) return;
    this.#exec.dispose();
    this.#disposed = true;
    for (const s of this.#storages.values()) s.buffer.destroy();
    this.#storages.clear();
    for (const e of this.#textures.values()) e.texture.destroy();
    for (const t of this.#freeTextures) t.destroy();
    for (const t of this.#outTextures) t.destroy();
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
    const a = attrs as KernelAttrs[keyof KernelAttrs];
    switch (name) {
      case "unary":
        return this.#unary(inputs, outputs, a as KernelAttrs["unary"]);
      case "binary": {
        this.#arity(name, inputs, outputs, 2, 1);
        const [x, y] = inputs as [View, View];
        const op = binaryOp(
          (a as KernelAttrs["binary"]).op,
          x.storage.dtype,
          y.storage.dtype,
          outputs[0]!.storage.dtype,
        );
        return this.#elementwise(`binary ${op.name}`, op, inputs, outputs[0]!);
      }
      case "where": {
        this.#arity(name, inputs, outputs, 3, 1);
        const op = whereOp(inputs[1]!.storage.dtype, inputs[2]!.storage.dtype, outputs[0]!.storage.dtype);
        return this.#elementwise("where", op, inputs, outputs[0]!);
      }
      case "copy":
        return this.#copy(inputs, outputs);
      case "dropout": {
        this.#arity(name, inputs, outputs, 1, 1);
        const { p, seed, counter } = a as KernelAttrs["dropout"];
        if (!(p >= 0 && p <= 1)) fail("dropout", `p must be in [0, 1], got ${p}`);
        this.#contiguous("dropout", "output", outputs[0]!);
        return this.#elementwise(
          "dropout",
          dropoutOp(p, counter, streamKey(seed >>> 0, 0)),
          inputs,
          outputs[0]!,
        );
      }
      case "reduce":
        return this.#reduce(inputs, outputs, a as KernelAttrs["reduce"]);
      case "softmax":
        return this.#softmax(inputs, outputs, a as KernelAttrs["softmax"]);
      case "matmul":
        return this.#matmul(inputs, outputs, a as KernelAttrs["matmul"]);
      case "gather":
        return this.#gather(inputs, outputs);
      case "scatterAdd":
        return this.#scatterAdd(inputs, outputs);
      case "crossEntropy":
        return this.#crossEntropy(inputs, outputs, a as KernelAttrs["crossEntropy"]);
      case "crossEntropyBackward":
        return this.#crossEntropyBackward(inputs, outputs, a as KernelAttrs["crossEntropyBackward"]);
      case "random":
        return this.#random(inputs, outputs, a as KernelAttrs["random"]);
      case "lstmCell":
      case "lstmCellBackward":
      case "gruCell":
      case "gruCellBackward":
        return this.#cell(name, inputs, outputs);
      case "adam":
        return this.#adam(inputs, outputs, a as KernelAttrs["adam"]);
      case "sgd":
        return this.#sgd(inputs, outputs, a as KernelAttrs["sgd"]);
      default:
        fail(String(name), "unknown kernel");
    }
  }

  // ---- helpers -------------------------------------------------------------------------------------------

  #arity(kernel: string, ins: readonly View[], outs: readonly View[], nIn: number, nOut: number): void {
    if (ins.length !== nIn || outs.length !== nOut) {
      fail(kernel, `expects ${nIn} inputs and ${nOut} outputs, got ${ins.length} and ${outs.length}`);
    }
    ins.forEach((v, i) => this.#checkView(kernel, `input ${i}`, v));
    outs.forEach((v, i) => this.#checkView(kernel, `output ${i}`, v));
  }

  #checkView(kernel: string, what: string, v: View): void {
    const s = this.#storage(v.storage, `${kernel} ${what}`);
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

  #contiguous(kernel: string, what: string, v: View): void {
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

  #shape(kernel: string, what: string, v: View, shape: readonly number[]): void {
    if (v.shape.length !== shape.length || v.shape.some((n, i) => n !== shape[i])) {
      fail(kernel, `${what} has shape ${shapeStr(v.shape)}, expected ${shapeStr(shape)}`);
    }
  }

  #dtype(kernel: string, what: string, v: View, dtype: DType): void {
    if (v.storage.dtype !== dtype) fail(kernel, `${what} must be ${dtype}, got ${v.storage.dtype}`);
  }

  #buf(v: View | GpuStorage, write = false): BufferOperand {
    const s = "storage" in v ? (v.storage as GpuStorage) : v;
    return { buffer: s.buffer, type: s.dtype === "i32" ? "i32" : "f32", write };
  }

  #touch(...outs: View[]): void {
    for (const o of outs) (o.storage as GpuStorage).version++;
  }

  #launch(d: Dispatch): void {
    this.#exec.dispatch(d);
  }

  #m2(u: UniformWriter, v: View): void {
    u.i32(v.offset), u.i32(v.strides[0]!), u.i32(v.strides[1]!);
  }

  #v1(u: UniformWriter, v: View): void {
    u.i32(v.offset), u.i32(v.strides[0]!);
  }

  // ---- elementwise ---------------------------------------------------------------------------------------

  #unary(ins: readonly View[], outs: readonly View[], attrs: KernelAttrs["unary"]): void {
    this.#arity("unary", ins, outs, 1, 1);
    const op = unaryOp(attrs.op, ins[0]!.storage.dtype, outs[0]!.storage.dtype, attrs.alpha, attrs.beta);
    this.#contiguous(`unary ${attrs.op}`, "output", outs[0]!);
    this.#elementwise(`unary ${attrs.op}`, op, ins, outs[0]!);
  }

  #elementwise(kernel: string, op: EwOp, ins: readonly View[], out: View, srcOverride?: GPUBuffer): void {
    ins.forEach((x, i) => this.#shape(kernel, `input ${i}`, x, out.shape));
    const plan = makePlan(out.shape, [out, ...ins]);
    if (plan.size === 0) return;
    if (plan.shape.length > MAX_RANK) {
      fail(
        kernel,
        `views coalesce to rank ${plan.shape.length}; at most ${MAX_RANK} is supported (make an input contiguous first)`,
      );
    }
    const types = [out, ...ins].map((v) => v.storage.dtype);
    if (
      !srcOverride && plan.size >= this.#ewTexMin && plan.size % 4 === 0 && plan.shape.length === 1 &&
      types.every((t) => t === "f32") && plan.strides.every((st) => st[0] === 1) &&
      plan.offsets.every((o) => o % 4 === 0) && op.ct === "f32" && this.#texRows(plan.size / 4) > 0
    ) {
      return this.#elementwiseTexture(op, ins, out, plan.offsets, plan.size);
    }
    const { key, code } = elementwiseCode(op, plan.shape.length, types);
    const operands = [this.#buf(out, true), ...ins.map((x) => this.#buf(x))];
    if (srcOverride) operands[1] = { ...operands[1]!, buffer: srcOverride };
    this.#launch({
      key,
      code,
      operands,
      uniforms: elementwiseUniforms(plan, op),
      workgroups: Math.ceil(plan.size / 64),
    });
    this.#touch(out);
  }

  /** Rows of a flat texture holding `texels`, or 0 when it exceeds the adapter's texture size. */
  #texRows(texels: number): number {
    const rows = Math.max(1, Math.ceil(texels / TEX_W));
    return rows <= this.device.limits.maxTextureDimension2D ? rows : 0;
  }

  #elementwiseTexture(op: EwOp, ins: readonly View[], out: View, offsets: number[], n: number): void {
    const texels = n / 4, rows = this.#texRows(texels);
    const inputs = ins.map((x, k) => ({
      texture: this.#rawTexture(x.storage as GpuStorage, offsets[k + 1]! / 4, texels),
    }));
    const idx = this.#outTextures.findIndex((t) => t.height === rows);
    const target = idx >= 0 ? this.#outTextures.splice(idx, 1)[0]! : this.device.createTexture({
      size: [TEX_W, rows],
      format: "rgba32float",
      usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_SRC,
    });
    const u = new UniformWriter();
    u.u32(texels);
    op.params(u);
    const { key, code } = elementwiseTextureCode(op, ins.length, TEX_W);
    this.#launch({
      key,
      code,
      operands: [{ texture: target, store: true }, ...inputs],
      uniforms: u.words().slice(),
      workgroups: Math.ceil(texels / 64),
    });
    const st = out.storage as GpuStorage, base = offsets[0]! * 4;
    const enc = this.#exec.encoderForCopy();
    const full = Math.floor(texels / TEX_W), rest = texels - full * TEX_W;
    if (full > 0) {
      enc.copyTextureToBuffer({ texture: target }, {
        buffer: st.buffer,
        offset: base,
        bytesPerRow: TEX_W * 16,
      }, [
        TEX_W,
        full,
      ]);
    }
    if (rest > 0) {
      enc.copyTextureToBuffer(
        { texture: target, origin: [0, full] },
        { buffer: st.buffer, offset: base + full * TEX_W * 16, bytesPerRow: TEX_W * 16 },
        [rest, 1],
      );
    }
    this.#exec.markBusy(st.buffer);
    this.#outTextures.push(target);
    if (this.#outTextures.length > 8) {
      this.#exec.flush();
      this.#outTextures.shift()!.destroy();
    }
    this.#touch(out);
  }

  #copy(ins: readonly View[], outs: readonly View[]): void {
    this.#arity("copy", ins, outs, 1, 1);
    const x = ins[0]!, y = outs[0]!;
    const op = copyOp(x.storage.dtype, y.storage.dtype);
    this.#shape("copy", "input 0", x, y.shape);
    const plan = makePlan(y.shape, [y, x]);
    if (
      x.storage !== y.storage && x.storage.dtype === y.storage.dtype && plan.size > 0 &&
      plan.shape.length === 1 &&
      plan.strides[0]![0] === 1 && plan.strides[1]![0] === 1
    ) {
      // Contiguous run to contiguous run: a plain buffer copy, ordered with the kernels around it.
      const enc = this.#exec.encoderForCopy();
      const src = (x.storage as GpuStorage).buffer, dst = (y.storage as GpuStorage).buffer;
      enc.copyBufferToBuffer(src, plan.offsets[1]! * 4, dst, plan.offsets[0]! * 4, plan.size * 4);
      this.#exec.markBusy(src, dst);
      this.#touch(y);
      return;
    }
    if (x.storage === y.storage) {
      // Overlapping source and destination: read from a snapshot, as the CPU backend does.
      const s = x.storage as GpuStorage;
      const tmp = this.#pool.acquire(s.size * 4);
      const enc = this.#exec.encoderForCopy();
      enc.copyBufferToBuffer(s.buffer, 0, tmp, 0, Math.ceil((s.size * 4) / 4) * 4);
      this.#exec.markBusy(s.buffer, tmp);
      this.#elementwise("copy", op, ins, y, tmp);
      this.#pool.release(tmp);
      return;
    }
    this.#elementwise("copy", op, ins, y);
  }

  // ---- rows ----------------------------------------------------------------------------------------------

  #rows(kernel: string, x: View): [number, number] {
    if (x.shape.length !== 2) fail(kernel, `input must be 2-D (rows, cols), got shape ${shapeStr(x.shape)}`);
    return [x.shape[0]!, x.shape[1]!];
  }

  /**
   * The 2-D input of a row kernel: on CPU-like adapters a large f32 input is read through a texture of the viewed
   * region (texel fetches are several times cheaper than storage loads on llvmpipe), else from its buffer.
   */
  #rowSource(
    x: View,
    R: number,
    C: number,
  ): { op: BufferOperand | TextureOperand; tex: boolean; m2: (u: UniformWriter) => void } {
    const st = x.storage as GpuStorage;
    const rs = x.strides[0]!, cs = x.strides[1]!;
    if (st.dtype === "f32" && R * C >= this.#ewTexMin && rs >= 0 && cs >= 0) {
      const last = x.offset + (R - 1) * rs + (C - 1) * cs;
      const start = Math.floor(x.offset / 4), count = Math.floor(last / 4) - start + 1;
      if (this.#texRows(count) > 0) {
        const off = x.offset - start * 4;
        return {
          op: { texture: this.#rawTexture(st, start, count) },
          tex: true,
          m2: (u) => (u.i32(off), u.i32(rs), u.i32(cs)),
        };
      }
    }
    return { op: this.#buf(x), tex: false, m2: (u) => this.#m2(u, x) };
  }

  #reduce(ins: readonly View[], outs: readonly View[], attrs: KernelAttrs["reduce"]): void {
    const k = `reduce ${attrs.op}`;
    this.#arity(k, ins, outs, 1, 1);
    const x = ins[0]!, y = outs[0]!;
    const [R, C] = this.#rows(k, x);
    this.#shape(k, "output", y, [R]);
    // i32 inputs are reduced in f32 (exact up to 2^24); argmax/argmin write i32, the others the output's dtype
    const arg = attrs.op === "argmax" || attrs.op === "argmin";
    if (arg) this.#dtype(k, "output", y, "i32");
    if (C === 0 && R > 0 && !["sum", "mean", "sumSquares"].includes(attrs.op)) {
      fail(k, `cannot take ${attrs.op} of empty rows: input shape ${shapeStr(x.shape)}`);
    }
    if (R === 0) return;
    const src = this.#rowSource(x, R, C);
    const u = new UniformWriter();
    u.u32(R), u.u32(C), src.m2(u), this.#v1(u, y);
    const inT = x.storage.dtype === "i32" ? "i32" : "f32", outT = y.storage.dtype === "i32" ? "i32" : "f32";
    const { key, code } = reduceCode(attrs.op, inT, outT, src.tex);
    this.#launch({
      key,
      code,
      operands: [src.op, this.#buf(y, true)],
      uniforms: u.words().slice(),
      workgroups: R,
    });
    this.#touch(y);
  }

  #softmax(ins: readonly View[], outs: readonly View[], attrs: KernelAttrs["softmax"]): void {
    this.#arity("softmax", ins, outs, 1, 1);
    const x = ins[0]!, y = outs[0]!;
    const [R, C] = this.#rows("softmax", x);
    this.#shape("softmax", "output", y, [R, C]);
    this.#contiguous("softmax", "output", y);
    this.#dtype("softmax", "input", x, "f32");
    if (R * C === 0) return;
    const src = this.#rowSource(x, R, C);
    const u = new UniformWriter();
    u.u32(R), u.u32(C), src.m2(u), u.i32(y.offset);
    const { key, code } = softmaxCode(attrs.log, src.tex);
    this.#launch({
      key,
      code,
      operands: [src.op, this.#buf(y, true)],
      uniforms: u.words().slice(),
      workgroups: R,
    });
    this.#touch(y);
  }

  #crossEntropy(ins: readonly View[], outs: readonly View[], attrs: KernelAttrs["crossEntropy"]): void {
    const k = "crossEntropy";
    this.#arity(k, ins, outs, 2, 2);
    const [x, t] = ins as [View, View];
    const [R, C] = this.#rows(k, x);
    this.#dtype(k, "targets", t, "i32");
    this.#shape(k, "targets", t, [R]);
    this.#shape(k, "output loss", outs[0]!, [R]);
    this.#shape(k, "output logSumExp", outs[1]!, [R]);
    if (R === 0) return;
    const src = this.#rowSource(x, R, C);
    const u = new UniformWriter();
    u.u32(R), u.u32(C), src.m2(u), this.#v1(u, t), this.#v1(u, outs[0]!), this.#v1(u, outs[1]!);
    u.i32(attrs.ignoreIndex);
    const { key, code } = crossEntropyCode(src.tex);
    this.#launch({
      key,
      code,
      operands: [src.op, this.#buf(t), this.#buf(outs[0]!, true), this.#buf(outs[1]!, true)],
      uniforms: u.words().slice(),
      workgroups: R,
    });
    this.#touch(outs[0]!, outs[1]!);
  }

  #crossEntropyBackward(
    ins: readonly View[],
    outs: readonly View[],
    attrs: KernelAttrs["crossEntropyBackward"],
  ): void {
    const k = "crossEntropyBackward";
    this.#arity(k, ins, outs, 4, 1);
    const [x, t, l, g] = ins as [View, View, View, View];
    const [R, C] = this.#rows(k, x);
    this.#dtype(k, "targets", t, "i32");
    this.#shape(k, "targets", t, [R]);
    this.#shape(k, "logSumExp", l, [R]);
    this.#shape(k, "gradLoss", g, [R]);
    const y = outs[0]!;
    this.#shape(k, "output", y, [R, C]);
    this.#contiguous(k, "output", y);
    if (R * C === 0) return;
    const src = this.#rowSource(x, R, C);
    const u = new UniformWriter();
    u.u32(R), u.u32(C), src.m2(u), this.#v1(u, t), this.#v1(u, l), this.#v1(u, g), u.i32(y.offset);
    u.i32(attrs.ignoreIndex);
    const { key, code } = crossEntropyBackwardCode(src.tex);
    this.#launch({
      key,
      code,
      operands: [src.op, this.#buf(t), this.#buf(l), this.#buf(g), this.#buf(y, true)],
      uniforms: u.words().slice(),
      workgroups: Math.ceil((R * C) / 64),
    });
    this.#touch(y);
  }

  // ---- random, gather, scatter ---------------------------------------------------------------------------

  #random(ins: readonly View[], outs: readonly View[], attrs: KernelAttrs["random"]): void {
    this.#arity("random", ins, outs, 0, 1);
    const y = outs[0]!;
    this.#contiguous("random", "output", y);
    const n = sizeOf(y.shape);
    if (n === 0) return;
    const { dist, seed, counter, a, b } = attrs;
    const u = new UniformWriter();
    u.u32(n), u.i32(y.offset), u.u32(streamKey(seed >>> 0, 0)), u.u32(streamKey(seed >>> 0, 1));
    u.u32(seed >>> 0), u.u32(counter >>> 0);
    if (dist === "uniform") u.f32(a), u.f32(b - a);
    else u.f32(a), u.f32(b);
    u.u32(Math.min(16777216, Math.max(0, Math.ceil(a * 16777216) || 0)));
    const { key, code } = randomCode(dist, y.storage.dtype === "i32");
    this.#launch({
      key,
      code,
      operands: [this.#buf(y, true)],
      uniforms: u.words().slice(),
      workgroups: Math.ceil(n / 64),
    });
    this.#touch(y);
  }

  #gather(ins: readonly View[], outs: readonly View[]): void {
    this.#arity("gather", ins, outs, 2, 1);
    const [table, ids] = ins as [View, View];
    const [V, D] = this.#rows("gather", table);
    if (ids.shape.length !== 1) fail("gather", `ids must be 1-D, got shape ${shapeStr(ids.shape)}`);
    this.#dtype("gather", "ids", ids, "i32");
    const N = ids.shape[0]!, y = outs[0]!;
    this.#shape("gather", "output", y, [N, D]);
    this.#contiguous("gather", "output", y);
    if (table.storage.dtype !== y.storage.dtype) {
      fail("gather", `table is ${table.storage.dtype} but output is ${y.storage.dtype}`);
    }
    if (N * D === 0) return;
    const u = new UniformWriter();
    u.u32(N), u.u32(D), u.u32(V), this.#m2(u, table), this.#v1(u, ids), u.i32(y.offset);
    const { key, code } = gatherCode(y.storage.dtype);
    this.#launch({
      key,
      code,
      operands: [this.#buf(table), this.#buf(ids), this.#buf(y, true)],
      uniforms: u.words().slice(),
      workgroups: Math.ceil((N * D) / 64),
    });
    this.#touch(y);
  }

  #scatterAdd(ins: readonly View[], outs: readonly View[]): void {
    this.#arity("scatterAdd", ins, outs, 2, 1);
    const [src, ids] = ins as [View, View];
    const [N, D] = this.#rows("scatterAdd", src);
    this.#dtype("scatterAdd", "ids", ids, "i32");
    this.#dtype("scatterAdd", "src", src, "f32");
    this.#shape("scatterAdd", "ids", ids, [N]);
    const t = outs[0]!;
    const [V, D2] = this.#rows("scatterAdd", t);
    this.#dtype("scatterAdd", "table", t, "f32");
    if (D2 !== D) {
      fail("scatterAdd", `src ${shapeStr(src.shape)} and table ${shapeStr(t.shape)} differ in the last axis`);
    }
    if (N * D === 0) return;
    const u = new UniformWriter();
    u.u32(N), u.u32(D), u.u32(V), this.#m2(u, src), this.#v1(u, ids), this.#m2(u, t);
    const { key, code } = scatterAddCode();
    this.#launch({
      key,
      code,
      operands: [this.#buf(src), this.#buf(ids), this.#buf(t, true)],
      uniforms: u.words().slice(),
      workgroups: Math.ceil(D / 64),
    });
    this.#touch(t);
  }

  // ---- fused RNN cells -----------------------------------------------------------------------------------

  #cell(
    name: "lstmCell" | "lstmCellBackward" | "gruCell" | "gruCellBackward",
    ins: readonly View[],
    outs: readonly View[],
  ): void {
    const spec = {
      lstmCell: { nIn: 2, nOut: 2 + 1, gates: 4, code: lstmCellCode },
      lstmCellBackward: { nIn: 5, nOut: 2, gates: 4, code: lstmCellBackwardCode },
      gruCell: { nIn: 3, nOut: 2, gates: 3, code: gruCellCode },
      gruCellBackward: { nIn: 4, nOut: 3, gates: 3, code: gruCellBackwardCode },
    }[name];
    this.#arity(name, ins, outs, spec.nIn, spec.nOut);
    const first = ins[0]!;
    if (first.shape.length !== 2 || first.shape[1]! % spec.gates !== 0) {
      fail(name, `input 0 shape ${shapeStr(first.shape)}: must be (batch, ${spec.gates} * hidden)`);
    }
    const B = first.shape[0]!, H = first.shape[1]! / spec.gates, G = spec.gates * H;
    const inShapes: Record<string, number[][]> = {
      lstmCell: [[B, G], [B, H]],
      lstmCellBackward: [[B, G], [B, H], [B, H], [B, H], [B, H]],
      gruCell: [[B, G], [B, G], [B, H]],
      gruCellBackward: [[B, G], [B, G], [B, H], [B, H]],
    };
    const outShapes: Record<string, number[][]> = {
      lstmCell: [[B, H], [B, H], [B, G]],
      lstmCellBackward: [[B, G], [B, H]],
      gruCell: [[B, H], [B, G]],
      gruCellBackward: [[B, G], [B, G], [B, H]],
    };
    ins.forEach((v, i) => {
      this.#shape(name, `input ${i}`, v, inShapes[name]![i]!);
      this.#dtype(name, `input ${i}`, v, "f32");
    });
    outs.forEach((v, i) => {
      this.#shape(name, `output ${i}`, v, outShapes[name]![i]!);
      this.#contiguous(name, `output ${i}`, v);
      this.#dtype(name, `output ${i}`, v, "f32");
    });
    if (B * H === 0) return;
    const u = new UniformWriter();
    u.u32(B), u.u32(H);
    for (const v of ins) this.#m2(u, v);
    for (const v of outs) u.i32(v.offset);
    const { key, code } = spec.code();
    this.#launch({
      key,
      code,
      operands: [...ins.map((v) => this.#buf(v)), ...outs.map((v) => this.#buf(v, true))],
      uniforms: u.words().slice(),
      workgroups: Math.ceil((B * H) / 64),
    });
    this.#touch(...outs);
  }

  // ---- optimizers ----------------------------------------------------------------------------------------

  #optimCheck(
    kernel: string,
    ins: readonly View[],
    outs: readonly View[],
    nIn: number,
    nOut: number,
  ): number {
    this.#arity(kernel, ins, outs, nIn, nOut);
    const shape = ins[0]!.shape;
    [...ins, ...outs].forEach((v, i) => {
      const what = i < nIn ? `input ${i}` : `output ${i - nIn}`;
      this.#shape(kernel, what, v, shape);
      this.#contiguous(kernel, what, v);
      this.#dtype(kernel, what, v, "f32");
    });
    return sizeOf(shape);
  }

  #adam(ins: readonly View[], outs: readonly View[], attrs: KernelAttrs["adam"]): void {
    const n = this.#optimCheck("adam", ins, outs, 4, 3);
    const { lr, beta1, beta2, eps, weightDecay: wd, decoupled, step } = attrs;
    if (!(step >= 1)) fail("adam", `step is 1-based, got ${step}`);
    if (n === 0) return;
    const bc1 = 1 - Math.pow(beta1, step), sqrtBc2 = Math.sqrt(1 - Math.pow(beta2, step));
    this.#optimLaunch(ins, outs, n, adamCode(), (u) => {
      u.f32(beta1), u.f32(beta2), u.f32(eps), u.f32(lr / bc1), u.f32(decoupled ? 1 - lr * wd : 1);
      u.f32(decoupled ? 0 : wd), u.f32(sqrtBc2);
    });
  }

  #sgd(ins: readonly View[], outs: readonly View[], attrs: KernelAttrs["sgd"]): void {
    const n = this.#optimCheck("sgd", ins, outs, 3, 2);
    if (n === 0) return;
    this.#optimLaunch(ins, outs, n, sgdCode(), (u) => {
      u.f32(attrs.lr), u.f32(attrs.momentum), u.f32(attrs.weightDecay), u.f32(attrs.dampening);
      u.u32(attrs.nesterov ? 1 : 0);
    });
  }

  /** Launch an in-place optimizer kernel: uniforms are the element count, every offset, then `scalars`. */
  #optimLaunch(
    ins: readonly View[],
    outs: readonly View[],
    n: number,
    { key, code }: { key: string; code: () => string },
    scalars: (u: UniformWriter) => void,
  ): void {
    const u = new UniformWriter();
    u.u32(n);
    for (const v of [...ins, ...outs]) u.i32(v.offset);
    scalars(u);
    this.#launch({
      key,
      code,
      operands: [...ins.map((v) => this.#buf(v)), ...outs.map((v) => this.#buf(v, true))],
      uniforms: u.words().slice(),
      workgroups: Math.ceil(n / 64),
    });
    this.#touch(...outs);
  }

  // ---- matmul --------------------------------------------------------------------------------------------

  #matmul(ins: readonly View[], outs: readonly View[], attrs: KernelAttrs["matmul"]): void {
    this.#arity("matmul", ins, outs, 2, 1);
    const [a, b] = ins as [View, View];
    const c = outs[0]!;
    const a3 = this.#as3("matmul", "a", a), b3 = this.#as3("matmul", "b", b);
    const [Ba, M, K] = a3.shape, [Bb, K2, N] = b3.shape;
    if (K !== K2 || Ba !== Bb) {
      fail("matmul", `a ${shapeStr(a.shape)} and b ${shapeStr(b.shape)} do not multiply`);
    }
    const B = Ba;
    this.#shape("matmul", "output", c, c.shape.length === 2 ? [M, N] : [B, M, N]);
    if (c.shape.length === 2 && B !== 1) fail("matmul", "a 2-D output needs batch 1");
    this.#contiguous("matmul", "output", c);
    for (const [v, w] of [[a, "a"], [b, "b"], [c, "output"]] as const) this.#dtype("matmul", w, v, "f32");
    if (B * M * N === 0) return;
    const acc = attrs.accumulate ?? false;
    if (K === 0) {
      if (!acc) this.#fillZero(c, B * M * N);
      return;
    }
    let variant = this.#matmulVariant ?? chooseMatmul({ B, M, N, K }, this.isFallbackAdapter);
    if (variant === "texture" && !this.#textureFits(B, M, N, K)) variant = "tiled";
    if (variant === "texture") {
      if (N < 8 && M >= 16) {
        // Thin N (matrix-vector, small heads): each invocation covers 8 columns, so compute C^T = B^T A^T
        // instead, writing the transposed result straight into C.
        const sw = (m: Mat3 & { storage: GpuStorage }) => ({
          ...m,
          s: [m.s[0], m.s[2], m.s[1]] as Mat3["s"],
        });
        return this.#matmulTexture(sw(b3.m), sw(a3.m), c, { B, M: N, N: M, K }, acc, true);
      }
      return this.#matmulTexture(a3.m, b3.m, c, { B, M, N, K }, acc);
    }
    const u = new UniformWriter();
    u.u32(B), u.u32(M), u.u32(N), u.u32(K);
    for (const m of [a3.m, b3.m]) u.i32(m.off), u.i32(m.s[0]), u.i32(m.s[1]), u.i32(m.s[2]);
    u.i32(c.offset);
    const { key, code } = variant === "tiled" ? tiledCode(acc) : naiveCode(acc);
    if (variant === "tiled") u.u32(Math.ceil(M / 64));
    const wg: number | [number, number] = variant === "tiled"
      ? [Math.ceil(N / 64), B * Math.ceil(M / 64)]
      : Math.ceil((B * M * N) / 64);
    this.#launch({
      key,
      code,
      operands: [this.#buf(a), this.#buf(b), this.#buf(c, true)],
      uniforms: u.words().slice(),
      workgroups: wg,
    });
    this.#touch(c);
  }

  #as3(
    kernel: string,
    what: string,
    v: View,
  ): { shape: [number, number, number]; m: Mat3 & { storage: GpuStorage } } {
    const st = v.storage as GpuStorage;
    if (v.shape.length === 2) {
      return {
        shape: [1, v.shape[0]!, v.shape[1]!],
        m: { off: v.offset, s: [0, v.strides[0]!, v.strides[1]!], storage: st },
      };
    }
    if (v.shape.length !== 3) {
      fail(kernel, `${what} must be (batch, rows, cols) or (rows, cols), got ${shapeStr(v.shape)}`);
    }
    return {
      shape: [v.shape[0]!, v.shape[1]!, v.shape[2]!],
      m: {
        off: v.offset,
        s: [v.shape[0] === 1 ? 0 : v.strides[0]!, v.strides[1]!, v.strides[2]!],
        storage: st,
      },
    };
  }

  #fillZero(c: View, n: number): void {
    const op = unaryOp("mulScalar", "f32", "f32", 0, 0);
    const plan = makePlan([n], [{ offset: c.offset, strides: [1] }, { offset: c.offset, strides: [1] }]);
    const { key, code } = elementwiseCode({ ...op, name: "zero", expr: "0.0" }, plan.shape.length, [
      "f32",
      "f32",
    ]);
    const buf = this.#buf(c, true);
    this.#launch({
      key,
      code,
      operands: [buf, buf],
      uniforms: elementwiseUniforms(plan, op),
      workgroups: Math.ceil(n / 64),
    });
    this.#touch(c);
  }

  #textureFits(B: number, M: number, N: number, K: number): boolean {
    const maxRows = this.device.limits.maxTextureDimension2D;
    const texels = (n: number) => Math.ceil(n / 4 / TEX_W);
    const k4 = Math.ceil(K / 4) * 4, n4 = Math.ceil(N / 4) * 4;
    return texels(B * M * k4) <= maxRows && texels(B * Math.max(K * n4, N * k4)) <= maxRows;
  }

  /** A texture holding `texels` texels of `src` (raw storage copy or packed view), cached per storage version. */
  #texture(key: string, st: GpuStorage, texels: number, fill: (tex: GPUTexture) => void): GPUTexture {
    const rows = Math.max(1, Math.ceil(texels / TEX_W));
    let e = this.#textures.get(key);
    if (e) {
      this.#textures.delete(key); // re-insert: the map's order is least recently used first
      this.#textures.set(key, e);
    }
    if (e && e.version === st.version && e.rows >= rows) return e.texture;
    if (e && e.rows < rows) {
      this.#textures.delete(key);
      this.#recycleTexture(e.texture);
      e = undefined;
    }
    if (!e) {
      const idx = this.#freeTextures.findIndex((t) => t.height === rows);
      const texture = idx >= 0 ? this.#freeTextures.splice(idx, 1)[0]! : this.device.createTexture({
        size: [TEX_W, rows],
        format: "rgba32float",
        usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST | GPUTextureUsage.STORAGE_BINDING,
      });
      if (idx < 0) this.#textureBytes += TEX_W * rows * 16;
      e = { texture, rows, version: st.version, storageId: st.id };
      this.#textures.set(key, e);
      while (this.#textures.size > 48 || (this.#textureBytes > TEXTURE_BUDGET && this.#textures.size > 2)) {
        const [oldKey, old] = this.#textures.entries().next().value!;
        this.#textures.delete(oldKey);
        this.#recycleTexture(old.texture);
      }
    }
    e.version = st.version;
    fill(e.texture);
    return e.texture;
  }

  #recycleTexture(t: GPUTexture): void {
    this.#freeTextures.push(t);
    while (
      this.#freeTextures.length > 16 || (this.#textureBytes > TEXTURE_BUDGET && this.#freeTextures.length > 0)
    ) {
      const old = this.#freeTextures.shift()!;
      this.#textureBytes -= old.width * old.height * 16;
      this.#exec.flush();
      old.destroy();
    }
  }

  #copyToTexture(buffer: GPUBuffer, texels: number, tex: GPUTexture, offset = 0): void {
    const enc = this.#exec.encoderForCopy();
    const full = Math.floor(texels / TEX_W), rest = texels - full * TEX_W;
    if (full > 0) {
      enc.copyBufferToTexture({ buffer, offset, bytesPerRow: TEX_W * 16, rowsPerImage: full }, {
        texture: tex,
      }, [TEX_W, full]);
    }
    if (rest > 0) {
      enc.copyBufferToTexture(
        { buffer, offset: offset + full * TEX_W * 16, bytesPerRow: TEX_W * 16 },
        { texture: tex, origin: [0, full] },
        [rest, 1],
      );
    }
    this.#exec.markBusy(buffer);
  }

  /** Texture of texels `[start, start + count)` of a storage (texel t = elements 4t..4t+3). */
  #rawTexture(st: GpuStorage, start: number, count: number): GPUTexture {
    return this.#texture(
      `${st.id}|raw|${start}|${count}`,
      st,
      count,
      (tex) => this.#copyToTexture(st.buffer, count, tex, start * 16),
    );
  }

  /** Texture of a 3-D view packed to `(D0, D1, ceil(D2/4)*4)` with zero padding. */
  #packedTexture(
    st: GpuStorage,
    off: number,
    dims: [number, number, number],
    s: [number, number, number],
  ): GPUTexture {
    const [D0, D1, D2] = dims;
    const P2 = Math.ceil(D2 / 4) * 4, total = D0 * D1 * P2;
    const key = `${st.id}|pack|${off}|${dims.join(",")}|${s.join(",")}`;
    const last = off + (D0 - 1) * s[0] + (D1 - 1) * s[1] + (D2 - 1) * s[2];
    const start = Math.floor(off / 4), count = Math.floor(last / 4) - start + 1;
    if (s.every((x) => x >= 0) && this.#texRows(count) > 0) {
      // Read the view through a texture of its region and store texels straight into the operand texture.
      return this.#texture(key, st, total / 4, (tex) => {
        const src = this.#rawTexture(st, start, count);
        const u = new UniformWriter();
        u.u32(total / 4), u.u32(D1), u.u32(P2), u.u32(D2), u.i32(off - start * 4), u.i32(s[0]), u.i32(s[1]);
        u.i32(s[2]);
        const { key: pk, code } = packTextureCode();
        this.#launch({
          key: pk,
          code,
          operands: [{ texture: tex, store: true }, { texture: src }],
          uniforms: u.words().slice(),
          workgroups: Math.ceil(total / 4 / 64),
        });
      });
    }
    return this.#texture(key, st, total / 4, (tex) => {
      const tmp = this.#pool.acquire(total * 4);
      const u = new UniformWriter();
      u.u32(total), u.u32(D1), u.u32(P2), u.u32(D2), u.i32(off), u.i32(s[0]), u.i32(s[1]), u.i32(s[2]);
      const { key: pk, code } = packCode();
      this.#launch({
        key: pk,
        code,
        operands: [this.#buf(st), { buffer: tmp, type: "f32", write: true }],
        uniforms: u.words().slice(),
        workgroups: Math.ceil(total / 64),
      });
      this.#copyToTexture(tmp, total / 4, tex);
      this.#pool.release(tmp);
    });
  }

  #matmulTexture(
    a: Mat3 & { storage: GpuStorage },
    b: Mat3 & { storage: GpuStorage },
    c: View,
    { B, M, N, K }: { B: number; M: number; N: number; K: number },
    acc: boolean,
    transposedOut = false,
  ): void {
    const al = (x: number) => x % 4 === 0;
    const K4 = Math.ceil(K / 4);
    const aBatch = a.s[0] === 0 ? 1 : B, bBatch = b.s[0] === 0 ? 1 : B;
    // A: (B, M, K) row-major with 4-aligned rows goes in as is; anything else is packed to (B, M, K4*4).
    let ta: GPUTexture, aBase: number, aBs: number, aRs: number;
    const pos = (m: Mat3) => m.s.every((x) => x >= 0);
    if (a.s[2] === 1 && al(K) && al(a.s[1]) && al(a.s[0]) && al(a.off) && pos(a)) {
      aBs = a.s[0] / 4, aRs = a.s[1] / 4, aBase = 0;
      ta = this.#rawTexture(a.storage, a.off / 4, (aBatch - 1) * aBs + (M - 1) * aRs + K / 4);
    } else {
      ta = this.#packedTexture(a.storage, a.off, [aBatch, M, K], a.s);
      aBase = 0, aBs = aBatch === 1 ? 0 : M * K4, aRs = K4;
    }
    // B: NN when rows of (K, N) are 4-aligned, NT when B is a transposed row-major (N, K) matrix.
    let tb: GPUTexture, bBase: number, bBs: number, bRs: number, nt: boolean;
    const N4 = Math.ceil(N / 4);
    if (b.s[2] === 1 && al(N) && al(b.s[1]) && al(b.s[0]) && al(b.off) && pos(b)) {
      nt = false, bBase = 0, bBs = b.s[0] / 4, bRs = b.s[1] / 4;
      tb = this.#rawTexture(b.storage, b.off / 4, (bBatch - 1) * bBs + (K - 1) * bRs + N / 4);
    } else if (b.s[1] === 1 && al(K) && al(b.s[2]) && al(b.s[0]) && al(b.off) && pos(b)) {
      nt = true, bBase = 0, bBs = b.s[0] / 4, bRs = b.s[2] / 4;
      tb = this.#rawTexture(b.storage, b.off / 4, (bBatch - 1) * bBs + (N - 1) * bRs + K / 4);
    } else if (b.s[1] === 1 || Math.abs(b.s[1]) < Math.abs(b.s[2])) {
      tb = this.#packedTexture(b.storage, b.off, [bBatch, N, K], [b.s[0], b.s[2], b.s[1]]);
      nt = true, bBase = 0, bBs = bBatch === 1 ? 0 : N * K4, bRs = K4;
    } else {
      tb = this.#packedTexture(b.storage, b.off, [bBatch, K, N], b.s);
      nt = false, bBase = 0, bBs = bBatch === 1 ? 0 : K * N4, bRs = N4;
    }
    const { TM, WGY } = textureBlocking(M);
    const rowBlocks = Math.ceil(M / (TM * WGY));
    const u = new UniformWriter();
    u.u32(M), u.u32(N), u.u32(K4), u.u32(rowBlocks), u.u32(aBase), u.u32(aBs), u.u32(aRs);
    u.u32(bBase), u.u32(bBs), u.u32(bRs), u.u32(c.offset), u.u32(K);
    if (transposedOut) u.u32(1), u.u32(M);
    else u.u32(N), u.u32(1);
    const { key, code } = textureCode(TM, WGY, nt, acc);
    const gx = Math.ceil(N / 64), gy = B * rowBlocks;
    const maxDim = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (gx > maxDim || gy > maxDim) {
      fail("matmul", `launch ${gx}x${gy} workgroups exceeds the per-dimension limit ${maxDim}`);
    }
    this.#launch({
      key,
      code,
      operands: [{ texture: ta }, { texture: tb }, this.#buf(c, true)],
      uniforms: u.words().slice(),
      workgroups: [gx, gy],
    });
    this.#touch(c);
  }
}
