/**
 * Where a stored corpus came from: a content hash of its records as stored (so two sources that give the same
 * documents hash equal, whatever their format), their number, and the source file's size and modification time
 * (`corpus_sources`). A corpus name given another source is then an error instead of a silent "(reused)".
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { createHash, type Hash } from "node:crypto";
import type { TextRecord } from "../readers/types.ts";

/** Schema of the sources table (created with the store's schema; one row per corpus). */
export const SOURCES_SQL = `
CREATE TABLE IF NOT EXISTS corpus_sources (
  corpus_id   INTEGER PRIMARY KEY REFERENCES corpora(id),
  hash        TEXT NOT NULL,
  n_docs      INTEGER NOT NULL,
  size        INTEGER,
  mtime       TEXT,
  desc        TEXT,
  recorded_at TEXT NOT NULL
);
`;

/** What is known of a corpus's source. */
export interface SourceInfo {
  /** SHA-256 (hex) of the records as stored ({@linkcode RecordHasher}). */
  hash: string;
  /** Records in the source. */
  nDocs: number;
  /** Bytes of the source file (a folder: undefined). */
  size?: number;
  /** Modification time of the source file or folder (ISO). */
  mtime?: string;
  /** The source as the user named it (`csv:imdb.csv`). */
  desc?: string;
}

function s(v: unknown): string | null {
  return v === undefined || v === null ? null : String(v);
}

/**
 * SHA-256 over records in the form the store keeps them (id, label, split, text, fields), one after another:
 * the same documents give the same hash whether they come from a reader or from the `documents` table.
 *
 * @example Equal records, equal hashes
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { RecordHasher } from "./store.ts";
 * const a = new RecordHasher(), b = new RecordHasher();
 * a.add({ text: "hello", label: "x" });
 * b.add({ text: "hello", label: "x" });
 * strictEqual(a.digest(), b.digest());
 * ```
 */
export class RecordHasher {
  /** Records added. */
  count = 0;
  #h: Hash = createHash("sha256");

  /** Add one record. */
  add(r: TextRecord): void {
    this.addRow(s(r.id), s(r.label), s(r.split), r.text, r.fields ? JSON.stringify(r.fields) : null);
  }

  /** Add one record as the `documents` table holds it. */
  addRow(
    id: string | null,
    label: string | null,
    split: string | null,
    text: string,
    fields: string | null,
  ): void {
    this.count++;
    this.#h.update(JSON.stringify([id, label, split, text, fields]) + "\n");
  }

  /** The hash (hex). */
  digest(): string {
    return this.#h.digest("hex");
  }
}

interface Row {
  [k: string]: unknown;
}

/**
 * The hash of a corpus's stored documents (for a corpus stored before sources were recorded).
 *
 * @param db the store
 * @param corpusId the corpus
 * @returns its hash and number of documents
 */
export function hashStoredDocuments(db: DatabaseSync, corpusId: number): { hash: string; nDocs: number } {
  const h = new RecordHasher();
  const rows = db.prepare(
    "SELECT ext_id, label, split, text, fields FROM documents WHERE corpus_id = ? ORDER BY idx",
  );
  for (const r of rows.iterate(corpusId) as Iterable<Row>) {
    h.addRow(s(r.ext_id), s(r.label), s(r.split), String(r.text), s(r.fields));
  }
  return { hash: h.digest(), nDocs: h.count };
}

/** The recorded source of a corpus, if any. */
export function storedSource(
  db: DatabaseSync,
  corpusId: number,
): (SourceInfo & { recordedAt: string }) | undefined {
  const r = db.prepare("SELECT * FROM corpus_sources WHERE corpus_id = ?").get(corpusId) as Row | undefined;
  if (!r) return undefined;
  return {
    hash: String(r.hash),
    nDocs: Number(r.n_docs),
    ...(r.size !== null ? { size: Number(r.size) } : {}),
    ...(r.mtime !== null ? { mtime: String(r.mtime) } : {}),
    ...(r.desc !== null ? { desc: String(r.desc) } : {}),
    recordedAt: String(r.recorded_at),
  };
}

/** Records (or replaces) the source of a corpus. */
export function recordSource(db: DatabaseSync, corpusId: number, info: SourceInfo): void {
  db.prepare(
    "INSERT OR REPLACE INTO corpus_sources (corpus_id, hash, n_docs, size, mtime, desc, recorded_at) " +
      "VALUES (?, ?, ?, ?, ?, ?, ?)",
  ).run(
    corpusId,
    info.hash,
    info.nDocs,
    info.size ?? null,
    info.mtime ?? null,
    info.desc ?? null,
    new Date().toISOString(),
  );
}

/** A source in a few words: `csv:a.csv (200 documents, 9150 bytes, modified ..., sha256 1a2b3c4d5e6f)`. */
export function describeSource(info: SourceInfo): string {
  const parts = [`${info.nDocs} documents`];
  if (info.size !== undefined) parts.push(`${info.size} bytes`);
  if (info.mtime !== undefined) parts.push(`modified ${info.mtime}`);
  parts.push(`sha256 ${info.hash.slice(0, 12)}`);
  return `${info.desc ?? "a source"} (${parts.join(", ")})`;
}

/** A `corpora` row (the columns the source checks read). */
export interface CorpusRow {
  [k: string]: unknown;
}

/** Runs `fn` in one `BEGIN IMMEDIATE` transaction (rolled back when it throws). */
export function transaction(db: DatabaseSync, fn: () => void): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    fn();
    db.exec("COMMIT");
  } catch (e) {
    db.exec("ROLLBACK");
    throw e;
  }
}

/**
 * Whether `corpus` was stored from a source of `info`'s hash (a corpus from before sources were recorded: its
 * documents are hashed; an unfinished one passes, the resume check compares its documents).
 */
export function sameSource(db: DatabaseSync, corpus: CorpusRow, info: SourceInfo): boolean {
  const id = corpus.id as number;
  const stored = storedSource(db, id);
  if (stored) return stored.hash === info.hash;
  if (!corpus.complete) return true;
  return hashStoredDocuments(db, id).hash === info.hash;
}

/**
 * Refuses another source under an existing corpus name, naming both; records the source of a corpus stored
 * before sources were recorded.
 *
 * @param db the store
 * @param path the store file, for the message
 * @param name the corpus
 * @param corpus its `corpora` row
 * @param info the source given now
 */
export function checkSource(
  db: DatabaseSync,
  path: string,
  name: string,
  corpus: CorpusRow,
  info: SourceInfo,
): void {
  const id = corpus.id as number;
  if (!sameSource(db, corpus, info)) {
    const stored = storedSource(db, id) ??
      { ...hashStoredDocuments(db, id), desc: String(corpus.source ?? "the stored source") };
    throw new Error(
      `${path}: corpus "${name}" was stored from ${describeSource(stored)}; the source given now is ` +
        `${describeSource(info)} and differs. Ingest it under another --name, or pass --replace to replace ` +
        "the stored corpus (its tokens and vocabularies go with it)",
    );
  }
  if (!storedSource(db, id)) recordSource(db, id, info);
}

/**
 * Deletes a corpus and everything stored for it (call inside a transaction). Tables keyed by corpus,
 * tokenization or vocabulary are listed here: a new such table must be added.
 *
 * @param db the store
 * @param corpus its `corpora` row
 */
export function deleteCorpus(db: DatabaseSync, corpus: CorpusRow): void {
  const id = corpus.id as number;
  const tz = "SELECT id FROM tokenizations WHERE corpus_id = ?";
  db.prepare(`DELETE FROM doc_ids WHERE vocab_id IN (SELECT id FROM vocabs WHERE tokenization_id IN (${tz}))`)
    .run(id);
  for (const t of ["vocabs", "terms", "term_batches", "doc_tokens"]) {
    db.prepare(`DELETE FROM ${t} WHERE tokenization_id IN (${tz})`).run(id);
  }
  for (const t of ["tokenizations", "documents", "corpus_sources"]) {
    db.prepare(`DELETE FROM ${t} WHERE corpus_id = ?`).run(id);
  }
  db.prepare("DELETE FROM corpora WHERE id = ?").run(id);
}
