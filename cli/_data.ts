/**
 * The options the training subcommands share (store, vocabulary, seed, backend, metrics, batches) and their
 * mapping onto the library's settings.
 *
 * @module
 */
import { type Command, Option } from "./_deps.ts";
import type { VocabSettings } from "../text/corpus.ts";
import { intArg, numArg } from "./_common.ts";

/** Vocabulary parameters as the CLI passes them. */
export interface VocabFlags {
  /** Largest vocabulary. */
  maxVocab: number;
  /** Smallest count. */
  minFreq: number;
  /** Pad to a multiple. */
  padTo: number;
}

/** The library's vocabulary parameters from the flags. */
export function vocabOf(v: VocabFlags): VocabSettings {
  return { maxVocab: v.maxVocab, minFreq: v.minFreq, padToMultiple: v.padTo };
}

/** The run options every training command takes (Ctrl-C checkpoint, resume, NaN tolerance). */
export interface RunFlags {
  /** Continue the run interrupted into this checkpoint. */
  resume?: string;
  /** Where a Ctrl-C writes the training checkpoint. */
  checkpoint?: string;
  /** Non-finite training losses tolerated before stopping. */
  maxNonFinite: number;
}

/**
 * The library's run options from the flags (spread them into a recipe's options).
 *
 * @param o the parsed flags
 * @returns `resume`, `checkpoint`, `maxNonFinite` as given
 * @example Only given flags are passed on
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { runOptionsOf } from "./_data.ts";
 * deepStrictEqual(runOptionsOf({ maxNonFinite: 1, resume: "lm.resume.safetensors" }), { maxNonFinite: 1, resume: "lm.resume.safetensors" });
 * ```
 */
export function runOptionsOf(o: RunFlags): { resume?: string; checkpoint?: string; maxNonFinite: number } {
  return {
    maxNonFinite: o.maxNonFinite,
    ...(o.resume !== undefined ? { resume: o.resume } : {}),
    ...(o.checkpoint !== undefined ? { checkpoint: o.checkpoint } : {}),
  };
}

/** Add the store/vocab/seed/backend/metrics/resume options every training command takes. */
export function addCommonTrainOptions(cmd: Command): Command {
  return cmd
    .option("--store <file>", "corpus store (SQLite)", "denofit.sqlite")
    .requiredOption("--name <name>", "corpus name")
    .option("--max-vocab <n>", "vocabulary built with this --max-vocab", intArg(10), 60000)
    .option("--min-freq <n>", "vocabulary built with this --min-freq", intArg(1), 3)
    .option("--pad-to <n>", "vocabulary built with this --pad-to", intArg(0), 0)
    .option("--max-tokens <n>", "keep at most this many tokens of each document (0: all)", intArg(0), 0)
    .option("--seed <n>", "random seed (weights, dropout, batch order, splits)", intArg(0), 42)
    .option("--metrics <file>", "append one JSON line per epoch here")
    .option("--quiet", "no progress bars or tables")
    .addOption(
      new Option("--backend <kind>", "compute backend").choices(["cpu", "webgpu", "auto"]).default("cpu"),
    )
    .option("--bs <n>", "batch size", intArg(1), 64)
    .option("--bptt <n>", "back-propagation through time (sequence length)", intArg(2), 70)
    .option("--wd <f>", "weight decay", numArg({ allowZero: true }), 0.01)
    .option(
      "--checkpoint <file>",
      "where Ctrl-C (or SIGTERM) writes the training checkpoint before exiting 130 (default: <out>.resume.safetensors)",
    )
    .option("--resume <file>", "continue the run interrupted into this checkpoint (give the same options)")
    .option(
      "--max-non-finite <n>",
      "stop training at this many NaN/infinite losses (1: the first)",
      intArg(1),
      1,
    );
}
