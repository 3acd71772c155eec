/**
 * Training-step profile of the ULMFiT demo's language model (`examples/ulmfit_spam.ts`): AWD-LSTM with embedding
 * 96, hidden 96, one layer, vocabulary 3,000, dropouts x0.3, bs 64, bptt 40 (fixed length), trained through the
 * {@linkcode Learner} exactly as `trainLanguageModel` does (Adam, AR/TAR, gradient clipping 0.1, one-cycle). Each
 * backend configuration runs in its own process so that its peak RSS is its own: CPU with 1 and 2 threads, and
 * WebGPU when an adapter exists. Printed per configuration: median seconds per step, peak RSS, RSS growth from
 * the 3rd to the last step (flat when nothing accumulates), and backend bytes live after the run.
 *
 * `deno task bench train_step` (`TRAIN_STEP_BACKENDS=cpu1,cpu2,webgpu` picks configurations,
 * `TRAIN_STEP_STEPS=12` the number of steps). `TRAIN_STEP_KERNELS=1` also times every backend kernel call
 * (CPU kernels run synchronously, so the wall time of `run` is the kernel's) and prints one more JSON line per
 * configuration: milliseconds per step by kernel name (and shape for the largest), median over steps 3 to last.
 *
 * @module
 */

import type { Backend } from "../gpu/backend.ts";
import { CpuBackend } from "../gpu/cpu/mod.ts";
import { createBackend } from "../gpu/create_backend.ts";
import { seed as seedRng } from "../gpu/rng.ts";
import { GradientClipping, ModelResetter, RNNRegularizer } from "../nn/callbacks.ts";
import { lmDataLoader } from "../nn/data_loader.ts";
import { Learner } from "../nn/learner.ts";
import { crossEntropyFlat } from "../nn/losses.ts";
import { Adam } from "../nn/optim.ts";
import { getBackend, setBackend } from "../nn/engine.ts";
import { liveTensors } from "../nn/tensor.ts";
import { LanguageModelLoader } from "../text/lm_loader.ts";
import { AwdLstmLM } from "../text/models/awd_lstm.ts";
import { emit } from "./_report.ts";

const SHAPE = { vocab: 3000, emb: 96, hid: 96, layers: 1, bs: 64, bptt: 40 };

/** Train `steps` steps on `config` (`cpu1`, `cpu2`, `webgpu`) in this process and print one JSON line. */
export async function one(config: string, steps: number): Promise<void> {
  if (config.startsWith("cpu")) setBackend(new CpuBackend({ threads: Number(config.slice(3)) }));
  else {
    const gpu = await createBackend({ prefer: "webgpu", quiet: true }).catch(() => null);
    if (!gpu) return;
    setBackend(gpu.backend);
  }
  const backend = getBackend();
  const kernelMs = Deno.env.get("TRAIN_STEP_KERNELS") === "1" ? timeKernels(backend) : null;
  seedRng(42);
  const { vocab, bs, bptt } = SHAPE;
  const model = new AwdLstmLM(vocab, {
    embSize: SHAPE.emb,
    nHid: SHAPE.hid,
    nLayers: SHAPE.layers,
    dropMult: 0.3,
  });
  // Zipf-like token stream, enough for `steps` batches of bs x bptt.
  let s = 12345;
  const stream = Int32Array.from({ length: bs * bptt * (steps + 1) + bs }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return Math.floor(vocab * (s / 2147483648) ** 3);
  });
  const loader = new LanguageModelLoader([stream], { bs, bptt, seed: 1, randomBptt: false });
  const learn = new Learner(model, { train: lmDataLoader(loader) }, {
    loss: (p, y) => crossEntropyFlat(p, y),
    opt: (groups) => new Adam(groups, { beta1: 0.9, beta2: 0.99, eps: 1e-5 }),
    wd: 0.01,
    quiet: true,
    callbacks: [new ModelResetter(), new RNNRegularizer({ alpha: 2, beta: 1 }), new GradientClipping(0.1)],
  });
  const times: number[] = [], rss: number[] = [];
  let t = performance.now();
  learn.addCallback({
    afterBatch() {
      times.push(performance.now() - t);
      rss.push(Deno.memoryUsage().rss);
      kernelMs?.endStep();
      t = performance.now();
    },
  });
  await learn.fitOneCycle(1, 1e-2, { moms: [0.8, 0.7, 0.8] });
  const steady = times.slice(2).sort((a, b) => a - b);
  emit({
    suite: "train_step",
    case: `awd_lstm_demo_lm_${config}`,
    value: Number((steady[Math.floor(steady.length / 2)]! / 1000).toFixed(3)),
    unit: "s/step",
    backend: backend.name,
    adapter: backend.description,
    steps: times.length,
    first_step_s: Number((times[0]! / 1000).toFixed(3)),
    peak_rss_mb: Math.round(Math.max(...rss) / 2 ** 20),
    rss_growth_mb_step3_to_last: Math.round((rss.at(-1)! - rss[2]!) / 2 ** 20),
    live_tensors_after: liveTensors(),
    backend_peak_mb: Math.round(backend.stats().peakBytes / 2 ** 20),
    shape: `vocab ${vocab}, ${SHAPE.emb}/${SHAPE.hid}/${SHAPE.layers}, bs ${bs}, bptt ${bptt}`,
  });
  if (kernelMs) {
    emit({
      suite: "train_step",
      case: `awd_lstm_demo_lm_${config}_kernels`,
      value: Number(kernelMs.total().toFixed(1)),
      unit: "ms/step in kernels",
      backend: backend.name,
      kernels_ms_per_step: kernelMs.table(),
    });
  }
}

/**
 * Wrap `backend.run` with a wall-clock timer. Calls are keyed by kernel name (plus op for unary/binary/reduce,
 * plus the first input's shape when it has at least 100,000 elements); `endStep` closes one step.
 */
function timeKernels(backend: Backend) {
  const steps: Map<string, number>[] = [];
  let cur = new Map<string, number>();
  const run = backend.run.bind(backend);
  backend.run = ((name, ins, outs, attrs) => {
    const t0 = performance.now();
    run(name, ins, outs, attrs);
    const ms = performance.now() - t0;
    const op = (attrs as { op?: string }).op;
    const shape = ins[0]?.shape ?? outs[0]?.shape ?? [];
    const big = shape.reduce((a, b) => a * b, 1) >= 100_000 ? ` [${shape.join(",")}]` : "";
    const key = `${name}${op ? ` ${op}` : ""}${big}`;
    cur.set(key, (cur.get(key) ?? 0) + ms);
  }) as Backend["run"];
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const table = () => {
    const keys = new Set(steps.slice(2).flatMap((m) => [...m.keys()]));
    const rows = [...keys].map((k) => [k, median(steps.slice(2).map((m) => m.get(k) ?? 0))] as const);
    return Object.fromEntries(rows.sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Number(v.toFixed(1))]));
  };
  return {
    endStep() {
      steps.push(cur);
      cur = new Map();
    },
    table,
    total: () => median(steps.slice(2).map((m) => [...m.values()].reduce((a, b) => a + b, 0))),
  };
}

/** Run every configuration, each in a fresh `deno` process. */
export async function run(): Promise<void> {
  const configs = (Deno.env.get("TRAIN_STEP_BACKENDS") ?? "cpu1,cpu2,webgpu").split(",");
  const steps = Deno.env.get("TRAIN_STEP_STEPS") ?? "12";
  for (const config of configs) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(import.meta.url).pathname, "--one", config, steps],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (!out.success) {
      throw new Error(`bench/train_step.ts: configuration ${config} failed (exit ${out.code})`);
    }
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "--one") await one(Deno.args[1]!, Number(Deno.args[2] ?? 12));
  else await run();
}
