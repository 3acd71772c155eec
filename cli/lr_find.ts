/**
 * `denofit lr-find`: the learning-rate finder (exponential sweep, the loss plotted against the learning rate as
 * an SVG file, and the suggestion) for a language model or a classifier on a stored corpus (`lrFindOnCorpus`).
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
import { lrFindOnCorpus } from "../text/ulmfit.ts";
import { CliError, intArg, selectBackend } from "./_common.ts";
import { addCommonTrainOptions, type VocabFlags, vocabOf } from "./_data.ts";

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
  /** Given by the shared training options; lr-find trains nothing to resume and refuses it. */
  resume?: string;
  /** Given by the shared training options; refused as `resume`. */
  checkpoint?: string;
}

async function lrFind(o: LrFindCliOptions): Promise<void> {
  if (o.metrics !== undefined) {
    throw new CliError(
      "lr-find: --metrics is for lm train and clas train (per epoch); the sweep goes to --plot",
    );
  }
  if (o.resume !== undefined || o.checkpoint !== undefined) {
    throw new CliError(
      "lr-find: --resume and --checkpoint are for lm train and clas train (nothing to resume here)",
    );
  }
  await selectBackend(o.backend);
  const r = await lrFindOnCorpus({
    store: o.store,
    name: o.name,
    vocab: vocabOf(o),
    stage: o.stage,
    plot: o.plot,
    iters: o.iters,
    model: { embSize: o.emb, nHid: o.hid, nLayers: o.layers },
    bs: o.bs,
    bptt: o.bptt,
    maxTokens: o.maxTokens,
    seed: o.seed,
    force: o.force ?? false,
  });
  console.log(
    `lr-find (${o.stage}): ${r.lrs.length} steps${r.diverged ? " (stopped: loss diverged)" : ""}; ` +
      `suggestion: steepest ${r.suggestion.lrSteep.toExponential(2)}, minimum/10 ${
        r.suggestion.lrMin.toExponential(2)
      }; ` +
      `plot -> ${o.plot}`,
  );
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
    .action(lrFind);
  // per-epoch metrics, checkpoints and resume: no epochs here
  for (const flag of ["--metrics", "--checkpoint", "--resume", "--max-non-finite"]) {
    cmd.options.find((opt) => opt.long === flag)?.hideHelp();
  }
  return cmd;
}
