import { Command } from "commander";
import { VERSION } from "./version.ts";

/**
 * Build the `denofit` command. Subcommands are registered by the pipeline steps (corpus, vocab, lm, clas).
 *
 * @returns a commander program; call `parseAsync(argv, { from: "user" })` to run it.
 *
 * @example Help text names the tool
 * ```ts
 * import { buildCli } from "./program.ts";
 * if (!buildCli().helpInformation().includes("denofit")) throw new Error("no name in help");
 * ```
 */
export function buildCli(): Command {
  const program = new Command("denofit")
    .description("ULMFiT language models and classifiers, seq2seq and DeViSE on a WebGPU compute backend")
    .version(VERSION, "-V, --version", "print the denofit version")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ outputError: (s, write) => write(s) });
  return program;
}
