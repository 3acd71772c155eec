/**
 * `denofit lr-find`: the learning-rate finder (exponential sweep, the loss plotted against the learning rate as
 * an SVG file, and the suggestion) for a language model or a classifier on a stored corpus.
 *
 * @example Help names the plot option
 * ```ts
 * import { lrFindCommand } from "./lr_find.ts";
 * if (!lrFindCommand().helpInformation().includes("--plot")) throw new Error("no --plot");
 * ```
 *
 * @module
 */
import { Command, Option } from "./_deps.ts";
import { plotLrFind } from "../nn/plot.ts";
import type { Learner } from "../nn/learner.ts";
import { CliError, guardOutput, intArg, selectBackend } from "./_common.ts";
import { addCommonTrainOptions, loadCorpus, type VocabFlags } from "./_data.ts";
import { splitIndices, trainClassifier, trainLanguageModel, truncateDocs } from "./ulmfit.ts";

/** Options of `lr-find`. */
export interface LrFindCliOptions extends VocabFlags {
  store: string;
  name: string;
  stage: "lm" | "clas";
  plot: string;
  iters: number;
  emb: number;
  hid: number;
  layers: number;
  bs: number;
  bptt: number;
  maxTokens: number;
  seed: number;
  backend: string;
  force?: boolean;
  /** Given by the shared training options; lr-find has no epochs and refuses it. */
  metrics?: string;
}

/**
 * Run the sweep on a fresh model (nothing is trained or saved) and write the plot.
 *
 * @param o parsed options
 * @returns the suggested learning rates
 */
export async function lrFindCli(o: LrFindCliOptions): Promise<{ lrMin: number; lrSteep: number }> {
  if (o.metrics !== undefined) {
    throw new CliError(
      "lr-find: --metrics is for lm train and clas train (per epoch); the sweep goes to --plot",
    );
  }
  await guardOutput(o.plot, o.force ?? false);
  await selectBackend(o.backend);
  const { itos, docs } = await loadCorpus(o.store, o.name, o);
  const ids = truncateDocs(docs.map((d) => d.ids), o.maxTokens);
  const model = { embSize: o.emb, nHid: o.hid, nLayers: o.layers };
  let learn: Learner;
  if (o.stage === "lm") {
    const s = splitIndices(ids.length, 0.1, o.seed);
    learn = (await trainLanguageModel(s.train.map((i) => ids[i]!), [], {
      vocabSize: itos.length,
      model,
      bs: o.bs,
      bptt: o.bptt,
      frozenEpochs: 0,
      epochs: 0,
      seed: o.seed,
      quiet: true,
    })).learn;
  } else {
    const lab = docs.map((d, i) => [d, i] as const).filter(([d]) => d.label !== undefined);
    const classes = [...new Set(lab.map(([d]) => d.label!))].sort();
    if (classes.length < 2) throw new CliError(`corpus "${o.name}": a classifier needs two classes at least`);
    const data = {
      docs: lab.map(([, i]) => ids[i]!),
      labels: Int32Array.from(lab, ([d]) => classes.indexOf(d.label!)),
    };
    learn = (await trainClassifier(data, data, {
      vocabSize: itos.length,
      nClass: classes.length,
      model,
      bs: o.bs,
      bptt: o.bptt,
      stages: [0, 0, 0],
      seed: o.seed,
      quiet: true,
    })).learn;
  }
  const r = await learn.lrFind({ numIt: o.iters });
  await plotLrFind(o.plot, r);
  console.log(
    `lr-find (${o.stage}): ${r.lrs.length} steps${r.diverged ? " (stopped: loss diverged)" : ""}; ` +
      `suggestion: steepest ${r.suggestion.lrSteep.toExponential(2)}, minimum/10 ${
        r.suggestion.lrMin.toExponential(2)
      }; ` +
      `plot -> ${o.plot}`,
  );
  return r.suggestion;
}

/** The `lr-find` command. */
export function lrFindCommand(): Command {
  const cmd = addCommonTrainOptions(
    new Command("lr-find").description(
      "learning-rate finder for a language model or classifier: plot + suggestion",
    ),
  )
    .addOption(new Option("--stage <stage>", "which model").choices(["lm", "clas"]).default("lm"))
    .option("--plot <file>", "SVG plot of loss against learning rate", "lr_find.svg")
    .option("--iters <n>", "steps of the sweep", intArg(6), 100)
    .option("--emb <n>", "embedding size", intArg(1), 400)
    .option("--hid <n>", "hidden size", intArg(1), 1152)
    .option("--layers <n>", "LSTM layers", intArg(1), 3)
    .option("--force", "overwrite the plot file")
    .action(async (opts: LrFindCliOptions) => {
      await lrFindCli(opts);
    });
  cmd.options.find((opt) => opt.long === "--metrics")?.hideHelp(); // per-epoch metrics: no epochs here
  return cmd;
}
