/**
 * AWD-LSTM language-model training throughput (tokens/s): one training step = forward, cross-entropy + AR/TAR,
 * backward, AdamW, with dropouts on (fastai v2 LM dropouts), on the CPU backend and on WebGPU when an adapter
 * exists. Cases: a CPU-sized model and the ULMFiT 400/1152/3 model. The PyTorch peer is
 * `bench/awd_lstm_torch.py` (same shapes, printed as the same JSON lines).
 *
 * `deno task bench awd_lstm` (set `AWD_BENCH_CASES=small` to skip the large model, `AWD_BENCH_BACKENDS=webgpu`
 * or `cpu` to run one backend; `cpu2` runs the CPU backend's large matmuls on 2 threads).
 *
 * @module
 */

import type { Backend } from "../gpu/backend.ts";
import { CpuBackend } from "../gpu/cpu/mod.ts";
import { createBackend } from "../gpu/create_backend.ts";
import { Adam, arLoss, crossEntropyFlat, fromArray, setBackend, tarLoss, tidy } from "../nn/mod.ts";
import { AwdLstmLM } from "../text/models/awd_lstm.ts";
import { emit } from "./_report.ts";

/** Benchmark shapes. */
export const CASES = [
  { name: "awd_lstm_lm_small", vocab: 8000, emb: 128, hid: 384, layers: 3, bs: 32, bptt: 35, steps: 3 },
  { name: "awd_lstm_lm_400_1152_3", vocab: 8000, emb: 400, hid: 1152, layers: 3, bs: 32, bptt: 70, steps: 1 },
];

async function measure(
  backend: Backend,
  c: typeof CASES[number],
): Promise<{ tokensPerS: number; stepS: number }> {
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
  const t0 = performance.now();
  for (let i = 0; i < c.steps; i++) await step();
  const stepS = (performance.now() - t0) / 1000 / c.steps;
  opt.dispose();
  lm.reset();
  lm.dispose();
  return { tokensPerS: (c.bs * c.bptt) / stepS, stepS };
}

/** Run every case on the CPU backend and (when present) WebGPU. */
export async function run(): Promise<void> {
  const only = Deno.env.get("AWD_BENCH_CASES");
  const cases = CASES.filter((c) => !only || only.split(",").some((o) => c.name.includes(o)));
  const which = Deno.env.get("AWD_BENCH_BACKENDS") ?? "cpu,webgpu";
  // "cpu" is one thread; "cpuN" runs large matmuls on N threads
  const backends: Backend[] = which.split(",").flatMap((w) => {
    const m = /^cpu(\d*)$/.exec(w.trim());
    return m ? [new CpuBackend({ threads: Number(m[1] || 1) })] : [];
  });
  if (which.includes("webgpu")) {
    const gpu = await createBackend({ prefer: "auto", quiet: true });
    if (gpu.backend.name === "webgpu") backends.push(gpu.backend);
  }
  for (const b of backends) {
    for (const c of cases) {
      const r = await measure(b, c);
      emit({
        suite: "awd_lstm",
        case: c.name,
        value: Math.round(r.tokensPerS),
        unit: "tokens/s",
        backend: b.name,
        adapter: b.description,
        step_s: Number(r.stepS.toFixed(3)),
        shape: `vocab ${c.vocab}, ${c.emb}/${c.hid}/${c.layers}, bs ${c.bs}, bptt ${c.bptt}`,
      });
    }
  }
}

if (import.meta.main) await run();
