import { Command } from "./_deps.ts";
import { VERSION } from "../nn/version.ts";
import { corpusCommand } from "./corpus.ts";
import { vocabCommand } from "./vocab.ts";
import { lmCommand } from "./lm.ts";
import { clasCommand } from "./clas.ts";
import { lrFindCommand } from "./lr_find.ts";
import { infoCommand } from "./info.ts";

/**
 * Build the `denofit` command with its subcommands: corpus, vocab, lm, clas, lr-find, info.
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
  for (
    const sub of [corpusCommand(), vocabCommand(), lmCommand(), clasCommand(), lrFindCommand(), infoCommand()]
  ) {
    program.addCommand(sub);
    const inherit = (c: Command) => {
      c.copyInheritedSettings(program);
      c.commands.forEach(inherit);
    };
    inherit(sub);
  }
  return program;
}
