/**
 * `denofit clas train` (the ULMFiT classifier on a fine-tuned encoder: gradual unfreezing, discriminative
 * learning rates, forward and backwards models and their ensemble) and `denofit clas predict`.
 *
 * @example Help of predict mentions JSON output
 * ```ts
 * import { clasCommand } from "./clas.ts";
 * const help = clasCommand().commands.find((c) => c.name() === "predict")!.helpInformation();
 * if (!help.includes("--json")) throw new Error(help);
 * ```
 *
 * @module
 */
import { Command } from "./_deps.ts";
import { hashVocab } from "../nn/checkpoint/metadata.ts";
import type { TensorMap } from "../nn/formats/tensor_map.ts";
import { AwdLstmClassifier } from "../text/models/awd_lstm.ts";
import { tokenizeDocument } from "../text/word_tokenizer.ts";
import { UNK } from "../text/special_tokens.ts";
import {
  CliError,
  guardOutput,
  intArg,
  intListArg,
  note,
  numArg,
  readStdin,
  selectBackend,
} from "./_common.ts";
import { addCommonTrainOptions, countUnknownOnly, loadCorpus, type VocabFlags } from "./_data.ts";
import {
  accuracyOf,
  awdConfigOf,
  classifierTensors,
  fromHost,
  MetricsLog,
  predictProbs,
  readModelFile,
  reverseDocs,
  saveModel,
  trainClassifier,
  truncateDocs,
} from "./ulmfit.ts";

/** Options of `clas train`. */
export interface ClasTrainCliOptions extends VocabFlags {
  store: string;
  name: string;
  encoder?: string;
  bwdEncoder?: string;
  out: string;
  bwdOut?: string;
  dropMult: number;
  bs: number;
  bptt: number;
  lr: number;
  stages: number[];
  maxTokens: number;
  seed: number;
  metrics?: string;
  quiet?: boolean;
  backend: string;
  wd: number;
  force?: boolean;
  emb: number;
  hid: number;
  layers: number;
}

/** The encoder file's tensors and sizes, checked against the corpus vocabulary. */
async function encoderFor(path: string, itos: string[], backwards: boolean): Promise<{
  tensors: TensorMap;
  sizes: { embSize: number; nHid: number; nLayers: number };
}> {
  const f = await readModelFile(path, ["encoder", "lm"]);
  if ((await hashVocab(f.itos)) !== (await hashVocab(itos))) {
    throw new CliError(
      `${path}: its vocabulary (${f.itos.length} tokens) is not the corpus vocabulary (${itos.length} tokens); ` +
        "train the language model on this corpus and vocabulary (mismatched vocab)",
    );
  }
  if (f.backwards !== backwards) {
    throw new CliError(
      `${path}: a ${f.backwards ? "backwards" : "forwards"} encoder given for the ${
        backwards ? "backwards" : "forwards"
      } model`,
    );
  }
  const c = awdConfigOf(f.config);
  return {
    tensors: f.tensors,
    sizes: { embSize: c.embSize!, nHid: c.nHid!, nLayers: c.nLayers! },
  };
}

/**
 * Train the classifier (forward, and backwards when `bwdEncoder` is given) and report each accuracy and the
 * ensemble's on the validation split.
 *
 * @param o parsed options
 * @returns accuracies
 */
export async function clasTrain(
  o: ClasTrainCliOptions,
): Promise<{ fwd: number; bwd?: number; ensemble?: number }> {
  const bwdOut = o.bwdOut ?? o.out.replace(/(\.safetensors)?$/, "_bwd.safetensors");
  await guardOutput(o.out, o.force ?? false);
  if (o.bwdEncoder) await guardOutput(bwdOut, o.force ?? false);
  await selectBackend(o.backend);
  const { itos, docs } = await loadCorpus(o.store, o.name, o);
  const labelled = docs.filter((d) => d.label !== undefined);
  const classes = [...new Set(labelled.map((d) => d.label!))].sort();
  if (classes.length < 2) {
    throw new CliError(
      classes.length === 0
        ? `corpus "${o.name}" has no labels; ingest it with labels (corpus ingest --clas)`
        : `corpus "${o.name}": the label column has a single class ("${classes[0]}"); a classifier needs two`,
    );
  }
  const splits = new Set(labelled.map((d) => d.split));
  const validName = ["valid", "test", "dev"].find((s) => splits.has(s));
  if (!splits.has("train") || !validName) {
    throw new CliError(
      `corpus "${o.name}": needs "train" and "valid" (or "test") splits, has ${[...splits].join(", ")}; ` +
        "ingest with --clas to make a validation split",
    );
  }
  const part = (split: string) => {
    const sel = labelled.filter((d) => d.split === split);
    return {
      docs: truncateDocs(sel.map((d) => d.ids), o.maxTokens),
      labels: Int32Array.from(sel, (d) => classes.indexOf(d.label!)),
    };
  };
  const train = part("train"), valid = part(validName);
  if (countUnknownOnly(train.docs) === train.docs.length) {
    throw new CliError(`corpus "${o.name}": every training text is made only of unknown tokens`);
  }
  const log = new MetricsLog(o.metrics);
  // check both encoders before training anything
  const fwdEnc = o.encoder ? await encoderFor(o.encoder, itos, false) : undefined;
  const bwdEnc = o.bwdEncoder ? await encoderFor(o.bwdEncoder, itos, true) : undefined;
  const run = async (
    e: Awaited<ReturnType<typeof encoderFor>> | undefined,
    backwards: boolean,
    out: string,
  ) => {
    let sizes = { embSize: o.emb, nHid: o.hid, nLayers: o.layers };
    let encoder: TensorMap | undefined;
    if (e) {
      sizes = e.sizes;
      encoder = e.tensors;
    } else {
      note("clas train: no --encoder given: the encoder starts from random weights (no ULMFiT transfer)");
    }
    note(
      `clas train (${
        backwards ? "backwards" : "forwards"
      }): ${train.docs.length} train / ${valid.docs.length} ` +
        `${validName} documents, classes ${classes.join(", ")}`,
    );
    const { model } = await trainClassifier(train, valid, {
      vocabSize: itos.length,
      nClass: classes.length,
      model: { ...sizes, dropMult: o.dropMult },
      bs: o.bs,
      bptt: o.bptt,
      lr: o.lr,
      stages: o.stages,
      seed: o.seed,
      wd: o.wd,
      backwards,
      log,
      ...(encoder ? { encoder } : {}),
      ...(o.quiet ? { quiet: true } : {}),
    });
    const probs = await predictProbs(model, backwards ? reverseDocs(valid.docs) : valid.docs, {
      nClass: classes.length,
      bs: o.bs,
    });
    await saveModel(out, classifierTensors(model), {
      kind: "classifier",
      config: { ...model.config, vocabSize: itos.length, bptt: o.bptt, nClass: classes.length },
      itos,
      classes,
      backwards,
    });
    return probs;
  };
  const pf = await run(fwdEnc, false, o.out);
  const result: { fwd: number; bwd?: number; ensemble?: number } = {
    fwd: accuracyOf(pf, valid.labels, classes.length),
  };
  console.log(`forwards classifier -> ${o.out}: ${validName} accuracy ${result.fwd.toFixed(4)}`);
  if (bwdEnc) {
    const pb = await run(bwdEnc, true, bwdOut);
    result.bwd = accuracyOf(pb, valid.labels, classes.length);
    const avg = pf.map((v, i) => (v + pb[i]!) / 2);
    result.ensemble = accuracyOf(avg, valid.labels, classes.length);
    console.log(`backwards classifier -> ${bwdOut}: ${validName} accuracy ${result.bwd.toFixed(4)}`);
    console.log(`ensemble (mean of probabilities): ${validName} accuracy ${result.ensemble.toFixed(4)}`);
  }
  return result;
}

/** A loaded classifier file. */
export interface LoadedClassifier {
  /** The model. */
  model: AwdLstmClassifier;
  /** Vocabulary. */
  itos: string[];
  /** Class names. */
  classes: string[];
  /** Reads text backwards. */
  backwards: boolean;
}

/** Load a classifier file. */
export async function loadClassifier(path: string): Promise<LoadedClassifier> {
  const f = await readModelFile(path, "classifier");
  const c = f.config;
  const model = new AwdLstmClassifier(f.itos.length, f.classes.length, {
    ...awdConfigOf(c),
    ...(typeof c.bptt === "number" ? { bptt: c.bptt } : {}),
  });
  fromHost(classifierTensors(model), f.tensors, path);
  return { model, itos: f.itos, classes: f.classes, backwards: f.backwards };
}

/** One prediction. */
export interface Prediction {
  /** The most likely class. */
  label: string;
  /** Probability of each class. */
  probs: Record<string, number>;
}

/**
 * Classify texts with one classifier or the mean of several (forward + backwards ensemble).
 *
 * @param models loaded classifiers (same classes and vocabulary)
 * @param texts raw texts
 * @returns one prediction per text
 */
export async function classifyTexts(models: LoadedClassifier[], texts: string[]): Promise<Prediction[]> {
  const first = models[0]!;
  for (const m of models) {
    if (m.classes.join() !== first.classes.join() || m.itos.length !== first.itos.length) {
      throw new CliError("clas predict: the models have different classes or vocabularies");
    }
  }
  const stoi = new Map(first.itos.map((w, i) => [w, i]));
  const unk = stoi.get(UNK) ?? 0;
  const docs = texts.map((t, i) => {
    const ids = Int32Array.from(tokenizeDocument(t), (w) => stoi.get(w) ?? unk);
    if (countUnknownOnly([ids]) === 1) {
      throw new CliError(
        `text ${i + 1} (${JSON.stringify(t.slice(0, 40))}): only unknown tokens, nothing to classify`,
      );
    }
    return ids;
  });
  const n = first.classes.length;
  const sum = new Float32Array(docs.length * n);
  for (const m of models) {
    const p = await predictProbs(m.model, m.backwards ? reverseDocs(docs) : docs, { nClass: n });
    for (let i = 0; i < sum.length; i++) sum[i]! += p[i]! / models.length;
  }
  return docs.map((_, i) => {
    const probs: Record<string, number> = {};
    let best = 0;
    first.classes.forEach((c, k) => {
      probs[c] = sum[i * n + k]!;
      if (sum[i * n + k]! > sum[i * n + best]!) best = k;
    });
    return { label: first.classes[best]!, probs };
  });
}

/** The `clas` command with `train` and `predict`. */
export function clasCommand(): Command {
  const clas = new Command("clas").description("ULMFiT text classifiers: train, predict");
  addCommonTrainOptions(
    clas.command("train")
      .description(
        "fine-tune a classifier on a language model's encoder: gradual unfreezing (last group, last two, all), " +
          "discriminative learning rates lr/2.6^k; with --bwd-encoder also the backwards model and the ensemble",
      ),
  )
    .option("--encoder <file>", "encoder (or LM) from `lm train` on this corpus and vocabulary")
    .option(
      "--bwd-encoder <file>",
      "backwards encoder (`lm train --backwards`): also train the backwards model",
    )
    .option("--out <file>", "classifier file", "clas.safetensors")
    .option("--bwd-out <file>", "backwards classifier file (default: <out>_bwd.safetensors)")
    .option("--drop-mult <f>", "scales the five AWD-LSTM dropouts", numArg({ allowZero: true }), 0.5)
    .option(
      "--lr <f>",
      "learning rate of the first stage; later stages lr/2 and lr/10 with lr/2.6^k",
      numArg(),
      2e-2,
    )
    .option("--stages <a,b,c>", "epochs of the three unfreezing stages", intListArg, [1, 1, 2])
    .option("--emb <n>", "embedding size without --encoder", intArg(1), 400)
    .option("--hid <n>", "hidden size without --encoder", intArg(1), 1152)
    .option("--layers <n>", "LSTM layers without --encoder", intArg(1), 3)
    .option("--force", "overwrite existing output files")
    .action(async (opts: ClasTrainCliOptions) => {
      await clasTrain(opts);
    });
  clas.command("predict")
    .description(
      "classify a text (argument), a file (one text per line) or standard input (all of it as one text)",
    )
    .argument("[text]", "the text to classify")
    .option("--model <file>", "classifier file", "clas.safetensors")
    .option("--bwd-model <file>", "backwards classifier: predict with the ensemble")
    .option("--file <file>", "one text per line")
    .option("--json", "one JSON object per text: {text, label, probs}")
    .option("--backend <kind>", "compute backend: cpu, webgpu or auto", "cpu")
    .action(async (text: string | undefined, o: {
      model: string;
      bwdModel?: string;
      file?: string;
      json?: boolean;
      backend: string;
    }) => {
      let texts: string[];
      if (text !== undefined && o.file) throw new CliError("clas predict: give a text or --file, not both");
      if (text !== undefined) texts = [text];
      else if (o.file) {
        let content: string;
        try {
          content = await Deno.readTextFile(o.file);
        } catch {
          throw new CliError(`${o.file}: cannot read it`);
        }
        texts = content.split("\n").filter((l) => l.trim() !== "");
      } else {
        if (Deno.stdin.isTerminal()) throw new CliError("clas predict: give a text, --file, or pipe text in");
        texts = [await readStdin()].filter((t) => t.trim() !== "");
      }
      if (texts.length === 0) throw new CliError("clas predict: no text to classify");
      await selectBackend(o.backend);
      const models = [await loadClassifier(o.model)];
      if (o.bwdModel) models.push(await loadClassifier(o.bwdModel));
      const preds = await classifyTexts(models, texts);
      preds.forEach((p, i) => {
        if (o.json) console.log(JSON.stringify({ text: texts[i], label: p.label, probs: p.probs }));
        else {
          const probs = Object.entries(p.probs).map(([c, v]) => `${c} ${v.toFixed(4)}`).join("  ");
          console.log(`${p.label}\t${probs}`);
        }
      });
    });
  return clas;
}
