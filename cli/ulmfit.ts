/**
 * The ULMFiT pipeline as functions the `denofit` subcommands and the examples share: data loaders that turn
 * {@linkcode LanguageModelLoader} / {@linkcode ClassifierLoader} batches into tensors, the language-model schedule
 * (last layer group first, then everything), the classifier's gradual unfreezing with discriminative learning
 * rates `lr / 2.6^k`, per-epoch JSON-lines metrics, model files (safetensors with the vocabulary, classes and
 * config in the metadata), and prediction.
 *
 * @example Seeded 90/10 split of 10 documents
 * ```ts
 * import { splitIndices } from "./ulmfit.ts";
 * const { train, valid } = splitIndices(10, 0.1, 42);
 * if (train.length !== 9 || valid.length !== 1) throw new Error("bad split");
 * ```
 *
 * @module
 */
import {
  accuracyMetric,
  type Batch,
  type Callback,
  type ConfigValue,
  crossEntropyFlat,
  type DataLoader,
  fromArray,
  GradientClipping,
  hashVocab,
  type HostTensor,
  Learner,
  type Metric,
  ModelResetter,
  noGrad,
  perplexityMetric,
  type ProgressSink,
  readSafetensors,
  RNNRegularizer,
  saveCheckpoint,
  softmax,
  type Tensor,
  type TensorMap,
  tidy,
} from "../nn/mod.ts";
import { Adam } from "../nn/optim.ts";
import { Rng, seed as seedRng } from "../gpu/rng.ts";
import { LanguageModelLoader } from "../text/lm_loader.ts";
import { ClassifierLoader } from "../text/clas_loader.ts";
import {
  AWD_LSTM_CLAS_CONFIG,
  AWD_LSTM_LM_CONFIG,
  AwdLstmClassifier,
  type AwdLstmConfig,
  AwdLstmLM,
  type AwdLstmOptions,
  encoderCheckpointTensors,
} from "../text/models/awd_lstm.ts";

/** Kinds of model file the CLI writes (`denofit.kind` in the safetensors metadata). */
export type ModelKind = "lm" | "encoder" | "classifier";

/** Metadata key holding the vocabulary (JSON array, id order). */
export const META_ITOS = "denofit.itos";
/** Metadata key holding the class names of a classifier (JSON array). */
export const META_CLASSES = "denofit.classes";
/** Metadata key telling whether the model reads text backwards ("true" / "false"). */
export const META_BACKWARDS = "denofit.backwards";

/** One line of the `--metrics` file. */
export interface EpochMetrics {
  /** Which fit: `lm-frozen`, `lm`, `clas-1`, `clas-2`, `clas-all`, ... */
  stage: string;
  /** Epoch within the stage, from 1. */
  epoch: number;
  /** Smoothed training loss at the end of the epoch. */
  train_loss: number;
  /** Validation loss. */
  valid_loss: number | null;
  /** Validation accuracy (next-word accuracy for language models). */
  accuracy: number | null;
  /** `exp(valid_loss)`, language models only. */
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
    } as Callback;
  }
}

/**
 * A seeded split of `n` items into training and validation indices (each list in increasing order).
 *
 * @param n number of items
 * @param validPct fraction for validation (0 < validPct < 1)
 * @param seed random seed
 * @returns the two index lists
 */
export function splitIndices(
  n: number,
  validPct: number,
  seed: number,
): { train: number[]; valid: number[] } {
  if (!(validPct > 0 && validPct < 1)) throw new Error(`valid fraction must be in (0, 1), got ${validPct}`);
  const order = new Rng(seed).shuffle(Array.from({ length: n }, (_, i) => i));
  const nValid = Math.max(1, Math.round(n * validPct));
  const valid = order.slice(0, nValid).sort((a, b) => a - b);
  const train = order.slice(nValid).sort((a, b) => a - b);
  return { train, valid };
}

/** Language-model batches as tensors for the {@linkcode Learner}. */
export function lmDataLoader(loader: LanguageModelLoader): DataLoader {
  return {
    get length() {
      return loader.length;
    },
    *[Symbol.iterator](): Iterator<Batch> {
      for (const b of loader.batches()) {
        yield {
          x: fromArray(b.x, [b.bs, b.seqLen], { dtype: "i32" }),
          y: fromArray(b.y, [b.bs, b.seqLen], { dtype: "i32" }),
        };
      }
    },
  };
}

/** Classifier batches (padded before the text) as tensors for the {@linkcode Learner}. */
export function clasDataLoader(loader: ClassifierLoader): DataLoader {
  return {
    get length() {
      return loader.length;
    },
    *[Symbol.iterator](): Iterator<Batch> {
      for (const b of loader.batches()) {
        yield {
          x: fromArray(b.data, [b.rows, b.cols], { dtype: "i32" }),
          y: fromArray(b.labels, [b.rows], { dtype: "i32" }),
        };
      }
    },
  };
}

/** Reverse each document (for a backwards model). */
export function reverseDocs(docs: readonly Int32Array[]): Int32Array[] {
  return docs.map((d) => d.slice().reverse());
}

/** Keep at most the first `maxTokens` tokens of each document (0: keep all). */
export function truncateDocs(docs: readonly Int32Array[], maxTokens: number): Int32Array[] {
  return docs.map((d) => (maxTokens > 0 && d.length > maxTokens ? d.slice(0, maxTokens) : d));
}

// ---------------------------------------------------------------------------------------------------------------
// model files

/** Read a model's device tensors into host tensors. */
export async function toHost(tensors: Map<string, Tensor>): Promise<TensorMap> {
  const out: TensorMap = new Map();
  for (const [k, t] of tensors) {
    const data = await t.data();
    out.set(k, { dtype: "f32", shape: [...t.shape], data: Float32Array.from(data as ArrayLike<number>) });
  }
  return out;
}

/** Copy host tensors into a model's device tensors (names and shapes must match exactly). */
export function fromHost(target: Map<string, Tensor>, source: TensorMap, file: string): void {
  for (const [k, t] of target) {
    const h = source.get(k);
    if (!h) throw new Error(`${file}: has no tensor "${k}" — not a model of this kind or size`);
    if (h.shape.join() !== t.shape.join()) {
      throw new Error(`${file}: tensor "${k}" has shape [${h.shape}], the model expects [${t.shape}]`);
    }
  }
  noGrad(() =>
    tidy(() => {
      for (const [k, t] of target) {
        const h = source.get(k)!;
        const src = fromArray(h.data as Float32Array, h.shape, { dtype: "f32", backend: t.backend });
        t.backend.run("copy", [src.view], [t.view], {});
      }
    })
  );
}

/** What a model file says about itself. */
export interface ModelFileInfo {
  /** `lm`, `encoder` or `classifier`. */
  kind: ModelKind;
  /** The AWD-LSTM config (and classifier head settings). */
  config: Record<string, ConfigValue>;
  /** Vocabulary, id order. */
  itos: string[];
  /** Class names (classifiers). */
  classes: string[];
  /** Whether the model reads text backwards. */
  backwards: boolean;
  /** The tensors. */
  tensors: TensorMap;
  /** Raw metadata. */
  metadata: Record<string, string>;
}

/** Read a model file written by {@linkcode saveModel}, checking its kind when `expect` is given. */
export async function readModelFile(path: string, expect?: ModelKind | ModelKind[]): Promise<ModelFileInfo> {
  let file;
  try {
    file = await readSafetensors(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`${path}: no such model file`);
    throw new Error(`${path}: not a denofit model file (${e instanceof Error ? e.message : e})`);
  }
  const m = file.metadata;
  const kind = m["denofit.kind"] as ModelKind | undefined;
  if (!kind || !m[META_ITOS]) {
    throw new Error(`${path}: not a denofit model file (no kind/vocabulary in its metadata)`);
  }
  const want = expect === undefined ? undefined : Array.isArray(expect) ? expect : [expect];
  if (want && !want.includes(kind)) {
    throw new Error(`${path}: holds a ${kind} model, expected ${want.join(" or ")}`);
  }
  return {
    kind,
    config: JSON.parse(m["denofit.config"] ?? "{}"),
    itos: JSON.parse(m[META_ITOS]!),
    classes: m[META_CLASSES] ? JSON.parse(m[META_CLASSES]) : [],
    backwards: m[META_BACKWARDS] === "true",
    tensors: file.tensors,
    metadata: m,
  };
}

/** Save a model atomically with its kind, config, vocabulary (and classes) in the metadata. */
export async function saveModel(
  path: string,
  tensors: Map<string, Tensor>,
  info: {
    kind: ModelKind;
    config: Record<string, ConfigValue>;
    itos: readonly string[];
    classes?: string[];
    backwards?: boolean;
  },
): Promise<void> {
  const extra: Record<string, string> = {
    [META_ITOS]: JSON.stringify(info.itos),
    [META_BACKWARDS]: String(info.backwards ?? false),
  };
  if (info.classes) extra[META_CLASSES] = JSON.stringify(info.classes);
  await saveCheckpoint(path, await toHost(tensors), {
    kind: info.kind,
    config: info.config,
    vocabHash: await hashVocab(info.itos),
    extra,
  });
}

/** The AWD-LSTM fields of a config (drops head settings). */
export function awdConfigOf(c: Record<string, ConfigValue>): Partial<AwdLstmConfig> {
  const out: Record<string, ConfigValue> = {};
  for (const k of Object.keys(AWD_LSTM_LM_CONFIG)) if (k in c) out[k] = c[k]!;
  return out as Partial<AwdLstmConfig>;
}

/** Classifier tensors under stable names (encoder names of `nn/checkpoint`, then `head.*`). */
export function classifierTensors(model: AwdLstmClassifier): Map<string, Tensor> {
  const m = encoderCheckpointTensors(model.encoder);
  for (const [name, t] of model.namedParameters()) {
    if (name.startsWith("1.")) m.set(`head.${name.slice(2)}`, t);
  }
  for (const [name, t] of model.namedBuffers()) if (name.startsWith("1.")) m.set(`head.${name.slice(2)}`, t);
  return m;
}

// ---------------------------------------------------------------------------------------------------------------
// training

/** Common training settings. */
export interface TrainCommon {
  /** Random seed (weights, dropout masks, batch order). @default 42 */
  seed?: number;
  /** Where per-epoch metrics go. */
  log?: MetricsLog;
  /** Progress output (default stdout); `quiet` turns it off. */
  sink?: ProgressSink;
  /** No progress output. @default false */
  quiet?: boolean;
}

/** Options of {@linkcode trainLanguageModel}. */
export interface LmTrainOptions extends TrainCommon {
  /** Vocabulary size. */
  vocabSize: number;
  /** AWD-LSTM overrides on {@linkcode AWD_LSTM_LM_CONFIG} (sizes, dropouts, `dropMult`). */
  model?: AwdLstmOptions;
  /** Batch size (streams). @default 64 */
  bs?: number;
  /** Back-propagation through time. @default 70 */
  bptt?: number;
  /** Peak learning rate of the unfrozen fit. @default 1e-3 */
  lr?: number;
  /** Epochs training only the last layer group (embedding + decoder) first; 0 skips. @default 1 */
  frozenEpochs?: number;
  /** Epochs with everything unfrozen. @default 1 */
  epochs?: number;
  /** Pre-trained weights (our names: `encoder.weight`, `rnns.N.*`, `decoder.*`), already on this vocabulary. */
  pretrained?: TensorMap;
  /** Read the text backwards. @default false */
  backwards?: boolean;
  /** Weight decay. @default 0.01 */
  wd?: number;
}

/**
 * Train (or fine-tune) an AWD-LSTM language model: with `frozenEpochs > 0`, first only the last layer group
 * (embedding + decoder, fastai `freeze()`), at `lr`; then everything with one-cycle at `lr`. AR/TAR, gradient
 * clipping 0.1 and the model resetter as in fastai's `language_model_learner`.
 *
 * @param train numericalized training documents
 * @param valid validation documents
 * @returns the model and its learner
 */
export async function trainLanguageModel(
  train: readonly Int32Array[],
  valid: readonly Int32Array[],
  options: LmTrainOptions,
): Promise<{ model: AwdLstmLM; learn: Learner }> {
  const { seed = 42, bs = 64, bptt = 70, lr = 1e-3, frozenEpochs = 1, epochs = 1, backwards = false } =
    options;
  seedRng(seed);
  const model = new AwdLstmLM(options.vocabSize, options.model ?? {});
  if (options.pretrained) fromHost(model.checkpointTensors(), options.pretrained, "pre-trained weights");
  const trainDl = new LanguageModelLoader(train, { bs, bptt, seed, backwards });
  const validTokens = valid.reduce((n, d) => n + d.length, 0);
  const validDl = validTokens >= 2 * bs
    ? new LanguageModelLoader(valid, { bs, bptt, seed: seed + 1, backwards, randomBptt: false })
    : null;
  if (trainDl.length === 0) {
    throw new Error(
      `language model: the training texts (${trainDl.totalTokens} tokens) are too short for bs ${bs}`,
    );
  }
  const metrics: Metric[] = [accuracyMetric(), perplexityMetric()];
  const learn = new Learner(model, {
    train: lmDataLoader(trainDl),
    ...(validDl && validDl.length > 0 ? { valid: lmDataLoader(validDl) } : {}),
  }, {
    loss: (p, y) => crossEntropyFlat(p, y),
    opt: (groups) => new Adam(groups, { beta1: 0.9, beta2: 0.99, eps: 1e-5 }),
    metrics,
    wd: options.wd ?? 0.01,
    callbacks: [new ModelResetter(), new RNNRegularizer({ alpha: 2, beta: 1 }), new GradientClipping(0.1)],
    ...(options.quiet ? { quiet: true } : {}),
    ...(options.sink ? { sink: options.sink } : {}),
  });
  const dir = backwards ? "bwd" : "fwd";
  if (frozenEpochs > 0) {
    learn.freezeTo(-1);
    if (options.log) learn.addCallback(options.log.callback(`lm-${dir}-last-layer`, { perplexity: true }));
    await learn.fitOneCycle(frozenEpochs, lr, { moms: [0.8, 0.7, 0.8] });
    dropLogCallbacks(learn);
  }
  if (epochs > 0) {
    learn.unfreeze();
    if (options.log) learn.addCallback(options.log.callback(`lm-${dir}-unfrozen`, { perplexity: true }));
    await learn.fitOneCycle(epochs, frozenEpochs > 0 ? lr / 10 : lr, { moms: [0.8, 0.7, 0.8] });
    dropLogCallbacks(learn);
  }
  return { model, learn };
}

function dropLogCallbacks(learn: Learner): void {
  learn.callbacks = learn.callbacks.filter((c) => !(c.name ?? "").startsWith("MetricsLog"));
}

/** Options of {@linkcode trainClassifier}. */
export interface ClasTrainOptions extends TrainCommon {
  /** Vocabulary size. */
  vocabSize: number;
  /** Number of classes. */
  nClass: number;
  /** AWD-LSTM overrides on {@linkcode AWD_LSTM_CLAS_CONFIG} (must match the encoder's sizes). */
  model?: AwdLstmOptions;
  /** The fine-tuned LM's encoder tensors (`encoder.weight`, `rnns.N.*`); without it the encoder starts random. */
  encoder?: TensorMap;
  /** Batch size. @default 64 */
  bs?: number;
  /** Chunk length of the encoder. @default 70 */
  bptt?: number;
  /** Base learning rate (the head's); group k from the end gets `lr / 2.6^k` after unfreezing. @default 2e-2 */
  lr?: number;
  /** Epochs per gradual-unfreezing stage: last group, last two, then all (`[1, 1, 2]`). */
  stages?: readonly number[];
  /** Divisor between the learning rates of neighbouring layer groups. @default 2.6 */
  lrDiv?: number;
  /** Top learning rate of each stage as a multiple of `lr` (fastai book: 2e-2, 1e-2, 1e-3). @default [1, 0.5, 0.1] */
  lrMults?: readonly number[];
  /** Read the text backwards. @default false */
  backwards?: boolean;
  /** Weight decay. @default 0.01 */
  wd?: number;
}

/**
 * Fine-tune the ULMFiT classifier with gradual unfreezing: `freezeTo(-1)` at `lr`, `freezeTo(-2)` at
 * `lr/2` with discriminative rates `lr / 2.6^k`, then all groups at `lr/10` (and `/2.6^k`; `lrMults` changes the
 * three factors), one-cycle each
 * (fastai book recipe: `2e-2`, `slice(1e-2/2.6^4, 1e-2)`, `slice(5e-3/2.6^4, 5e-3)`, `slice(1e-3/2.6^4, 1e-3)`).
 *
 * @param train training documents and labels
 * @param valid validation documents and labels
 * @returns the model and its learner
 */
export async function trainClassifier(
  train: { docs: readonly Int32Array[]; labels: Int32Array },
  valid: { docs: readonly Int32Array[]; labels: Int32Array },
  options: ClasTrainOptions,
): Promise<{ model: AwdLstmClassifier; learn: Learner }> {
  const {
    seed = 42,
    bs = 64,
    bptt = 70,
    lr = 2e-2,
    lrDiv = 2.6,
    backwards = false,
    lrMults = [1, 0.5, 0.1],
  } = options;
  const stages = options.stages ?? [1, 1, 2];
  seedRng(seed);
  const model = new AwdLstmClassifier(options.vocabSize, options.nClass, { ...(options.model ?? {}), bptt });
  if (options.encoder) fromHost(encoderCheckpointTensors(model.encoder), options.encoder, "encoder");
  const tr = backwards ? reverseDocs(train.docs) : train.docs;
  const va = backwards ? reverseDocs(valid.docs) : valid.docs;
  const learn = new Learner(model, {
    train: clasDataLoader(new ClassifierLoader(tr, train.labels, { bs, seed })),
    valid: clasDataLoader(new ClassifierLoader(va, valid.labels, { bs, shuffle: false })),
  }, {
    loss: (p, y) => crossEntropyFlat(p, y),
    opt: (groups) => new Adam(groups, { beta1: 0.9, beta2: 0.99, eps: 1e-5 }),
    metrics: [accuracyMetric()],
    wd: options.wd ?? 0.01,
    callbacks: [new ModelResetter(), new RNNRegularizer({ alpha: 2, beta: 1 }), new GradientClipping(0.1)],
    ...(options.quiet ? { quiet: true } : {}),
    ...(options.sink ? { sink: options.sink } : {}),
  });
  const nGroups = learn.layerGroups().length;
  const disc = (top: number) => Array.from({ length: nGroups }, (_, i) => top / lrDiv ** (nGroups - 1 - i));
  const dir = backwards ? "bwd" : "fwd";
  const plan: { freeze: number; lrs: number | number[]; name: string }[] = [
    { freeze: -1, lrs: lr * (lrMults[0] ?? 1), name: `clas-${dir}-last-layer` },
    { freeze: -2, lrs: disc(lr * (lrMults[1] ?? 0.5)), name: `clas-${dir}-last-2` },
    { freeze: 0, lrs: disc(lr * (lrMults[2] ?? 0.1)), name: `clas-${dir}-unfrozen` },
  ];
  for (let s = 0; s < plan.length; s++) {
    const n = stages[s] ?? 0;
    if (n <= 0) continue;
    const p = plan[s]!;
    learn.freezeTo(p.freeze);
    if (options.log) learn.addCallback(options.log.callback(p.name));
    await learn.fitOneCycle(n, p.lrs, { moms: [0.8, 0.7, 0.8] });
    dropLogCallbacks(learn);
  }
  return { model, learn };
}

/**
 * Class probabilities of documents, `(n, nClass)` row-major, in input order (batches sorted by length).
 *
 * @param model a classifier
 * @param docs numericalized documents (already reversed for a backwards model)
 * @param bs batch size
 */
export async function predictProbs(
  model: AwdLstmClassifier,
  docs: readonly Int32Array[],
  { bs = 64, nClass }: { bs?: number; nClass: number },
): Promise<Float32Array> {
  model.eval();
  const out = new Float32Array(docs.length * nClass);
  const dl = new ClassifierLoader(docs, new Int32Array(docs.length), { bs, shuffle: false });
  for (const b of dl.batches()) {
    const probs = noGrad(() =>
      tidy(() => {
        const x = fromArray(b.data, [b.rows, b.cols], { dtype: "i32" });
        return softmax(model.forward(x).output, -1);
      })
    );
    const data = await probs.data();
    probs.dispose();
    b.indices.forEach((doc, r) => out.set(data.subarray(r * nClass, (r + 1) * nClass), doc * nClass));
  }
  model.reset();
  return out;
}

/** Accuracy of `(n, nClass)` probabilities against labels. */
export function accuracyOf(probs: Float32Array, labels: Int32Array, nClass: number): number {
  let hits = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 1; c < nClass; c++) if (probs[i * nClass + c]! > probs[i * nClass + best]!) best = c;
    if (best === labels[i]) hits++;
  }
  return labels.length === 0 ? NaN : hits / labels.length;
}

/** The AWD-LSTM presets, for defaults in help texts. */
export const PRESETS = { lm: AWD_LSTM_LM_CONFIG, clas: AWD_LSTM_CLAS_CONFIG };

/** Internal use by the CLI: a host tensor from a device tensor's shape and data. */
export type { HostTensor };
