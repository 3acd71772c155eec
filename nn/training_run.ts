/**
 * A training run: the one place every trainer (the ULMFiT language model and classifier, and the seq2seq and
 * vision trainers to come) goes through to train a {@linkcode Learner} and write what it made. A run knows
 *
 * - the **output files** it will write, checked before any work starts ({@linkcode runTraining});
 * - the **plan**: {@linkcode FitStage}s run in order (which layer groups train, for how many epochs, at which
 *   peak learning rates, under which schedule), so a trainer describes its recipe as data instead of a loop;
 * - the **metrics log**: one JSON line per epoch ({@linkcode EpochMetrics}), tagged with the stage;
 * - the **seed** of the run.
 *
 * What the run does around the stages and the saves (today: output checks, metrics) is what every trainer
 * inherits; reliability features belong here too, so no trainer repeats them: stopping at a non-finite loss,
 * a training checkpoint on Ctrl-C and `resume` (the stage index is the resume position's outer level), output
 * locks, and writing several outputs as one consistent unit ({@linkcode TrainingRun.save} takes writers that
 * accept a path for that reason).
 *
 * @example Two stages on a one-parameter model, one metrics record per epoch
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { Learner } from "./learner.ts";
 * import { Linear } from "./layers/mod.ts";
 * import { mseLoss } from "./losses.ts";
 * import { fromArray } from "./tensor.ts";
 * import { TrainingRun } from "./training_run.ts";
 * const batch = () => ({ x: fromArray([0, 1, 2], [3, 1]), y: fromArray([1, 3, 5], [3, 1]) });
 * const data = { train: { length: 2, *[Symbol.iterator]() { yield batch(); yield batch(); } } };
 * const learn = new Learner(new Linear(1, 1), data, { loss: mseLoss, quiet: true });
 * const run = new TrainingRun();
 * await run.fit(learn, [
 *   { name: "warm-up", epochs: 1, freezeTo: 0, lr: 0.01 },
 *   { name: "main", epochs: 2, freezeTo: 0, lr: 0.1 },
 * ]);
 * strictEqual(run.log.records.map((r) => `${r.stage}:${r.epoch}`).join(" "), "warm-up:1 main:1 main:2");
 * ```
 *
 * @module
 */
import type { Callback } from "./callbacks.ts";
import type { Learner } from "./learner.ts";
import type { OneCycleOptions } from "./schedule.ts";

/** One line of a run's metrics file (`--metrics`). */
export interface EpochMetrics {
  /** Which stage of the plan: `lm-fwd-unfrozen`, `clas-fwd-last-2`, ... */
  stage: string;
  /** Epoch within the stage, from 1. */
  epoch: number;
  /** Smoothed training loss at the end of the epoch. */
  train_loss: number;
  /** Validation loss. */
  valid_loss: number | null;
  /** Validation accuracy (next-word accuracy for language models). */
  accuracy: number | null;
  /** `exp(valid_loss)`, for stages that ask for it (language models). */
  perplexity?: number;
  /** Learning rate of the last layer group at the end of the epoch. */
  lr: number;
  /** Wall time of the epoch. */
  seconds: number;
}

/** Appends {@linkcode EpochMetrics} as JSON lines to a file (when a path is given) and keeps them in memory. */
export class MetricsLog {
  /** Every record so far. */
  readonly records: EpochMetrics[] = [];
  /** File the records go to, if any. */
  readonly path: string | undefined;
  /** @param path JSON-lines file (appended to), or undefined to keep records in memory only */
  constructor(path?: string) {
    this.path = path;
  }
  /** Record one epoch. */
  async add(r: EpochMetrics): Promise<void> {
    this.records.push(r);
    if (this.path) await Deno.writeTextFile(this.path, JSON.stringify(r) + "\n", { append: true });
  }
  /** A Learner callback recording every epoch of a fit as `stage`. */
  callback(stage: string, { perplexity = false } = {}): Callback {
    return {
      name: `MetricsLog(${stage})`,
      order: 100,
      afterEpoch: async (learn: Learner) => {
        const e = learn.recorder.epochs.at(-1);
        if (!e) return;
        const v = e.values;
        const rec: EpochMetrics = {
          stage,
          epoch: e.epoch + 1,
          train_loss: v.train_loss ?? NaN,
          valid_loss: v.valid_loss ?? null,
          accuracy: v.accuracy ?? null,
          lr: learn.recorder.lrs.at(-1) ?? NaN,
          seconds: v.time ?? NaN,
        };
        if (perplexity && v.valid_loss !== undefined) rec.perplexity = Math.exp(v.valid_loss);
        await this.add(rec);
      },
    };
  }
}

/** How the learning rate moves within a stage. */
export type StageSchedule =
  /** fastai v2 `fit_one_cycle` (cosine warm-up and decay; momentum the other way). */
  | ({ kind: "one-cycle" } & OneCycleOptions)
  /** fastai v0.7 `use_clr=(div, cutDiv)` (linear up for `1/cutDiv` of the steps, then down). */
  | { kind: "clr"; div: number; cutDiv: number };

/** One fit of a plan. */
export interface FitStage {
  /** Name in the metrics log. */
  name: string;
  /** Epochs; a stage with 0 epochs is skipped. */
  epochs: number;
  /** `learn.freezeTo(freezeTo)` before the fit: -1 trains the last layer group only, 0 every group. */
  freezeTo: number;
  /** Peak learning rate: one for every layer group, or one per group (discriminative rates). */
  lr: number | readonly number[];
  /** The schedule. @default { kind: "one-cycle" } */
  schedule?: StageSchedule;
  /** Record `exp(valid_loss)` as `perplexity` (language models). @default false */
  perplexity?: boolean;
}

/** Options of a {@linkcode TrainingRun}. */
export interface TrainingRunOptions {
  /** Seed of the run (weights, dropout masks, batch order). @default 42 */
  seed?: number;
  /** Files the run writes; {@linkcode runTraining} checks them before any work. @default [] */
  outputs?: readonly string[];
  /** Overwrite existing outputs. @default false */
  force?: boolean;
  /** Per-epoch metrics: a JSON-lines file (appended to) or a log shared with other runs. */
  metrics?: string | MetricsLog;
}

/** Writes one output file; the run chooses the path it is given (the declared one today). */
export type OutputWriter = (path: string) => Promise<void>;

/** A training run: outputs, plan, metrics, seed (see the module doc). */
export class TrainingRun {
  /** The seed. */
  readonly seed: number;
  /** Files the run writes. */
  readonly outputs: readonly string[];
  /** Whether existing outputs may be overwritten. */
  readonly force: boolean;
  /** Per-epoch metrics of every stage so far. */
  readonly log: MetricsLog;

  /** @param options seed, outputs, force, metrics */
  constructor(options: TrainingRunOptions = {}) {
    const { seed = 42, outputs = [], force = false, metrics } = options;
    this.seed = seed;
    this.outputs = [...outputs];
    this.force = force;
    this.log = metrics instanceof MetricsLog ? metrics : new MetricsLog(metrics);
  }

  /** Fail when an output exists and `force` is not set (nothing saved is overwritten by mistake). */
  async checkOutputs(): Promise<void> {
    for (const path of this.outputs) await checkOutput(path, this.force);
  }

  /**
   * Run the stages in order on `learn` (stages of 0 epochs are skipped), recording each epoch in the metrics
   * log under the stage's name.
   *
   * @param learn the learner
   * @param stages the plan
   */
  async fit(learn: Learner, stages: readonly FitStage[]): Promise<void> {
    for (const stage of stages) {
      if (stage.epochs <= 0) continue;
      learn.freezeTo(stage.freezeTo);
      const cb = this.log.callback(stage.name, { perplexity: stage.perplexity ?? false });
      learn.addCallback(cb);
      try {
        await fitStage(learn, stage);
      } finally {
        learn.callbacks = learn.callbacks.filter((c) => c !== cb);
      }
    }
  }

  /**
   * Write the run's outputs, each by its writer.
   *
   * @param writers one writer per output path (each must be one of the declared outputs when any were
   *   declared)
   */
  async save(writers: Record<string, OutputWriter>): Promise<void> {
    for (const [path, write] of Object.entries(writers)) {
      if (this.outputs.length > 0 && !this.outputs.includes(path)) {
        throw new Error(
          `training run: ${path} is not one of its declared outputs (${this.outputs.join(", ")})`,
        );
      }
      await write(path);
    }
  }
}

function fitStage(learn: Learner, stage: FitStage): Promise<void> {
  const s = stage.schedule ?? { kind: "one-cycle" };
  if (s.kind === "clr") return learn.fitClr(stage.epochs, stage.lr, { div: s.div, cutDiv: s.cutDiv });
  const { kind: _, ...oneCycle } = s;
  return learn.fitOneCycle(stage.epochs, stage.lr, oneCycle);
}

/**
 * Fail when `path` exists and `force` is not set.
 *
 * @param path an output file
 * @param force whether overwriting is allowed
 */
export async function checkOutput(path: string, force: boolean): Promise<void> {
  if (force) return;
  try {
    await Deno.stat(path);
  } catch {
    return;
  }
  throw new Error(`${path} exists; pass --force to overwrite it`);
}

/**
 * Run `body` as a training run: the outputs are checked first (before any data is read or any step taken),
 * then `body` trains with `run.fit` and writes with `run.save`.
 *
 * @param options seed, outputs, force, metrics
 * @param body the trainer
 * @returns what `body` returns
 * @example An existing output stops the run before it starts
 * ```ts
 * import { rejects } from "node:assert/strict";
 * import { runTraining } from "./training_run.ts";
 * const out = await Deno.makeTempFile();
 * let started = false;
 * await rejects(runTraining({ outputs: [out] }, async () => { started = true; }), /exists; pass --force/);
 * if (started) throw new Error("the body ran");
 * await Deno.remove(out);
 * ```
 */
export async function runTraining<T>(
  options: TrainingRunOptions,
  body: (run: TrainingRun) => Promise<T>,
): Promise<T> {
  const run = new TrainingRun(options);
  await run.checkOutputs();
  return await body(run);
}
