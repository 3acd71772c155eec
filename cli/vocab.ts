/**
 * `denofit vocab build`: the vocabulary of a stored corpus (counts, `--max-vocab`, `--min-freq`, specials
 * first), kept in the store with the documents numericalized against it.
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
import { CliError, intArg, openStore } from "./_common.ts";

/** Options of {@linkcode buildVocab}. */
export interface VocabCliOptions {
  /** Store file. */
  store: string;
  /** Corpus name. */
  name: string;
  /** Largest vocabulary (specials included). */
  maxVocab: number;
  /** Smallest count for a token to get an id. */
  minFreq: number;
  /** Pad the size to a multiple of this (0: none). */
  padTo: number;
}

/**
 * Build (or reuse) the vocabulary of a stored corpus and numericalize its documents.
 *
 * @param o store, corpus, vocabulary parameters
 * @returns the vocabulary size and its first tokens
 */
export async function buildVocab(o: VocabCliOptions): Promise<{ size: number; itos: string[] }> {
  const store = await openStore(o.store);
  try {
    const known = store.db.prepare("SELECT name FROM corpora").all().map((r) => String(r.name));
    if (!known.includes(o.name)) {
      throw new CliError(`${o.store}: no corpus "${o.name}" (it holds: ${known.join(", ") || "none"})`);
    }
    // tokens made by another tokenizer version are not reused: tokenize the stored texts again (no-op otherwise)
    const tok = await store.ingest(o.name, undefined);
    if (!tok.reused) console.log(`re-tokenized ${tok.tokenized} stored documents with the current tokenizer`);
    const v = await store.vocab(o.name, { maxVocab: o.maxVocab, minFreq: o.minFreq, padToMultiple: o.padTo });
    const specials = v.itos.filter((t) => t.startsWith("xx")).length;
    if (v.itos.length <= specials) {
      throw new CliError(
        `vocab build: no token of "${o.name}" occurs ${o.minFreq} times or more; lower --min-freq or add text`,
      );
    }
    return { size: v.itos.length, itos: v.itos };
  } finally {
    store.close();
  }
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
    .action(async (opts: VocabCliOptions) => {
      const { size, itos } = await buildVocab(opts);
      console.log(
        `vocab of "${opts.name}": ${size} tokens (max ${opts.maxVocab}, min count ${opts.minFreq})`,
      );
      console.log(
        `  most frequent: ${
          itos.filter((t) => !t.startsWith("xx")).slice(0, 20).map((
            t,
          ) => (/^\S+$/.test(t) ? t : JSON.stringify(t))).join(" ")
        }`,
      );
    });
  return vocab;
}
