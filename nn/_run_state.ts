/**
 * The part of a training checkpoint that belongs to the training run (`training_run.ts`), beside what
 * `TrainCheckpoint` saves for the learner: which `run.fit` call and which stage of its plan was running, the
 * plan itself (a resumed run must give the same one), the metrics so far, the outputs already written, the
 * smoothed loss, and the weights and RNG state at the end of every fit that had finished (restored instead of
 * re-trained). Stored as `position.run` (JSON) and `runtime.done.<fit>.<tensor>` in the train-state file.
 *
 * @module
 */
import { resolve } from "node:path";
import type { ConfigValue } from "./checkpoint/metadata.ts";
import { CheckpointMismatchError } from "./formats/errors.ts";
import type { TensorMap } from "./formats/tensor_map.ts";
import { readTrainState } from "./train_state.ts";

/** A fit of the run that had finished: its weights and the library RNG right after it. */
export interface DoneFit {
  /** The model's tensors at the end of the fit. */
  weights: TensorMap;
  /** The library generator's seed and counter after the fit. */
  rng: { seed: number; counter: number };
}

/** `position.run` of a run's checkpoint. */
export interface RunPosition {
  /** Format version. */
  v: 1;
  /** The run's seed. */
  seed: number;
  /** The run's outputs (absolute paths). */
  outputs: string[];
  /** Index of the `run.fit` call that was running. */
  fit: number;
  /** Index of the stage of that fit's plan. */
  stage: number;
  /** The plan of that fit (JSON of the stages). */
  plan: string;
  /** Metrics records so far. */
  log: ConfigValue[];
  /** Outputs written before the interruption (absolute paths). */
  written: string[];
  /** The smoothed training loss (biased average, count). */
  smooth: { avg: number; count: number };
  /** RNG state after each finished fit (weights in `runtime.done.<k>.*`). */
  done: { rng: { seed: number; counter: number } }[];
}

/** A run checkpoint read back: the raw train state (for `TrainCheckpoint.stage`) and the run's part. */
export interface RunResume {
  /** The file. */
  path: string;
  /** What `readTrainState` returned. */
  state: Awaited<ReturnType<typeof readTrainState>>;
  /** The run's position. */
  run: RunPosition;
  /** The finished fits. */
  done: DoneFit[];
}

/** Absolute paths, for comparing a run's outputs with a checkpoint's. */
export function absolute(paths: readonly string[]): string[] {
  return paths.map((p) => resolve(p));
}

/** The `runtime` tensors of the finished fits. */
export function doneTensors(done: readonly DoneFit[]): TensorMap {
  const out: TensorMap = new Map();
  done.forEach((d, k) => {
    for (const [name, t] of d.weights) out.set(`done.${k}.${name}`, t);
  });
  return out;
}

function isRunPosition(r: unknown): r is RunPosition {
  const p = r as RunPosition;
  return typeof p === "object" && p !== null && p.v === 1 && typeof p.seed === "number" &&
    Array.isArray(p.outputs) && Number.isInteger(p.fit) && Number.isInteger(p.stage) &&
    typeof p.plan === "string" && Array.isArray(p.log) && Array.isArray(p.written) &&
    typeof p.smooth?.avg === "number" && typeof p.smooth?.count === "number" && Array.isArray(p.done) &&
    p.done.every((d) => typeof d?.rng?.seed === "number" && typeof d?.rng?.counter === "number");
}

/**
 * Reads a run's checkpoint and checks it belongs to a run with these outputs and seed.
 *
 * @param path the checkpoint (`--resume`)
 * @param expect this run's outputs and seed
 * @returns the checkpoint, split into the learner's and the run's parts
 */
export async function readRunResume(
  path: string,
  expect: { outputs: readonly string[]; seed: number },
): Promise<RunResume> {
  let state: RunResume["state"];
  try {
    state = await readTrainState(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`--resume ${path}: no such file`);
    throw e;
  }
  const run = state.position.run;
  if (!isRunPosition(run)) {
    throw new CheckpointMismatchError(
      "missing_metadata",
      "a training state without a training run's position (not written by a Ctrl-C of a denofit command)",
      { file: path },
    );
  }
  const outputs = absolute(expect.outputs);
  if (run.outputs.join("\n") !== outputs.join("\n")) {
    throw new Error(
      `--resume ${path}: the interrupted run wrote ${run.outputs.join(", ")}; this run writes ` +
        `${outputs.join(", ")}; resume with the same outputs (--out) as the interrupted command`,
    );
  }
  if (run.seed !== expect.seed) {
    throw new Error(`--resume ${path}: the interrupted run had seed ${run.seed}, this one ${expect.seed}`);
  }
  const done: DoneFit[] = run.done.map((d) => ({ weights: new Map(), rng: d.rng }));
  for (const [name, t] of state.runtime) {
    const m = /^done\.(\d+)\.(.+)$/.exec(name);
    if (!m) continue;
    const d = done[Number(m[1])];
    if (!d) {
      throw new CheckpointMismatchError("unexpected_tensor", "weights of a fit the run does not list", {
        file: path,
        tensor: `runtime.${name}`,
      });
    }
    d.weights.set(m[2]!, t);
  }
  return { path, state, run, done };
}

/**
 * Describes how two plans differ, for the error when a resumed run is given another plan.
 *
 * @param saved the interrupted run's plan (JSON)
 * @param now this run's plan (JSON)
 * @returns a short description
 */
export function planDifference(saved: string, now: string): string {
  const a = JSON.parse(saved) as Record<string, unknown>[], b = JSON.parse(now) as Record<string, unknown>[];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i], y = b[i];
    if (!x || !y) return `${a.length} stages then, ${b.length} now`;
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
      const u = JSON.stringify(x[k]), w = JSON.stringify(y[k]);
      if (u !== w) return `stage "${String(x.name)}": ${k} was ${u}, now ${w}`;
    }
  }
  return "the plans differ";
}
