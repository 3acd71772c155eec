/**
 * The CPU reference backend: every kernel of {@linkcode KERNEL_NAMES} in plain TypeScript. It is the reference
 * the WebGPU kernels are tested against and the fallback when no adapter exists. Kernels run synchronously when
 * enqueued; values are computed in double precision and stored in the output's dtype, except f32 matmuls and
 * convolutions, which run on the machine's BLAS through FFI when one is found (`_blas.ts`; OpenBLAS, MKL, BLIS or
 * Accelerate, threaded by the library) and otherwise on a WebAssembly SIMD kernel (`_wasm_matmul.ts`), both
 * accumulating in f32 ({@linkcode CpuBackendOptions.matmul}; `"js"` keeps the f64 JavaScript kernel). The
 * WebAssembly and JavaScript GEMMs are cache-blocked (see `_gemm.ts`) and can use worker threads
 * ({@linkcode CpuBackendOptions.threads}); elementwise kernels are generated per op over coalesced strided views
 * (see `_strided.ts`).
 *
 * This file holds storage (plain or shared buffers, reuse of freed buffers by size class), the choice of the
 * matmul kernel and dispatch: `run` resolves the views to arrays and calls the kernel of that name in
 * `_kernels/table.ts` (one file per kernel family in `_kernels/`, the same names as the WebGPU backend's).
 *
 * @module
 */

import type { Backend, DType, KernelAttrs, MemoryStats, Storage, TypedArray, View } from "../backend.ts";
import type { KernelName } from "../kernel_names.ts";
import { type Arg, type CpuContext, type CpuKernel, KernelError, shapeStr } from "./_args.ts";
import { type CpuMatmulChoice, readConfig } from "../config.ts";
import { loadBlas } from "./_blas.ts";
import type { BlasGemm } from "./_blas_gemm.ts";
import type { MatmulKernel } from "./_gemm.ts";
import { CPU_KERNELS } from "./_kernels/table.ts";
import { MatmulPool } from "./_threads.ts";

const ARRAYS = { f32: Float32Array, i32: Int32Array, f64: Float64Array } as const;

/** Options of {@linkcode CpuBackend}. */
export interface CpuBackendOptions {
  /**
   * Threads for large matmuls and convolutions (products of at least ~4 MFLOP), the caller included: the BLAS
   * library's threads, or for the WebAssembly and JavaScript kernels `threads - 1` worker threads started on the
   * first large product (storages are then allocated in `SharedArrayBuffer`s; results are bitwise identical to
   * one thread). Every other kernel runs on the caller.
   * @default 1
   */
  threads?: number;
  /**
   * Bytes of freed buffers kept for reuse by later allocations of the same size class. Reuse saves the zeroing
   * and page faults of fresh memory and the garbage collector's work (~14 ms per demo step); on threaded
   * WebAssembly backends it also bounds memory: a worker that once saw a shared buffer keeps it reachable until
   * its own (rare) garbage collection, so a fresh buffer per allocation grew the process by every step's
   * temporaries (10 GB RSS in the ULMFiT demo).
   * @default 1 GiB
   */
  reuseBytes?: number;
  /**
   * Kernel for f32 matmuls and convolutions: `"blas"`, the machine's BLAS through FFI (needs `--allow-ffi`;
   * throws when none is found); `"wasm"`, a WebAssembly SIMD kernel accumulating in f32; `"js"`, the JavaScript
   * kernel accumulating in f64; `"auto"`, `DENOFIT_CPU_MATMUL` when set, else BLAS when found and permitted, else
   * WebAssembly. {@linkcode CpuBackend.matmulKernel} and {@linkcode CpuBackend.matmulReason} tell the outcome.
   * f64 and i32 matmuls always use the JavaScript kernel.
   * @default "auto"
   */
  matmul?: CpuMatmulChoice;
}

/**
 * Resolve an f32 matmul kernel choice: explicit > `DENOFIT_CPU_MATMUL` (for `"auto"`) > BLAS when found > wasm.
 *
 * @returns The kernel, the BLAS when it is `"blas"`, and why.
 * @throws When BLAS is asked for (by the option or the variable) and cannot be loaded, saying why.
 */
function chooseMatmul(choice: CpuMatmulChoice, threads: number): {
  kernel: MatmulKernel;
  blas: BlasGemm | undefined;
  reason: string;
} {
  const config = readConfig();
  const env = choice === "auto" && config.cpuMatmul !== null && config.cpuMatmul !== "auto";
  const kind = env ? config.cpuMatmul! : choice;
  const by = env ? ` (DENOFIT_CPU_MATMUL=${kind})` : "";
  if (kind === "wasm" || kind === "js") {
    const what = kind === "wasm" ? "WebAssembly SIMD" : "JavaScript (f64 accumulation)";
    return { kernel: kind, blas: undefined, reason: `${what} matmul requested${by}` };
  }
  const { blas, reason } = loadBlas(config.blasLibrary);
  if (blas) return { kernel: "blas", blas: { lib: blas, threads }, reason: `BLAS${by}: ${reason}` };
  if (kind === "blas") throw new Error(`CpuBackend: BLAS matmul requested${by} but unavailable: ${reason}`);
  return { kernel: "wasm", blas: undefined, reason: `WebAssembly SIMD matmul: ${reason}` };
}

/** Alignment of BLAS storages, in bytes. */
const ALIGN = 64;

/** Bytes from the start of `buf` to its first {@linkcode ALIGN}-byte boundary (FFI is allowed when BLAS is used). */
function alignedOffset(buf: ArrayBuffer | SharedArrayBuffer): number {
  if (buf.byteLength === 0) return 0;
  const address = Deno.UnsafePointer.value(Deno.UnsafePointer.of(new Uint8Array(buf)));
  return (ALIGN - Number(BigInt(address) % BigInt(ALIGN))) % ALIGN;
}

/** Byte size class of a shared buffer: `bytes` rounded up to 2^k * {1, 1.25, 1.5, 1.75} (64 bytes at least). */
function sizeClass(bytes: number): number {
  if (bytes <= 64) return 64;
  const quarter = 2 ** (Math.floor(Math.log2(bytes)) - 2);
  return Math.ceil(bytes / quarter) * quarter;
}

interface Entry {
  handle: Storage;
  data: TypedArray;
}

/**
 * The CPU backend.
 *
 * @example Multiply two matrices
 * ```ts
 * import { CpuBackend } from "./mod.ts";
 * const cpu = new CpuBackend();
 * const a = cpu.alloc(4, "f32"), b = cpu.alloc(4, "f32"), c = cpu.alloc(4, "f32");
 * cpu.write(a, new Float32Array([1, 2, 3, 4]));
 * cpu.write(b, new Float32Array([1, 0, 0, 1]));
 * const v = (s: typeof a) => ({ storage: s, shape: [2, 2], strides: [2, 1], offset: 0 });
 * cpu.run("matmul", [v(a), v(b)], [v(c)], {});
 * const out = cpu.readSync(c);
 * if (out.join() !== "1,2,3,4") throw new Error(`got ${out}`);
 * ```
 */
export class CpuBackend implements Backend {
  /** Always `"cpu"`. */
  readonly name = "cpu";
  /** Human description. */
  readonly description: string;
  /** Stores f32, i32 and f64. */
  readonly dtypes: readonly DType[] = ["f32", "i32", "f64"];
  #live = new Map<number, Entry>();
  #nextId = 1;
  #liveBytes = 0;
  #peakBytes = 0;
  #disposed = false;
  #threads: number;
  #pool: MatmulPool | null = null;
  #reuseBytes: number;
  /** Whether storages live in `SharedArrayBuffer`s (threaded WebAssembly / JavaScript matmuls). */
  #shared: boolean;
  /** Freed buffers by byte length, most recently freed last. */
  #spare = new Map<number, (ArrayBuffer | SharedArrayBuffer)[]>();
  #spareBytes = 0;
  #sharedCreated = 0;
  #created = 0;
  #matmulReason: string;
  /** What kernels see of this backend: the worker pool (started on first use), the matmul kernel, the BLAS. */
  #ctx: CpuContext;

  /** A CPU backend; see {@linkcode CpuBackendOptions}. */
  constructor({ threads = 1, reuseBytes = 2 ** 30, matmul: choice = "auto" }: CpuBackendOptions = {}) {
    if (!["auto", "blas", "wasm", "js"].includes(choice)) {
      throw new RangeError(
        `CpuBackend: matmul must be "auto", "blas", "wasm" or "js", got ${JSON.stringify(choice)}`,
      );
    }
    if (!Number.isInteger(threads) || threads < 1) {
      throw new RangeError(`CpuBackend: threads must be an integer >= 1, got ${threads}`);
    }
    if (!(reuseBytes >= 0)) {
      throw new RangeError(`CpuBackend: reuseBytes must be a number >= 0, got ${reuseBytes}`);
    }
    this.#threads = threads;
    this.#reuseBytes = reuseBytes;
    const { kernel, blas, reason } = chooseMatmul(choice, threads);
    this.#matmulReason = reason;
    // BLAS products never reach the worker threads, so its storages need no shared memory.
    this.#shared = threads > 1 && kernel !== "blas";
    const runner = () => {
      if (this.#shared) this.#pool ??= new MatmulPool(this.#threads);
      return this.#pool ?? undefined;
    };
    this.#ctx = {
      get runner() {
        return runner();
      },
      matmul: kernel,
      blas,
    };
    const what = kernel === "blas"
      ? ` + BLAS matmul (${blas!.lib.description})`
      : kernel === "wasm"
      ? " + WebAssembly SIMD matmul"
      : "";
    this.description = `CPU reference backend (TypeScript${what}, ${
      threads === 1 ? "single thread" : `${threads} threads`
    })`;
  }

  /** The kernel f32 matmuls and convolutions run on: `"blas"`, `"wasm"` or `"js"`. */
  get matmulKernel(): MatmulKernel {
    return this.#ctx.matmul;
  }

  /** Why {@linkcode matmulKernel} is the one in use (the BLAS library and its path, or why there is none). */
  get matmulReason(): string {
    return this.#matmulReason;
  }

  /** Threads used for large matmuls (the caller included). */
  get threads(): number {
    return this.#threads;
  }

  /** Allocate `size` zeroed elements of `dtype`. */
  alloc(size: number, dtype: DType): Storage {
    this.#checkOpen("alloc");
    if (!Number.isInteger(size) || size < 0) {
      throw new RangeError(`cpu alloc: size must be an integer >= 0, got ${size}`);
    }
    const Ctor = ARRAYS[dtype];
    if (!Ctor) throw new TypeError(`cpu alloc: unknown dtype "${dtype}" (expected f32, i32 or f64)`);
    const handle: Storage = Object.freeze({ id: this.#nextId++, size, dtype });
    // Typed-array constructors accept a SharedArrayBuffer; the union of constructors hides that overload.
    const bytes = size * Ctor.BYTES_PER_ELEMENT;
    // BLAS storages start on a 64-byte boundary (a cache line: ~3 % faster sgemm than malloc's 16 bytes).
    const buf = this.#buffer(this.#ctx.matmul === "blas" ? bytes + ALIGN : bytes);
    const data = new Ctor(buf as ArrayBuffer, this.#ctx.matmul === "blas" ? alignedOffset(buf) : 0, size);
    this.#live.set(handle.id, { handle, data });
    this.#liveBytes += data.byteLength;
    this.#peakBytes = Math.max(this.#peakBytes, this.#liveBytes);
    return handle;
  }

  /** Release `storage`; using it afterwards throws. */
  free(storage: Storage): void {
    const entry = this.#entry(storage, "free");
    this.#live.delete(storage.id);
    this.#liveBytes -= entry.data.byteLength;
    const buf = entry.data.buffer;
    if (buf.byteLength > 0 && buf.byteLength <= this.#reuseBytes) {
      while (this.#spareBytes + buf.byteLength > this.#reuseBytes) this.#dropSpare();
      const list = this.#spare.get(buf.byteLength) ?? [];
      list.push(buf);
      this.#spare.set(buf.byteLength, list);
      this.#spareBytes += buf.byteLength;
    }
  }

  /**
   * A buffer of at least `bytes`, zeroed over its first `bytes` (shared on a threaded WebAssembly / JavaScript
   * backend): a spare one of the same size class when there is one, else a new one. Sizes are rounded up to
   * 2^k * {1, 1.25, 1.5, 1.75} (at most 25 % slack) so that batches of varying length (random bptt) reuse each
   * other's buffers.
   */
  #buffer(bytes: number): ArrayBuffer | SharedArrayBuffer {
    const cls = sizeClass(bytes);
    const list = this.#spare.get(cls);
    const buf = list?.pop();
    if (buf === undefined) {
      this.#created++;
      if (!this.#shared) return new ArrayBuffer(cls);
      this.#sharedCreated++;
      return new SharedArrayBuffer(cls);
    }
    if (list!.length === 0) this.#spare.delete(cls);
    this.#spareBytes -= cls;
    new Uint8Array(buf, 0, bytes).fill(0);
    return buf;
  }

  /** Forget the spare buffers of the size freed longest ago (Map order: first size inserted). */
  #dropSpare(): void {
    const first = this.#spare.entries().next();
    if (first.done) return;
    const [bytes, list] = first.value;
    list.shift();
    this.#spareBytes -= bytes;
    if (list.length === 0) this.#spare.delete(bytes);
  }

  /** Copy `data` into `storage` from element `offset` (converting to the storage dtype). */
  write(storage: Storage, data: TypedArray, offset = 0): void {
    const entry = this.#entry(storage, "write");
    if (!Number.isInteger(offset) || offset < 0 || offset + data.length > storage.size) {
      throw new RangeError(
        `cpu write: ${data.length} elements at offset ${offset} do not fit storage #${storage.id} of ${storage.size}`,
      );
    }
    entry.data.set(data, offset);
  }

  /** A copy of the whole storage. */
  read(storage: Storage): Promise<TypedArray> {
    return Promise.resolve(this.readSync(storage));
  }

  /** A copy of the whole storage, synchronously. */
  readSync(storage: Storage): TypedArray {
    return this.#entry(storage, "read").data.slice();
  }

  /** Run kernel `name` now (see `KernelAttrs` for each kernel's inputs, outputs and attributes). */
  run<N extends KernelName>(
    name: N,
    inputs: readonly View[],
    outputs: readonly View[],
    attrs: KernelAttrs[N],
  ): void {
    const kernel = (CPU_KERNELS as Partial<Record<string, CpuKernel<N>>>)[name];
    if (!kernel) {
      throw new KernelError(String(name), `unknown kernel (known: ${Object.keys(CPU_KERNELS).join(", ")})`);
    }
    const ins = inputs.map((v, i) => this.#arg(v, name, `input ${i}`));
    const outs = outputs.map((v, i) => this.#arg(v, name, `output ${i}`));
    kernel(ins, outs, attrs, this.#ctx);
  }

  /** No-op: kernels run when enqueued. */
  flush(): void {}

  /** Bytes of freed buffers kept for reuse (see {@linkcode CpuBackendOptions.reuseBytes}). */
  get spareBytes(): number {
    return this.#spareBytes;
  }

  /** Buffers created so far, plain or shared (a steady training loop stops creating them). */
  get buffersCreated(): number {
    return this.#created;
  }

  /** `SharedArrayBuffer`s created so far (threaded backends; a steady training loop stops creating them). */
  get sharedBuffersCreated(): number {
    return this.#sharedCreated;
  }

  /** Live storages, live bytes and the peak. */
  stats(): MemoryStats {
    return { liveStorages: this.#live.size, liveBytes: this.#liveBytes, peakBytes: this.#peakBytes };
  }

  /** Free every storage; the backend cannot be used afterwards. */
  dispose(): void {
    this.#pool?.terminate();
    this.#pool = null;
    this.#live.clear();
    this.#spare.clear();
    this.#spareBytes = 0;
    this.#liveBytes = 0;
    this.#disposed = true;
  }

  #checkOpen(what: string): void {
    if (this.#disposed) throw new Error(`cpu ${what}: the backend was disposed`);
  }

  #entry(storage: Storage, what: string): Entry {
    this.#checkOpen(what);
    const entry = this.#live.get(storage.id);
    if (entry === undefined) {
      const why = storage.id > 0 && storage.id < this.#nextId
        ? "was freed"
        : "was never allocated by this backend";
      throw new Error(`cpu ${what}: storage #${storage.id} (${storage.size} ${storage.dtype}) ${why}`);
    }
    if (entry.handle !== storage) {
      throw new Error(`cpu ${what}: storage #${storage.id} belongs to another backend`);
    }
    return entry;
  }

  #arg(view: View, kernel: string, what: string): Arg {
    const { storage, shape, strides, offset } = view;
    const entry = this.#entry(storage, `kernel "${kernel}" ${what}`);
    if (shape.length !== strides.length) {
      throw new KernelError(kernel, `${what} has shape ${shapeStr(shape)} but strides ${shapeStr(strides)}`);
    }
    let lo = offset, hi = offset, empty = false;
    for (let d = 0; d < shape.length; d++) {
      const n = shape[d]!, s = strides[d]!;
      if (!Number.isInteger(n) || n < 0 || !Number.isInteger(s)) {
        throw new KernelError(
          kernel,
          `${what} has invalid shape ${shapeStr(shape)} / strides ${shapeStr(strides)}`,
        );
      }
      if (n === 0) empty = true;
      else if (s > 0) hi += s * (n - 1);
      else lo += s * (n - 1);
    }
    if (!empty && (lo < 0 || hi >= storage.size || !Number.isInteger(offset))) {
      throw new KernelError(
        kernel,
        `${what} view (shape ${shapeStr(shape)}, strides ${shapeStr(strides)}, offset ${offset}) reaches ` +
          `elements [${lo}, ${hi}] outside storage #${storage.id} of ${storage.size}`,
      );
    }
    return { data: entry.data, dtype: storage.dtype, id: storage.id, shape, strides, offset };
  }
}
