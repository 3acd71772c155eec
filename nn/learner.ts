/**
 * The {@linkcode Learner}: a model, data, a loss, an optimizer over layer groups, metrics and callbacks, with
 * fastai's training loop: `fit` (constant or scheduled hyper-parameters), `fitOneCycle`, `fitSlantedTriangular`
 * (ULMFiT / v0.7 `use_clr`), `freezeTo` / `unfreeze` for gradual unfreezing, discriminative learning rates (one per
 * layer group), the learning-rate finder, a smoothed training loss, a progress bar and a per-epoch metrics table.
 *
 * Each training step runs inside one memory scope (`tidy`): forward, loss, backward, optimizer step. The loss is
 * never read back per step: losses are gathered on the device and read every `readEvery` steps, asynchronously.
 *
 * @example Fit a linear model with one cycle
 * ```ts
 * import { Learner } from "./learner.ts";
 * import { Linear } from "./layers/mod.ts";
 * import { mseLoss } from "./losses.ts";
 * import { fromArray } from "./tensor.ts";
 * const xs = [0, 1, 2, 3], batch = () => ({ x: fromArray(xs, [4, 1]), y: fromArray(xs.map((v) => 2 * v + 1), [4, 1]) });
 * const data = { train: { length: 8, *[Symbol.iterator]() { for (let i = 0; i < 8; i++) yield batch(); } } };
 * const learn = new Learner(new Linear(1, 1), data, { loss: mseLoss, quiet: true });
 * await learn.fitOneCycle(20, 0.1);
 * if (!((learn.recorder.losses.at(-1) ?? 1) < 0.01)) throw new Error("did not fit y = 2x + 1");
 * ```
 *
 * @module
 */

import { noGrad } from "./engine.ts";
import {
  CancelBatchError,
  CancelEpochError,
  CancelFitError,
  type EventName,
  type SyncEvent,
} from "./_events.ts";
import type { Module } from "./layers/module.ts";
import { lrFind, type LrFindOptions, type LrFindResult } from "./lr_finder.ts";
import { SmoothedLoss } from "./metrics.ts";
import { argmax, mean } from "./ops_reduce.ts";
import { cast, eq, ne } from "./ops_elementwise.ts";
import { assign, stack } from "./ops_shape.ts";
import { Adam, type Optimizer, type ParamGroup } from "./optim.ts";
import { MetricsTable, ProgressBar, type ProgressSink, stdoutSink } from "./progress.ts";
import { clrSchedule, type OneCycleOptions, oneCycleSchedules, slantedTriangular } from "./schedule.ts";
import { keep, Tensor, tidy } from "./tensor.ts";
import type { DataLoader, DataLoaders } from "./data_loader.ts";

export type { Batch, DataLoader, DataLoaders } from "./data_loader.ts";
import { plotLoss, plotLr } from "./plot.ts";
import { readConfig } from "../gpu/config.ts";

/**
 * A callback: any subset of the event handlers, and an `order` (lower runs first). Declared beside the
 * {@linkcode Learner} it receives; the ready-made callbacks are in `callbacks.ts`.
 */
export type Callback =
  & { order?: number; name?: string }
  & { [E in SyncEvent]?: (learn: Learner) => void }
  & { [E in Exclude<EventName, SyncEvent>]?: (learn: Learner) => void | Promise<void> };

/** What a model's forward returns: a tensor, or AWD-LSTM style outputs for AR/TAR. */
export type ModelOutput = Tensor | {
  /** The prediction the loss is computed on. */
  output: Tensor;
  /** Last RNN layer's output after dropout `(B, T, H)` (AR). */
  out?: Tensor;
  /** Last RNN layer's output before dropout `(B, T, H)` (TAR). */
  rawOut?: Tensor;
};

/** A trainable model. */
export interface Model extends Module {
  /** Forward pass. */
  forward(x: Tensor): ModelOutput;
  /** Parameter groups for discriminative learning rates and freezing (default: one group). */
  layerGroups?(): Tensor[][];
}

/** A metric computed per validation batch on the device (0-d tensor) and averaged (weighted by batch size). */
export interface Metric {
  /** Column name. */
  name: string;
  /** Value for one batch, or computed from the epoch's validation loss when `fromLoss` is given. */
  batch?: (pred: Tensor, y: Tensor) => Tensor;
  /** Value from the validation loss (perplexity). */
  fromLoss?: (validLoss: number) => number;
}

/** Accuracy of `argmax(pred, -1)` against `y`, ignoring `ignoreIndex` targets. */
export function accuracyMetric({ ignoreIndex }: { ignoreIndex?: number } = {}): Metric {
  return {
    name: "accuracy",
    batch: (pred, y) => {
      const hits = cast(eq(argmax(pred, { axis: -1 }), y), "f32");
      if (ignoreIndex === undefined) return mean(hits);
      const counted = cast(ne(y, ignoreIndex), "f32");
      return mean(hits.mul(counted)).div(mean(counted));
    },
  };
}

/** Perplexity `exp(valid_loss)`. */
export function perplexityMetric(): Metric {
  return { name: "perplexity", fromLoss: (l) => Math.exp(l) };
}

/** The tensor a loss is computed on. */
export function outputOf(pred: ModelOutput): Tensor {
  return "output" in pred && !(pred instanceof Tensor) ? pred.output : pred as Tensor;
}

/** One row of the per-epoch table. */
export interface EpochRecord {
  /** Epoch index within the fit. */
  epoch: number;
  /** `train_loss` (smoothed, at epoch end), `valid_loss`, metrics, `time` (seconds). */
  values: Record<string, number>;
}

/** What the Learner records while training. */
export class Recorder {
  /** Learning rate of the last group at each training step. */
  lrs: number[] = [];
  /** Momentum of the last group at each training step. */
  moms: number[] = [];
  /** Raw training loss of each step (read back in batches). */
  losses: number[] = [];
  /** Smoothed training loss of each step. */
  smoothLosses: number[] = [];
  /** Validation loss at the end of each epoch, at the global step it was measured. */
  validLosses: { iter: number; loss: number }[] = [];
  /** Per-epoch rows. */
  epochs: EpochRecord[] = [];

  /** Write the loss plot (SVG). */
  plotLoss(path: string): Promise<void> {
    return plotLoss(path, { train: this.smoothLosses, valid: this.validLosses });
  }
  /** Write the learning-rate / momentum plot (SVG). */
  plotSched(path: string): Promise<void> {
    return plotLr(path, this.lrs, this.moms);
  }
}

/** Hyper-parameter schedules of a fit, as functions of the fraction of training done. */
export interface FitSchedule {
  /** Learning rate per group (or one for all). */
  lr: (pos: number, iter: number) => number | number[];
  /** Momentum (SGD momentum / Adam beta1), optional. */
  mom?: (pos: number, iter: number) => number;
}

/** Options of the {@linkcode Learner}. */
export interface LearnerOptions {
  /** Loss of `(prediction, targets)`. */
  loss: (pred: Tensor, y: Tensor) => Tensor;
  /** Optimizer factory over the layer groups. @default Adam (fastai: betas (0.9, 0.99), eps 1e-5) */
  opt?: (groups: ParamGroup[]) => Optimizer;
  /** Metrics on the validation set. @default [] */
  metrics?: Metric[];
  /** Callbacks. @default [] */
  callbacks?: Callback[];
  /** Weight decay for every group. @default 0.01 */
  wd?: number;
  /** Read losses back every this many steps. @default 10 */
  readEvery?: number;
  /**
   * Where progress goes. A terminal sink gets a progress bar per epoch, redrawn in place, and the metrics
   * table; any other sink (a pipe, a file) only the table: a header, then one plain line per epoch.
   * @default stdout
   */
  sink?: ProgressSink;
  /** No progress output. @default false */
  quiet?: boolean;
  /** Smoothing of the training loss. @default 0.98 */
  beta?: number;
  /** Keep batch-norm parameters trainable in frozen groups (fastai `train_bn`). @default true */
  trainBn?: boolean;
}

/** The training loop. */
export class Learner {
  /** The model. */
  readonly model: Model;
  /** The data. */
  data: DataLoaders;
  /** The optimizer (created on the first fit). */
  opt: Optimizer | null = null;
  /** Callbacks, sorted by `order`. */
  callbacks: Callback[];
  /** Metrics. */
  readonly metrics: Metric[];
  /** Values recorded by the last (or running) fit. */
  recorder = new Recorder();
  /** Weight decay. */
  wd: number;
  /** Current epoch of the running fit. */
  epoch = 0;
  /** Epochs of the running fit. */
  nEpochs = 0;
  /** Batch index within the epoch. */
  iter = 0;
  /** Steps taken in the running fit. */
  trainIter = 0;
  /** Whether the current phase is training. */
  training = false;
  /** Current batch inputs. */
  x: Tensor | null = null;
  /** Current batch targets. */
  y: Tensor | null = null;
  /** Current prediction. */
  pred: ModelOutput | null = null;
  /** Current loss (callbacks may replace it in `afterLoss`). */
  loss: Tensor | null = null;
  /** Smoothed training loss. */
  smoothLoss: SmoothedLoss;
  readonly #lossFn: (pred: Tensor, y: Tensor) => Tensor;
  readonly #optFactory: (groups: ParamGroup[]) => Optimizer;
  readonly #readEvery: number;
  readonly #sink: ProgressSink | null;
  #pending: Tensor[] = [];
  #inflight: Promise<void> | null = null;
  readonly #trainBn: boolean;

  /**
   * Create a Learner.
   * @param model the model
   * @param data training and validation batches
   */
  constructor(model: Model, data: DataLoaders, options: LearnerOptions) {
    this.model = model;
    this.data = data;
    this.#lossFn = options.loss;
    this.#optFactory = options.opt ?? ((groups) => new Adam(groups, { beta1: 0.9, beta2: 0.99, eps: 1e-5 }));
    this.metrics = options.metrics ?? [];
    this.callbacks = [...(options.callbacks ?? [])];
    this.wd = options.wd ?? 0.01;
    this.#readEvery = options.readEvery ?? 10;
    this.#sink = options.quiet ? null : options.sink ?? stdoutSink();
    this.smoothLoss = new SmoothedLoss(options.beta ?? 0.98);
    this.#trainBn = options.trainBn ?? true;
  }

  /** Parameter groups (the model's `layerGroups()`, else one group). */
  layerGroups(): Tensor[][] {
    return this.model.layerGroups?.() ?? [this.model.parameters()];
  }

  /** Parameters that currently train (not frozen). */
  trainableParameters(): Tensor[] {
    return this.layerGroups().flat().filter((p) => p.requiresGrad);
  }

  /**
   * Freeze every layer group before `n` (negative counts from the end: `freezeTo(-1)` trains only the last
   * group). Frozen parameters get no gradient and are not updated; batch-norm parameters keep training unless
   * the learner was made with `trainBn: false` (fastai's `train_bn`).
   */
  freezeTo(n: number): void {
    const groups = this.layerGroups();
    const k = n < 0 ? groups.length + n : n;
    if (!(k >= 0 && k < groups.length)) {
      throw new RangeError(`freezeTo(${n}): the model has ${groups.length} layer groups`);
    }
    const norm = new Set(
      this.#trainBn ? this.model.modules().filter((m) => m.isNorm).flatMap((m) => m.parameters()) : [],
    );
    groups.forEach((g, i) => {
      for (const p of g) {
        p.requiresGrad = i >= k || norm.has(p);
        if (!p.requiresGrad) p.zeroGrad();
      }
    });
  }

  /** Freeze all but the last group. */
  freeze(): void {
    this.freezeTo(-1);
  }

  /** Train every group. */
  unfreeze(): void {
    this.freezeTo(0);
  }

  /** Add a callback. */
  addCallback(cb: Callback): void {
    this.callbacks.push(cb);
  }

  #sorted(): Callback[] {
    return [...this.callbacks].sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
  }

  async #fire(event: Exclude<EventName, SyncEvent>): Promise<void> {
    for (const cb of this.#sorted()) await cb[event]?.(this);
  }

  #fireSync(event: SyncEvent): void {
    for (const cb of this.#sorted()) cb[event]?.(this);
  }

  #ensureOpt(): Optimizer {
    if (!this.opt) {
      this.opt = this.#optFactory(this.layerGroups().map((params) => ({ params, wd: this.wd })));
    }
    return this.opt;
  }

  #setHypers(sched: FitSchedule, pos: number, iter: number): void {
    const opt = this.opt!;
    opt.setHyper("lr", sched.lr(pos, iter));
    if (sched.mom) opt.setHyper("mom", sched.mom(pos, iter));
    const last = opt.groups[opt.groups.length - 1]!;
    this.recorder.lrs.push(last.lr);
    this.recorder.moms.push(last.mom);
  }

  /**
   * Read pending losses back (one read for all of them) and update the smoothed loss. The read runs in the
   * background while training continues; `wait` waits for every read started so far.
   */
  async #drainLosses(wait = true): Promise<void> {
    if (this.#pending.length > 0) {
      const pending = this.#pending;
      this.#pending = [];
      const all = noGrad(() => stack(pending, 0));
      for (const t of pending) t.dispose();
      const previous = this.#inflight;
      this.#inflight = (async () => {
        await previous;
        try {
          const values = await all.data();
          for (const v of values) {
            this.recorder.losses.push(v);
            this.recorder.smoothLosses.push(this.smoothLoss.update(v));
          }
        } finally {
          all.dispose();
        }
      })();
    }
    if (wait && this.#inflight) {
      const inflight = this.#inflight;
      this.#inflight = null;
      await inflight;
    }
  }

  /**
   * Wait until every training loss computed so far has been read back (into `recorder.losses` and the
   * smoothed loss). Training checkpoints call it so the smoothed loss they save is complete.
   */
  flushLosses(): Promise<void> {
    return this.#drainLosses(true);
  }

  /** One training step on the current batch (sync: forward, loss, backward, step inside one scope). */
  #trainStep(): void {
    const kept = tidy(() => {
      try {
        const pred = this.model.forward(this.x!);
        this.pred = pred;
        this.#fireSync("afterPred");
        this.loss = this.#lossFn(outputOf(pred), this.y!);
        this.#fireSync("afterLoss");
        this.loss.backward();
        this.#fireSync("afterBackward");
        this.opt!.step();
        this.#fireSync("afterStep");
        this.opt!.zeroGrad();
        return this.loss.detach();
      } finally {
        this.pred = null;
      }
    });
    this.loss = null;
    this.#pending.push(keep(kept));
  }

  async #trainEpoch(sched: FitSchedule, totalIters: number, bar: ProgressBar | null): Promise<void> {
    this.training = true;
    this.model.train();
    await this.#fire("beforeTrain");
    this.iter = 0;
    try {
      for (const batch of this.data.train) {
        this.x = batch.x;
        this.y = batch.y;
        try {
          this.#setHypers(sched, this.trainIter / totalIters, this.trainIter);
          await this.#fire("beforeBatch");
          this.#trainStep();
          this.trainIter++;
          if (this.#pending.length >= this.#readEvery) await this.#drainLosses(false);
          await this.#fire("afterBatch");
        } catch (e) {
          if (!(e instanceof CancelBatchError)) throw e;
        } finally {
          batch.x.dispose();
          batch.y.dispose();
          this.x = this.y = null;
        }
        this.iter++;
        bar?.update(
          this.iter,
          Number.isFinite(this.smoothLoss.value) ? `loss ${this.smoothLoss.value.toFixed(4)}` : "",
        );
      }
    } catch (e) {
      if (!(e instanceof CancelEpochError)) throw e;
    }
    await this.#drainLosses();
    await this.#fire("afterTrain");
  }

  /**
   * Evaluate on a data loader: mean loss and metrics, weighted by batch size (no gradients, dropout off).
   * @param dl batches (default: the validation set)
   * @returns `valid_loss` and one value per metric
   */
  async validate(dl: DataLoader | undefined = this.data.valid): Promise<Record<string, number>> {
    if (!dl) return {};
    this.training = false;
    this.model.eval();
    await this.#fire("beforeValidate");
    const parts: Tensor[][] = [], weights: number[] = [];
    const batchMetrics = this.metrics.filter((m) => m.batch);
    for (const batch of dl) {
      try {
        const vals = noGrad(() =>
          tidy(() => {
            const pred = this.model.forward(batch.x);
            const out = outputOf(pred);
            return [this.#lossFn(out, batch.y), ...batchMetrics.map((m) => m.batch!(out, batch.y))];
          })
        );
        parts.push(vals.map((v) => keep(v)));
        weights.push(batch.y.shape[0] ?? 1);
      } finally {
        batch.x.dispose();
        batch.y.dispose();
      }
    }
    const result: Record<string, number> = {};
    if (parts.length > 0) {
      // one read back for the whole validation set
      const all = noGrad(() => tidy(() => stack(parts.map((p) => stack(p, 0)), 0)));
      for (const p of parts) for (const t of p) t.dispose();
      const flat = await all.data();
      all.dispose();
      const k = 1 + batchMetrics.length, wsum = weights.reduce((a, b) => a + b, 0);
      const avg = (j: number) => weights.reduce((s, w, i) => s + w * flat[i * k + j]!, 0) / wsum;
      result.valid_loss = avg(0);
      batchMetrics.forEach((m, j) => result[m.name] = avg(j + 1));
    }
    for (const m of this.metrics) {
      if (m.fromLoss && result.valid_loss !== undefined) result[m.name] = m.fromLoss(result.valid_loss);
    }
    await this.#fire("afterValidate");
    return result;
  }

  /**
   * Train for `nEpochs` epochs with hyper-parameters from `sched` (evaluated before every step).
   * @param nEpochs number of epochs
   * @param sched learning rate (and momentum) schedule, or a constant learning rate (one or one per group)
   */
  async fit(nEpochs: number, sched: FitSchedule | number | number[] = 1e-3): Promise<void> {
    if (!(Number.isInteger(nEpochs) && nEpochs >= 1)) {
      throw new RangeError(`fit: nEpochs must be an integer >= 1, got ${nEpochs}`);
    }
    if (this.data.train.length < 1) throw new Error("fit: the training data has no batches");
    const s: FitSchedule = typeof sched === "number" || Array.isArray(sched) ? { lr: () => sched } : sched;
    this.#ensureOpt();
    this.nEpochs = nEpochs;
    this.trainIter = 0;
    // like fastai's Recorder and AvgSmoothLoss: each fit records afresh
    this.recorder = new Recorder();
    this.smoothLoss.reset();
    const totalIters = nEpochs * this.data.train.length;
    const columns = [
      "epoch",
      "train_loss",
      ...(this.data.valid ? ["valid_loss"] : []),
      ...this.metrics.map((m) => m.name),
      "time",
    ];
    const table = this.#sink ? new MetricsTable(columns, this.#sink) : null;
    try {
      await this.#fire("beforeFit");
      for (this.epoch = 0; this.epoch < nEpochs; this.epoch++) {
        const start = performance.now();
        await this.#fire("beforeEpoch");
        const sink = this.#sink;
        const bar =
          sink && (sink.isTerminal || readConfig().progress === "lines") && this.data.train.length > 0
            ? new ProgressBar(this.data.train.length, {
              sink,
              label: `epoch ${this.epoch + 1}/${nEpochs}`,
            })
            : null;
        await this.#trainEpoch(s, totalIters, bar);
        const values: Record<string, number> = { train_loss: this.smoothLoss.value };
        Object.assign(values, await this.validate());
        if (values.valid_loss !== undefined) {
          this.recorder.validLosses.push({ iter: this.trainIter, loss: values.valid_loss });
        }
        values.time = (performance.now() - start) / 1000;
        this.recorder.epochs.push({ epoch: this.epoch, values });
        table?.row(columns.map((c) => (c === "epoch" ? this.epoch : values[c] ?? NaN)));
        await this.#fire("afterEpoch");
      }
    } catch (e) {
      if (!(e instanceof CancelFitError)) throw e;
      await this.#drainLosses();
      this.#sink?.write(`${e.message}\n`);
    } finally {
      for (const t of this.#pending) t.dispose();
      this.#pending = [];
      await this.#inflight?.catch(() => {}); // a read still running when an error stopped the fit
      this.#inflight = null;
      this.training = false;
    }
    await this.#fire("afterFit");
  }

  #perGroup(lr: number | readonly number[]): number[] {
    const n = this.layerGroups().length;
    if (typeof lr === "number") return new Array(n).fill(lr);
    if (lr.length !== n) throw new Error(`learning rates: ${lr.length} given for ${n} layer groups`);
    return [...lr];
  }

  /**
   * fastai v2 `fit_one_cycle`: cosine warm-up to `lrMax` over `pctStart` of the steps, cosine decay to
   * `lrMax/divFinal`, momentum (0.95, 0.85, 0.95).
   * @param nEpochs epochs
   * @param lrMax peak learning rate (one, or one per layer group for discriminative rates)
   */
  fitOneCycle(
    nEpochs: number,
    lrMax: number | readonly number[],
    options: OneCycleOptions = {},
  ): Promise<void> {
    const scheds = this.#perGroup(lrMax).map((l) => oneCycleSchedules(l, options));
    return this.fit(nEpochs, { lr: (p) => scheds.map((s) => s.lr(p)), mom: (p) => scheds[0]!.mom(p) });
  }

  /**
   * ULMFiT's slanted triangular learning rate over the whole fit (`cutFrac` 0.1, `ratio` 32).
   * @param nEpochs epochs
   * @param lrMax peak learning rate (per group allowed)
   */
  fitSlantedTriangular(
    nEpochs: number,
    lrMax: number | readonly number[],
    options: { cutFrac?: number; ratio?: number } = {},
  ): Promise<void> {
    const total = nEpochs * this.data.train.length;
    const fs = this.#perGroup(lrMax).map((l) => slantedTriangular(l, total, options));
    return this.fit(nEpochs, { lr: (_, it) => fs.map((f) => f(it)) });
  }

  /**
   * fastai v0.7 `fit(lrs, 1, cycle_len=nEpochs, use_clr=(div, cutDiv))`, optionally with momentum `moms`.
   * @param nEpochs cycle length in epochs
   * @param lrMax peak learning rate (per group allowed)
   */
  fitClr(
    nEpochs: number,
    lrMax: number | readonly number[],
    options: { div: number; cutDiv: number; moms?: readonly [number, number] },
  ): Promise<void> {
    const nb = nEpochs * this.data.train.length;
    const fs = this.#perGroup(lrMax).map((l) =>
      clrSchedule(l, nb, options.div, options.cutDiv, options.moms ? { moms: options.moms } : {})
    );
    const mom = fs[0]!.mom;
    return this.fit(
      nEpochs,
      mom
        ? { lr: (_, it) => fs.map((f) => f.lr(it)), mom: (_, it) => mom(it) }
        : { lr: (_, it) => fs.map((f) => f.lr(it)) },
    );
  }

  /**
   * The learning-rate finder: up to `numIt` training steps with an exponentially growing learning rate, then
   * the weights, batch-norm statistics and the learner's optimizer are restored.
   * @returns the sweep and the suggestion
   */
  async lrFind(options: LrFindOptions = {}): Promise<LrFindResult> {
    // a fresh optimizer for the sweep; the learner's own (and its state) comes back afterwards
    const previousOpt = this.opt;
    this.opt = null;
    const opt = this.#ensureOpt();
    const params = [...this.model.stateDict().values()]; // parameters and buffers (batch-norm statistics)
    const saved = noGrad(() => params.map((p) => keep(p.mul(1))));
    let batches = this.data.train[Symbol.iterator]();
    this.model.train();
    this.training = true;
    try {
      return await lrFind(async (lr) => {
        opt.setHyper("lr", lr);
        let next = batches.next();
        if (next.done) {
          batches = this.data.train[Symbol.iterator]();
          next = batches.next();
          if (next.done) throw new Error("lrFind: the training data is empty");
        }
        this.x = next.value.x;
        this.y = next.value.y;
        try {
          this.#trainStep();
        } finally {
          next.value.x.dispose();
          next.value.y.dispose();
        }
        const [t] = this.#pending.splice(0);
        const v = await t!.item();
        t!.dispose();
        return v;
      }, options);
    } finally {
      params.forEach((p, i) => assign(p, saved[i]!));
      for (const s of saved) s.dispose();
      opt.dispose();
      this.opt = previousOpt;
      this.model.reset();
      this.training = false;
    }
  }
}
