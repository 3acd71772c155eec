/**
 * The ULMFiT learners and training plans, like fastai's `text/learner.py`:
 *
 * - {@linkcode languageModelLearner}: an AWD-LSTM language model (optionally starting from pre-trained weights)
 *   on a language-model stream, with fastai's callbacks (model resetter, AR/TAR, gradient clipping), accuracy
 *   and perplexity;
 * - {@linkcode textClassifierLearner}: the ULMFiT classifier on sortish batches padded before the text,
 *   optionally starting from a fine-tuned language model's encoder;
 * - the plans as data ({@linkcode FitStage} lists): {@linkcode languageModelStages} (the last layer group first,
 *   then everything) and {@linkcode classifierStages} (gradual unfreezing with discriminative learning rates
 *   `lr / 2.6^k`);
 * - {@linkcode trainLanguageModel} / {@linkcode trainClassifier}: a learner plus its plan, run by a
 *   {@linkcode TrainingRun} (which records the metrics and is where reliability features live).
 *
 * Model files (save/load with the encoder) are `model_file.ts`; prediction is `predict.ts`; the recipes behind
 * the `denofit` commands (a corpus store in, model files out) are `ulmfit.ts`.
 *
 * @example The classifier plan: last group, last two, all (discriminative rates)
 * ```ts
 * import { classifierStages } from "./learner.ts";
 * const plan = classifierStages(5, { lr: 2e-2, stages: [1, 1, 2] });
 * if (plan.map((s) => `${s.name}:${s.epochs}`).join(" ") !== "clas-fwd-last-layer:1 clas-fwd-last-2:1 clas-fwd-unfrozen:2") {
 *   throw new Error("bad plan");
 * }
 * ```
 *
 * @module
 */
import {
  accuracyMetric,
  Adam,
  classifierDataLoader,
  copyHostIntoTensors,
  crossEntropyFlat,
  type FitStage,
  GradientClipping,
  Learner,
  type LearnerOptions,
  lmDataLoader,
  type Metric,
  ModelResetter,
  perplexityMetric,
  type ProgressSink,
  RNNRegularizer,
  type TensorMap,
  TrainingRun,
} from "../nn/mod.ts";
import { seed as seedRng } from "../gpu/rng.ts";
import { LanguageModelLoader } from "./lm_loader.ts";
import { ClassifierLoader } from "./clas_loader.ts";
import { AwdLstmClassifier, type AwdLstmConfig, AwdLstmLM, type AwdLstmOptions } from "./models/awd_lstm.ts";
import { reverseDocs } from "./documents.ts";

/** Settings both text learners take. */
export interface TextLearnerOptions {
  /** Vocabulary size. */
  vocabSize: number;
  /** AWD-LSTM overrides on the preset (sizes, dropouts, `dropMult`, or another `base` preset). */
  model?: AwdLstmOptions & { base?: Readonly<AwdLstmConfig> };
  /** Random seed (weights, dropout masks, batch order). @default 42 */
  seed?: number;
  /** Batch size. @default 64 */
  bs?: number;
  /** Back-propagation through time (LM sequence length; classifier chunk length). @default 70 */
  bptt?: number;
  /** Read the texts backwards. @default false */
  backwards?: boolean;
  /** Weight decay. @default 0.01 */
  wd?: number;
  /** Optimizer factory. @default Adam, betas (0.9, 0.99), eps 1e-5 (fastai) */
  opt?: LearnerOptions["opt"];
  /** Gradient clipping (global norm). @default 0.1 */
  clip?: number;
  /** Progress output (default stdout). */
  sink?: ProgressSink;
  /** No progress output. @default false */
  quiet?: boolean;
}

function learnerOptions(o: TextLearnerOptions, metrics: Metric[]): LearnerOptions {
  return {
    loss: (p, y) => crossEntropyFlat(p, y),
    opt: o.opt ?? ((groups) => new Adam(groups, { beta1: 0.9, beta2: 0.99, eps: 1e-5 })),
    metrics,
    wd: o.wd ?? 0.01,
    callbacks: [
      new ModelResetter(),
      new RNNRegularizer({ alpha: 2, beta: 1 }),
      new GradientClipping(o.clip ?? 0.1),
    ],
    ...(o.quiet ? { quiet: true } : {}),
    ...(o.sink ? { sink: o.sink } : {}),
  };
}

/** Options of {@linkcode languageModelLearner}. */
export interface LanguageModelLearnerOptions extends TextLearnerOptions {
  /** Pre-trained weights under the model's `stateDict()` names, already on this vocabulary. */
  pretrained?: TensorMap;
}

/** A {@linkcode Learner} of an AWD-LSTM language model. */
export type LanguageModelLearner = Learner & { readonly model: AwdLstmLM };

/**
 * An AWD-LSTM language model learner (fastai `language_model_learner`): the documents concatenated into `bs`
 * streams (random bptt for training), cross-entropy over every position, AR/TAR, gradient clipping, the model
 * resetter, accuracy and perplexity. Validation runs only when the validation texts fill two batches.
 *
 * @param train numericalized training documents
 * @param valid validation documents
 * @param options vocabulary size, model, batches, seed, pre-trained weights
 * @returns the learner (its `model` is the {@linkcode AwdLstmLM})
 */
export function languageModelLearner(
  train: readonly Int32Array[],
  valid: readonly Int32Array[],
  options: LanguageModelLearnerOptions,
): LanguageModelLearner {
  const { seed = 42, bs = 64, bptt = 70, backwards = false } = options;
  seedRng(seed);
  const model = new AwdLstmLM(options.vocabSize, options.model ?? {});
  if (options.pretrained) {
    copyHostIntoTensors(model.stateDict(), options.pretrained, {
      file: "pre-trained weights",
      allowUnexpected: true,
    });
  }
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
  const data = {
    train: lmDataLoader(trainDl),
    ...(validDl && validDl.length > 0 ? { valid: lmDataLoader(validDl) } : {}),
  };
  return new Learner(
    model,
    data,
    learnerOptions(options, [accuracyMetric(), perplexityMetric()]),
  ) as LanguageModelLearner;
}

/** Documents with their class ids. */
export interface LabelledDocs {
  /** Numericalized documents. */
  docs: readonly Int32Array[];
  /** One class id per document. */
  labels: Int32Array;
}

/** Options of {@linkcode textClassifierLearner}. */
export interface TextClassifierLearnerOptions extends TextLearnerOptions {
  /** Number of classes. */
  nClass: number;
  /** A fine-tuned LM's encoder tensors (`encoder.weight`, `rnns.N.*`); without it the encoder starts random. */
  encoder?: TensorMap;
}

/** A {@linkcode Learner} of a ULMFiT text classifier. */
export type TextClassifierLearner = Learner & { readonly model: AwdLstmClassifier };

/**
 * A ULMFiT classifier learner (fastai `text_classifier_learner`): sortish training batches and length-sorted
 * validation batches padded before the text, the encoder read in `bptt` chunks, masked concat pooling, the
 * head; AR/TAR, gradient clipping, the model resetter and accuracy. `backwards` reverses the texts here.
 *
 * @param train training documents and labels
 * @param valid validation documents and labels
 * @param options vocabulary size, classes, model, batches, seed, encoder
 * @returns the learner (its `model` is the {@linkcode AwdLstmClassifier})
 */
export function textClassifierLearner(
  train: LabelledDocs,
  valid: LabelledDocs,
  options: TextClassifierLearnerOptions,
): TextClassifierLearner {
  const { seed = 42, bs = 64, bptt = 70, backwards = false } = options;
  seedRng(seed);
  const model = new AwdLstmClassifier(options.vocabSize, options.nClass, { ...(options.model ?? {}), bptt });
  if (options.encoder) {
    copyHostIntoTensors(model.encoder.stateDict(), options.encoder, {
      file: "encoder",
      allowUnexpected: true,
    });
  }
  const tr = backwards ? reverseDocs(train.docs) : train.docs;
  const va = backwards ? reverseDocs(valid.docs) : valid.docs;
  const data = {
    train: classifierDataLoader(new ClassifierLoader(tr, train.labels, { bs, seed })),
    valid: classifierDataLoader(new ClassifierLoader(va, valid.labels, { bs, shuffle: false })),
  };
  return new Learner(model, data, learnerOptions(options, [accuracyMetric()])) as TextClassifierLearner;
}

/** Options of {@linkcode languageModelStages}. */
export interface LanguageModelStageOptions {
  /** Peak learning rate (the unfrozen stage uses `lr / 10` after a frozen one). @default 1e-3 */
  lr?: number;
  /** Epochs training only the last layer group (embedding + decoder) first; 0 skips. @default 1 */
  frozenEpochs?: number;
  /** Epochs with everything unfrozen. @default 1 */
  epochs?: number;
  /** Names the stages `lm-bwd-*`. @default false */
  backwards?: boolean;
}

/**
 * The language-model plan: with `frozenEpochs > 0`, first only the last layer group (fastai `freeze()`) at
 * `lr`, then everything at `lr / 10` (at `lr` when there was no frozen stage); one-cycle with the text
 * momentums (0.8, 0.7, 0.8).
 *
 * @param options learning rate and epochs
 * @returns the stages
 */
export function languageModelStages(options: LanguageModelStageOptions = {}): FitStage[] {
  const { lr = 1e-3, frozenEpochs = 1, epochs = 1, backwards = false } = options;
  const dir = backwards ? "bwd" : "fwd";
  const schedule = { kind: "one-cycle", moms: [0.8, 0.7, 0.8] } as const;
  return [
    { name: `lm-${dir}-last-layer`, epochs: frozenEpochs, freezeTo: -1, lr, schedule, perplexity: true },
    {
      name: `lm-${dir}-unfrozen`,
      epochs,
      freezeTo: 0,
      lr: frozenEpochs > 0 ? lr / 10 : lr,
      schedule,
      perplexity: true,
    },
  ];
}

/** Options of {@linkcode classifierStages}. */
export interface ClassifierStageOptions {
  /** Base learning rate (the head's in the first stage). @default 2e-2 */
  lr?: number;
  /** Epochs of the three stages: last group, last two, all. @default [1, 1, 2] */
  stages?: readonly number[];
  /** Divisor between the learning rates of neighbouring layer groups. @default 2.6 */
  lrDiv?: number;
  /** Top learning rate of each stage as a multiple of `lr` (fastai book: 2e-2, 1e-2, 1e-3). @default [1, 0.5, 0.1] */
  lrMults?: readonly number[];
  /** Names the stages `clas-bwd-*`. @default false */
  backwards?: boolean;
}

/**
 * The classifier's gradual unfreezing: `freezeTo(-1)` at `lr`, `freezeTo(-2)` at `lr/2` with discriminative
 * rates `lr / 2.6^k`, then all groups at `lr/10` (and `/2.6^k`; `lrMults` changes the three factors), one-cycle
 * each (fastai book recipe: `2e-2`, `slice(1e-2/2.6^4, 1e-2)`, `slice(5e-3/2.6^4, 5e-3)`,
 * `slice(1e-3/2.6^4, 1e-3)`).
 *
 * @param nGroups the model's layer groups (5 for the AWD-LSTM classifier)
 * @param options learning rates and epochs
 * @returns the stages
 */
export function classifierStages(nGroups: number, options: ClassifierStageOptions = {}): FitStage[] {
  const { lr = 2e-2, lrDiv = 2.6, lrMults = [1, 0.5, 0.1], backwards = false } = options;
  const epochs = options.stages ?? [1, 1, 2];
  const disc = (top: number) => Array.from({ length: nGroups }, (_, i) => top / lrDiv ** (nGroups - 1 - i));
  const dir = backwards ? "bwd" : "fwd";
  const schedule = { kind: "one-cycle", moms: [0.8, 0.7, 0.8] } as const;
  return [
    { name: `clas-${dir}-last-layer`, freezeTo: -1, lr: lr * (lrMults[0] ?? 1) },
    { name: `clas-${dir}-last-2`, freezeTo: -2, lr: disc(lr * (lrMults[1] ?? 0.5)) },
    { name: `clas-${dir}-unfrozen`, freezeTo: 0, lr: disc(lr * (lrMults[2] ?? 0.1)) },
  ].map((s, i) => ({ ...s, epochs: epochs[i] ?? 0, schedule }));
}

/** Options of {@linkcode trainLanguageModel}. */
export interface LmTrainOptions extends LanguageModelLearnerOptions, LanguageModelStageOptions {
  /** The run that fits the plan and records the metrics. @default a fresh one */
  run?: TrainingRun;
}

/**
 * Train (or fine-tune) an AWD-LSTM language model: {@linkcode languageModelLearner} and the
 * {@linkcode languageModelStages} plan, run by `options.run`.
 *
 * @param train numericalized training documents
 * @param valid validation documents
 * @param options learner, plan and run
 * @returns the model and its learner
 */
export async function trainLanguageModel(
  train: readonly Int32Array[],
  valid: readonly Int32Array[],
  options: LmTrainOptions,
): Promise<{ model: AwdLstmLM; learn: LanguageModelLearner }> {
  const learn = languageModelLearner(train, valid, options);
  await (options.run ?? new TrainingRun()).fit(learn, languageModelStages(options));
  return { model: learn.model, learn };
}

/** Options of {@linkcode trainClassifier}. */
export interface ClasTrainOptions extends TextClassifierLearnerOptions, ClassifierStageOptions {
  /** The run that fits the plan and records the metrics. @default a fresh one */
  run?: TrainingRun;
}

/**
 * Fine-tune the ULMFiT classifier: {@linkcode textClassifierLearner} and the {@linkcode classifierStages}
 * plan, run by `options.run`.
 *
 * @param train training documents and labels
 * @param valid validation documents and labels
 * @param options learner, plan and run
 * @returns the model and its learner
 */
export async function trainClassifier(
  train: LabelledDocs,
  valid: LabelledDocs,
  options: ClasTrainOptions,
): Promise<{ model: AwdLstmClassifier; learn: TextClassifierLearner }> {
  const learn = textClassifierLearner(train, valid, options);
  const stages = classifierStages(learn.layerGroups().length, options);
  await (options.run ?? new TrainingRun()).fit(learn, stages);
  return { model: learn.model, learn };
}
