/**
 * CPU backend benchmarks: matmul GFLOP/s on the machine's BLAS and on the WebAssembly kernel against
 * `torch.mm` with the same thread count, alternating round by round in one run (`bench/matmul_torch.py`, skipped
 * with a note without torch; `CPU_BENCH_VS_TORCH=0` skips the comparison), with the CPU model, load and the BLAS
 * file each side has mapped; then the default kernel's GFLOP/s (square sizes and the AWD-LSTM gate projections,
 * with the weight used transposed as `x @ W^T`), elementwise throughput and the fused LSTM cell.
 *
 * @module
 */

import type { View } from "../gpu/backend.ts";
import process from "node:process";
import { loadBlas } from "../gpu/cpu/_blas.ts";
import { CpuBackend } from "../gpu/cpu/mod.ts";
import { machine, mappedBlas, median, startCheckedPeer } from "./_peer.ts";
import { emit, timeMs } from "./_report.ts";

let cpu = new CpuBackend();

function randomView(shape: number[], transposed = false): View {
  const n = shape.reduce((a, b) => a * b, 1);
  const storage = cpu.alloc(n, "f32");
  cpu.write(storage, Float32Array.from({ length: n }, () => Math.random() - 0.5));
  const [r, c] = shape as [number, number];
  return { storage, shape, strides: transposed ? [1, r] : [c, 1], offset: 0 };
}

async function matmulCase(
  name: string,
  m: number,
  k: number,
  n: number,
  bTransposed: boolean,
): Promise<void> {
  if (cpu.threads > 1) name += `_threads${cpu.threads}`;
  const a = randomView([m, k]), b = randomView([k, n], bTransposed), c = randomView([m, n]);
  const flops = 2 * m * n * k;
  const iters = Math.max(3, Math.min(20, Math.round(2e9 / flops)));
  const ms = await timeMs(() => cpu.run("matmul", [a, b], [c], {}), { iters, warmup: 1 });
  emit({
    suite: "cpu",
    case: name,
    backend: "cpu",
    value: +(flops / (ms * 1e6)).toFixed(3),
    unit: "GFLOP/s",
    shape: `${m}x${k}@${k}x${n}${bTransposed ? " (b transposed)" : ""}`,
    threads: cpu.threads,
    ms: +ms.toFixed(2),
  });
  for (const v of [a, b, c]) cpu.free(v.storage);
}

/** The naive i-j-k triple loop over f32 arrays, for comparison with the blocked kernel. */
async function naiveCase(n: number): Promise<void> {
  const a = Float32Array.from({ length: n * n }, Math.random),
    b = Float32Array.from({ length: n * n }, Math.random);
  const c = new Float32Array(n * n);
  const ms = await timeMs(() => {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += a[i * n + k]! * b[k * n + j]!;
        c[i * n + j] = s;
      }
    }
  }, { iters: 3 });
  const value = +(2 * n ** 3 / (ms * 1e6)).toFixed(3);
  emit({
    suite: "cpu",
    case: `matmul_naive_${n}`,
    backend: "cpu",
    value,
    unit: "GFLOP/s",
    ms: +ms.toFixed(2),
  });
}

/** Median wall and CPU ms of `iters` products `a @ b` on a backend of `threads` with `kernel`. */
function oursMs(
  m: number,
  k: number,
  n: number,
  bT: boolean,
  threads: number,
  kernel: "blas" | "wasm",
  iters: number,
) {
  const be = new CpuBackend({ threads, matmul: kernel });
  const view = (rows: number, cols: number, t: boolean): View => {
    const s = be.alloc(rows * cols, "f32");
    be.write(s, Float32Array.from({ length: rows * cols }, () => Math.random() - 0.5));
    return { storage: s, shape: [rows, cols], strides: t ? [1, rows] : [cols, 1], offset: 0 };
  };
  const a = view(m, k, false), b = view(k, n, bT), c = view(m, n, false);
  be.run("matmul", [a, b], [c], {});
  const wall: number[] = [], cpuMs: number[] = [];
  for (let i = 0; i < iters; i++) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    be.run("matmul", [a, b], [c], {});
    wall.push(performance.now() - t0);
    const u = process.cpuUsage(c0);
    cpuMs.push((u.user + u.system) / 1000);
  }
  be.dispose();
  return { ms: median(wall), cpu_ms: median(cpuMs) };
}

/** Our kernels against torch.mm, alternating: 1024^3 and the AWD-LSTM step product, 1 and 2 threads. */
async function versusTorch(): Promise<void> {
  const probe = { m: 4, k: 4, n: 4, bT: false, threads: 1, iters: 1 };
  const peer = await startCheckedPeer(new URL("./matmul_torch.py", import.meta.url), probe);
  if (typeof peer === "string") console.error(`bench cpu: PyTorch peer skipped: ${peer}`);
  const kernels = loadBlas().blas ? ["blas", "wasm"] as const : ["wasm"] as const;
  const rounds = Number(Deno.env.get("CPU_BENCH_ROUNDS") ?? 3);
  for (const [m, k, n, bT] of [[1024, 1024, 1024, false], [32, 1152, 4608, true]] as const) {
    const iters = m === 1024 ? 10 : 20, flops = 2 * m * k * n;
    for (const threads of [1, 2]) {
      const got = new Map<string, { ms: number; cpu_ms: number }[]>();
      const add = (key: string, r: { ms: number; cpu_ms: number }) =>
        got.set(key, [...(got.get(key) ?? []), r]);
      let peerInfo: Record<string, unknown> = {};
      for (let r = 0; r < rounds; r++) {
        for (const kernel of kernels) add(kernel, oursMs(m, k, n, bT, threads, kernel, iters));
        if (typeof peer === "string") continue;
        peerInfo = await peer.ask({ m, k, n, bT, threads, iters });
        add("pytorch", peerInfo as { ms: number; cpu_ms: number });
      }
      const torchMs = got.has("pytorch") ? median(got.get("pytorch")!.map((x) => x.ms)) : null;
      for (const [who, runs] of got) {
        const ms = median(runs.map((x) => x.ms)), cpuMs = median(runs.map((x) => x.cpu_ms));
        emit({
          suite: "cpu",
          case: `matmul_${m}x${k}x${n}${bT ? "_bT" : ""}_vs_torch`,
          backend: who === "pytorch" ? "pytorch" : "cpu",
          kernel: who,
          value: +(flops / (ms * 1e6)).toFixed(2),
          unit: "GFLOP/s (median wall)",
          ms: +ms.toFixed(3),
          cpu_ms: +cpuMs.toFixed(3),
          threads,
          rounds,
          ratio_to_torch: torchMs && who !== "pytorch" ? +(torchMs / ms).toFixed(3) : undefined,
          blas: who === "pytorch" ? peerInfo.blas : who === "blas" ? mappedBlas() : undefined,
          ...machine(),
        });
      }
    }
  }
  if (typeof peer !== "string") await peer.close();
}

/** Run the CPU suite. */
export async function run(): Promise<void> {
  if (Deno.env.get("CPU_BENCH_VS_TORCH") !== "0") await versusTorch();
  if (Deno.env.get("CPU_BENCH_ONLY_TORCH") === "1") return;
  await naiveCase(512);
  for (const n of [256, 512, 1024]) await matmulCase(`matmul_${n}`, n, n, n, false);
  await matmulCase("matmul_1024_bT", 1024, 1024, 1024, true);
  await matmulCase("matmul_32x400@400x4608", 32, 400, 4608, true);
  await matmulCase("matmul_32x1152@1152x4608", 32, 1152, 4608, true);
  await matmulCase("matmul_1x1152@1152x4608", 1, 1152, 4608, true);
  // The same products on two threads (CpuBackend({ threads: 2 })).
  cpu = new CpuBackend({ threads: 2 });
  await matmulCase("matmul_1024", 1024, 1024, 1024, false);
  await matmulCase("matmul_32x1152@1152x4608", 32, 1152, 4608, true);
  cpu.dispose();
  cpu = new CpuBackend();

  const n = 1 << 20;
  const x = randomView([1024, 1024]), y = randomView([1024, 1024]), out = randomView([1024, 1024]);
  const row: View = { ...randomView([1, 1024]), shape: [1024, 1024], strides: [0, 1] };
  let ms = await timeMs(() => cpu.run("binary", [x, y], [out], { op: "add" }), { iters: 10 });
  emit({
    suite: "cpu",
    case: "add_1M_contiguous",
    backend: "cpu",
    value: +(n / ms / 1e3).toFixed(1),
    unit: "Melem/s",
  });
  ms = await timeMs(() => cpu.run("binary", [x, row], [out], { op: "add" }), { iters: 10 });
  emit({
    suite: "cpu",
    case: "add_1M_row_broadcast",
    backend: "cpu",
    value: +(n / ms / 1e3).toFixed(1),
    unit: "Melem/s",
  });
  const xT: View = { ...x, strides: [1, 1024] };
  ms = await timeMs(() => cpu.run("unary", [xT], [out], { op: "exp" }), { iters: 10 });
  emit({
    suite: "cpu",
    case: "exp_1M_transposed",
    backend: "cpu",
    value: +(n / ms / 1e3).toFixed(1),
    unit: "Melem/s",
  });

  // Language-model output layer: 64 rows over a 60k vocabulary.
  const [R, V] = [64, 60000];
  const logits = randomView([R, V]), probs = randomView([R, V]);
  const targets = cpu.alloc(R, "i32"), loss = randomView([R, 1]), lse = randomView([R, 1]);
  const tv: View = { storage: targets, shape: [R], strides: [1], offset: 0 };
  const col = (v: View): View => ({ ...v, shape: [R], strides: [1] });
  const rate = (name: string, t: number) =>
    emit({ suite: "cpu", case: name, backend: "cpu", value: +(R * V / t / 1e3).toFixed(1), unit: "Melem/s" });
  rate(
    "softmax_64x60000",
    await timeMs(() => cpu.run("softmax", [logits], [probs], { log: false }), { iters: 5 }),
  );
  ms = await timeMs(
    () => cpu.run("crossEntropy", [logits, tv], [col(loss), col(lse)], { ignoreIndex: -100 }),
    { iters: 5 },
  );
  rate("crossEntropy_64x60000", ms);

  const [B, H] = [32, 1152];
  const gates = randomView([B, 4 * H]), cPrev = randomView([B, H]);
  const h = randomView([B, H]), c = randomView([B, H]), act = randomView([B, 4 * H]);
  ms = await timeMs(() => cpu.run("lstmCell", [gates, cPrev], [h, c, act], {}), { iters: 20 });
  emit({ suite: "cpu", case: "lstmCell_32x1152", backend: "cpu", value: +(ms * 1e3).toFixed(0), unit: "us" });
}

if (import.meta.main) await run();
