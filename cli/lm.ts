/**
 * `denofit lm train` (an AWD-LSTM language model from scratch or fine-tuned from a pre-trained one — ours or a
 * fastai `.pth` — with the vocabulary remapped; saves the LM and its encoder: `trainLanguageModelOnCorpus`) and
 * `denofit lm generate` (`generateSamples`).
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
import { trainLanguageModelOnCorpus } from "../text/ulmfit.ts";
import { generateSamples } from "../text/predict.ts";
import { intArg, note, numArg, probArg, selectBackend } from "./_common.ts";
import { addCommonTrainOptions, type RunFlags, runOptionsOf, type VocabFlags, vocabOf } from "./_data.ts";

/** Options of `lm train`. */
export interface LmTrainCliOptions extends VocabFlags, RunFlags {
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

/** Options of `lm generate`. */
export interface LmGenerateCliOptions {
  model: string;
  words: number;
  temperature: number;
  minP?: number;
  allowUnk?: boolean;
  samples: number;
  seed: number;
  backend: string;
}

async function lmTrain(o: LmTrainCliOptions): Promise<void> {
  await selectBackend(o.backend);
  const r = await trainLanguageModelOnCorpus({
    store: o.store,
    name: o.name,
    vocab: vocabOf(o),
    out: o.out,
    ...(o.encoderOut !== undefined ? { encoderOut: o.encoderOut } : {}),
    ...(o.pretrained !== undefined ? { pretrained: o.pretrained } : {}),
    ...(o.pretrainedVocab !== undefined ? { pretrainedVocab: o.pretrainedVocab } : {}),
    model: { embSize: o.emb, nHid: o.hid, nLayers: o.layers, dropMult: o.dropMult },
    bs: o.bs,
    bptt: o.bptt,
    lr: o.lr,
    frozenEpochs: o.frozenEpochs,
    epochs: o.epochs,
    validPct: o.validPct,
    maxTokens: o.maxTokens,
    seed: o.seed,
    wd: o.wd,
    backwards: o.backwards ?? false,
    force: o.force ?? false,
    quiet: o.quiet ?? false,
    ...(o.metrics !== undefined ? { metrics: o.metrics } : {}),
    ...runOptionsOf(o),
    onNote: note,
  });
  const scores = r.accuracy !== null && r.perplexity !== undefined
    ? `; valid accuracy ${r.accuracy.toFixed(4)}, perplexity ${r.perplexity.toFixed(2)}`
    : " (no epoch trained: no validation scores)";
  console.log(`language model -> ${r.out}, encoder -> ${r.encoderOut}${scores}`);
}

async function lmGenerate(prompt: string, o: LmGenerateCliOptions): Promise<void> {
  await selectBackend(o.backend);
  const samples = generateSamples(o.model, prompt, {
    samples: o.samples,
    nWords: o.words,
    temperature: o.temperature,
    noUnk: !o.allowUnk,
    ...(o.minP !== undefined ? { minP: o.minP } : {}),
    seed: o.seed,
  });
  for await (const text of samples) console.log(text);
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
    .action(lmTrain);
  lm.command("generate")
    .description("continue a prompt with words sampled from a language model")
    .argument("<prompt>", "the start of the text")
    .option("--model <file>", "language model file", "lm.safetensors")
    .option("--words <n>", "words to add", intArg(1), 40)
    .option("--temperature <f>", "sampling temperature", numArg(), 0.75)
    .option(
      "--min-p <p>",
      "drop words less likely than this probability, in (0, 1] (default: keep all)",
      probArg,
    )
    .option("--allow-unk", "allow xxunk in the output (default: never)")
    .option("--samples <n>", "how many samples", intArg(1), 1)
    .option("--seed <n>", "seed of the sampler", intArg(0), 42)
    .option("--backend <kind>", "compute backend: cpu, webgpu or auto", "cpu")
    .action(lmGenerate);
  return lm;
}
