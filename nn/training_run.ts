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
 * What the run does around the stages and the saves is what every trainer inherits, with no code of its own:
 *
 * - **outputs checked and locked before any work**: each output must name a file in an existing, writable
 *   folder and may only replace an existing file with `force`; an exclusive lock per output makes a second run
 *   on the same files fail at its start (`run_outputs.ts`);
 * - **no silent NaN model**: a fit stops at the first non-finite loss with a {@linkcode NonFiniteLossError}
 *   naming stage, epoch and step (`non_finite.ts`), and `save` refuses non-finite weights;
 * - **Ctrl-C / SIGTERM**: the step finishes, a training checkpoint (model, optimizer, schedule position,
 *   library and loader RNGs, stage, metrics so far, the fits already finished) is written atomically and the
 *   process exits 130; a second signal exits at once. `resume: FILE` continues the run, bit-identical on the
 *   CPU backend to one that was never interrupted (the `run.fit` call and the stage are the outer levels of
 *   the resume position; `resume.ts` restores the inner ones);
 * - **outputs written as one unit**: {@linkcode TrainingRun.save} gives each writer a temp path, then renames
 *   them together behind a journal (`formats/atomic_group.ts`), so a model and its encoder never mix two runs.
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
import { basename } from "node:path";
import { createHash } from "node:crypto";
import { getRng, type Rng, seed as seedRng } from "../gpu/rng.ts";
import type { Callback } from "./callbacks.ts";
import type { Learner } from "./learner.ts";
import type { OneCycleOptions } from "./schedule.ts";
import type { ConfigValue, SaveUnit } from "./checkpoint/metadata.ts";
import { firstNonFinite } from "./checkpoint/load.ts";
import { copyHostIntoTensors, tensorsToHost } from "./checkpoint/model_io.ts";
import { recoverInterruptedWrites, writeFilesAtomic } from "./formats/atomic_group.ts";
import type { TensorMap } from "./formats/tensor_map.ts";
import { InterruptCheckpoint, type InterruptOptions } from "./interrupt.ts";
import { NonFiniteGuard } from "./non_finite.ts";
import { TrainCheckpoint } from "./resume.ts";
import { checkOutputPath, OutputLock } from "./run_outputs.ts";
import {
  absolute,
  type DoneFit,
  doneTensors,
  planDifference,
  readRunResume,
  type RunPosition,
  type RunResume,
} from "./_run_state.ts";

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
  /** Record one epoch (appended to the file too). */
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
  /** Files the run writes; {@linkcode runTraining} checks and locks them before any work. @default [] */
  outputs?: readonly string[];
  /** Overwrite existing outputs. @default false */
  force?: boolean;
  /** Per-epoch metrics: a JSON-lines file (appended to) or a log shared with other runs. */
  metrics?: string | MetricsLog;
  /**
   * The training checkpoint a Ctrl-C (SIGINT) or SIGTERM writes during `fit`.
   * @default the first output with `.safetensors` replaced by `.resume.safetensors` (none without outputs)
   */
  checkpoint?: string;
  /** Continue the interrupted run saved in this checkpoint (same outputs, seed and plan). */
  resume?: string;
  /**
   * Catch SIGINT / SIGTERM during `fit`: finish the step, write the checkpoint, exit 130 (a second signal exits
   * at once). Options replace the exit and log hooks (tests: an `exit` that returns makes the run throw a
   * {@linkcode TrainingInterruptedError} instead). @default true when there is a checkpoint file
   */
  interrupt?: boolean | InterruptOptions;
  /** Stop a fit at this many non-finite training losses (1: the first). @default 1 */
  maxNonFinite?: number;
  /** Lock every output (and the checkpoint) for the run, so a second run on them fails at start. @default true */
  lock?: boolean;
  /** Where notices go (interrupts, completed saves, a found checkpoint). @default stderr */
  log?: (line: string) => void;
}

/**
 * Writes one output file to exactly the path it is given (a temp beside the declared output: the run renames
 * it into place with the other outputs of the same `save`); `unit` names the files written together and their
 * shared id, for the file's metadata (`saveModel(..., { unit })`).
 */
export type OutputWriter = (path: string, unit: SaveUnit) => Promise<void>;

/** A run stopped by an interrupt whose `exit` hook returned (library use): the checkpoint is written. */
export class TrainingInterruptedError extends Error {
  /** The checkpoint file. */
  readonly checkpoint: string;
  /** @param checkpoint the file that was written */
  constructor(checkpoint: string) {
    super(`training interrupted; checkpoint saved to ${checkpoint} (continue with --resume ${checkpoint})`);
    this.name = "TrainingInterruptedError";
    this.checkpoint = checkpoint;
  }
}

/** The default checkpoint of a run writing `out`: `lm.safetensors` -> `lm.resume.safetensors`. */
export function defaultCheckpointPath(out: string): string {
  return out.replace(/(\.safetensors)?$/, ".resume.safetensors");
}

function modelConfig(learn: Learner): { [key: string]: ConfigValue } | undefined {
  const c = (learn.model as { config?: unknown }).config;
  if (typeof c !== "object" || c === null || Array.isArray(c)) return undefined;
  return JSON.parse(JSON.stringify(c));
}

function loaderRngs(learn: Learner): Record<string, Rng> {
  const out: Record<string, Rng> = {};
  if (learn.data.train.rng) out.train = learn.data.train.rng;
  if (learn.data.valid?.rng) out.valid = learn.data.valid.rng;
  return out;
}

function hashTensors(tensors: TensorMap): string {
  const h = createHash("sha256");
  for (const [name, t] of tensors) {
    h.update(`${name}:${t.dtype}:${t.shape.join(",")};`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest("hex").slice(0, 32);
}

/** A training run: outputs, plan, metrics, seed, and the reliability features (see the module doc). */
export class TrainingRun {
  /** The seed. */
  readonly seed: number;
  /** Files the run writes. */
  readonly outputs: readonly string[];
  /** Whether existing outputs may be overwritten. */
  readonly force: boolean;
  /** Per-epoch metrics of every stage so far. */
  readonly log: MetricsLog;
  /** Where an interrupt writes the training checkpoint (undefined: interrupts are not caught). */
  readonly checkpoint: string | undefined;
  readonly #options: TrainingRunOptions;
  readonly #note: (line: string) => void;
  #fits = 0;
  #done: DoneFit[] = [];
  #resume: RunResume | null = null;
  #written: string[] = [];
  #locks: OutputLock[] = [];
  #last: TensorMap | null = null;
  #interrupt: InterruptCheckpoint | null = null;
  #interrupted = false;

  /** @param options seed, outputs, force, metrics, checkpoint / resume, interrupts, locks */
  constructor(options: TrainingRunOptions = {}) {
    const { seed = 42, outputs = [], force = false, metrics } = options;
    this.seed = seed;
    this.outputs = [...outputs];
    this.force = force;
    this.log = metrics instanceof MetricsLog ? metrics : new MetricsLog(metrics);
    this.checkpoint = options.checkpoint ??
      (outputs[0] !== undefined ? defaultCheckpointPath(outputs[0]) : undefined);
    this.#options = options;
    this.#note = options.log ?? ((line) => console.error(line));
  }

  /**
   * Check every output before any work: not a folder, in an existing writable folder, not existing unless
   * `force` (or written by the interrupted run being resumed); the metrics file may exist (appended to).
   */
  async checkOutputs(): Promise<void> {
    const written = new Set(this.#resume?.run.written ?? []);
    for (const path of this.outputs) {
      await checkOutputPath(path, { force: this.force || written.has(absolute([path])[0]!), flag: "output" });
    }
    if (typeof this.#options.metrics === "string") {
      await checkOutputPath(this.#options.metrics, { append: true, flag: "--metrics" });
    }
    if (this.checkpoint !== undefined) {
      await checkOutputPath(this.checkpoint, { force: true, flag: "checkpoint" });
    }
  }

  /**
   * Everything before the trainer's work ({@linkcode runTraining} calls it): check the outputs' folders, lock
   * the outputs, finish saves a killed process left half done and remove its temps, read the checkpoint to
   * resume, check the outputs (existing files need `force`).
   */
  async start(): Promise<void> {
    const files = [...this.outputs, ...(this.checkpoint !== undefined ? [this.checkpoint] : [])];
    for (const path of files) await checkOutputPath(path, { force: true, flag: "output" });
    if (this.#options.lock ?? true) {
      try {
        for (const path of files) this.#locks.push(await OutputLock.acquire(path));
      } catch (e) {
        this.finish();
        throw e;
      }
    }
    const locked = this.#options.lock ?? true;
    for (const path of files) {
      const { completed } = await recoverInterruptedWrites(path, { removeTemps: locked });
      if (completed.length) this.#note(`finished an interrupted save of ${completed.join(", ")}`);
    }
    if (this.#options.resume !== undefined) {
      this.#resume = await readRunResume(this.#options.resume, { outputs: this.outputs, seed: this.seed });
      this.#written = [...this.#resume.run.written];
      this.log.records.push(...this.#resume.run.log as unknown as EpochMetrics[]);
    }
    await this.checkOutputs();
    const ck = this.checkpoint;
    if (ck !== undefined && this.#options.resume === undefined && await exists(ck)) {
      this.#note(
        `note: ${ck} holds the checkpoint of an interrupted run; pass --resume ${ck} to continue it ` +
          "(a Ctrl-C of this run replaces it)",
      );
    }
  }

  /** Releases the locks and signal listeners ({@linkcode runTraining} calls it when the run ends). */
  finish(): void {
    this.#interrupt?.dispose();
    this.#interrupt = null;
    for (const l of this.#locks.splice(0)) l.release();
  }

  /** What SIGINT does: ask the running fit to checkpoint and exit after its current step. */
  requestInterrupt(): void {
    this.#interrupt?.request();
  }

  /**
   * Run the stages in order on `learn` (stages of 0 epochs are skipped), recording each epoch in the metrics
   * log under the stage's name, stopping at a non-finite loss, checkpointing on Ctrl-C. When resuming, a fit
   * that had finished before the interruption is restored (weights, RNG) instead of trained, and the fit that
   * was running continues from its checkpoint.
   *
   * @param learn the learner
   * @param stages the plan
   */
  async fit(learn: Learner, stages: readonly FitStage[]): Promise<void> {
    const index = this.#fits++;
    const plan = JSON.stringify(stages);
    const resume = this.#resume;
    if (resume && index < resume.run.fit) return this.#restoreDone(learn, stages, index, resume);
    let first = 0;
    if (resume && index === resume.run.fit) {
      if (resume.run.plan !== plan) {
        throw new Error(
          `--resume ${resume.path}: the training plan differs from the interrupted run's ` +
            `(${planDifference(resume.run.plan, plan)}); resume with the same options`,
        );
      }
      first = resume.run.stage;
    }
    for (let si = first; si < stages.length; si++) {
      const stage = stages[si]!;
      if (stage.epochs <= 0) continue;
      learn.freezeTo(stage.freezeTo);
      const fromCheckpoint = resume !== null && index === resume.run.fit && si === resume.run.stage;
      if (fromCheckpoint) this.#resume = null;
      await this.#fitStage(learn, stages, index, si, fromCheckpoint ? resume : null);
    }
    const weights = await tensorsToHost(learn.model.stateDict());
    const bad = firstNonFinite(weights);
    if (bad) {
      throw new Error(
        `training produced ${bad.count} non-finite weights in ${bad.name} (value ${bad.value}); ` +
          "try a lower learning rate (--lr). No output was written",
      );
    }
    const rng = getRng();
    this.#done.push({ weights, rng: { seed: rng.seed, counter: rng.counter } });
    this.#last = weights;
  }

  #restoreDone(learn: Learner, stages: readonly FitStage[], index: number, resume: RunResume): void {
    const done = resume.done[index];
    if (!done) throw new Error(`--resume ${resume.path}: fit ${index} is not in the checkpoint`);
    const last = stages.findLast((s) => s.epochs > 0);
    if (last) learn.freezeTo(last.freezeTo);
    copyHostIntoTensors(learn.model.stateDict(), done.weights, { file: resume.path });
    seedRng(done.rng.seed);
    getRng().counter = done.rng.counter;
    this.#done.push(done);
    this.#last = done.weights;
  }

  async #fitStage(
    learn: Learner,
    stages: readonly FitStage[],
    index: number,
    si: number,
    resume: RunResume | null,
  ): Promise<void> {
    const stage = stages[si]!;
    const config = modelConfig(learn);
    const ck = new TrainCheckpoint({
      path: this.checkpoint ?? "",
      rngs: loaderRngs(learn),
      ...(config ? { config } : {}),
    });
    const callbacks: Callback[] = [
      this.log.callback(stage.name, { perplexity: stage.perplexity ?? false }),
      new NonFiniteGuard(stage.name, { maxNonFinite: this.#options.maxNonFinite ?? 1, lr: stage.lr }),
      ck,
    ];
    if (resume) {
      ck.stage(resume.state, resume.path);
      const smooth = resume.run.smooth;
      callbacks.push({ order: 91, beforeFit: (l) => l.smoothLoss.restore(smooth) });
    }
    const interrupt = this.#interruptFor(ck, stages, index, si);
    if (interrupt) callbacks.push(interrupt, this.#stopAfterInterrupt());
    for (const cb of callbacks) learn.addCallback(cb);
    try {
      await fitStage(learn, stage);
    } finally {
      interrupt?.dispose();
      this.#interrupt = null;
      learn.callbacks = learn.callbacks.filter((c) => !callbacks.includes(c));
    }
  }

  #interruptFor(
    ck: TrainCheckpoint,
    stages: readonly FitStage[],
    index: number,
    si: number,
  ): InterruptCheckpoint | null {
    const opt = this.#options.interrupt ?? true;
    const path = this.checkpoint;
    if (opt === false || path === undefined) return null;
    const o: InterruptOptions = opt === true ? {} : opt;
    const userExit = o.exit;
    const save = async (learn: Learner, doneInEpoch: number) => {
      await learn.flushLosses();
      await ck.save(learn, doneInEpoch, path, {
        position: { run: this.#position(learn, stages, index, si) },
        runtime: doneTensors(this.#done),
      });
      this.#interrupted = true;
    };
    this.#interrupt = new InterruptCheckpoint(save, {
      ...o,
      log: o.log ?? this.#note,
      savedTo: `${path} (continue with --resume ${path})`,
      exit: (code) => {
        this.finish();
        if (userExit) userExit(code);
        else Deno.exit(code);
      },
    });
    return this.#interrupt;
  }

  /** Ends the fit after an interrupt whose exit hook returned. */
  #stopAfterInterrupt(): Callback {
    const stop = () => {
      if (this.#interrupted) throw new TrainingInterruptedError(this.checkpoint!);
    };
    return { name: "StopAfterInterrupt", order: 96, afterBatch: stop, afterEpoch: stop };
  }

  #position(learn: Learner, stages: readonly FitStage[], index: number, si: number): ConfigValue {
    const run: RunPosition = {
      v: 1,
      seed: this.seed,
      outputs: absolute(this.outputs),
      fit: index,
      stage: si,
      plan: JSON.stringify(stages),
      log: JSON.parse(JSON.stringify(this.log.records)),
      written: [...this.#written],
      smooth: learn.smoothLoss.state(),
      done: this.#done.map((d) => ({ rng: d.rng })),
    };
    return run as unknown as ConfigValue;
  }

  /**
   * Write outputs as one unit: every writer writes a temp, then the temps are renamed into place together
   * (a kill at any moment leaves the old files or, once the next run or load replays the journal, the new
   * ones: see `formats/atomic_group.ts`). Refuses a model with non-finite weights.
   *
   * @param writers one writer per output path (each must be one of the declared outputs when any were
   *   declared)
   */
  async save(writers: Record<string, OutputWriter>): Promise<void> {
    const entries = Object.entries(writers);
    for (const [path] of entries) {
      if (this.outputs.length > 0 && !this.outputs.includes(path)) {
        throw new Error(
          `training run: ${path} is not one of its declared outputs (${this.outputs.join(", ")})`,
        );
      }
    }
    const bad = this.#last ? firstNonFinite(this.#last) : undefined;
    if (bad) {
      throw new Error(`refusing to save: ${bad.name} holds ${bad.count} non-finite weights (${bad.value})`);
    }
    const unit: SaveUnit = {
      id: this.#last ? hashTensors(this.#last) : crypto.randomUUID().replaceAll("-", ""),
      files: entries.map(([p]) => basename(p)),
    };
    await writeFilesAtomic(entries.map(([path, write]) => ({ path, write: (tmp) => write(tmp, unit) })));
    this.#written.push(...absolute(entries.map(([p]) => p)));
  }
}

function fitStage(learn: Learner, stage: FitStage): Promise<void> {
  const s = stage.schedule ?? { kind: "one-cycle" };
  if (s.kind === "clr") return learn.fitClr(stage.epochs, stage.lr, { div: s.div, cutDiv: s.cutDiv });
  const { kind: _, ...oneCycle } = s;
  return learn.fitOneCycle(stage.epochs, stage.lr, oneCycle);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Fail when `path` exists and `force` is not set (see {@linkcode checkOutputPath} for the full check a run
 * does).
 *
 * @param path an output file
 * @param force whether overwriting is allowed
 */
export async function checkOutput(path: string, force: boolean): Promise<void> {
  if (force) return;
  if (await exists(path)) throw new Error(`${path} exists; pass --force to overwrite it`);
}

/**
 * Run `body` as a training run: interrupted saves are finished, the checkpoint to resume is read, the outputs
 * are checked and locked first (before any data is read or any step taken); then `body` trains with `run.fit`
 * and writes with `run.save`; the locks are released when it ends. A resumed run that completes removes its
 * checkpoint when it is the run's own (`checkpoint`).
 *
 * @param options seed, outputs, force, metrics, checkpoint / resume, interrupts, locks
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
  try {
    await run.start();
    const result = await body(run);
    if (options.resume !== undefined && run.checkpoint !== undefined) {
      const [a, b] = absolute([options.resume, run.checkpoint]);
      if (a === b) await Deno.remove(run.checkpoint).catch(() => {});
    }
    return result;
  } finally {
    run.finish();
  }
}
