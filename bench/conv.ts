/**
 * Convolution forward and forward + backward on the CPU backend against PyTorch's convolution (Debian torch,
 * oneDNN) in the same run, alternating round by round, for a few ResNet-ish shapes: the 7x7 stride-2 stem on
 * 224 px images, a 3x3 64 -> 64 layer on 56 px, and a 3x3 32 -> 32 layer of a small CNN on 28 px images at batch
 * 128. The backward computes the weight and bias gradients, and the input gradient except for the stem (whose
 * input is the images). Prints one JSON line per backend, case and thread count (images/s of forward + backward,
 * the wall milliseconds and the process CPU milliseconds of each), then the ratios, with the CPU model and the
 * load average. On a shared machine the CPU time (all threads of the process) is the steadier measure of work;
 * the wall time is what a user waits.
 *
 * The PyTorch side is `bench/conv_torch.py`, run by `/usr/bin/python3` (skipped with a note when that has no
 * torch). `deno task bench conv` (`CONV_BENCH_QUICK=1`: one round and fewer iterations; `CONV_BENCH_THREADS=1,2`;
 * `CONV_BENCH_CASES=stem,...` to pick cases by name; `CONV_BENCH_KERNELS=blas,wasm`: our GEMMs to run, BLAS only
 * where it loads).
 *
 * @module
 */

import process from "node:process";
import { CpuBackend } from "../gpu/cpu/mod.ts";
import { conv2d, noGrad, ones, randn, setBackend, type Tensor, tidy } from "../nn/mod.ts";
import { loadBlas } from "../gpu/cpu/_blas.ts";
import { machine, mappedBlas, median, startCheckedPeer } from "./_peer.ts";
import { emit } from "./_report.ts";

/** One benchmark shape. */
interface ConvCase {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  stride: number;
  padding: number;
  gradInput: boolean;
  iters: number;
}

const CASES: ConvCase[] = [
  {
    name: "stem_3to64_7x7_s2_224px_b8",
    x: [8, 3, 224, 224],
    w: [64, 3, 7, 7],
    stride: 2,
    padding: 3,
    gradInput: false,
    iters: 3,
  },
  {
    name: "resnet_64to64_3x3_56px_b8",
    x: [8, 64, 56, 56],
    w: [64, 64, 3, 3],
    stride: 1,
    padding: 1,
    gradInput: true,
    iters: 3,
  },
  {
    name: "smallcnn_32to32_3x3_28px_b128",
    x: [128, 32, 28, 28],
    w: [32, 32, 3, 3],
    stride: 1,
    padding: 1,
    gradInput: true,
    iters: 3,
  },
];

/** Wall and process-CPU milliseconds of one call. */
interface Timing {
  wall: number;
  cpu: number;
}

/** Median wall and CPU milliseconds of `fn` over `iters` calls after one warm-up call. */
function medianMs(fn: () => void, iters: number): Timing {
  fn();
  const wall: number[] = [], cpu: number[] = [];
  for (let i = 0; i < iters; i++) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

/** Forward and forward + backward timings. */
interface Result {
  fwd: Timing;
  fwdBwd: Timing;
}

/** Our forward and forward + backward times on a CPU backend of `threads` with the `kernel` GEMM. */
function ours(c: ConvCase, threads: number, iters: number, kernel: "blas" | "wasm"): Result {
  const cpu = new CpuBackend({ threads, matmul: kernel });
  const prev = setBackend(cpu);
  try {
    const x = randn(c.x, { requiresGrad: c.gradInput }), w = randn(c.w, { requiresGrad: true });
    const b = randn([c.w[0]], { requiresGrad: true });
    const opts = { bias: b, stride: c.stride, padding: c.padding };
    const g = noGrad(() => tidy(() => ones(conv2d(x, w, opts).shape)));
    const fwd = medianMs(() => noGrad(() => tidy(() => void conv2d(x, w, opts))), iters);
    const fwdBwd = medianMs(() => {
      for (const t of [x, w, b] as Tensor[]) t.grad?.dispose(), t.grad = null;
      tidy(() => conv2d(x, w, opts).backward(g));
    }, iters);
    for (const t of [x, w, b, g]) t.grad?.dispose(), t.dispose();
    return { fwd, fwdBwd };
  } finally {
    if (prev) setBackend(prev);
    cpu.dispose();
  }
}

/** Run the suite. */
export async function run(): Promise<void> {
  const quick = Deno.env.get("CONV_BENCH_QUICK") === "1";
  const threadList = (Deno.env.get("CONV_BENCH_THREADS") ?? "1,2").split(",").map(Number);
  const pick = Deno.env.get("CONV_BENCH_CASES");
  const cases = CASES.filter((c) => !pick || pick.split(",").some((p) => c.name.includes(p)));
  const rounds = quick ? 1 : 3;
  const probe = {
    x: [1, 1, 4, 4],
    w: [1, 1, 3, 3],
    stride: 1,
    padding: 1,
    gradInput: true,
    threads: 1,
    iters: 1,
  };
  const peer = await startCheckedPeer(new URL("./conv_torch.py", import.meta.url), probe);
  // Our GEMMs: the machine's BLAS (when it loads) and the WebAssembly fallback, each against PyTorch.
  const kernels = (Deno.env.get("CONV_BENCH_KERNELS") ?? "blas,wasm").split(",")
    .filter((k): k is "blas" | "wasm" => k === "wasm" || (k === "blas" && loadBlas().blas !== null));
  if (typeof peer === "string") console.error(`bench conv: PyTorch peer skipped: ${peer}`);
  for (const threads of threadList) {
    for (const c of cases) {
      const iters = quick ? 1 : c.iters;
      const mine = new Map(kernels.map((k) => [k, [] as Result[]])), theirs: Result[] = [];
      let info: Record<string, unknown> = {};
      for (let r = 0; r < rounds; r++) {
        for (const k of kernels) mine.get(k)!.push(ours(c, threads, iters, k));
        if (typeof peer !== "string") {
          info = await peer.ask({ ...c, threads, iters });
          theirs.push({
            fwd: { wall: info.fwd_ms as number, cpu: info.fwd_cpu_ms as number },
            fwdBwd: { wall: info.fwd_bwd_ms as number, cpu: info.fwd_bwd_cpu_ms as number },
          });
        }
      }
      const report = (backend: string, runs: Result[], extra: Record<string, unknown>) => {
        const m = (f: (r: Result) => number) => +median(runs.map(f)).toFixed(1);
        const r = { wall: m((x) => x.fwdBwd.wall), cpu: m((x) => x.fwdBwd.cpu) };
        emit({
          suite: "conv",
          case: c.name,
          backend,
          value: +((c.x[0] * 1000) / r.wall).toFixed(1),
          unit: "images/s (forward + backward)",
          threads,
          fwd_ms: m((x) => x.fwd.wall),
          fwd_bwd_ms: r.wall,
          fwd_cpu_ms: m((x) => x.fwd.cpu),
          fwd_bwd_cpu_ms: r.cpu,
          rounds,
          ...machine(),
          ...extra,
        });
        return r;
      };
      const b = theirs.length > 0
        ? report("pytorch", theirs, { adapter: `torch ${info.torch} (oneDNN ${info.mkldnn})` })
        : null;
      for (const k of kernels) {
        const adapter = k === "blas"
          ? `CpuBackend (BLAS: ${loadBlas().blas!.description})`
          : "CpuBackend (WebAssembly SIMD GEMM)";
        const a = report("cpu", mine.get(k)!, { kernel: k, adapter, blas_mapped: mappedBlas() });
        if (b === null) continue;
        emit({
          suite: "conv",
          case: `${c.name}_ratio`,
          kernel: k,
          value: +(b.wall / a.wall).toFixed(3),
          unit: "x PyTorch speed (wall)",
          cpu_time_ratio: +(b.cpu / a.cpu).toFixed(3),
          threads,
        });
      }
    }
  }
  if (typeof peer !== "string") await peer.close();
}

if (import.meta.main) await run();
