/**
 * AWD-LSTM language-model training throughput (tokens/s): one training step = forward, cross-entropy + AR/TAR,
 * backward, AdamW, with dropouts on (fastai v2 LM dropouts), on the CPU backend (and WebGPU when asked and an
 * adapter exists), alternating round by round with the PyTorch peer `bench/awd_lstm_torch.py --serve` (same
 * shapes, same thread count) so that a ratio is always measured side by side. Cases: a CPU-sized model and the
 * ULMFiT 400/1152/3 model. Every line carries the CPU model, the load average and the BLAS in use.
 *
 * `deno task bench awd_lstm`; environment: `AWD_BENCH_CASES=small` (or `400`) picks cases by name;
 * `AWD_BENCH_BACKENDS=cpu2,cpu2:wasm,webgpu` picks ours (`cpuN`: the CPU backend on N threads with its default
 * kernel, BLAS when found; `cpuN:wasm` / `cpuN:blas` / `cpuN:js` forces one; default `cpu1,cpu2`);
 * `AWD_BENCH_ROUNDS` (default 2); `AWD_BENCH_PEER=0` skips PyTorch; `AWD_BENCH_PROFILE=1` adds a line of
 * process CPU ms per step by kernel (matmuls by shape) for each of our runs. After the rounds, one summary line per
 * configuration with the median tokens/s and its ratio to PyTorch's median at the same thread count.
 *
 * @module
 */

import process from "node:process";
import type { Backend } from "../gpu/backend.ts";
import { CpuBackend } from "../gpu/cpu/mod.ts";
import { createBackend } from "../gpu/create_backend.ts";
import { Adam, arLoss, crossEntropyFlat, fromArray, setBackend, tarLoss, tidy } from "../nn/mod.ts";
import { AwdLstmLM } from "../text/models/awd_lstm.ts";
import { machine, mappedBlas, median, startPeer } from "./_peer.ts";
import { emit, type Measurement } from "./_report.ts";

/** Benchmark shapes. */
export const CASES = [
  { name: "awd_lstm_lm_small", vocab: 8000, emb: 128, hid: 384, layers: 3, bs: 32, bptt: 35, steps: 3 },
  { name: "awd_lstm_lm_400_1152_3", vocab: 8000, emb: 400, hid: 1152, layers: 3, bs: 32, bptt: 70, steps: 1 },
];

/**
 * Time every kernel `backend` runs (process CPU ms by kernel name; matmuls by shape) until `stop()`, which
 * restores the backend and returns the totals.
 */
function kernelTimer(backend: Backend): { stop: () => Map<string, number> } {
  const totals = new Map<string, number>();
  const run = backend.run;
  backend.run = ((name, ins, outs, attrs) => {
    const c0 = process.cpuUsage();
    run.call(backend, name, ins, outs, attrs);
    const u = process.cpuUsage(c0);
    const key = name === "matmul" ? `matmul ${ins[0]!.shape.join("x")} @ ${ins[1]!.shape.join("x")}` : name;
    totals.set(key, (totals.get(key) ?? 0) + (u.user + u.system) / 1000);
  }) as Backend["run"];
  return {
    stop: () => {
      backend.run = run;
      return totals;
    },
  };
}

async function measure(
  backend: Backend,
  c: typeof CASES[number],
): Promise<{ tokensPerS: number; stepS: number; cpuS: number }> {
  setBackend(backend);
  const lm = new AwdLstmLM(c.vocab, { embSize: c.emb, nHid: c.hid, nLayers: c.layers });
  const opt = new Adam(lm.parameters(), { lr: 1e-3, wd: 0.01 });
  const ids = Int32Array.from({ length: c.bs * c.bptt }, (_, i) => (i * 7919) % c.vocab);
  const step = async () => {
    const x = fromArray(ids, [c.bs, c.bptt]),
      y = fromArray(ids.map((v) => (v + 1) % c.vocab), [c.bs, c.bptt]);
    const loss = tidy(() => {
      const p = lm.forward(x);
      const l = crossEntropyFlat(p.output, y).add(arLoss(p.out, 2)).add(tarLoss(p.rawOut, 1));
      l.backward();
      opt.step();
      opt.zeroGrad();
      return l.detach();
    });
    await loss.data(); // wait for the device
    for (const t of [x, y, loss]) t.dispose();
  };
  await step(); // warm-up (pipelines, buffers)
  const kernels = Deno.env.get("AWD_BENCH_PROFILE") === "1" ? kernelTimer(backend) : null;
  const t0 = performance.now(), c0 = process.cpuUsage();
  for (let i = 0; i < c.steps; i++) await step();
  const stepS = (performance.now() - t0) / 1000 / c.steps;
  const used = process.cpuUsage(c0), cpuS = (used.user + used.system) / 1e6 / c.steps;
  if (kernels) {
    const top = [...kernels.stop()].sort((a, b) => b[1] - a[1]).slice(0, 12);
    const ms = Object.fromEntries(top.map(([k, v]) => [k, +(v / c.steps).toFixed(1)]));
    emit({
      suite: "awd_lstm",
      case: `${c.name}_profile`,
      value: +(cpuS * 1000).toFixed(0),
      unit: "CPU ms/step",
      kernels_cpu_ms: ms,
    });
  }
  opt.dispose();
  lm.reset();
  lm.dispose();
  return { tokensPerS: (c.bs * c.bptt) / stepS, stepS, cpuS };
}

/** One of our configurations: a CPU backend (threads, kernel) or WebGPU. */
interface Config {
  label: string;
  threads: number;
  make: () => Promise<Backend | null>;
}

function configs(spec: string): Config[] {
  return spec.split(",").map((w) => w.trim()).filter(Boolean).map((w): Config => {
    if (w === "webgpu") {
      return {
        label: w,
        threads: 0,
        make: async () => {
          const gpu = await createBackend({ prefer: "webgpu", quiet: true }).catch(() => null);
          return gpu?.backend ?? null;
        },
      };
    }
    const m = /^cpu(\d*)(?::(blas|wasm|js))?$/.exec(w);
    if (!m) throw new Error(`AWD_BENCH_BACKENDS: "${w}" is not cpuN, cpuN:blas|wasm|js or webgpu`);
    const threads = Number(m[1] || 1), kernel = (m[2] ?? "auto") as "auto" | "blas" | "wasm" | "js";
    return { label: w, threads, make: () => Promise.resolve(new CpuBackend({ threads, matmul: kernel })) };
  });
}

/** Run every case: our configurations and the PyTorch peer alternating, then the medians and ratios. */
export async function run(): Promise<void> {
  const only = Deno.env.get("AWD_BENCH_CASES");
  const cases = CASES.filter((c) => !only || only.split(",").some((o) => c.name.includes(o)));
  const ours = configs(Deno.env.get("AWD_BENCH_BACKENDS") ?? "cpu1,cpu2");
  const rounds = Number(Deno.env.get("AWD_BENCH_ROUNDS") ?? 2);
  const threadCounts = [...new Set(ours.map((o) => o.threads).filter((t) => t > 0))];
  const peer = Deno.env.get("AWD_BENCH_PEER") === "0" ? "AWD_BENCH_PEER=0" : startPeer(
    new URL("./awd_lstm_torch.py", import.meta.url),
    ["--serve"],
  );
  if (typeof peer === "string") console.error(`bench awd_lstm: PyTorch peer skipped: ${peer}`);
  for (const c of cases) {
    const got = new Map<string, number[]>();
    const add = (k: string, v: number) => got.set(k, [...(got.get(k) ?? []), v]);
    for (let r = 0; r < rounds; r++) {
      for (const o of ours) {
        const b = await o.make();
        if (!b) continue;
        const m = await measure(b, c);
        const kernel = b instanceof CpuBackend ? b.matmulKernel : undefined;
        emit({
          suite: "awd_lstm",
          case: c.name,
          value: Math.round(m.tokensPerS),
          unit: "tokens/s",
          backend: b.name,
          config: o.label,
          threads: o.threads,
          kernel,
          adapter: b.description,
          step_s: Number(m.stepS.toFixed(3)),
          cpu_s: Number(m.cpuS.toFixed(3)),
          round: r,
          blas_mapped: mappedBlas(),
          ...machine(),
          shape: `vocab ${c.vocab}, ${c.emb}/${c.hid}/${c.layers}, bs ${c.bs}, bptt ${c.bptt}`,
        });
        add(o.label, m.tokensPerS);
        b.dispose();
      }
      if (typeof peer === "string") continue;
      for (const threads of threadCounts) {
        const res = await peer.ask({ case: c.name, threads, steps: c.steps });
        emit({ ...(res as unknown as Measurement), round: r, ...machine() });
        add(`pytorch${threads}`, res.value as number);
      }
    }
    for (const o of ours) {
      const mine = got.get(o.label), theirs = got.get(`pytorch${o.threads}`);
      if (!mine) continue;
      emit({
        suite: "awd_lstm",
        case: `${c.name}_summary`,
        config: o.label,
        value: Math.round(median(mine)),
        unit: "tokens/s (median)",
        pytorch: theirs ? Math.round(median(theirs)) : null,
        ratio: theirs ? +(median(mine) / median(theirs)).toFixed(3) : null,
        rounds,
        ...machine(),
      });
    }
  }
  if (typeof peer !== "string") await peer.close();
}

if (import.meta.main) await run();
