/**
 * Read-only queries of the pair-corpus tables behind `PairStore.names`, `describe` and the term dictionaries,
 * kept apart from the ingest code (`pair_store.ts`).
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { hasPairTables } from "./_pair_schema.ts";

type Row = Record<string, unknown>;

/** Side of a pair: the reader's source (e.g. English msgid) or target (e.g. French msgstr). */
export type PairSide = "source" | "target";

/** A stored vocabulary of one side, as `describe` reports it. */
export interface PairVocabSummary {
  /** Which side. */
  side: PairSide;
  /** The parameters (canonical JSON: maxVocab, minFreq, padToMultiple). */
  params: string;
  /** Tokens, specials included. */
  size: number;
}

/** A tokenization of a pair corpus (both sides), as `describe` reports it. */
export interface PairTokenizationSummary {
  /** Tokenizer settings of the source side (canonical JSON). */
  sourceSettings: string;
  /** Tokenizer settings of the target side. */
  targetSettings: string;
  /** Pairs tokenized. */
  nPairs: number;
  /** Tokens of the source side. */
  sourceTokens: number;
  /** Tokens of the target side. */
  targetTokens: number;
  /** Distinct source tokens (terms). */
  sourceTerms: number;
  /** Distinct target tokens. */
  targetTerms: number;
  /** Every pair tokenized and the term counts written. */
  complete: boolean;
  /** Its vocabularies. */
  vocabs: PairVocabSummary[];
}

/** What a store holds about one pair corpus. */
export interface PairCorpusSummary {
  /** Corpus name. */
  name: string;
  /** Description of the source given at the first ingest. */
  source: string | null;
  /** Language of the source side. */
  sourceLang: string;
  /** Language of the target side. */
  targetLang: string;
  /** What selected and cleaned the pairs (canonical JSON). */
  settings: string;
  /** Pairs committed. */
  nPairs: number;
  /** The source was read to its end. */
  complete: boolean;
  /** What the ingest reported when it completed (e.g. pairs removed per cleaning rule), or null. */
  report: Record<string, unknown> | null;
  /** When the corpus was created (ISO 8601). */
  createdAt: string;
  /** Its tokenizations. */
  tokenizations: PairTokenizationSummary[];
}

/** Names of the stored pair corpora, in creation order (none when the store has no pair tables). */
export function pairCorpusNames(db: DatabaseSync): string[] {
  if (!hasPairTables(db)) return [];
  return db.prepare("SELECT name FROM pair_corpora ORDER BY id").all().map((r) => String(r.name));
}

function termCount(db: DatabaseSync, tzId: number, side: PairSide, complete: boolean): number {
  const sql = complete
    ? "SELECT count(*) AS n FROM pair_terms WHERE tokenization_id = ? AND side = ?"
    : "SELECT coalesce(sum(json_array_length(terms)), 0) AS n FROM pair_term_batches " +
      "WHERE tokenization_id = ? AND side = ?";
  return Number((db.prepare(sql).get(tzId, side) as Row).n);
}

function pairTokenizations(db: DatabaseSync, corpusId: number): PairTokenizationSummary[] {
  const rows = db.prepare(
    "SELECT t.*, s.json AS s_json, g.json AS t_json FROM pair_tokenizations t " +
      "JOIN settings s ON s.id = t.source_settings_id JOIN settings g ON g.id = t.target_settings_id " +
      "WHERE t.corpus_id = ? ORDER BY t.id",
  ).all(corpusId) as Row[];
  const vocabs = db.prepare(
    "SELECT side, params, size FROM pair_vocabs WHERE tokenization_id = ? ORDER BY id",
  );
  return rows.map((t) => {
    const id = t.id as number, complete = Boolean(t.complete);
    return {
      sourceSettings: String(t.s_json),
      targetSettings: String(t.t_json),
      nPairs: Number(t.n_pairs),
      sourceTokens: Number(t.source_tokens),
      targetTokens: Number(t.target_tokens),
      sourceTerms: termCount(db, id, "source", complete),
      targetTerms: termCount(db, id, "target", complete),
      complete,
      vocabs: (vocabs.all(id) as Row[]).map((v) => ({
        side: v.side as PairSide,
        params: String(v.params),
        size: Number(v.size),
      })),
    };
  });
}

/** Every pair corpus with its tokenizations and vocabularies (none when the store has no pair tables). */
export function describePairCorpora(db: DatabaseSync): PairCorpusSummary[] {
  if (!hasPairTables(db)) return [];
  const rows = db.prepare("SELECT * FROM pair_corpora ORDER BY id").all() as Row[];
  return rows.map((c) => ({
    name: String(c.name),
    source: c.source === null ? null : String(c.source),
    sourceLang: String(c.source_lang),
    targetLang: String(c.target_lang),
    settings: String(c.settings),
    nPairs: Number(c.n_pairs),
    complete: Boolean(c.complete),
    report: c.report === null ? null : JSON.parse(String(c.report)),
    createdAt: String(c.created_at),
    tokenizations: pairTokenizations(db, c.id as number),
  }));
}

/** A side's term dictionary: term -> id, terms by id, counts (valid once the tokenization is complete). */
export interface PairDict {
  /** Term -> id. */
  ids: Map<string, number>;
  /** Terms by id. */
  terms: string[];
  /** Counts by id. */
  counts: number[];
}

/** Load a side's terms: `pair_terms` of a complete tokenization, else the pending `pair_term_batches`. */
export function loadPairDict(db: DatabaseSync, tzId: number, side: PairSide): PairDict {
  const dict: PairDict = { ids: new Map(), terms: [], counts: [] };
  const add = (term: string, count: number, id: number) => {
    if (id !== dict.terms.length) {
      throw new Error(`corpus store: ${side} terms of pair tokenization ${tzId} are not contiguous at ${id}`);
    }
    dict.ids.set(term, id);
    dict.terms.push(term);
    dict.counts.push(count);
  };
  const terms = db.prepare(
    "SELECT id, term, count FROM pair_terms WHERE tokenization_id = ? AND side = ? ORDER BY id",
  );
  for (const r of terms.iterate(tzId, side)) add(r.term as string, r.count as number, r.id as number);
  const batches = db.prepare(
    "SELECT first_id, terms FROM pair_term_batches WHERE tokenization_id = ? AND side = ? ORDER BY first_id",
  );
  for (const r of batches.iterate(tzId, side)) {
    const first = r.first_id as number;
    (JSON.parse(r.terms as string) as string[]).forEach((t, k) => add(t, 0, first + k));
  }
  return dict;
}
