/**
 * The pair-corpus side of `denofit corpus ingest` (`--pairs` with `--mo`/`--po`/`--tsv`, or the pair-only
 * sources `--parallel` and `--libreoffice-help`: `ingestPairCorpus`) and the lines `corpus info` prints for a
 * pair corpus.
 *
 * @module
 */
import { readCatalogs } from "../text/readers/catalogs.ts";
import { readParallel, readTsvPairs } from "../text/readers/pairs.ts";
import { readLibreOfficeHelp } from "../text/readers/libreoffice_help.ts";
import type { PairRecord, ReaderOptions } from "../text/readers/types.ts";
import { ingestPairCorpus } from "../text/seq2seq/corpus.ts";
import { type SelectReport, selectReportLine } from "../text/seq2seq/select.ts";
import type { PairCorpusSummary } from "../text/store/mod.ts";
import { CliError, note } from "./_common.ts";

/** The flags of `corpus ingest` a pair corpus reads. */
export interface PairIngestFlags {
  /** Store file. */
  store: string;
  /** Corpus name. */
  name?: string;
  /** Keep both sides of --mo/--po/--tsv. */
  pairs?: boolean;
  /** Gettext `.mo` catalog or a folder of catalogs. */
  mo?: string;
  /** Gettext `.po` catalog or a folder of catalogs. */
  po?: string;
  /** Tab-separated pairs. */
  tsv?: string;
  /** Aligned files: a prefix (`<prefix>.<lang>`) or `a,b`. */
  parallel?: string;
  /** LibreOffice help folder. */
  libreofficeHelp?: string;
  /** Language of the source side. */
  sourceLang: string;
  /** Language of the target side. */
  targetLang: string;
  /** Cleaning on (commander's `--no-clean` sets false). */
  clean: boolean;
  /** Keep the lesson's question pairs only. */
  questions?: boolean;
  /** Drop pairs with a side longer than this (0: no limit). */
  maxChars: number;
  /** Tokenizer workers. */
  workers?: number;
  /** Malformed rows. */
  onError: "throw" | "skip";
}

const PAIR_ONLY = ["parallel", "libreofficeHelp"] as const;

/** Whether the flags ask for a pair corpus (`--pairs`, `--parallel` or `--libreoffice-help`). */
export function wantsPairs(o: PairIngestFlags): boolean {
  return Boolean(o.pairs) || PAIR_ONLY.some((k) => o[k] !== undefined);
}

function parallelFiles(spec: string, o: PairIngestFlags): [string, string] {
  const parts = spec.split(",");
  if (parts.length === 2 && parts[0] && parts[1]) return [parts[0], parts[1]];
  if (parts.length === 1) return [`${spec}.${o.sourceLang}`, `${spec}.${o.targetLang}`];
  throw new CliError(
    `--parallel: expected a prefix (reads <prefix>.${o.sourceLang}, <prefix>.${o.targetLang}) or two files "a,b"`,
  );
}

/** The pair reader the flags name, a default corpus name and a description. */
export function pairSourceOf(
  o: PairIngestFlags,
): { make: () => AsyncIterable<PairRecord>; name: string; desc: string } {
  const given = (["mo", "po", "tsv", ...PAIR_ONLY] as const).filter((k) => o[k] !== undefined);
  if (given.length !== 1) {
    throw new CliError(
      given.length === 0
        ? "corpus ingest --pairs: give a pair source: --mo, --po, --tsv, --parallel or --libreoffice-help"
        : `corpus ingest: give exactly one source (got ${
          given.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(", ")
        })`,
    );
  }
  const ro: ReaderOptions = { onError: o.onError };
  const key = given[0]!, path = o[key]!;
  const base = (p: string) => p.replace(/\/+$/, "").split("/").pop()!.replace(/\.[^.]*$/, "");
  if (key === "parallel") {
    const [a, b] = parallelFiles(path, o);
    return { make: () => readParallel(a, b, ro), name: base(a), desc: `parallel:${a},${b}` };
  }
  if (key === "libreofficeHelp") {
    const lo = (l: string) => (l === "en" ? "en-US" : l);
    const opts = { ...ro, source: lo(o.sourceLang), target: lo(o.targetLang) };
    return {
      make: () => readLibreOfficeHelp(path, opts),
      name: "libreoffice-help",
      desc: `libreoffice-help:${path}`,
    };
  }
  const make = key === "tsv" ? () => readTsvPairs(path, ro) : () => readCatalogs(path, ro);
  // a system catalog folder .../locale/fr/LC_MESSAGES is named after its language: "fr-catalogs"
  const parts = path.replace(/\/+$/, "").split("/");
  const name = parts.at(-1) === "LC_MESSAGES" && parts.length > 1 ? `${parts.at(-2)}-catalogs` : base(path);
  return { make, name, desc: `${key}:${path}` };
}

/** `corpus ingest` for a pair corpus: read, select, tokenize both sides, print what was stored. */
export async function ingestPairs(
  o: PairIngestFlags & { side?: string; lm?: boolean; clas?: boolean },
): Promise<void> {
  if (o.lm || o.clas) throw new CliError("corpus ingest: --lm and --clas are for text corpora, not pairs");
  if (!o.clean && o.maxChars > 0) {
    throw new CliError("corpus ingest: --max-chars drops pairs while cleaning; drop --no-clean");
  }
  const src = pairSourceOf(o);
  const name = o.name ?? src.name;
  const r = await ingestPairCorpus(o.store, name, {
    source: src.make,
    desc: src.desc,
    langs: { source: o.sourceLang, target: o.targetLang },
    clean: o.clean ? (o.maxChars > 0 ? { maxChars: o.maxChars } : {}) : false,
    questions: Boolean(o.questions),
    ...(o.workers ? { workers: o.workers } : {}),
    onNote: note,
  });
  console.log(
    r.reused
      ? `pair corpus "${name}": already stored and tokenized in ${o.store} (reused)`
      : `pair corpus "${name}" (${o.sourceLang} -> ${o.targetLang}): ${r.added} pairs added, ${r.tokenized} tokenized ` +
        `(${r.sourceTokens} + ${r.targetTokens} tokens) in ${r.seconds.toFixed(1)}s -> ${o.store}`,
  );
  if (r.report) console.log(`  selection: ${selectReportLine(r.report)}`);
}

/** The lines `corpus info` prints for pair corpora. */
export function formatPairCorpusInfo(corpora: PairCorpusSummary[]): string[] {
  const lines: string[] = [];
  for (const c of corpora) {
    const incomplete = c.complete ? "" : " (ingest incomplete)";
    lines.push(
      `pair corpus "${c.name}": ${c.nPairs} pairs ${c.sourceLang} -> ${c.targetLang}${incomplete}, source ${c.source}, created ${c.createdAt}`,
    );
    lines.push(`  settings ${c.settings}`);
    if (c.report) lines.push(`  selection: ${selectReportLine(c.report as unknown as SelectReport)}`);
    for (const t of c.tokenizations) {
      const done = t.complete ? "" : " (incomplete)";
      lines.push(
        `  tokenization ${t.sourceSettings} | ${t.targetSettings}: ${t.nPairs} pairs, tokens ${t.sourceTokens} | ` +
          `${t.targetTokens}, distinct ${t.sourceTerms} | ${t.targetTerms}${done}`,
      );
      for (const v of t.vocabs) lines.push(`    ${v.side} vocab ${v.params}: ${v.size} tokens`);
    }
  }
  return lines;
}
