/**
 * `denofit clas train` (the ULMFiT classifier on a fine-tuned encoder: gradual unfreezing, discriminative
 * learning rates, forward and backwards models and their ensemble: `trainClassifierOnCorpus`) and
 * `denofit clas predict` (`classifyTexts`).
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
import { trainClassifierOnCorpus } from "../text/ulmfit.ts";
import { classifyTexts } from "../text/predict.ts";
import { describeFsError } from "../nn/formats/errors.ts";
import { CliError, intArg, intListArg, note, numArg, readStdin, selectBackend } from "./_common.ts";
import { addCommonTrainOptions, type RunFlags, runOptionsOf, type VocabFlags, vocabOf } from "./_data.ts";

/** Options of `clas train`. */
export interface ClasTrainCliOptions extends VocabFlags, RunFlags {
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

/** Options of `clas predict`. */
export interface ClasPredictCliOptions {
  model: string;
  bwdModel?: string;
  file?: string;
  json?: boolean;
  backend: string;
}

async function clasTrain(o: ClasTrainCliOptions): Promise<void> {
  await selectBackend(o.backend);
  const r = await trainClassifierOnCorpus({
    store: o.store,
    name: o.name,
    vocab: vocabOf(o),
    out: o.out,
    ...(o.bwdOut !== undefined ? { bwdOut: o.bwdOut } : {}),
    ...(o.encoder !== undefined ? { encoder: o.encoder } : {}),
    ...(o.bwdEncoder !== undefined ? { bwdEncoder: o.bwdEncoder } : {}),
    model: { embSize: o.emb, nHid: o.hid, nLayers: o.layers, dropMult: o.dropMult },
    bs: o.bs,
    bptt: o.bptt,
    lr: o.lr,
    stages: o.stages,
    maxTokens: o.maxTokens,
    seed: o.seed,
    wd: o.wd,
    force: o.force ?? false,
    quiet: o.quiet ?? false,
    ...(o.metrics !== undefined ? { metrics: o.metrics } : {}),
    ...runOptionsOf(o),
    onNote: note,
    onTrained: (m) => {
      const which = m.backwards ? "backwards" : "forwards";
      console.log(`${which} classifier -> ${m.path}: ${m.split} accuracy ${m.accuracy.toFixed(4)}`);
    },
  });
  if (r.ensemble !== undefined) {
    console.log(`ensemble (mean of probabilities): ${r.split} accuracy ${r.ensemble.toFixed(4)}`);
  }
}

async function textsToClassify(text: string | undefined, o: ClasPredictCliOptions): Promise<string[]> {
  if (text !== undefined && o.file) throw new CliError("clas predict: give a text or --file, not both");
  if (text !== undefined) return [text];
  if (o.file) {
    let content: string;
    try {
      content = await Deno.readTextFile(o.file);
    } catch (e) {
      throw new CliError(`--file ${describeFsError(o.file, e)}`);
    }
    return content.split("\n").filter((l) => l.trim() !== "");
  }
  if (Deno.stdin.isTerminal()) throw new CliError("clas predict: give a text, --file, or pipe text in");
  return [await readStdin()].filter((t) => t.trim() !== "");
}

async function clasPredict(text: string | undefined, o: ClasPredictCliOptions): Promise<void> {
  const texts = await textsToClassify(text, o);
  if (texts.length === 0) throw new CliError("clas predict: no text to classify");
  await selectBackend(o.backend);
  const preds = await classifyTexts(o.bwdModel ? [o.model, o.bwdModel] : [o.model], texts);
  preds.forEach((p, i) => {
    if (o.json) console.log(JSON.stringify({ text: texts[i], label: p.label, probs: p.probs }));
    else {
      const probs = Object.entries(p.probs).map(([c, v]) => `${c} ${v.toFixed(4)}`).join("  ");
      console.log(`${p.label}\t${probs}`);
    }
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
    .action(clasTrain);
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
    .action(clasPredict);
  return clas;
}
