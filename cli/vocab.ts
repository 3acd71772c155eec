/**
 * `denofit vocab build`: the vocabulary of a stored corpus (counts, `--max-vocab`, `--min-freq`, specials
 * first), kept in the store with the documents numericalized against it (`buildVocab`).
 *
 * @example Help shows the defaults
 * ```ts
 * import { vocabCommand } from "./vocab.ts";
 * const help = vocabCommand().commands[0]!.helpInformation();
 * if (!help.includes("--max-vocab") || !help.includes("60000")) throw new Error(help);
 * ```
 *
 * @module
 */
import { Command } from "./_deps.ts";
import { buildVocab } from "../text/corpus.ts";
import { intArg } from "./_common.ts";
import { type VocabFlags, vocabOf } from "./_data.ts";

/** Options of `vocab build`. */
export interface VocabCliOptions extends VocabFlags {
  /** Store file. */
  store: string;
  /** Corpus name. */
  name: string;
}

async function vocabBuild(o: VocabCliOptions): Promise<void> {
  const { itos } = await buildVocab(o.store, o.name, vocabOf(o), { onNote: (line) => console.log(line) });
  console.log(`vocab of "${o.name}": ${itos.length} tokens (max ${o.maxVocab}, min count ${o.minFreq})`);
  const shown = itos.filter((t) => !t.startsWith("xx")).slice(0, 20).map((t) =>
    /^\S+$/.test(t) ? t : JSON.stringify(t)
  );
  console.log(`  most frequent: ${shown.join(" ")}`);
}

/** The `vocab` command with `build`. */
export function vocabCommand(): Command {
  const vocab = new Command("vocab").description("vocabularies of stored corpora");
  vocab.command("build")
    .description(
      "count tokens, keep the most frequent ones, numericalize the corpus (stored, reused next time)",
    )
    .requiredOption("--name <name>", "corpus name")
    .option("--store <file>", "corpus store (SQLite)", "denofit.sqlite")
    .option("--max-vocab <n>", "largest vocabulary, specials included", intArg(10), 60000)
    .option("--min-freq <n>", "smallest count for a token to get an id", intArg(1), 3)
    .option("--pad-to <n>", "pad the size to a multiple of this (fastai 2: 8; 0: none)", intArg(0), 0)
    .action(vocabBuild);
  return vocab;
}
