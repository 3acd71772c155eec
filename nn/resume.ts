/**
 * Resuming an interrupted run exactly. {@linkcode TrainCheckpoint} is a Learner callback that saves everything a
 * fit needs to continue — model tensors, optimizer state (Adam moments, per-parameter step counts, `stepCount`,
 * per-group lr / mom / wd), the position (epoch, batch within the epoch, global step, so the schedule continues
 * where it stopped), the library RNG (`gpu/rng.ts` seed + counter: dropout masks), the data loaders' generators
 * as they were at the start of the epoch, and stateful RNNs' hidden states — in one atomic safetensors file
 * (see `saveTrainState`). `resumeFrom(path)` stages a file; the next `fit` with the same epochs and batches per
 * epoch restores it (into a fresh model and optimizer), replays the data loaders up to the saved batch without
 * training on it, and continues: on the CPU backend N steps in one go and N/2 + save + load + N/2 give
 * bit-identical weights.
 *
 * @example Stop after 3 steps, resume in a fresh learner
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { Learner } from "./learner.ts";
 * import { CancelFitError } from "./callbacks.ts";
 * import { Linear } from "./layers/mod.ts";
 * import { mseLoss } from "./losses.ts";
 * import { fromArray } from "./tensor.ts";
 * import { TrainCheckpoint } from "./resume.ts";
 * const path = `${await Deno.makeTempDir()}/run.safetensors`;
 * const batch = () => ({ x: fromArray([0, 1, 2], [3, 1]), y: fromArray([1, 3, 5], [3, 1]) });
 * const data = { train: { length: 4, *[Symbol.iterator]() { for (let i = 0; i < 4; i++) yield batch(); } } };
 * const stop = { order: 100, afterBatch: (l: Learner) => { if (l.trainIter === 3) throw new CancelFitError(); } };
 * const first = new Learner(new Linear(1, 1), data, { loss: mseLoss, quiet: true });
 * first.callbacks.push(new TrainCheckpoint({ path, everySteps: 1 }), stop);
 * await first.fit(2, 0.1);
 * const ck = new TrainCheckpoint({ path });
 * const second = new Learner(new Linear(1, 1), data, { loss: mseLoss, quiet: true, callbacks: [ck] });
 * strictEqual((await ck.resumeFrom()).step, 3);
 * await second.fit(2, 0.1);
 * strictEqual(second.trainIter, 8);
 * ```
 *
 * @module
 */
import { getRng, type Rng, seed as seedRng } from "../gpu/rng.ts";
import { type Callback, CancelBatchError } from "./callbacks.ts";
import type { Learner } from "./learner.ts";
import type { Module } from "./layers/module.ts";
import { RecurrentBase } from "./layers/rnn.ts";
import type { Optimizer } from "./optim.ts";
import { fromArray, keep, type Tensor } from "./tensor.ts";
import { CheckpointMismatchError } from "./formats/errors.ts";
import { checkCheckpointMetadata, type ConfigValue } from "./checkpoint/metadata.ts";
import { copyHostIntoTensors, tensorsToHost } from "./checkpoint/model_io.ts";
import type { HostTensor, TensorMap } from "./formats/tensor_map.ts";
import { readTrainState, saveTrainState, type TrainPosition } from "./train_state.ts";

/** Options of {@linkcode TrainCheckpoint}. */
export interface TrainCheckpointOptions {
  /** The checkpoint file (written atomically; `resumeFrom()` reads it by default). */
  path: string;
  /** Save after every this many optimizer steps (0: never). @default 0 */
  everySteps?: number;
  /** Save at the end of every epoch. @default false */
  everyEpoch?: boolean;
  /**
   * Generators of the data loaders (e.g. `LanguageModelLoader.rng`), by name: their counters are saved as they
   * were at the start of the epoch, so replaying the epoch's batches up to the checkpoint gives the same batches.
   */
  rngs?: Record<string, Rng>;
  /** Model config to record and, on resume, to require. */
  config?: { [key: string]: ConfigValue };
  /** Vocab hash to record and, on resume, to require. */
  vocabHash?: string;
}

interface Staged {
  path: string;
  position: TrainPosition;
  model: TensorMap;
  optimizer: TensorMap;
  runtime: TensorMap;
}

/** Every module with its dotted path (the root is `""`). */
function namedModules(m: Module, prefix = ""): [string, Module][] {
  return [
    [prefix, m],
    ...m.children().flatMap(([n, c]) => namedModules(c, prefix ? `${prefix}.${n}` : n)),
  ];
}

/** Stateful RNNs' carried hidden states as named tensors (`hidden.<module>.h` / `.c`). */
function hiddenStates(model: Module): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, m] of namedModules(model)) {
    if (!(m instanceof RecurrentBase) || !m.hidden) continue;
    out.set(`hidden.${name}.h`, m.hidden.h);
    if (m.hidden.c) out.set(`hidden.${name}.c`, m.hidden.c);
  }
  return out;
}

function optimizerSteps(opt: Optimizer): number[] | null {
  const o = opt as Optimizer & { stepsOf?: (p: Tensor) => number };
  return typeof o.stepsOf === "function" ? opt.params.map((p) => o.stepsOf!(p)) : null;
}

/**
 * Saves and restores a Learner's full training state (see the module doc). Add it to the learner's callbacks;
 * call {@linkcode TrainCheckpoint.resumeFrom} before `fit` to continue a run.
 */
export class TrainCheckpoint implements Callback {
  /** Name. */
  name = "TrainCheckpoint";
  /** Runs after the other callbacks (the step is complete when it saves). */
  order = 90;
  /** The checkpoint file. */
  readonly path: string;
  /** Saves done by this callback. */
  saves = 0;
  readonly #everySteps: number;
  readonly #everyEpoch: boolean;
  readonly #rngs: Record<string, Rng>;
  readonly #config: { [key: string]: ConfigValue } | undefined;
  readonly #vocabHash: string | undefined;
  #epochStart: Record<string, number> = {};
  #staged: Staged | null = null;
  /** Batches of the current epoch to replay without training (-1: not resuming). */
  #skip = -1;
  #hidden: TensorMap | null = null;

  /**
   * Create a TrainCheckpoint.
   * @param options file, how often to save, loader generators, config / vocab hash
   */
  constructor(options: TrainCheckpointOptions) {
    const { path, everySteps = 0, everyEpoch = false, rngs = {} } = options;
    if (!(Number.isInteger(everySteps) && everySteps >= 0)) {
      throw new RangeError(`TrainCheckpoint: everySteps must be a non-negative integer, got ${everySteps}`);
    }
    this.path = path;
    this.#everySteps = everySteps;
    this.#everyEpoch = everyEpoch;
    this.#rngs = rngs;
    this.#config = options.config;
    this.#vocabHash = options.vocabHash;
  }

  /**
   * Writes the training state now (atomically). Call it at a step boundary (`afterBatch`, `afterEpoch`): the
   * position says `doneInEpoch` batches of epoch `learn.epoch` are done.
   *
   * @param learn the learner (its optimizer must exist: inside a fit)
   * @param doneInEpoch batches of the current epoch already trained on
   * @param path where to write @default this.path
   * @param extra more position entries and runtime tensors to store (a training run's own state)
   */
  async save(
    learn: Learner,
    doneInEpoch: number,
    path: string = this.path,
    extra: { position?: { [key: string]: ConfigValue }; runtime?: TensorMap } = {},
  ): Promise<void> {
    const opt = learn.opt;
    if (!opt) throw new Error("TrainCheckpoint.save: the learner has no optimizer yet (save inside a fit)");
    const rng = getRng();
    const steps = optimizerSteps(opt);
    const position: TrainPosition = {
      ...extra.position,
      epoch: learn.epoch,
      step: learn.trainIter,
      iter: doneInEpoch,
      nEpochs: learn.nEpochs,
      nBatches: learn.data.train.length,
      rng: { seed: rng.seed, counter: rng.counter },
      rngs: { ...this.#epochStart },
      opt: {
        kind: opt.constructor.name,
        stepCount: opt.stepCount,
        groups: opt.groups.map((g) => ({ lr: g.lr, mom: g.mom, wd: g.wd, n: g.params.length })),
        ...(steps ? { steps } : {}),
      },
    };
    await saveTrainState(path, {
      model: await tensorsToHost(learn.model.stateDict()),
      optimizer: await tensorsToHost(opt.stateTensors()),
      runtime: new Map([...await tensorsToHost(hiddenStates(learn.model)), ...extra.runtime ?? []]),
      position,
    }, {
      ...(this.#config ? { config: this.#config } : {}),
      ...(this.#vocabHash !== undefined ? { vocabHash: this.#vocabHash } : {}),
    });
    this.saves++;
  }

  /**
   * Reads a training-state checkpoint (checking config / vocab hash when this callback has them) and stages it:
   * the next `fit` restores it and continues from it.
   *
   * @param path the file @default this.path
   * @returns the saved position
   */
  async resumeFrom(path: string = this.path): Promise<TrainPosition> {
    return this.stage(await readTrainState(path), path);
  }

  /**
   * Stages a training state already read with `readTrainState` (see {@linkcode TrainCheckpoint.resumeFrom}).
   *
   * @param st the state
   * @param path the file it came from (for messages)
   * @returns the saved position
   */
  stage(st: Awaited<ReturnType<typeof readTrainState>>, path: string = this.path): TrainPosition {
    checkCheckpointMetadata(st.metadata, {
      file: path,
      ...(this.#config ? { config: this.#config } : {}),
      ...(this.#vocabHash !== undefined ? { vocabHash: this.#vocabHash } : {}),
    });
    const p = st.position;
    for (const k of ["iter", "nEpochs", "nBatches"]) {
      if (typeof p[k] !== "number") {
        throw new CheckpointMismatchError("missing_metadata", `training position lacks "${k}"`, {
          file: path,
        });
      }
    }
    // runtime tensors other than RNN hidden states belong to whoever extended the save (a training run)
    const hidden = new Map([...st.runtime].filter(([k]) => k.startsWith("hidden.")));
    this.#staged = { path, position: p, model: st.model, optimizer: st.optimizer, runtime: hidden };
    return p;
  }

  /** Restores a staged checkpoint into the learner (its optimizer was just created). */
  beforeFit(learn: Learner): void {
    const s = this.#staged;
    if (!s) return;
    const p = s.position as TrainPosition & {
      iter: number;
      nEpochs: number;
      nBatches: number;
      rng: { seed: number; counter: number };
      rngs: Record<string, number>;
      opt: {
        stepCount: number;
        groups: { lr: number; mom: number; wd: number; n: number }[];
        steps?: number[];
      };
    };
    const file = s.path;
    if (p.nEpochs !== learn.nEpochs || p.nBatches !== learn.data.train.length) {
      throw new CheckpointMismatchError(
        "config_mismatch",
        `the run was ${p.nEpochs} epochs of ${p.nBatches} batches, this fit is ${learn.nEpochs} of ${learn.data.train.length}: the schedule would differ`,
        { file },
      );
    }
    const opt = learn.opt!;
    if (
      p.opt.groups.length !== opt.groups.length ||
      p.opt.groups.some((g, i) => g.n !== opt.groups[i]!.params.length)
    ) {
      throw new CheckpointMismatchError(
        "config_mismatch",
        `optimizer groups differ: saved sizes [${p.opt.groups.map((g) => g.n)}], now [${
          opt.groups.map((g) => g.params.length)
        }]`,
        { file },
      );
    }
    for (const name of Object.keys(p.rngs)) {
      if (!this.#rngs[name]) {
        throw new CheckpointMismatchError(
          "config_mismatch",
          `the run saved generator "${name}"; pass it in rngs`,
          {
            file,
          },
        );
      }
    }
    // check the optimizer state fully before writing anything
    const slots: { p: Tensor; tensors: TensorMap }[] = [];
    const byParam = new Map<string, Map<number, [string, HostTensor]>>();
    for (const [name, t] of s.optimizer) {
      const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(name);
      const param = m ? opt.groups[Number(m[1])]?.params[Number(m[2])] : undefined;
      if (!m || !param) {
        throw new CheckpointMismatchError("unexpected_tensor", "no such optimizer parameter", {
          file,
          tensor: `optim.${name}`,
        });
      }
      if (t.dtype !== "f32" || t.shape.join() !== param.shape.join()) {
        throw new CheckpointMismatchError(
          "shape_mismatch",
          `optimizer state ${t.dtype} [${t.shape}], parameter [${param.shape}]`,
          { file, tensor: `optim.${name}` },
        );
      }
      const key = `${m[1]}.${m[2]}`;
      if (!byParam.has(key)) byParam.set(key, new Map());
      byParam.get(key)!.set(Number(m[3]), [name, t]);
    }
    for (const [key, m] of byParam) {
      const [gi, pi] = key.split(".").map(Number) as [number, number];
      const tensors: TensorMap = new Map();
      for (let si = 0; si < m.size; si++) {
        const e = m.get(si);
        if (!e) {
          throw new CheckpointMismatchError("missing_tensor", `slot ${si} missing`, {
            file,
            tensor: `optim.${key}`,
          });
        }
        tensors.set(String(si), e[1]);
      }
      slots.push({ p: opt.groups[gi]!.params[pi]!, tensors });
    }
    const steps = p.opt.steps;
    const adam = opt as Optimizer & { setStepsOf?: (p: Tensor, n: number) => void };
    if (steps && (steps.length !== opt.params.length || typeof adam.setStepsOf !== "function")) {
      throw new CheckpointMismatchError(
        "config_mismatch",
        "the saved optimizer step counts do not fit this optimizer",
        {
          file,
        },
      );
    }
    // model: validated, then written
    copyHostIntoTensors(learn.model.stateDict(), s.model, { file });
    for (const { p: param, tensors } of slots) {
      opt.setStateOf(
        param,
        [...tensors.values()].map((h) =>
          fromArray(h.data, h.shape, { dtype: "f32", backend: param.backend })
        ),
      );
    }
    if (steps) opt.params.forEach((param, i) => adam.setStepsOf!(param, steps[i]!));
    opt.stepCount = p.opt.stepCount;
    p.opt.groups.forEach((g, i) => Object.assign(opt.groups[i]!, { lr: g.lr, mom: g.mom, wd: g.wd }));
    seedRng(p.rng.seed);
    getRng().counter = p.rng.counter;
    learn.trainIter = p.step;
    this.#hidden = s.runtime;
  }

  /** Moves a resumed fit to the saved epoch, rewinds the loaders' generators, records them at epoch start. */
  beforeEpoch(learn: Learner): void {
    const s = this.#staged;
    if (s) {
      const p = s.position as TrainPosition & { iter: number; rngs: Record<string, number> };
      this.#staged = null;
      learn.epoch = p.epoch;
      for (const [name, counter] of Object.entries(p.rngs)) this.#rngs[name]!.counter = counter;
      this.#skip = p.iter;
    } else {
      this.#skip = -1;
      this.#hidden = null;
    }
    this.#epochStart = Object.fromEntries(Object.entries(this.#rngs).map(([k, r]) => [k, r.counter]));
  }

  /** Replays (skips) the batches trained before the checkpoint; restores RNN hidden states at the first new one. */
  beforeBatch(learn: Learner): void {
    if (this.#skip < 0) return;
    if (learn.iter < this.#skip) throw new CancelBatchError("resume: batch trained before the checkpoint");
    this.#skip = -1;
    const hidden = this.#hidden;
    this.#hidden = null;
    if (!hidden || hidden.size === 0) return;
    const modules = new Map(namedModules(learn.model));
    const names = new Set([...hidden.keys()].map((k) => k.replace(/^hidden\.(.*)\.[hc]$/, "$1")));
    for (const name of names) {
      const m = modules.get(name);
      const h = hidden.get(`hidden.${name}.h`), c = hidden.get(`hidden.${name}.c`);
      if (!(m instanceof RecurrentBase) || !h) {
        throw new CheckpointMismatchError("unexpected_tensor", "no such recurrent module", {
          tensor: `runtime.hidden.${name}`,
        });
      }
      const dev = (t: HostTensor) =>
        keep(fromArray(t.data, t.shape, { dtype: "f32", backend: m.parameters()[0]!.backend }));
      m.reset();
      m.hidden = { h: dev(h), ...(c ? { c: dev(c) } : {}) };
    }
  }

  /** Saves every `everySteps` steps. */
  async afterBatch(learn: Learner): Promise<void> {
    if (this.#everySteps > 0 && learn.trainIter % this.#everySteps === 0) {
      await this.save(learn, learn.iter + 1);
    }
  }

  /** Saves at the end of the epoch when `everyEpoch`. */
  async afterEpoch(learn: Learner): Promise<void> {
    if (this.#everyEpoch) await this.save(learn, learn.iter); // iter: batches this epoch served
  }
}
