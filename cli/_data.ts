/**
 * Reading numericalized corpora out of the store for the training subcommands, and the options they share.
 *
 * @module
 */
import { type Command, Option } from "./_deps.ts";
import { DEFAULT_STORE_TOKENIZER, type StoredDoc, tokenizerSettings } from "../text/store/store.ts";
import { CliError, intArg, numArg, openStore } from "./_common.ts";

/** Vocabulary parameters as the CLI passes them. */
export interface VocabFlags {
  /** Largest vocabulary. */
  maxVocab: number;
  /** Smallest count. */
  minFreq: number;
  /** Pad to a multiple. */
  padTo: number;
}

/** A corpus read back from the store. */
export interface LoadedCorpus {
  /** The vocabulary. */
  itos: string[];
  /** Documents with ids, labels and splits. */
  docs: StoredDoc[];
}

/**
 * Read a corpus's documents as vocabulary ids; the vocabulary must have been built (`denofit vocab build`).
 *
 * @param store store path
 * @param name corpus name
 */
export async function loadCorpus(store: string, name: string, v: VocabFlags): Promise<LoadedCorpus> {
  const s = await openStore(store);
  try {
    const known = s.db.prepare("SELECT name FROM corpora").all().map((r) => String(r.name));
    if (!known.includes(name)) {
      throw new CliError(`${store}: no corpus "${name}" (it holds: ${known.join(", ") || "none"})`);
    }
    const params = { maxVocab: v.maxVocab, minFreq: v.minFreq, padToMultiple: v.padTo };
    const tokenized = s.db.prepare(
      "SELECT count(*) AS n FROM tokenizations t JOIN corpora c ON c.id = t.corpus_id JOIN settings s ON s.id = t.settings_id " +
        "WHERE c.name = ? AND t.complete = 1 AND s.hash = ?",
    ).get(name, tokenizerSettings(DEFAULT_STORE_TOKENIZER).hash) as { n: number };
    if (tokenized.n === 0) {
      throw new CliError(
        `corpus "${name}" is not tokenized with the current tokenizer (an older version, or an unfinished ingest); ` +
          `run \`denofit vocab build --name ${name}\` (it re-tokenizes the stored texts) or \`corpus ingest\` again`,
      );
    }
    const hash = s.db.prepare(
      "SELECT v.itos FROM vocabs v JOIN tokenizations t ON t.id = v.tokenization_id JOIN corpora c ON c.id = t.corpus_id " +
        "JOIN settings st ON st.id = t.settings_id WHERE c.name = ? AND v.params = ? AND v.complete = 1 AND st.hash = ?",
    ).get(
      name,
      JSON.stringify(params, Object.keys(params).sort()),
      tokenizerSettings(DEFAULT_STORE_TOKENIZER).hash,
    ) as
      | Record<string, unknown>
      | undefined;
    if (!hash) {
      throw new CliError(
        `no vocabulary of "${name}" with --max-vocab ${v.maxVocab} --min-freq ${v.minFreq} --pad-to ${v.padTo} ` +
          `in ${store}; run \`denofit vocab build --name ${name}\` with the same values first`,
      );
    }
    const itos: string[] = JSON.parse(hash.itos as string);
    const docs = [...s.documents(name, { vocab: params })];
    if (docs.length === 0) throw new CliError(`corpus "${name}" is empty`);
    return { itos, docs };
  } finally {
    s.close();
  }
}

/** How many documents hold no known word (only `xxunk` and specials); such documents carry no signal. */
export function countUnknownOnly(docs: readonly Int32Array[], nSpecial = 9): number {
  let n = 0;
  for (const d of docs) {
    let known = false;
    for (const id of d) {
      if (id >= nSpecial) {
        known = true;
        break;
      }
    }
    if (!known) n++;
  }
  return n;
}

/** Add the store/vocab/seed/backend/metrics options every training command takes. */
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
    .option("--wd <f>", "weight decay", numArg({ allowZero: true }), 0.01);
}
