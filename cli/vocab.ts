/**
 * `denofit vocab build`: the vocabulary of a stored corpus (counts, `--max-vocab`, `--min-freq`, specials
 * first), kept in the store; for a text corpus its documents are numericalized against it (`buildVocab`), for a
 * pair corpus each side gets its own (`--side` for one): `buildCorpusVocab` picks by the corpus's kind.
 *
 * @example Help shows the defaults
 * ```ts
 * import { vocabCommand } from "./vocab.ts";
 * const help = vocabCommand().commands[0]!.helpInformation();
 * if (!help.includes("--max-vocab") || !help.includes("60000") || !help.includes("--side")) throw new Error(help);
 * ```
 *
 * @module
 */
import { Command, Option } from "./_deps.ts";
import { buildCorpusVocab } from "../text/seq2seq/corpus.ts";
import { intArg } from "./_common.ts";

/** Options of `vocab build`. */
export interface VocabCliOptions {
  /** Store file. */
  store: string;
  /** Corpus name. */
  name: string;
  /** Largest vocabulary (default by kind). */
  maxVocab?: number;
  /** Smallest count (default by kind). */
  minFreq?: number;
  /** Pad to a multiple. */
  padTo: number;
  /** Only this side of a pair corpus. */
  side?: "source" | "target";
}

function mostFrequent(itos: string[]): string {
  return itos.filter((t) => !t.startsWith("xx")).slice(0, 20).map((t) =>
    /^\S+$/.test(t) ? t : JSON.stringify(t)
  )
    .join(" ");
}

async function vocabBuild(o: VocabCliOptions): Promise<void> {
  const params = {
    ...(o.maxVocab !== undefined ? { maxVocab: o.maxVocab } : {}),
    ...(o.minFreq !== undefined ? { minFreq: o.minFreq } : {}),
    padToMultiple: o.padTo,
  };
  const v = await buildCorpusVocab(o.store, o.name, params, {
    ...(o.side ? { side: o.side } : {}),
    onNote: (line) => console.log(line),
  });
  if (v.kind === "text") {
    const [max, min] = [o.maxVocab ?? 60000, o.minFreq ?? 3];
    console.log(`vocab of "${o.name}": ${v.itos.length} tokens (max ${max}, min count ${min})`);
    console.log(`  most frequent: ${mostFrequent(v.itos)}`);
    return;
  }
  const [max, min] = [o.maxVocab ?? 40000, o.minFreq ?? 1];
  for (const [side, itos] of Object.entries(v.vocabs)) {
    console.log(
      `${side} vocab of pair corpus "${o.name}": ${itos.length} tokens (max ${max}, min count ${min})`,
    );
    console.log(`  most frequent: ${mostFrequent(itos)}`);
  }
}

/** The `vocab` command with `build`. */
export function vocabCommand(): Command {
  const vocab = new Command("vocab").description("vocabularies of stored corpora");
  vocab.command("build")
    .description(
      "count tokens, keep the most frequent ones (stored, reused next time); a pair corpus gets one per side",
    )
    .requiredOption("--name <name>", "corpus name")
    .option("--store <file>", "corpus store (SQLite)", "denofit.sqlite")
    .option(
      "--max-vocab <n>",
      "largest vocabulary, specials included (default: 60000; pair corpora: 40000 per side, the lesson's)",
      intArg(10),
    )
    .option(
      "--min-freq <n>",
      "smallest count for a token to get an id (default: 3; pair corpora: 1, the lesson's)",
      intArg(1),
    )
    .option("--pad-to <n>", "pad the size to a multiple of this (fastai 2: 8; 0: none)", intArg(0), 0)
    .addOption(new Option("--side <side>", "pair corpora: only this side").choices(["source", "target"]))
    .action(vocabBuild);
  return vocab;
}
