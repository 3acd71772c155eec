/**
 * The ULMFiT recipes behind the `denofit` training commands, each a corpus store in and model files out, run
 * as one {@linkcode runTraining} (outputs checked before any work, metrics per epoch):
 *
 * - {@linkcode trainLanguageModelOnCorpus} (`denofit lm train`): every text of a corpus, a seeded 90/10 split,
 *   an AWD-LSTM language model from scratch or fine-tuned from pre-trained weights (a denofit LM or a fastai
 *   `.pth`, its vocabulary remapped); writes the LM and its encoder;
 * - {@linkcode trainClassifierOnCorpus} (`denofit clas train`): the classifier on a language model's encoder
 *   with gradual unfreezing, forwards and (with a backwards encoder) backwards, and their ensemble;
 * - {@linkcode lrFindOnCorpus} (`denofit lr-find`): the learning-rate finder on a fresh model, plotted.
 *
 * Their messages name the command's flags (`--force`, `--pretrained-vocab`, ...) and the command that fixes a
 * problem.
 *
 * @example Train a tiny language model from a stored corpus
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { buildVocab, ingestCorpus } from "./corpus.ts";
 * import { trainLanguageModelOnCorpus } from "./ulmfit.ts";
 * const dir = await Deno.makeTempDir(), store = `${dir}/c.sqlite`;
 * const words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog"];
 * const texts = Array.from({ length: 40 }, (_, i) => ({ text: words.map((_, k) => words[(i + k * 3) % 8]).join(" ") }));
 * await ingestCorpus(store, "tiny", { source: () => texts, workers: 1 });
 * const vocab = { maxVocab: 100, minFreq: 2, padToMultiple: 0 };
 * await buildVocab(store, "tiny", vocab);
 * const r = await trainLanguageModelOnCorpus({
 *   store, name: "tiny", vocab, out: `${dir}/lm.safetensors`, quiet: true,
 *   model: { embSize: 8, nHid: 8, nLayers: 1 }, bs: 4, bptt: 8, epochs: 1,
 * });
 * strictEqual(r.encoderOut, `${dir}/lm_encoder.safetensors`);
 * await Deno.stat(r.encoderOut);
 * ```
 *
 * @module
 */
import {
  getBackend,
  type Learner,
  type LrFindResult,
  plotLrFind,
  runTraining,
  splitIndices,
  type TensorMap,
  type TrainingRun,
  type TrainingRunOptions,
} from "../nn/mod.ts";
import { loadTrainingCorpus, type TrainingCorpus, type VocabSettings } from "./corpus.ts";
import { countUnknownOnly, reverseDocs, truncateDocs } from "./documents.ts";
import {
  type LabelledDocs,
  languageModelLearner,
  textClassifierLearner,
  trainClassifier,
  trainLanguageModel,
} from "./learner.ts";
import {
  type EncoderFile,
  readEncoderFile,
  saveLanguageModel,
  saveLanguageModelEncoder,
  saveTextClassifier,
} from "./model_file.ts";
import type { AwdLstmClassifier } from "./models/awd_lstm.ts";
import { accuracyOf, predictProbs } from "./predict.ts";
import { pretrainedOnVocab } from "./pretrained.ts";

/** AWD-LSTM sizes (and dropout scale) the commands take. */
export interface ModelSizes {
  /** Embedding size. */
  embSize: number;
  /** Hidden size. */
  nHid: number;
  /** LSTM layers. */
  nLayers: number;
  /** Scales the five dropouts. @default 1 */
  dropMult?: number;
}

/** Settings every recipe on a corpus takes. */
export interface CorpusTrainOptions {
  /** The corpus store file. */
  store: string;
  /** Corpus name. */
  name: string;
  /** The vocabulary's parameters (it must have been built). */
  vocab: VocabSettings;
  /** Keep at most this many tokens of each document (0: all). @default 0 */
  maxTokens?: number;
  /** Random seed (weights, dropout, batch order, splits). @default 42 */
  seed?: number;
  /** Append one JSON line per epoch here. */
  metrics?: string;
  /** Overwrite existing outputs. @default false */
  force?: boolean;
  /** No progress bars or tables. @default false */
  quiet?: boolean;
  /** Batch size. @default 64 */
  bs?: number;
  /** Back-propagation through time. @default 70 */
  bptt?: number;
  /** Weight decay. @default 0.01 */
  wd?: number;
  /** Progress notes (the CLI prints them on stderr). */
  onNote?: (line: string) => void;
  /** Continue the run interrupted (Ctrl-C) into this training checkpoint (same options otherwise). */
  resume?: string;
  /** Where a Ctrl-C writes the training checkpoint. @default `<out>.resume.safetensors` */
  checkpoint?: string;
  /** Stop at this many non-finite training losses. @default 1 */
  maxNonFinite?: number;
  /** Interrupt handling of the run (`TrainingRunOptions.interrupt`). @default true */
  interrupt?: TrainingRunOptions["interrupt"];
}

/** Options of {@linkcode trainLanguageModelOnCorpus}. */
export interface LmCorpusOptions extends CorpusTrainOptions {
  /** The language model file. */
  out: string;
  /** The encoder file. @default `<out>_encoder.safetensors` */
  encoderOut?: string;
  /** Start from this LM: a denofit `.safetensors` or a fastai `.pth` (its sizes replace `model`'s). */
  pretrained?: string;
  /** The vocabulary of a `.pth`. */
  pretrainedVocab?: string;
  /** Sizes without `pretrained`, and the dropout scale. */
  model: ModelSizes;
  /** Peak learning rate. @default 1e-3 */
  lr?: number;
  /** With `pretrained`: epochs training only the last layer group first. @default 1 */
  frozenEpochs?: number;
  /** Epochs with every layer training. @default 1 */
  epochs?: number;
  /** Validation fraction of the texts. @default 0.1 */
  validPct?: number;
  /** Read the texts backwards. @default false */
  backwards?: boolean;
}

/** What {@linkcode trainLanguageModelOnCorpus} wrote and measured. */
export interface LmCorpusResult {
  /** The language model file. */
  out: string;
  /** The encoder file. */
  encoderOut: string;
  /** Next-word accuracy on the validation texts after the last epoch (null: no epoch or no validation). */
  accuracy: number | null;
  /** Validation perplexity after the last epoch. */
  perplexity: number | undefined;
}

function withSuffix(path: string, suffix: string): string {
  return path.replace(/(\.safetensors)?$/, `${suffix}.safetensors`);
}

async function corpusDocs(o: CorpusTrainOptions): Promise<TrainingCorpus & { ids: Int32Array[] }> {
  const corpus = await loadTrainingCorpus(o.store, o.name, o.vocab);
  return { ...corpus, ids: truncateDocs(corpus.docs.map((d) => d.ids), o.maxTokens ?? 0) };
}

function runOptions(o: CorpusTrainOptions, outputs: string[]): TrainingRunOptions {
  return {
    outputs,
    seed: o.seed ?? 42,
    ...(o.force ? { force: true } : {}),
    ...(o.metrics ? { metrics: o.metrics } : {}),
    ...(o.resume !== undefined ? { resume: o.resume } : {}),
    ...(o.checkpoint !== undefined ? { checkpoint: o.checkpoint } : {}),
    ...(o.maxNonFinite !== undefined ? { maxNonFinite: o.maxNonFinite } : {}),
    ...(o.interrupt !== undefined ? { interrupt: o.interrupt } : {}),
    ...(o.onNote ? { log: o.onNote } : {}),
  };
}

/** The language model's data: texts split, sizes fixed, pre-trained weights on this vocabulary. */
interface LmData {
  itos: string[];
  train: Int32Array[];
  valid: Int32Array[];
  sizes: { embSize: number; nHid: number; nLayers: number };
  pretrained?: TensorMap;
}

async function lmData(o: LmCorpusOptions, note: (line: string) => void): Promise<LmData> {
  const { itos, ids } = await corpusDocs(o);
  if (countUnknownOnly(ids) === ids.length) {
    throw new Error(`corpus "${o.name}": every text is made only of unknown tokens; lower --min-freq`);
  }
  let sizes = { embSize: o.model.embSize, nHid: o.model.nHid, nLayers: o.model.nLayers };
  let pretrained: TensorMap | undefined;
  if (o.pretrained) {
    const vocab = o.pretrainedVocab ? { vocabFile: o.pretrainedVocab } : {};
    const p = await pretrainedOnVocab(o.pretrained, itos, vocab);
    note(`pre-trained ${o.pretrained}: ${p.matched} of ${itos.length} words found`);
    sizes = p.sizes;
    pretrained = p.tensors;
  }
  const split = splitIndices(ids.length, o.validPct ?? 0.1, o.seed ?? 42);
  note(
    `lm train: ${ids.length} texts (${split.train.length} train / ${split.valid.length} valid), vocab ${itos.length}, ` +
      `emb ${sizes.embSize}, hid ${sizes.nHid}, ${sizes.nLayers} layer${sizes.nLayers === 1 ? "" : "s"}, ` +
      `backend ${getBackend().name}`,
  );
  const train = split.train.map((i) => ids[i]!), valid = split.valid.map((i) => ids[i]!);
  return { itos, train, valid, sizes, ...(pretrained ? { pretrained } : {}) };
}

/**
 * `denofit lm train`: a language model on every text of a stored corpus (labelled or not), a seeded split;
 * from scratch, or fine-tuned from `pretrained` (last layer group first, then unfrozen); saves the LM and its
 * encoder.
 *
 * @param o corpus, outputs, model, schedule
 * @returns the files and the final validation scores
 */
export function trainLanguageModelOnCorpus(o: LmCorpusOptions): Promise<LmCorpusResult> {
  const encoderOut = o.encoderOut ?? withSuffix(o.out, "_encoder");
  return runTraining(runOptions(o, [o.out, encoderOut]), async (run) => {
    const { itos, train, valid, sizes, pretrained } = await lmData(o, o.onNote ?? (() => {}));
    const backwards = o.backwards ?? false;
    const { model } = await trainLanguageModel(train, valid, {
      vocabSize: itos.length,
      model: { ...sizes, dropMult: o.model.dropMult ?? 1 },
      bs: o.bs ?? 64,
      bptt: o.bptt ?? 70,
      lr: o.lr ?? 1e-3,
      frozenEpochs: pretrained ? o.frozenEpochs ?? 1 : 0,
      epochs: o.epochs ?? 1,
      seed: run.seed,
      wd: o.wd ?? 0.01,
      backwards,
      run,
      ...(pretrained ? { pretrained } : {}),
      ...(o.quiet ? { quiet: true } : {}),
    });
    await run.save({
      [o.out]: (p, unit) => saveLanguageModel(model, p, { itos, backwards, unit }),
      [encoderOut]: (p, unit) => saveLanguageModelEncoder(model, p, { itos, backwards, unit }),
    });
    const last = run.log.records.at(-1);
    return { out: o.out, encoderOut, accuracy: last?.accuracy ?? null, perplexity: last?.perplexity };
  });
}

/** Options of {@linkcode trainClassifierOnCorpus}. */
export interface ClasCorpusOptions extends CorpusTrainOptions {
  /** The classifier file. */
  out: string;
  /** The backwards classifier file. @default `<out>_bwd.safetensors` */
  bwdOut?: string;
  /** Encoder (or LM) from `lm train` on this corpus and vocabulary; without it the encoder starts random. */
  encoder?: string;
  /** Backwards encoder: also train the backwards model and the ensemble. */
  bwdEncoder?: string;
  /** Sizes without an encoder (an encoder's sizes win), and the dropout scale. */
  model: ModelSizes;
  /** Learning rate of the first stage; later stages lr/2 and lr/10 with lr/2.6^k. @default 2e-2 */
  lr?: number;
  /** Epochs of the three unfreezing stages. @default [1, 1, 2] */
  stages?: readonly number[];
  /** Hears each model's validation accuracy as soon as it is saved. */
  onTrained?: (r: { backwards: boolean; path: string; accuracy: number; split: string }) => void;
}

/** What {@linkcode trainClassifierOnCorpus} measured on the validation split. */
export interface ClasCorpusResult {
  /** The validation split's name (`valid`, `test` or `dev`). */
  split: string;
  /** Forwards accuracy. */
  fwd: number;
  /** Backwards accuracy. */
  bwd?: number;
  /** Accuracy of the mean of both models' probabilities. */
  ensemble?: number;
}

interface ClasData {
  classes: string[];
  split: string;
  train: LabelledDocs;
  valid: LabelledDocs;
}

function classifierData(o: ClasCorpusOptions, corpus: TrainingCorpus & { ids: Int32Array[] }): ClasData {
  const labelled = corpus.docs.map((d, i) => [d, i] as const).filter(([d]) => d.label !== undefined);
  const classes = [...new Set(labelled.map(([d]) => d.label!))].sort();
  if (classes.length < 2) {
    throw new Error(
      classes.length === 0
        ? `corpus "${o.name}" has no labels; ingest it with labels (corpus ingest --clas)`
        : `corpus "${o.name}": the label column has a single class ("${classes[0]}"); a classifier needs two`,
    );
  }
  const splits = new Set(labelled.map(([d]) => d.split));
  const split = ["valid", "test", "dev"].find((s) => splits.has(s));
  if (!splits.has("train") || !split) {
    throw new Error(
      `corpus "${o.name}": needs "train" and "valid" (or "test") splits, has ${[...splits].join(", ")}; ` +
        "ingest with --clas to make a validation split",
    );
  }
  const part = (name: string): LabelledDocs => {
    const sel = labelled.filter(([d]) => d.split === name);
    return {
      docs: sel.map(([, i]) => corpus.ids[i]!),
      labels: Int32Array.from(sel, ([d]) => classes.indexOf(d.label!)),
    };
  };
  const train = part("train");
  if (countUnknownOnly(train.docs) === train.docs.length) {
    throw new Error(`corpus "${o.name}": every training text is made only of unknown tokens`);
  }
  return { classes, split, train, valid: part(split) };
}

/** One direction of the classifier: trained, scored on the validation split, saved. */
async function trainDirection(
  o: ClasCorpusOptions,
  ctx: { run: TrainingRun; itos: string[]; data: ClasData; encoder: EncoderFile | undefined },
  backwards: boolean,
  out: string,
): Promise<Float32Array> {
  const { run, itos, encoder } = ctx, { classes, split, train, valid } = ctx.data;
  const note = o.onNote ?? (() => {});
  if (!encoder) {
    note("clas train: no --encoder given: the encoder starts from random weights (no ULMFiT transfer)");
  }
  note(
    `clas train (${backwards ? "backwards" : "forwards"}): ${train.docs.length} train / ` +
      `${valid.docs.length} ${split} documents, classes ${classes.join(", ")}`,
  );
  const sizes = encoder?.sizes ?? { embSize: o.model.embSize, nHid: o.model.nHid, nLayers: o.model.nLayers };
  const bs = o.bs ?? 64;
  const { model } = await trainClassifier(train, valid, {
    vocabSize: itos.length,
    nClass: classes.length,
    model: { ...sizes, dropMult: o.model.dropMult ?? 1 },
    bs,
    bptt: o.bptt ?? 70,
    lr: o.lr ?? 2e-2,
    stages: o.stages ?? [1, 1, 2],
    seed: run.seed,
    wd: o.wd ?? 0.01,
    backwards,
    run,
    ...(encoder ? { encoder: encoder.tensors } : {}),
    ...(o.quiet ? { quiet: true } : {}),
  });
  const probs = await validProbs(model, valid.docs, backwards, classes.length, bs);
  await run.save({ [out]: (p, unit) => saveTextClassifier(model, p, { itos, classes, backwards, unit }) });
  o.onTrained?.({ backwards, path: out, accuracy: accuracyOf(probs, valid.labels, classes.length), split });
  return probs;
}

/**
 * `denofit clas train`: the classifier (forwards, and backwards when `bwdEncoder` is given) on the corpus's
 * train split, each scored on the validation split, and the ensemble's accuracy.
 *
 * @param o corpus, encoders, outputs, model, schedule
 * @returns the accuracies
 */
export function trainClassifierOnCorpus(o: ClasCorpusOptions): Promise<ClasCorpusResult> {
  const bwdOut = o.bwdOut ?? withSuffix(o.out, "_bwd");
  return runTraining(runOptions(o, o.bwdEncoder ? [o.out, bwdOut] : [o.out]), async (run) => {
    const corpus = await corpusDocs(o);
    const { itos } = corpus;
    const data = classifierData(o, corpus);
    const { labels } = data.valid, n = data.classes.length;
    // check both encoders before training anything
    const fwdEnc = o.encoder ? await readEncoderFile(o.encoder, { itos, backwards: false }) : undefined;
    const bwdEnc = o.bwdEncoder ? await readEncoderFile(o.bwdEncoder, { itos, backwards: true }) : undefined;
    const pf = await trainDirection(o, { run, itos, data, encoder: fwdEnc }, false, o.out);
    const result: ClasCorpusResult = { split: data.split, fwd: accuracyOf(pf, labels, n) };
    if (bwdEnc) {
      const pb = await trainDirection(o, { run, itos, data, encoder: bwdEnc }, true, bwdOut);
      result.bwd = accuracyOf(pb, labels, n);
      result.ensemble = accuracyOf(pf.map((v, i) => (v + pb[i]!) / 2), labels, n);
    }
    return result;
  });
}

function validProbs(
  model: AwdLstmClassifier,
  docs: readonly Int32Array[],
  backwards: boolean,
  nClass: number,
  bs: number,
): Promise<Float32Array> {
  return predictProbs(model, backwards ? reverseDocs(docs) : docs, { nClass, bs });
}

/** Options of {@linkcode lrFindOnCorpus}. */
export interface LrFindCorpusOptions extends CorpusTrainOptions {
  /** Which model: a language model or a classifier. */
  stage: "lm" | "clas";
  /** The SVG plot of loss against learning rate. */
  plot: string;
  /** Steps of the sweep. @default 100 */
  iters?: number;
  /** Sizes of the fresh model. */
  model: ModelSizes;
}

/**
 * `denofit lr-find`: the learning-rate finder on a fresh model (nothing is trained or saved but the plot).
 *
 * @param o corpus, model, plot file
 * @returns the sweep and its suggestion
 */
export function lrFindOnCorpus(o: LrFindCorpusOptions): Promise<LrFindResult> {
  return runTraining(runOptions(o, [o.plot]), async (run) => {
    const { itos, docs, ids } = await corpusDocs(o);
    const seed = run.seed;
    const model = { embSize: o.model.embSize, nHid: o.model.nHid, nLayers: o.model.nLayers };
    const common = { vocabSize: itos.length, model, bs: o.bs ?? 64, bptt: o.bptt ?? 70, seed, quiet: true };
    let learn: Learner;
    if (o.stage === "lm") {
      const s = splitIndices(ids.length, 0.1, seed);
      learn = languageModelLearner(s.train.map((i) => ids[i]!), [], common);
    } else {
      const lab = docs.map((d, i) => [d, i] as const).filter(([d]) => d.label !== undefined);
      const classes = [...new Set(lab.map(([d]) => d.label!))].sort();
      if (classes.length < 2) throw new Error(`corpus "${o.name}": a classifier needs two classes at least`);
      const data = {
        docs: lab.map(([, i]) => ids[i]!),
        labels: Int32Array.from(lab, ([d]) => classes.indexOf(d.label!)),
      };
      learn = textClassifierLearner(data, data, { ...common, nClass: classes.length });
    }
    const r = await learn.lrFind({ numIt: o.iters ?? 100 });
    await run.save({ [o.plot]: (p) => plotLrFind(p, r) });
    return r;
  });
}
