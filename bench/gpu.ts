/**
 * `deno task bench gpu`: the compute backends side by side — matmul 256/512/1024/2048 and the RNN shapes
 * (GFLOP/s), an LSTM layer forward+backward on (70, 32, 400) -> 1152 (seconds), dispatch overhead and readback
 * latency — on the WebGPU backend (whatever adapter is here, llvmpipe on the dev machine), the CPU backend, and
 * PyTorch through `bench/torch_peer.py` when `/usr/bin/python3` has torch (set `OPENBLAS_DIR` to an unpacked
 * `libopenblas0-pthread` `openblas-pthread` folder to run it on OpenBLAS).
 *
 * The LSTM follows the fast schedule: the input projection for all steps is ONE GEMM before the time loop,
 * each step is `h @ W_hh^T` accumulated into that step's gate rows plus the fused cell kernel; backward runs the
 * fused cell backward and `dG @ W_hh` per step, then the weight and input gradients as three big GEMMs.
 *
 * Environment: `BENCH_GPU_QUICK=1` skips the 2048 matmul and the CPU LSTM (minutes on 2 cores);
 * `BENCH_GPU_BACKENDS=webgpu,cpu,pytorch` (the default) picks the backends; `BENCH_GPU_CASES=a,b` runs only
 * the named cases of the TypeScript backends.
 *
 * @module
 */

import type { Backend, Storage, View } from "../gpu/backend.ts";
import { emit, timeMs } from "./_report.ts";
import { probeProgram } from "../tools/programs.ts";

const QUICK = Deno.env.get("BENCH_GPU_QUICK") === "1";
const BACKENDS = (Deno.env.get("BENCH_GPU_BACKENDS") ?? "webgpu,cpu,pytorch").split(",");
const CASES = Deno.env.get("BENCH_GPU_CASES")?.split(",");
const want = (name: string) => !CASES || CASES.includes(name);

function view(s: Storage, shape: number[], strides?: number[], offset = 0): View {
  if (!strides) {
    strides = [];
    let e = 1;
    for (let d = shape.length - 1; d >= 0; d--) strides[d] = e, e *= shape[d]!;
  }
  return { storage: s, shape, strides, offset };
}

function randn(n: number, scale = 1, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = ((x >>> 8) / 16777216 - 0.5) * 2 * scale;
  }
  return out;
}

/** Wait until everything enqueued has run (reads one element back). */
async function finish(be: Backend, probe: Storage): Promise<void> {
  be.flush();
  await be.read(probe);
}

/** Seconds of CPU time this process has used (llvmpipe's threads included), to read figures on a busy machine. */
function cpuSeconds(): number {
  const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime in clock ticks (100 Hz)
}

/** The backend's GPU-timestamp clock, enabled on first use, when the backend has one. */
function timestamps(be: Backend): (() => Promise<number>) | null {
  const g = be as Backend & {
    enableTimestamps?: () => void;
    gpuTimeNs?: () => Promise<number>;
    features?: Set<string>;
  };
  if (!g.enableTimestamps || !g.gpuTimeNs || !g.features?.has("timestamp-query")) return null;
  g.enableTimestamps();
  return () => g.gpuTimeNs!();
}

function load(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return NaN;
  }
}

interface MatmulCase {
  adapter: string;
  name: string;
  M: number;
  K: number;
  N: number;
  /** B is a transposed row-major (N, K) weight (`x @ W^T`). */
  nt?: boolean;
  /** Rewrite A (an in-place `mulScalar` by 1) before every product, so no cached operand texture is reused. */
  fresh?: boolean;
}

async function matmulCase(be: Backend, { adapter, name, M, K, N, nt = false, fresh = false }: MatmulCase) {
  if (!want(name)) return;
  const a = be.alloc(M * K, "f32"), b = be.alloc(K * N, "f32"), c = be.alloc(M * N, "f32");
  const probe = be.alloc(1, "f32");
  be.write(a, randn(M * K, 1, 1));
  be.write(b, randn(K * N, 1, 2));
  const bv = nt ? view(b, [1, K, N], [K * N, 1, K]) : view(b, [1, K, N]);
  const flops = 2 * M * N * K;
  const reps = Math.max(1, Math.min(50, Math.round(2e9 / flops)));
  const iters = flops >= 8e9 ? 1 : 3;
  const gpuNs = timestamps(be);
  const ns0 = gpuNs ? await gpuNs() : 0;
  const c0 = cpuSeconds();
  const ms = await timeMs(async () => {
    for (let r = 0; r < reps; r++) {
      if (fresh) be.run("unary", [view(a, [M * K])], [view(a, [M * K])], { op: "mulScalar", alpha: 1 });
      be.run("matmul", [view(a, [1, M, K]), bv], [view(c, [1, M, N])], {});
    }
    be.run("copy", [view(c, [1], [1], 0)], [view(probe, [1])], {});
    await finish(be, probe);
  }, { iters, warmup: 1 });
  const cpuPerCall = (cpuSeconds() - c0) / (iters + 1);
  const kernelNs = gpuNs ? (await gpuNs()) - ns0 : 0;
  emit({
    suite: "gpu",
    case: name,
    backend: be.name,
    adapter,
    value: (flops * reps) / (ms / 1000) / 1e9,
    unit: "GFLOP/s",
    ...(nt ? { layout: "x@W^T" } : {}),
    ...(fresh
      ? { note: "A rewritten before every product (includes that kernel and the texture upload)" }
      : {}),
    reps,
    // process CPU seconds per timed call, and GFLOP per CPU-second: comparable across machine load
    cpu_s: cpuPerCall,
    // GFLOP/s over GPU timestamps around the compute passes (no submit/readback), where supported
    ...(kernelNs > 0 ? { kernel_gflops: (flops * reps * (iters + 1)) / kernelNs } : {}),
    gflop_per_cpu_s: (flops * reps) / cpuPerCall / 1e9,
    load1: load(),
  });
  for (const s of [a, b, c, probe]) be.free(s);
}

/** One LSTM layer forward + backward with the hoisted input GEMM and fused cells; returns seconds. */
async function lstmFwdBwd(
  be: Backend,
  { T, B, I, H }: { T: number; B: number; I: number; H: number },
): Promise<{ s: number; cpu: number }> {
  const G = 4 * H, TB = T * B;
  const st: Storage[] = [];
  const mk = (n: number, data?: Float32Array) => {
    const s = be.alloc(n, "f32");
    if (data) be.write(s, data);
    st.push(s);
    return s;
  };
  const k = 1 / Math.sqrt(H);
  const X = mk(TB * I, randn(TB * I, 1, 3)),
    Wih = mk(G * I, randn(G * I, k, 4)),
    Whh = mk(G * H, randn(G * H, k, 5));
  const bias = mk(G, randn(G, k, 6)), dHall = mk(TB * H, randn(TB * H, 1, 7));
  const zeroH = mk(B * H, new Float32Array(B * H));
  const gates = mk(TB * G), Hall = mk(TB * H), Call = mk(TB * H), ACT = mk(TB * G);
  const dG = mk(TB * G), dh = mk(B * H), dhNext = mk(B * H, new Float32Array(B * H));
  const dc = mk(B * H, new Float32Array(B * H)), dcPrev = mk(B * H);
  const dWih = mk(G * I), dWhh = mk(G * H), dX = mk(TB * I), db = mk(G), probe = mk(1);
  const rowsH = (s: Storage, t: number) => view(s, [B, H], [H, 1], t * B * H);
  const rowsG = (s: Storage, t: number) => view(s, [B, G], [G, 1], t * B * G);
  const WhhT = view(Whh, [1, H, G], [0, 1, H]); // W_hh^T as (H, 4H) without copying

  const run = async () => {
    // forward: all input projections in one GEMM, plus bias (broadcast row)
    be.run("matmul", [view(X, [1, TB, I]), view(Wih, [1, I, G], [0, 1, I])], [view(gates, [1, TB, G])], {});
    be.run("binary", [view(gates, [TB, G]), view(bias, [TB, G], [0, 1])], [view(gates, [TB, G])], {
      op: "add",
    });
    for (let t = 0; t < T; t++) {
      if (t > 0) {
        be.run("matmul", [view(Hall, [1, B, H], [0, H, 1], (t - 1) * B * H), WhhT], [
          view(gates, [1, B, G], [0, G, 1], t * B * G),
        ], { accumulate: true });
      }
      be.run("lstmCell", [rowsG(gates, t), t > 0 ? rowsH(Call, t - 1) : rowsH(zeroH, 0)], [
        rowsH(Hall, t),
        rowsH(Call, t),
        rowsG(ACT, t),
      ], {});
    }
    // backward through time
    for (let t = T - 1; t >= 0; t--) {
      be.run("binary", [rowsH(dHall, t), rowsH(dhNext, 0)], [rowsH(dh, 0)], { op: "add" });
      be.run(
        "lstmCellBackward",
        [
          rowsG(ACT, t),
          t > 0 ? rowsH(Call, t - 1) : rowsH(zeroH, 0),
          rowsH(Call, t),
          rowsH(dh, 0),
          rowsH(t === T - 1 ? zeroH : dc, 0),
        ],
        [rowsG(dG, t), rowsH(dcPrev, 0)],
        {},
      );
      be.run("copy", [rowsH(dcPrev, 0)], [rowsH(dc, 0)], {});
      be.run("matmul", [view(dG, [1, B, G], [0, G, 1], t * B * G), view(Whh, [1, G, H])], [
        view(dhNext, [1, B, H]),
      ], {});
    }
    // weight, bias and input gradients: three big GEMMs and one reduction
    const dGT = view(dG, [1, G, (T - 1) * B], [0, 1, G], B * G); // steps 1.. as (4H, (T-1)B)
    be.run("matmul", [dGT, view(Hall, [1, (T - 1) * B, H])], [view(dWhh, [1, G, H])], {});
    be.run("matmul", [view(dG, [1, G, TB], [0, 1, G]), view(X, [1, TB, I])], [view(dWih, [1, G, I])], {});
    be.run("matmul", [view(dG, [1, TB, G]), view(Wih, [1, G, I])], [view(dX, [1, TB, I])], {});
    be.run("reduce", [view(dG, [G, TB], [1, G])], [view(db, [G])], { op: "sum" });
    be.run("copy", [view(dX, [1])], [view(probe, [1])], {});
    await finish(be, probe);
  };
  const iters = be.name === "cpu" ? 1 : 2, warmup = be.name === "cpu" ? 0 : 1;
  const c0 = cpuSeconds();
  const ms = await timeMs(run, { iters, warmup });
  const cpu = (cpuSeconds() - c0) / (iters + warmup);
  for (const s of st) be.free(s);
  return { s: ms / 1000, cpu };
}

async function overheads(be: Backend, adapter: string): Promise<void> {
  if (!want("dispatch_overhead") && !want("readback_latency")) return;
  const x = be.alloc(64, "f32"), y = be.alloc(64, "f32");
  be.write(x, randn(64));
  const n = 500;
  const readMs = await timeMs(() => be.read(y), { iters: 9, warmup: 2 });
  const totalMs = await timeMs(async () => {
    for (let i = 0; i < n; i++) be.run("unary", [view(x, [64])], [view(y, [64])], { op: "exp" });
    await be.read(y);
  }, { iters: 5, warmup: 1 });
  emit({
    suite: "gpu",
    case: "dispatch_overhead",
    backend: be.name,
    adapter,
    value: ((totalMs - readMs) / n) * 1000,
    unit: "us",
    note: `${n} tiny unary kernels + one read, minus the read`,
    load1: load(),
  });
  emit({
    suite: "gpu",
    case: "readback_latency",
    backend: be.name,
    adapter,
    value: readMs,
    unit: "ms",
    load1: load(),
  });
  be.free(x), be.free(y);
}

/** Elementwise throughput: `binary add` over 4M contiguous f32 (memory-bound on every backend). */
async function elementwiseCase(be: Backend, adapter: string): Promise<void> {
  if (!want("binary_add_4m")) return;
  const n = 1 << 22;
  const a = be.alloc(n, "f32"), b = be.alloc(n, "f32"), y = be.alloc(n, "f32"), probe = be.alloc(1, "f32");
  be.write(a, randn(n, 1, 8));
  be.write(b, randn(n, 1, 9));
  const reps = 5;
  const c0 = cpuSeconds();
  const ms = await timeMs(async () => {
    for (let r = 0; r < reps; r++) {
      be.run("binary", [view(a, [n]), view(b, [n])], [view(y, [n])], { op: "add" });
    }
    be.run("copy", [view(y, [1])], [view(probe, [1])], {});
    await finish(be, probe);
  }, { iters: 3, warmup: 1 });
  const cpu = (cpuSeconds() - c0) / 4;
  emit({
    suite: "gpu",
    case: "binary_add_4m",
    backend: be.name,
    adapter,
    value: (n * reps) / (ms / 1000) / 1e6,
    unit: "Melem/s",
    melem_per_cpu_s: (n * reps) / cpu / 1e6,
    load1: load(),
  });
  for (const s of [a, b, y, probe]) be.free(s);
}

async function suite(be: Backend, adapter: string): Promise<void> {
  await overheads(be, adapter);
  await elementwiseCase(be, adapter);
  for (const n of QUICK ? [256, 512, 1024] : [256, 512, 1024, 2048]) {
    if (be.name === "cpu" && n === 2048 && QUICK) continue;
    await matmulCase(be, { adapter, name: `matmul_${n}`, M: n, K: n, N: n });
  }
  await matmulCase(be, { adapter, name: "matmul_1024_fresh_a", M: 1024, K: 1024, N: 1024, fresh: true });
  await matmulCase(be, { adapter, name: "matmul_32x400x4608", M: 32, K: 400, N: 4608, nt: true });
  await matmulCase(be, { adapter, name: "matmul_32x1152x4608", M: 32, K: 1152, N: 4608, nt: true });
  if ((be.name === "cpu" && QUICK) || !want("lstm_fwd_bwd")) return;
  const s = await lstmFwdBwd(be, { T: 70, B: 32, I: 400, H: 1152 });
  emit({
    suite: "gpu",
    case: "lstm_fwd_bwd",
    backend: be.name,
    adapter,
    value: s.s,
    unit: "s",
    shape: "(70, 32, 400) -> 1152",
    cpu_s: s.cpu,
    load1: load(),
  });
}

async function torchPeer(): Promise<void> {
  const torch = await probeProgram("/usr/bin/python3", {
    args: ["-c", "import torch"],
    needed: "bench gpu: the PyTorch peer",
  });
  if (!torch.ok) return;
  const env: Record<string, string> = {};
  const ob = Deno.env.get("OPENBLAS_DIR");
  if (ob) env.LD_LIBRARY_PATH = ob;
  const script = new URL("./torch_peer.py", import.meta.url).pathname;
  const out = await new Deno.Command("/usr/bin/python3", {
    args: [script],
    env,
    stdout: "inherit",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    console.error(`bench gpu: PyTorch peer failed: ${new TextDecoder().decode(out.stderr).slice(-500)}`);
  }
}

/** Run the suite: WebGPU (when an adapter exists), CPU backend, then PyTorch. */
export async function run(): Promise<void> {
  const { createWebGpuBackend } = await import("../gpu/webgpu/mod.ts");
  const made = BACKENDS.includes("webgpu")
    ? await createWebGpuBackend()
    : { backend: null, reason: "not selected" };
  if (made.backend) {
    const gpu = made.backend;
    await suite(gpu, `${gpu.description}${gpu.isFallbackAdapter ? " (fallback)" : ""}`);
    gpu.dispose();
  } else {
    console.error(`bench gpu: no WebGPU adapter (${made.reason}); WebGPU cases skipped`);
  }
  let cpuMod: { CpuBackend: new () => Backend } | null = null;
  if (BACKENDS.includes("cpu")) {
    try {
      cpuMod = await import("../gpu/cpu/mod.ts") as unknown as { CpuBackend: new () => Backend };
    } catch {
      console.error("bench gpu: gpu/cpu is missing; CPU backend cases skipped");
    }
  }
  if (cpuMod) {
    const cpu = new cpuMod.CpuBackend();
    await suite(cpu, "TypeScript (V8)");
    cpu.dispose();
  }
  if (BACKENDS.includes("pytorch")) await torchPeer();
}

if (import.meta.main) await run();
