/**
 * Pair corpora in a store file, as the translation recipe uses them: ingest a parallel source with the cleaning
 * and question selection recorded in the corpus (resumable; the same selection again reuses what is stored),
 * build the vocabulary of each side, and say what a store holds (text and pair corpora). Messages name the
 * store, the corpus and the `denofit` command that fixes the problem. Loading for training is in `data.ts`.
 *
 * @example Ingest English -> French pairs, build both vocabularies
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { buildPairVocabs, ingestPairCorpus } from "./corpus.ts";
 * const store = `${await Deno.makeTempDir()}/s.sqlite`;
 * const pairs = [{ source: "_Open the file", target: "_Ouvrir le fichier" }, { source: "%s files", target: "%s fichiers" }];
 * const r = await ingestPairCorpus(store, "ui", { source: () => pairs, workers: 1 });
 * strictEqual(r.pairs, 1); // the format string is dropped
 * strictEqual(r.report!.formatSpecifier, 1);
 * const v = await buildPairVocabs(store, "ui");
 * strictEqual(v.target!.includes("ouvrir"), true);
 * ```
 *
 * @module
 */
import type { PairRecord } from "../readers/types.ts";
import {
  type CorpusSummary,
  type PairCorpusSummary,
  type PairLangs,
  type PairSide,
  PairStore,
  type VocabParams,
} from "../store/mod.ts";
import { buildVocab, corpusInfo, openCorpusStore } from "../corpus.ts";
import {
  newSelectReport,
  type PairSelection,
  selectionSettings,
  selectPairs,
  type SelectReport,
  selectReportLine,
} from "./select.ts";

/** Options of {@linkcode ingestPairCorpus}. */
export interface IngestPairCorpusOptions extends PairSelection {
  /** Makes the pairs (called once per run). */
  source: () => AsyncIterable<PairRecord> | Iterable<PairRecord>;
  /** Description of the source stored with the corpus and named in messages. @default "the source" */
  desc?: string;
  /** Languages of the sides (each side is tokenized with its language's rules). @default {{ source: "en", target: "fr" }} */
  langs?: PairLangs;
  /** Tokenizer workers (both sides together). @default all cores */
  workers?: number;
  /** Progress notes. */
  onNote?: (line: string) => void;
}

/** What {@linkcode ingestPairCorpus} did. */
export interface IngestPairCorpusResult {
  /** Pairs in the corpus. */
  pairs: number;
  /** Pairs added now. */
  added: number;
  /** Pairs tokenized now. */
  tokenized: number;
  /** Source-side tokens produced now. */
  sourceTokens: number;
  /** Target-side tokens produced now. */
  targetTokens: number;
  /** Everything was already stored: nothing was done. */
  reused: boolean;
  /** Seconds. */
  seconds: number;
  /** What the selection kept and removed (stored with the corpus when the source was read to its end). */
  report: SelectReport | null;
}

/**
 * Read a parallel source into a pair corpus: select (clean, questions, dedupe) while streaming, tokenize each
 * side with its language's rules, commit chunk by chunk (resumable; an identical second run reuses the store).
 * A source with no pair left stores nothing.
 *
 * @param storePath the store file (created when missing)
 * @param name corpus name (not the name of a text corpus of the store)
 * @param options source, languages, selection, workers
 * @returns counts and the selection report
 */
export async function ingestPairCorpus(
  storePath: string,
  name: string,
  options: IngestPairCorpusOptions,
): Promise<IngestPairCorpusResult> {
  const { desc = "the source" } = options;
  const note = options.onNote ?? (() => {});
  const store = await openCorpusStore(storePath, { create: true });
  try {
    if (store.corpusNames().includes(name)) {
      throw new Error(`${storePath}: "${name}" is a text corpus; give the pair corpus another --name`);
    }
    const pairs = new PairStore(store);
    const report = newSelectReport();
    const r = await pairs.ingest(name, selectPairs(options.source(), options, report), {
      settings: selectionSettings(options),
      source: desc,
      ...(options.langs ? { langs: options.langs } : {}),
      ...(options.workers ? { workers: options.workers } : {}),
      report: () => ({ ...report }),
      onProgress: (p) =>
        note(`  ${p.pairs} pairs, ${p.sourceTokens} + ${p.targetTokens} tokens, ${p.seconds.toFixed(1)}s`),
    });
    const stored = pairs.describe().find((c) => c.name === name);
    if (!stored) {
      throw new Error(
        `corpus ingest: ${desc} holds no pairs${
          report.read ? ` after selection (${selectReportLine(report)})` : ""
        }; ` +
          "nothing was stored",
      );
    }
    const { pairs: _, ...counts } = r;
    return { ...counts, pairs: stored.nPairs, report: stored.report as SelectReport | null };
  } finally {
    store.close();
  }
}

/** Vocabulary parameters per side (each side's missing fields take {@linkcode PAIR_VOCAB_DEFAULTS}). */
export type PairVocabParams = Partial<Record<PairSide, VocabParams>>;

/**
 * Build (or reuse) the vocabulary of each side of a stored pair corpus; tokens made by another tokenizer
 * version are not reused: the stored texts are tokenized again first.
 *
 * @param storePath the store file
 * @param name pair corpus name
 * @param params vocabulary parameters per side (default: the lesson's, 40,000 tokens, every count)
 * @param options `sides` to build (default both); `onNote` hears when stored texts are tokenized again
 * @returns the vocabularies built, by side
 */
export async function buildPairVocabs(
  storePath: string,
  name: string,
  params: PairVocabParams = {},
  options: { sides?: readonly PairSide[]; onNote?: (line: string) => void } = {},
): Promise<Partial<Record<PairSide, string[]>>> {
  const { sides = ["source", "target"] } = options;
  const store = await openCorpusStore(storePath);
  try {
    const pairs = new PairStore(store);
    pairs.langs(name); // names the known pair corpora when missing
    const tok = await pairs.ingest(name, undefined);
    if (!tok.reused) {
      options.onNote?.(`re-tokenized ${tok.tokenized} stored pairs with the current tokenizers`);
    }
    const out: Partial<Record<PairSide, string[]>> = {};
    for (const side of sides) {
      const v = await pairs.vocab(name, side, params[side] ?? {});
      out[side] = v.itos;
    }
    return out;
  } finally {
    store.close();
  }
}

/** What {@linkcode buildCorpusVocab} built: a text corpus's vocabulary or a pair corpus's, by side. */
export type CorpusVocab =
  | { kind: "text"; itos: string[] }
  | { kind: "pairs"; vocabs: Partial<Record<PairSide, string[]>> };

/**
 * Build the vocabulary of a stored corpus of either kind: a text corpus ({@linkcode buildVocab}; defaults
 * 60,000 tokens, count >= 3) or each side of a pair corpus ({@linkcode buildPairVocabs}; defaults 40,000,
 * every count), with the same parameters for both sides.
 *
 * @param storePath the store file
 * @param name corpus name
 * @param params vocabulary parameters (missing ones take the kind's defaults)
 * @param options `side`: only this side of a pair corpus; `onNote` hears re-tokenization
 * @returns the vocabulary or vocabularies
 */
export async function buildCorpusVocab(
  storePath: string,
  name: string,
  params: VocabParams = {},
  options: { side?: PairSide; onNote?: (line: string) => void } = {},
): Promise<CorpusVocab> {
  const { corpora, pairCorpora } = await storeInfo(storePath, name);
  if (corpora.length) {
    if (options.side) throw new Error(`vocab build: "${name}" is a text corpus; --side is for pair corpora`);
    const full = {
      maxVocab: params.maxVocab ?? 60000,
      minFreq: params.minFreq ?? 3,
      padToMultiple: params.padToMultiple ?? 0,
    };
    const opts = options.onNote ? { onNote: options.onNote } : {};
    return { kind: "text", itos: (await buildVocab(storePath, name, full, opts)).itos };
  }
  const sides = options.side ? [options.side] : (["source", "target"] as const);
  const per = { source: params, target: params };
  const opts = { sides, ...(options.onNote ? { onNote: options.onNote } : {}) };
  return {
    kind: "pairs",
    vocabs: pairCorpora.length ? await buildPairVocabs(storePath, name, per, opts) : {},
  };
}

/** What a store holds: text corpora and pair corpora. */
export interface StoreContents {
  /** Text corpora. */
  corpora: CorpusSummary[];
  /** Pair corpora. */
  pairCorpora: PairCorpusSummary[];
}

/**
 * Every corpus of a store (or only `name`), text and pair corpora.
 *
 * @param storePath the store file
 * @param name only this corpus (an error naming the known ones when there is none)
 * @returns the summaries
 */
export async function storeInfo(storePath: string, name?: string): Promise<StoreContents> {
  const all = await corpusInfo(storePath);
  const store = await openCorpusStore(storePath, { readOnly: true });
  let pairCorpora: PairCorpusSummary[];
  try {
    pairCorpora = new PairStore(store).describe();
  } finally {
    store.close();
  }
  if (name === undefined) return { corpora: all, pairCorpora };
  const out = {
    corpora: all.filter((c) => c.name === name),
    pairCorpora: pairCorpora.filter((c) => c.name === name),
  };
  if (out.corpora.length + out.pairCorpora.length === 0) {
    throw new Error(
      `${storePath}: no corpus "${name}" (text corpora: ${all.map((c) => c.name).join(", ") || "none"}; ` +
        `pair corpora: ${pairCorpora.map((c) => c.name).join(", ") || "none"})`,
    );
  }
  return out;
}
