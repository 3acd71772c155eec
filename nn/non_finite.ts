/**
 * Stopping training at a non-finite loss: {@linkcode NonFiniteGuard} is a Learner callback that watches the
 * training losses as they are read back (every `readEvery` steps, without an extra read) and the validation
 * loss, and throws a {@linkcode NonFiniteLossError} naming the stage, epoch and step of the first NaN or
 * infinity and suggesting a lower learning rate. A training run (`training_run.ts`) adds it to every stage,
 * so a diverged model is never saved.
 *
 * @example A learning rate of 1e6 diverges: the fit stops with the step named
 * ```ts
 * import { rejects } from "node:assert/strict";
 * import { Learner } from "./learner.ts";
 * import { Linear } from "./layers/mod.ts";
 * import { mseLoss } from "./losses.ts";
 * import { fromArray } from "./tensor.ts";
 * import { NonFiniteGuard } from "./non_finite.ts";
 * const batch = () => ({ x: fromArray([0, 1, 2], [3, 1]), y: fromArray([1, 3, 5], [3, 1]) });
 * const data = { train: { length: 20, *[Symbol.iterator]() { for (let i = 0; i < 20; i++) yield batch(); } } };
 * const learn = new Learner(new Linear(1, 1), data, { loss: mseLoss, quiet: true });
 * learn.addCallback(new NonFiniteGuard("demo", { lr: 1e30 }));
 * await rejects(learn.fit(1, 1e30), /training loss was (NaN|Infinity) at step \d+ .*lower learning rate/);
 * ```
 *
 * @module
 */
import type { Callback, Learner } from "./learner.ts";

/** A loss went NaN or infinite: training stopped (the message says where and what to do). */
export class NonFiniteLossError extends Error {
  /** `train` (a step's loss) or `valid` (an epoch's validation loss). */
  readonly which: "train" | "valid";
  /** The stage of the plan. */
  readonly stage: string;
  /** Epoch within the stage, from 1. */
  readonly epoch: number;
  /** Step within the stage's fit, from 1 (the first bad one). */
  readonly step: number;
  /** The bad value. */
  readonly value: number;
  /**
   * @param message what happened and what to do
   * @param where which loss, stage, epoch, step, value
   */
  constructor(
    message: string,
    where: { which: "train" | "valid"; stage: string; epoch: number; step: number; value: number },
  ) {
    super(message);
    this.name = "NonFiniteLossError";
    this.which = where.which;
    this.stage = where.stage;
    this.epoch = where.epoch;
    this.step = where.step;
    this.value = where.value;
  }
}

/** Options of {@linkcode NonFiniteGuard}. */
export interface NonFiniteGuardOptions {
  /** Stop at this many non-finite training losses (1: the first). @default 1 */
  maxNonFinite?: number;
  /** The stage's peak learning rate(s), named in the message. */
  lr?: number | readonly number[];
}

function fmt(v: number): string {
  return Number(v.toPrecision(3)).toString();
}

/** Stops a fit at the first (or `maxNonFinite`-th) non-finite training loss, or a non-finite validation loss. */
export class NonFiniteGuard implements Callback {
  /** Name. */
  name = "NonFiniteGuard";
  /** After a resume restored the step count (`TrainCheckpoint`, 90), before an interrupt saves (95). */
  order = 92;
  readonly #stage: string;
  readonly #max: number;
  readonly #lr: number | undefined;
  #seen = 0;
  #bad = 0;
  #base = 0;
  #first: { step: number; value: number } | null = null;

  /**
   * @param stage the stage name, for messages
   * @param options how many to tolerate, the learning rate
   */
  constructor(stage: string, options: NonFiniteGuardOptions = {}) {
    const { maxNonFinite = 1, lr } = options;
    if (!(Number.isInteger(maxNonFinite) && maxNonFinite >= 1)) {
      throw new RangeError(`NonFiniteGuard: maxNonFinite must be an integer >= 1, got ${maxNonFinite}`);
    }
    this.#stage = stage;
    this.#max = maxNonFinite;
    this.#lr = lr === undefined ? undefined : typeof lr === "number" ? lr : Math.max(...lr);
  }

  /** Starts counting (after a resume has set the step). */
  beforeFit(learn: Learner): void {
    this.#seen = 0;
    this.#bad = 0;
    this.#first = null;
    this.#base = learn.trainIter;
  }

  #where(learn: Learner, step: number): { epoch: number; text: string } {
    const nb = Math.max(1, learn.data.train.length);
    const epoch = Math.floor((step - 1) / nb) + 1;
    return {
      epoch,
      text: `at step ${step} of ${
        nb * learn.nEpochs
      } (epoch ${epoch} of ${learn.nEpochs}, stage "${this.#stage}"${
        this.#lr !== undefined ? `, peak learning rate ${fmt(this.#lr)}` : ""
      })`,
    };
  }

  #advice(): string {
    const lower = this.#lr !== undefined ? ` such as ${fmt(this.#lr / 10)}` : "";
    return `the weights diverged; try a lower learning rate (--lr)${lower}. No output was written`;
  }

  #check(learn: Learner): void {
    const losses = learn.recorder.losses;
    for (; this.#seen < losses.length; this.#seen++) {
      const v = losses[this.#seen]!;
      if (Number.isFinite(v)) continue;
      this.#bad++;
      this.#first ??= { step: this.#base + this.#seen + 1, value: v };
      if (this.#bad < this.#max) continue;
      const { step, value } = this.#first;
      const w = this.#where(learn, step);
      const count = this.#max > 1 ? ` (${this.#bad} non-finite losses so far)` : "";
      throw new NonFiniteLossError(
        `training stopped: the training loss was ${value} ${w.text}${count}; ${this.#advice()}`,
        { which: "train", stage: this.#stage, epoch: w.epoch, step, value },
      );
    }
  }

  /** Checks the losses read back so far. */
  afterBatch(learn: Learner): void {
    this.#check(learn);
  }

  /** Checks every loss of the epoch (all read back by now). */
  afterTrain(learn: Learner): void {
    this.#check(learn);
  }

  /** Checks the validation loss. */
  afterEpoch(learn: Learner): void {
    const v = learn.recorder.epochs.at(-1)?.values.valid_loss;
    if (v === undefined || Number.isFinite(v)) return;
    const step = learn.trainIter;
    const w = this.#where(learn, Math.max(1, step));
    throw new NonFiniteLossError(
      `training stopped: the validation loss was ${v} after step ${step} (epoch ${w.epoch} of ${learn.nEpochs}, ` +
        `stage "${this.#stage}"); ${this.#advice()}`,
      { which: "valid", stage: this.#stage, epoch: w.epoch, step, value: v },
    );
  }
}
