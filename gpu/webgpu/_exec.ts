/**
 * Command batching for the WebGPU backend: a pipeline cache keyed by a shape-independent kernel key (shapes and
 * strides travel in a uniform), one uniform ring with 256-byte slots bound with a dynamic offset (so bind groups
 * stay cacheable), cached bind group layouts and bind groups, and dispatches recorded into one compute pass
 * that is submitted every few dozen dispatches or when data must move (write into a busy buffer, read back).
 *
 * Kernel code names its operands `$0`, `$1`, ... in operand order; operands that share a GPU buffer (in-place
 * optimizer steps) get one `read_write` binding, because WebGPU forbids binding a buffer twice when one binding
 * is writable.
 *
 * @module
 */

/** Bytes of one uniform slot (every adapter's `minUniformBufferOffsetAlignment` divides 256). */
export const UNIFORM_SLOT = 256;
const RING_SLOTS = 256;
const SUBMIT_EVERY = 48;
const TS_PAIRS = 64;

/** A buffer operand of a dispatch. */
export interface BufferOperand {
  /** The GPU buffer. */
  buffer: GPUBuffer;
  /** WGSL element type of the binding. */
  type: "f32" | "i32" | "vec4<f32>";
  /** Whether the kernel writes it. */
  write: boolean;
}

/** A sampled-texture operand (`texture_2d<f32>`), or with `store` a write-only `rgba32float` storage texture. */
export interface TextureOperand {
  /** The texture. */
  texture: GPUTexture;
  /** Bind as `texture_storage_2d<rgba32float, write>`. */
  store?: boolean;
}

/** One kernel launch. */
export interface Dispatch {
  /** Shape-independent kernel key (everything the WGSL text depends on). */
  key: string;
  /** WGSL after the prelude; operand `i` is spelled `$i`. Called only when the pipeline is not cached. */
  code: () => string;
  /** Operands in `$i` order. */
  operands: readonly (BufferOperand | TextureOperand)[];
  /** Uniform words (at most 64 u32/i32/f32 values already encoded as u32 bits). */
  uniforms: Uint32Array;
  /** Workgroup count (flattened; split into 2-D past the per-dimension limit) or explicit `[x, y]`. */
  workgroups: number | readonly [number, number];
}

/** WGSL helpers every kernel gets: uniform access and the flat workgroup index of a 2-D launch. */
export const PRELUDE = /* wgsl */ `
@group(0) @binding(0) var<uniform> U: array<vec4<u32>, 16>;
fn uu(i: u32) -> u32 { return U[i >> 2u][i & 3u]; }
fn ui(i: u32) -> i32 { return bitcast<i32>(U[i >> 2u][i & 3u]); }
fn uf(i: u32) -> f32 { return bitcast<f32>(U[i >> 2u][i & 3u]); }
fn flat_wg(wid: vec3<u32>, nwg: vec3<u32>) -> u32 { return wid.x + wid.y * nwg.x; }
`;

/** Encodes numbers into uniform words. */
export class UniformWriter {
  #u = new Uint32Array(64);
  #f = new Float32Array(this.#u.buffer);
  #i = new Int32Array(this.#u.buffer);
  #n = 0;
  /** Append an unsigned integer (wraps modulo 2^32); returns its word index. */
  u32(v: number): number {
    this.#u[this.#n] = v >>> 0;
    return this.#n++;
  }
  /** Append a signed integer. */
  i32(v: number): number {
    this.#i[this.#n] = v | 0;
    return this.#n++;
  }
  /** Append a float. */
  f32(v: number): number {
    this.#f[this.#n] = v;
    return this.#n++;
  }
  /** The words written so far. */
  words(): Uint32Array {
    if (this.#n > 64) throw new RangeError(`webgpu: kernel needs ${this.#n} uniform words, at most 64 fit`);
    return this.#u.subarray(0, this.#n);
  }
}

/** Workgroup counts `[x, y]` covering `n` workgroups within `maxPerDim` per dimension. */
export function grid2d(n: number, maxPerDim = 65535): [number, number] {
  if (n <= maxPerDim) return [Math.max(1, n), 1];
  const y = Math.ceil(n / maxPerDim);
  return [Math.ceil(n / y), y];
}

interface Pipe {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  sig: string;
}

const ids = new WeakMap<object, number>();
let nextId = 1;
function objId(o: object): number {
  let id = ids.get(o);
  if (id === undefined) ids.set(o, id = nextId++);
  return id;
}

/** Counters for tests and benchmarks. */
export interface ExecStats {
  /** Dispatches recorded. */
  dispatches: number;
  /** Command buffers submitted. */
  submits: number;
  /** Pipelines compiled. */
  pipelines: number;
  /** Bind groups created. */
  bindGroups: number;
}

/** The batching executor of one device. */
export class Executor {
  readonly device: GPUDevice;
  #maxPerDim: number;
  #pipes = new Map<string, Pipe>();
  #layouts = new Map<string, GPUBindGroupLayout>();
  #bindGroups = new Map<string, GPUBindGroup>();
  #ring: GPUBuffer;
  #ringMirror = new Uint32Array((RING_SLOTS * UNIFORM_SLOT) / 4);
  #ringUsed = 0;
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #pending = 0;
  #busy = new Set<GPUBuffer>();
  #ts: { set: GPUQuerySet; resolve: GPUBuffer; totalNs: number; pending: Promise<void>[] } | null = null;
  #tsPasses = 0;
  #stats: ExecStats = { dispatches: 0, submits: 0, pipelines: 0, bindGroups: 0 };
  /** Called before every device operation; throws when the device is lost or broken. */
  check: () => void = () => {};

  /** An executor for `device`. */
  constructor(device: GPUDevice) {
    this.device = device;
    this.#maxPerDim = device.limits.maxComputeWorkgroupsPerDimension;
    this.#ring = device.createBuffer({
      size: RING_SLOTS * UNIFORM_SLOT,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
  }

  /** Counters since creation. */
  stats(): ExecStats {
    return { ...this.#stats };
  }

  /** Whether `buffer` is used by recorded but unsubmitted work. */
  isBusy(buffer: GPUBuffer): boolean {
    return this.#busy.has(buffer);
  }

  #layoutFor(sig: string): GPUBindGroupLayout {
    let layout = this.#layouts.get(sig);
    if (layout) return layout;
    const entries: GPUBindGroupLayoutEntry[] = [{
      binding: 0,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: "uniform", hasDynamicOffset: true, minBindingSize: UNIFORM_SLOT },
    }];
    sig.split(",").forEach((s, i) => {
      const e: GPUBindGroupLayoutEntry = { binding: i + 1, visibility: GPUShaderStage.COMPUTE };
      if (s === "t") e.texture = { sampleType: "unfilterable-float" };
      else if (s === "s") e.storageTexture = { access: "write-only", format: "rgba32float" };
      else e.buffer = { type: s === "w" ? "storage" : "read-only-storage" };
      entries.push(e);
    });
    layout = this.device.createBindGroupLayout({ entries });
    this.#layouts.set(sig, layout);
    return layout;
  }

  /** Record one dispatch (submitting the batch when it is full). */
  dispatch(d: Dispatch): void {
    this.check();
    // Group operands by resource: one binding per distinct buffer/texture.
    const slots: { res: GPUBuffer | GPUTexture; sig: string; type: string }[] = [];
    const slotOf: number[] = [];
    for (const op of d.operands) {
      const res = "buffer" in op ? op.buffer : op.texture;
      let s = slots.findIndex((x) => x.res === res);
      if (s < 0) {
        s = slots.length;
        slots.push({
          res,
          sig: "buffer" in op ? "r" : op.store ? "s" : "t",
          type: "buffer" in op ? op.type : "",
        });
      }
      if ("buffer" in op && op.write) slots[s]!.sig = "w";
      slotOf.push(s);
    }
    const sig = slots.map((s) => s.sig).join(",");
    const pkey = `${d.key}|${sig}|${slots.map((s) => s.type).join(",")}|${slotOf.join(",")}`;
    let pipe = this.#pipes.get(pkey);
    if (!pipe) {
      const decls = slots.map((s, i) =>
        s.sig === "t"
          ? `@group(0) @binding(${i + 1}) var bnd${i}: texture_2d<f32>;`
          : s.sig === "s"
          ? `@group(0) @binding(${i + 1}) var bnd${i}: texture_storage_2d<rgba32float, write>;`
          : `@group(0) @binding(${i + 1}) var<storage, ${
            s.sig === "w" ? "read_write" : "read"
          }> bnd${i}: array<${s.type}>;`
      );
      const body = d.code().replace(/\$(\d+)/g, (_, k: string) => {
        const s = slotOf[Number(k)];
        if (s === undefined) throw new Error(`webgpu kernel ${d.key}: operand $${k} is not bound`);
        return `bnd${s}`;
      });
      const layout = this.#layoutFor(sig);
      const module = this.device.createShaderModule({ code: `${PRELUDE}\n${decls.join("\n")}\n${body}` });
      const pipeline = this.device.createComputePipeline({
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: "main" },
      });
      pipe = { pipeline, layout, sig };
      this.#pipes.set(pkey, pipe);
      this.#stats.pipelines++;
    }
    const bkey = `${sig}|${slots.map((s) => objId(s.res)).join(",")}`;
    let bg = this.#bindGroups.get(bkey);
    if (!bg) {
      if (this.#bindGroups.size > 4096) this.#bindGroups.clear();
      bg = this.device.createBindGroup({
        layout: pipe.layout,
        entries: [
          { binding: 0, resource: { buffer: this.#ring, offset: 0, size: UNIFORM_SLOT } },
          ...slots.map((s, i) => ({
            binding: i + 1,
            resource: s.sig === "t" || s.sig === "s"
              ? (s.res as GPUTexture).createView()
              : { buffer: s.res as GPUBuffer },
          })),
        ],
      });
      this.#bindGroups.set(bkey, bg);
      this.#stats.bindGroups++;
    }
    if (this.#ringUsed === RING_SLOTS) this.flush();
    const slot = this.#ringUsed++;
    this.#ringMirror.set(d.uniforms, (slot * UNIFORM_SLOT) / 4);
    const [x, y] = typeof d.workgroups === "number" ? grid2d(d.workgroups, this.#maxPerDim) : d.workgroups;
    const pass = this.#computePass();
    pass.setPipeline(pipe.pipeline);
    pass.setBindGroup(0, bg, [slot * UNIFORM_SLOT]);
    pass.dispatchWorkgroups(x, y);
    for (const s of slots) if (!(s.res instanceof GPUTexture)) this.#busy.add(s.res);
    this.#stats.dispatches++;
    if (++this.#pending >= SUBMIT_EVERY) this.flush();
  }

  #computePass(): GPUComputePassEncoder {
    if (this.#pass) return this.#pass;
    if (this.#ts && this.#tsPasses === TS_PAIRS) this.flush();
    const desc: GPUComputePassDescriptor = {};
    if (this.#ts) {
      const k = this.#tsPasses++;
      desc.timestampWrites = {
        querySet: this.#ts.set,
        beginningOfPassWriteIndex: 2 * k,
        endOfPassWriteIndex: 2 * k + 1,
      };
    }
    this.#pass = this.#commandEncoder().beginComputePass(desc);
    return this.#pass;
  }

  /**
   * Record GPU timestamps around every compute pass from now on (needs the `timestamp-query` feature), so
   * {@linkcode gpuTimeNs} can report the time kernels spent on the device, without submit and readback costs.
   */
  enableTimestamps(): void {
    if (this.#ts) return;
    if (!this.device.features.has("timestamp-query")) {
      throw new Error("webgpu: this device has no timestamp-query feature");
    }
    this.flush();
    this.#ts = {
      set: this.device.createQuerySet({ type: "timestamp", count: 2 * TS_PAIRS }),
      resolve: this.device.createBuffer({
        size: 16 * TS_PAIRS,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      }),
      totalNs: 0,
      pending: [],
    };
  }

  /** Nanoseconds of GPU time inside compute passes since {@linkcode enableTimestamps} (flushes first). */
  async gpuTimeNs(): Promise<number> {
    if (!this.#ts) throw new Error("webgpu: call enableTimestamps() first");
    this.flush();
    await Promise.all(this.#ts.pending);
    this.#ts.pending = [];
    return this.#ts.totalNs;
  }

  #resolveTimestamps(enc: GPUCommandEncoder): (() => void) | null {
    const ts = this.#ts;
    if (!ts || this.#tsPasses === 0) return null;
    const n = this.#tsPasses;
    this.#tsPasses = 0;
    enc.resolveQuerySet(ts.set, 0, 2 * n, ts.resolve, 0);
    const staging = this.device.createBuffer({
      size: 16 * n,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    enc.copyBufferToBuffer(ts.resolve, 0, staging, 0, 16 * n);
    return () => {
      ts.pending.push(
        staging.mapAsync(GPUMapMode.READ).then(() => {
          const t = new BigUint64Array(staging.getMappedRange().slice(0));
          staging.unmap();
          staging.destroy();
          for (let i = 0; i < n; i++) {
            if (t[2 * i + 1]! > t[2 * i]!) ts.totalNs += Number(t[2 * i + 1]! - t[2 * i]!);
          }
        }),
      );
    };
  }

  #commandEncoder(): GPUCommandEncoder {
    if (!this.#encoder) this.#encoder = this.device.createCommandEncoder();
    return this.#encoder;
  }

  /** The open command encoder with no compute pass open (for copies recorded in order with dispatches). */
  encoderForCopy(): GPUCommandEncoder {
    this.check();
    if (this.#pass) {
      this.#pass.end();
      this.#pass = null;
    }
    this.#pending++;
    return this.#commandEncoder();
  }

  /** Mark buffers as used by recorded work (for copies recorded through {@linkcode encoderForCopy}). */
  markBusy(...buffers: GPUBuffer[]): void {
    for (const b of buffers) this.#busy.add(b);
  }

  /** Submit everything recorded so far. */
  flush(): void {
    this.check();
    if (!this.#encoder) return;
    if (this.#pass) this.#pass.end();
    const afterSubmit = this.#resolveTimestamps(this.#encoder);
    if (this.#ringUsed > 0) {
      this.device.queue.writeBuffer(this.#ring, 0, this.#ringMirror, 0, (this.#ringUsed * UNIFORM_SLOT) / 4);
    }
    this.device.queue.submit([this.#encoder.finish()]);
    this.#encoder = null;
    this.#pass = null;
    this.#pending = 0;
    this.#ringUsed = 0;
    this.#busy.clear();
    this.#stats.submits++;
    afterSubmit?.();
  }

  /** Release cached pipelines, bind groups and the ring (recorded work is submitted first). */
  dispose(): void {
    try {
      this.flush();
    } catch {
      // device already lost: nothing to submit
    }
    this.#bindGroups.clear();
    this.#pipes.clear();
    this.#ring.destroy();
  }
}
