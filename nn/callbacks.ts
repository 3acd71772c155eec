/**
 * Learner callbacks (fastai's design): objects with optional `before*` / `after*` methods the
 * {@linkcode Learner} fires around each phase, plus the ready-made ones: {@linkcode ModelResetter} (stateful
 * RNNs), {@linkcode RNNRegularizer} (AR/TAR), {@linkcode GradientClipping}, {@linkcode EarlyStopping} and
 * {@linkcode SaveBest}.
 *
 * Events inside a training step (`afterPred`, `afterLoss`, `afterBackward`, `afterStep`) run synchronously
 * inside the step's memory scope; the others may be async. Throw {@linkcode CancelFitError} (or the batch /
 * epoch variants) to stop early.
 *
 * @example Early stopping decides from the recorded validation loss
 * ```ts
 * import { EarlyStopping } from "./callbacks.ts";
 * const es = new EarlyStopping({ patience: 1 });
 * es.check(1.0);
 * es.check(1.1);
 * if (!es.check(1.2)) throw new Error("two epochs without improvement should stop with patience 1");
 * ```
 *
 * @module
 */

import { arLoss, tarLoss } from "./losses.ts";
import { add } from "./ops_elementwise.ts";
import { clipGradNorm } from "./optim.ts";
import type { Callback, Learner } from "./learner.ts";
import { CancelFitError } from "./_events.ts";

export {
  CancelBatchError,
  CancelEpochError,
  CancelFitError,
  type EventName,
  EVENTS,
  type SyncEvent,
} from "./_events.ts";
export type { Callback } from "./learner.ts";

/** Calls `model.reset()` before training, before validation and after the fit (stateful RNNs start fresh). */
export class ModelResetter implements Callback {
  /** Name. */
  name = "ModelResetter";
  /** Reset before the training phase. */
  beforeTrain(learn: Learner): void {
    learn.model.reset();
  }
  /** Reset before the validation phase. */
  beforeValidate(learn: Learner): void {
    learn.model.reset();
  }
  /** Reset at the end. */
  afterFit(learn: Learner): void {
    learn.model.reset();
  }
}

/** Options of {@linkcode RNNRegularizer}. */
export interface RNNRegularizerOptions {
  /** AR weight. @default 2 */
  alpha?: number;
  /** TAR weight. @default 1 */
  beta?: number;
}

/**
 * AWD-LSTM's activation regularizers added to the training loss: `alpha * mean(out^2)` on the last layer's
 * dropped-out output and `beta * mean((raw[t+1] - raw[t])^2)` on its raw output. The model's forward must
 * return `{ output, out, rawOut }`; a model that does not is an error (never silently off).
 */
export class RNNRegularizer implements Callback {
  /** Name. */
  name = "RNNRegularizer";
  /** AR weight. */
  alpha: number;
  /** TAR weight. */
  beta: number;
  /**
   * Create a RNNRegularizer.
   * @param options AR and TAR weights
   */
  constructor({ alpha = 2, beta = 1 }: RNNRegularizerOptions = {}) {
    this.alpha = alpha;
    this.beta = beta;
  }
  /** Add AR and TAR to `learn.loss` (training only). */
  afterLoss(learn: Learner): void {
    if (!learn.training || (this.alpha === 0 && this.beta === 0)) return;
    const pred = learn.pred;
    if (pred === null || !("output" in pred) || !pred.out || !pred.rawOut) {
      throw new Error("RNNRegularizer: the model's forward must return { output, out, rawOut } for AR/TAR");
    }
    let loss = learn.loss!;
    if (this.alpha !== 0) loss = add(loss, arLoss(pred.out, this.alpha));
    if (this.beta !== 0) loss = add(loss, tarLoss(pred.rawOut, this.beta));
    learn.loss = loss;
  }
}

/** Clip the global gradient norm after each backward pass (fastai v0.7 `clip=`, v2 `GradientClip`). */
export class GradientClipping implements Callback {
  /** Name. */
  name = "GradientClipping";
  /** Largest global norm. */
  maxNorm: number;
  /**
   * Create a GradientClipping.
   * @param maxNorm largest global norm (fastai's default 0.1 for GradientClip; the seeds use 0.3 / 0.25)
   */
  constructor(maxNorm: number) {
    this.maxNorm = maxNorm;
  }
  /** Clip. */
  afterBackward(learn: Learner): void {
    clipGradNorm(learn.trainableParameters(), this.maxNorm)?.dispose();
  }
}

/** Options of {@linkcode EarlyStopping} and {@linkcode SaveBest}. */
export interface MonitorOptions {
  /** Recorded value to watch: `valid_loss`, `train_loss` or a metric name. @default "valid_loss" */
  monitor?: string;
  /** Whether smaller is better. @default true for losses, false otherwise */
  lowerIsBetter?: boolean;
  /** Smallest change that counts as an improvement. @default 0 */
  minDelta?: number;
}

/** Tracks the best value of a monitored quantity. */
class Monitor {
  readonly monitor: string;
  readonly lower: boolean;
  readonly minDelta: number;
  best: number;
  constructor({ monitor = "valid_loss", lowerIsBetter, minDelta = 0 }: MonitorOptions) {
    this.monitor = monitor;
    this.lower = lowerIsBetter ?? monitor.includes("loss");
    this.minDelta = minDelta;
    this.best = this.lower ? Infinity : -Infinity;
  }
  /** Whether `v` improves on the best (and record it). */
  improved(v: number): boolean {
    const better = this.lower ? v < this.best - this.minDelta : v > this.best + this.minDelta;
    if (better) this.best = v;
    return better;
  }
  value(learn: Learner): number {
    const row = learn.recorder.epochs[learn.recorder.epochs.length - 1];
    const v = row?.values[this.monitor];
    if (v === undefined) {
      throw new Error(
        `monitor "${this.monitor}" not recorded; have ${Object.keys(row?.values ?? {}).join(", ")}`,
      );
    }
    return v;
  }
}

/** Stop when the monitored value has not improved for `patience` epochs. */
export class EarlyStopping implements Callback {
  /** Name. */
  name = "EarlyStopping";
  /** Runs after the recorder has written the epoch's values. */
  order = 10;
  /** Epochs without improvement tolerated. */
  readonly patience: number;
  #monitor: Monitor;
  #wait = 0;
  /**
   * Create an EarlyStopping.
   * @param options what to watch and how long to wait (`patience`, default 1)
   */
  constructor(options: MonitorOptions & { patience?: number } = {}) {
    this.patience = options.patience ?? 1;
    this.#monitor = new Monitor(options);
  }
  /** Start counting afresh. */
  beforeFit(): void {
    this.#wait = 0;
    this.#monitor.best = this.#monitor.lower ? Infinity : -Infinity;
  }
  /** Feed one epoch's value; returns true when training should stop. */
  check(v: number): boolean {
    if (this.#monitor.improved(v)) this.#wait = 0;
    else this.#wait++;
    return this.#wait > this.patience;
  }
  /** Stop the fit when patience ran out. */
  afterEpoch(learn: Learner): void {
    const v = this.#monitor.value(learn);
    if (this.check(v)) {
      throw new CancelFitError(
        `early stopping: ${this.#monitor.monitor} did not improve for ${this.#wait} epochs`,
      );
    }
  }
}

/** Save the model whenever the monitored value improves (fastai `SaveModelCallback`). */
export class SaveBest implements Callback {
  /** Name. */
  name = "SaveBest";
  /** Runs after the recorder has written the epoch's values. */
  order = 5;
  #monitor: Monitor;
  #save: (learn: Learner) => Promise<void>;
  /** Epoch of the last save (-1 before any). */
  bestEpoch: number = -1;
  /**
   * Create a SaveBest.
   * @param save writes the checkpoint (for example with `saveCheckpoint` of `nn/checkpoint`)
   * @param options what to watch
   */
  constructor(save: (learn: Learner) => Promise<void>, options: MonitorOptions = {}) {
    this.#save = save;
    this.#monitor = new Monitor(options);
  }
  /** Best value so far. */
  get best(): number {
    return this.#monitor.best;
  }
  /** Save on improvement. */
  async afterEpoch(learn: Learner): Promise<void> {
    if (this.#monitor.improved(this.#monitor.value(learn))) {
      this.bestEpoch = learn.epoch;
      await this.#save(learn);
    }
  }
}

/** A model with a teacher-forcing probability (seq2seq decoders). */
export interface TeacherForced {
  /** Probability of feeding the target token instead of the prediction. */
  prForce: number;
}

/**
 * The lesson-11 teacher-forcing schedule: before each training epoch set
 * `model.prForce = max(0, (decayEpochs - epoch) / decayEpochs)` — fastai v0.7 `Seq2SeqStepper`'s
 * `(10 - epoch) * 0.1` with the default 10.
 */
export class TeacherForcing implements Callback {
  /** Name. */
  name = "TeacherForcing";
  /** Epochs over which the probability falls from 1 to 0. */
  readonly decayEpochs: number;
  /**
   * Create a TeacherForcing.
   * @param options `decayEpochs` (default 10)
   */
  constructor({ decayEpochs = 10 }: { decayEpochs?: number } = {}) {
    if (!(decayEpochs > 0)) {
      throw new RangeError(`TeacherForcing: decayEpochs must be > 0, got ${decayEpochs}`);
    }
    this.decayEpochs = decayEpochs;
  }
  /** The probability for `epoch`. */
  prForce(epoch: number): number {
    return Math.max(0, (this.decayEpochs - epoch) / this.decayEpochs);
  }
  /** Set the model's probability (training only: validation always uses the model's own predictions). */
  beforeTrain(learn: Learner): void {
    const m = learn.model as unknown as Partial<TeacherForced>;
    if (typeof m.prForce !== "number") {
      throw new Error("TeacherForcing: the model has no numeric prForce property");
    }
    m.prForce = this.prForce(learn.epoch);
  }
  /** Validation runs without teacher forcing. */
  beforeValidate(learn: Learner): void {
    const m = learn.model as unknown as Partial<TeacherForced>;
    if (typeof m.prForce === "number") m.prForce = 0;
  }
}
