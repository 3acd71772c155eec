/**
 * Read-only queries of the corpus store behind `CorpusStore.corpusNames`, `isTokenized`, `completeVocab` and
 * `describe` (what the `denofit` commands ask about a store), kept apart from the ingest and vocabulary code.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";

type Row = Record<string, unknown>;

/** A vocabulary of a tokenization, as `describe` reports it. */
export interface VocabSummary {
  /** The parameters (canonical JSON: maxVocab, minFreq, padToMultiple). */
  params: string;
  /** Tokens. */
  size: number;
  /** Every document numericalized. */
  complete: boolean;
}

/** A tokenization of a corpus, as `describe` reports it. */
export interface TokenizationSummary {
  /** The tokenizer settings (canonical JSON). */
  settings: string;
  /** Documents tokenized. */
  nDocs: number;
  /** Tokens. */
  nTokens: number;
  /** Every document tokenized and the term counts written. */
  complete: boolean;
  /** Its vocabularies. */
  vocabs: VocabSummary[];
}

/** What a store holds about one corpus. */
export interface CorpusSummary {
  /** Corpus name. */
  name: string;
  /** Description of the source given at the first ingest. */
  source: string | null;
  /** Documents committed. */
  nDocs: number;
  /** The source was read to its end. */
  complete: boolean;
  /** When the corpus was created (ISO 8601). */
  createdAt: string;
  /** Documents per (split, label), ordered; null where a document has none. */
  groups: { split: string | null; label: string | null; n: number }[];
  /** Its tokenizations. */
  tokenizations: TokenizationSummary[];
}

/** Names of the stored corpora, in creation order. */
export function corpusNames(db: DatabaseSync): string[] {
  return db.prepare("SELECT name FROM corpora ORDER BY id").all().map((r) => String(r.name));
}

/** Whether corpus `name` has a complete tokenization with settings hash `settingsHash`. */
export function hasCompleteTokenization(db: DatabaseSync, name: string, settingsHash: string): boolean {
  const r = db.prepare(
    "SELECT count(*) AS n FROM tokenizations t JOIN corpora c ON c.id = t.corpus_id " +
      "JOIN settings s ON s.id = t.settings_id WHERE c.name = ? AND t.complete = 1 AND s.hash = ?",
  ).get(name, settingsHash) as Row;
  return Number(r.n) > 0;
}

/** The vocabulary (itos) of a complete vocabulary with parameters `params` (canonical JSON), if stored. */
export function completeVocabItos(
  db: DatabaseSync,
  name: string,
  params: string,
  settingsHash: string,
): string[] | undefined {
  const r = db.prepare(
    "SELECT v.itos FROM vocabs v JOIN tokenizations t ON t.id = v.tokenization_id " +
      "JOIN corpora c ON c.id = t.corpus_id JOIN settings st ON st.id = t.settings_id " +
      "WHERE c.name = ? AND v.params = ? AND v.complete = 1 AND st.hash = ?",
  ).get(name, params, settingsHash) as Row | undefined;
  return r ? JSON.parse(r.itos as string) : undefined;
}

function tokenizations(db: DatabaseSync, corpusId: number): TokenizationSummary[] {
  const rows = db.prepare(
    "SELECT t.id, t.n_docs, t.n_tokens, t.complete, s.json FROM tokenizations t " +
      "JOIN settings s ON s.id = t.settings_id WHERE t.corpus_id = ?",
  ).all(corpusId) as Row[];
  const vocabs = db.prepare("SELECT params, size, complete FROM vocabs WHERE tokenization_id = ?");
  return rows.map((t) => ({
    settings: String(t.json),
    nDocs: Number(t.n_docs),
    nTokens: Number(t.n_tokens),
    complete: Boolean(t.complete),
    vocabs: (vocabs.all(t.id as number) as Row[]).map((v) => ({
      params: String(v.params),
      size: Number(v.size),
      complete: Boolean(v.complete),
    })),
  }));
}

/** Every corpus with its documents per split and label, tokenizations and vocabularies. */
export function describeCorpora(db: DatabaseSync): CorpusSummary[] {
  const corpora = db.prepare(
    "SELECT id, name, source, n_docs, complete, created_at FROM corpora ORDER BY id",
  ).all() as Row[];
  const groups = db.prepare(
    "SELECT split, label, count(*) AS n FROM documents WHERE corpus_id = ? GROUP BY 1, 2 ORDER BY 1, 2",
  );
  return corpora.map((c) => ({
    name: String(c.name),
    source: c.source === null ? null : String(c.source),
    nDocs: Number(c.n_docs),
    complete: Boolean(c.complete),
    createdAt: String(c.created_at),
    groups: (groups.all(c.id as number) as Row[]).map((g) => ({
      split: g.split === null ? null : String(g.split),
      label: g.label === null ? null : String(g.label),
      n: Number(g.n),
    })),
    tokenizations: tokenizations(db, c.id as number),
  }));
}
