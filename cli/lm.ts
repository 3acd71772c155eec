/**
 * `denofit lm train` (an AWD-LSTM language model from scratch or fine-tuned from a pre-trained one — ours or a
 * fastai `.pth` — with the vocabulary remapped; saves the LM and its encoder) and `denofit lm generate`.
 *
 * @example The train command's help shows the seeds' sizes as defaults
 * ```ts
 * import { lmCommand } from "./lm.ts";
 * const help = lmCommand().commands.find((c) => c.name() === "train")!.helpInformation();
 * if (!help.includes("--emb <n>") || !help.includes("400")) throw new Error(help);
 * ```
 *
 * @module
 */
import { Command } from "./_deps.ts";
import { readTorchCheckpoint } from "../nn/formats/torch.ts";
import { mapFastaiAwdLstm, remapVocab } from "../text/models/awd_lstm_fastai.ts";
import { readItos } from "../nn/formats/vocab_file.ts";
import { CheckpointError } from "../nn/formats/errors.ts";
import type { TensorMap } from "../nn/formats/tensor_map.ts";
import { AwdLstmLM, encoderCheckpointTensors } from "../text/models/awd_lstm.ts";
import { generate } from "../text/generate.ts";
import { CliError, guardOutput, intArg, note, numArg, selectBackend } from "./_common.ts";
import { addCommonTrainOptions, countUnknownOnly, loadCorpus, type VocabFlags } from "./_data.ts";
import {
  awdConfigOf,
  fromHost,
  MetricsLog,
  readModelFile,
  saveModel,
  splitIndices,
  trainLanguageModel,
  truncateDocs,
} from "./ulmfit.ts";

/** Options of `lm train`. */
export interface LmTrainCliOptions extends VocabFlags {
  store: string;
  name: string;
  out: string;
  encoderOut?: string;
  pretrained?: string;
  pretrainedVocab?: string;
  emb: number;
  hid: number;
  layers: number;
  dropMult: number;
  bs: number;
  bptt: number;
  lr: number;
  frozenEpochs: number;
  epochs: number;
  validPct: number;
  maxTokens: number;
  seed: number;
  metrics?: string;
  quiet?: boolean;
  backwards?: boolean;
  backend: string;
  wd: number;
  force?: boolean;
}

/** The vocabulary of a pre-trained checkpoint: a fastai pickle (`itos_wt103.pkl`), a JSON array or lines. */
async function readItosFile(path: string): Promise<string[]> {
  try {
    return await readItos(path);
  } catch (e) {
    if (e instanceof CheckpointError) throw new CliError(`--pretrained-vocab ${e.message}`);
    throw e;
  }
}

/** Pre-trained weights on the new vocabulary, and the sizes they fix. */
async function pretrainedOnVocab(
  o: LmTrainCliOptions,
  itos: string[],
): Promise<{ tensors: TensorMap; emb: number; hid: number; layers: number; outBias: boolean }> {
  const path = o.pretrained!;
  let tensors: TensorMap, oldItos: string[], layers: number;
  if (path.endsWith(".safetensors")) {
    const f = await readModelFile(path, ["lm", "encoder"]);
    tensors = f.tensors;
    oldItos = f.itos;
    layers = Number(f.config.nLayers);
  } else {
    const ck = await readTorchCheckpoint(path);
    const mapped = mapFastaiAwdLstm(ck.tensors, { file: path });
    if (!o.pretrainedVocab) {
      throw new CliError(
        `${path}: a fastai checkpoint needs its vocabulary: pass --pretrained-vocab itos_wt103.pkl (or .json)`,
      );
    }
    oldItos = await readItosFile(o.pretrainedVocab);
    tensors = mapped.tensors;
    layers = mapped.layers;
    if (!tensors.has("decoder.bias")) {
      const rows = tensors.get("encoder.weight")!.shape[0]!;
      tensors.set("decoder.bias", { dtype: "f32", shape: [rows], data: new Float32Array(rows) });
    }
  }
  const emb = tensors.get("encoder.weight")!;
  if (emb.shape[0] !== oldItos.length) {
    const from = o.pretrainedVocab && !path.endsWith(".safetensors") ? o.pretrainedVocab : "its metadata";
    throw new CliError(
      `${path}: its embedding has ${emb.shape[0]} rows but the vocabulary from ${from} has ` +
        `${oldItos.length} words (mismatched vocab: give the vocabulary the model was trained with)`,
    );
  }
  const remap = remapVocab(tensors, { oldItos, newItos: itos });
  note(
    `pre-trained ${path}: ${
      remap.matched ?? itos.length - remap.missing.length
    } of ${itos.length} words found`,
  );
  const out = new Map(remap.tensors);
  if (!out.has("decoder.weight")) out.set("decoder.weight", out.get("encoder.weight")!);
  return {
    tensors: out,
    emb: emb.shape[1]!,
    hid: tensors.get("rnns.0.weightHH")!.shape[1]!,
    layers,
    outBias: true,
  };
}

/**
 * Train a language model on a stored corpus: all its texts (labelled or not), a seeded 90/10 split.
 *
 * @param o parsed options
 * @returns the final validation accuracy and perplexity
 */
export async function lmTrain(
  o: LmTrainCliOptions,
): Promise<{ accuracy: number | null; perplexity: number | undefined }> {
  const encoderOut = o.encoderOut ?? o.out.replace(/(\.safetensors)?$/, "_encoder.safetensors");
  await guardOutput(o.out, o.force ?? false);
  await guardOutput(encoderOut, o.force ?? false);
  const backend = await selectBackend(o.backend);
  const { itos, docs } = await loadCorpus(o.store, o.name, o);
  const ids = truncateDocs(docs.map((d) => d.ids), o.maxTokens);
  const unknownOnly = countUnknownOnly(ids);
  if (unknownOnly === ids.length) {
    throw new CliError(`corpus "${o.name}": every text is made only of unknown tokens; lower --min-freq`);
  }
  let sizes = { embSize: o.emb, nHid: o.hid, nLayers: o.layers };
  let pretrained: TensorMap | undefined;
  if (o.pretrained) {
    const p = await pretrainedOnVocab(o, itos);
    sizes = { embSize: p.emb, nHid: p.hid, nLayers: p.layers };
    pretrained = p.tensors;
  }
  const split = splitIndices(ids.length, o.validPct, o.seed);
  note(
    `lm train: ${ids.length} texts (${split.train.length} train / ${split.valid.length} valid), vocab ${itos.length}, ` +
      `emb ${sizes.embSize}, hid ${sizes.nHid}, ${sizes.nLayers} layer${
        sizes.nLayers === 1 ? "" : "s"
      }, backend ${backend}`,
  );
  const log = new MetricsLog(o.metrics);
  const { model } = await trainLanguageModel(
    split.train.map((i) => ids[i]!),
    split.valid.map((i) => ids[i]!),
    {
      vocabSize: itos.length,
      model: { ...sizes, dropMult: o.dropMult },
      bs: o.bs,
      bptt: o.bptt,
      lr: o.lr,
      frozenEpochs: pretrained ? o.frozenEpochs : 0,
      epochs: o.epochs,
      seed: o.seed,
      wd: o.wd,
      backwards: o.backwards ?? false,
      log,
      ...(pretrained ? { pretrained } : {}),
      ...(o.quiet ? { quiet: true } : {}),
    },
  );
  const config = { ...model.config, vocabSize: itos.length };
  const backwards = o.backwards ?? false;
  await saveModel(o.out, model.checkpointTensors(), { kind: "lm", config, itos, backwards });
  await saveModel(encoderOut, encoderCheckpointTensors(model.encoder), {
    kind: "encoder",
    config,
    itos,
    backwards,
  });
  const last = log.records.at(-1);
  const scores = last?.accuracy != null && last.perplexity !== undefined
    ? `; valid accuracy ${last.accuracy.toFixed(4)}, perplexity ${last.perplexity.toFixed(2)}`
    : " (no epoch trained: no validation scores)";
  console.log(`language model -> ${o.out}, encoder -> ${encoderOut}${scores}`);
  return { accuracy: last?.accuracy ?? null, perplexity: last?.perplexity };
}

/** Load a language model file into a model. */
export async function loadLm(
  path: string,
): Promise<{ model: AwdLstmLM; itos: string[]; backwards: boolean }> {
  const f = await readModelFile(path, "lm");
  const model = new AwdLstmLM(f.itos.length, awdConfigOf(f.config));
  fromHost(model.checkpointTensors(), f.tensors, path);
  return { model, itos: f.itos, backwards: f.backwards };
}

/** The `lm` command with `train` and `generate`. */
export function lmCommand(): Command {
  const lm = new Command("lm").description("AWD-LSTM language models: train, generate");
  addCommonTrainOptions(
    lm.command("train")
      .description(
        "train a language model on every text of a corpus (90/10 split); from scratch or fine-tuned from " +
          "--pretrained (last layer group first, then unfrozen); saves the LM and its encoder",
      ),
  )
    .option("--out <file>", "language model file", "lm.safetensors")
    .option("--encoder-out <file>", "encoder file (default: <out>_encoder.safetensors)")
    .option("--pretrained <file>", "start from this LM: a denofit .safetensors or a fastai .pth")
    .option(
      "--pretrained-vocab <file>",
      "vocabulary of a .pth: fastai's pickled itos (itos_wt103.pkl, *_vocab.pkl, lm.vocab), a JSON array or " +
        "one token per line",
    )
    .option("--emb <n>", "embedding size", intArg(1), 400)
    .option("--hid <n>", "hidden size", intArg(1), 1152)
    .option("--layers <n>", "LSTM layers", intArg(1), 3)
    .option("--drop-mult <f>", "scales the five AWD-LSTM dropouts", numArg({ allowZero: true }), 1)
    .option("--lr <f>", "peak learning rate", numArg(), 1e-3)
    .option(
      "--frozen-epochs <n>",
      "with --pretrained: epochs training only the last layer group first",
      intArg(0),
      1,
    )
    .option("--epochs <n>", "epochs with every layer training (one-cycle)", intArg(0), 1)
    .option("--valid-pct <f>", "validation fraction of the texts", numArg({ fraction: true }), 0.1)
    .option("--backwards", "read the texts backwards (for the backwards model of an ensemble)")
    .option("--force", "overwrite existing output files")
    .action(async (opts: LmTrainCliOptions) => {
      await lmTrain(opts);
    });
  lm.command("generate")
    .description("continue a prompt with words sampled from a language model")
    .argument("<prompt>", "the start of the text")
    .option("--model <file>", "language model file", "lm.safetensors")
    .option("--words <n>", "words to add", intArg(1), 40)
    .option("--temperature <f>", "sampling temperature", numArg(), 0.75)
    .option("--min-p <f>", "drop words less likely than this", numArg({ allowZero: true }), 0)
    .option("--allow-unk", "allow xxunk in the output (default: never)")
    .option("--samples <n>", "how many samples", intArg(1), 1)
    .option("--seed <n>", "seed of the sampler", intArg(0), 42)
    .option("--backend <kind>", "compute backend: cpu, webgpu or auto", "cpu")
    .action(async (prompt: string, o: {
      model: string;
      words: number;
      temperature: number;
      minP: number;
      allowUnk?: boolean;
      samples: number;
      seed: number;
      backend: string;
    }) => {
      await selectBackend(o.backend);
      const { model, itos, backwards } = await loadLm(o.model);
      for (let s = 0; s < o.samples; s++) {
        const g = await generate(model, prompt, {
          itos,
          nWords: o.words,
          temperature: o.temperature,
          noUnk: !o.allowUnk,
          minP: o.minP,
          seed: o.seed + s,
          backwards,
        });
        console.log(g.text);
      }
    });
  return lm;
}
