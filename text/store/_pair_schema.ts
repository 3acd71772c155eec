/**
 * The pair-corpus tables of the corpus store (parallel corpora for translation: both sides of every pair in one
 * corpus), added to a store file by a migration the first time a pair corpus is written. Documented for users
 * in `store/pair_store.ts`.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";

/** Version of the pair tables, written to `meta` as `pair_schema_version`. */
export const PAIR_SCHEMA_VERSION = 1;

/**
 * The DDL. `pair_tokens` holds both sides of a pair in one row, so the ids that join them are the row's key;
 * term dictionaries and vocabularies are per side (`side` is `'source'` or `'target'`).
 */
export const PAIR_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS pair_corpora (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  source      TEXT,
  source_lang TEXT NOT NULL,
  target_lang TEXT NOT NULL,
  settings    TEXT NOT NULL,
  n_pairs     INTEGER NOT NULL DEFAULT 0,
  complete    INTEGER NOT NULL DEFAULT 0,
  report      TEXT,
  created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pairs (
  corpus_id INTEGER NOT NULL REFERENCES pair_corpora(id),
  idx       INTEGER NOT NULL,
  ext_id    TEXT,
  source    TEXT NOT NULL,
  target    TEXT NOT NULL,
  PRIMARY KEY (corpus_id, idx)
);
CREATE TABLE IF NOT EXISTS pair_tokenizations (
  id                 INTEGER PRIMARY KEY,
  corpus_id          INTEGER NOT NULL REFERENCES pair_corpora(id),
  source_settings_id INTEGER NOT NULL REFERENCES settings(id),
  target_settings_id INTEGER NOT NULL REFERENCES settings(id),
  n_pairs            INTEGER NOT NULL DEFAULT 0,
  source_tokens      INTEGER NOT NULL DEFAULT 0,
  target_tokens      INTEGER NOT NULL DEFAULT 0,
  complete           INTEGER NOT NULL DEFAULT 0,
  UNIQUE (corpus_id, source_settings_id, target_settings_id)
);
CREATE TABLE IF NOT EXISTS pair_terms (
  tokenization_id INTEGER NOT NULL REFERENCES pair_tokenizations(id),
  side            TEXT NOT NULL,
  id              INTEGER NOT NULL,
  term            TEXT NOT NULL,
  count           INTEGER NOT NULL,
  PRIMARY KEY (tokenization_id, side, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pair_term_batches (
  tokenization_id INTEGER NOT NULL REFERENCES pair_tokenizations(id),
  side            TEXT NOT NULL,
  first_id        INTEGER NOT NULL,
  terms           TEXT NOT NULL,
  PRIMARY KEY (tokenization_id, side, first_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pair_tokens (
  tokenization_id INTEGER NOT NULL REFERENCES pair_tokenizations(id),
  idx             INTEGER NOT NULL,
  source_n        INTEGER NOT NULL,
  source_width    INTEGER NOT NULL,
  source_ids      BLOB NOT NULL,
  target_n        INTEGER NOT NULL,
  target_width    INTEGER NOT NULL,
  target_ids      BLOB NOT NULL,
  PRIMARY KEY (tokenization_id, idx)
);
CREATE TABLE IF NOT EXISTS pair_vocabs (
  id              INTEGER PRIMARY KEY,
  tokenization_id INTEGER NOT NULL REFERENCES pair_tokenizations(id),
  side            TEXT NOT NULL,
  hash            TEXT NOT NULL,
  params          TEXT NOT NULL,
  itos            TEXT NOT NULL,
  size            INTEGER NOT NULL,
  created_at      TEXT NOT NULL,
  UNIQUE (tokenization_id, side, hash)
);
`;

/** Whether the store file has the pair tables. */
export function hasPairTables(db: DatabaseSync): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'pair_corpora'").get() !==
    undefined;
}

/**
 * The migration: create the pair tables and record their version in one transaction (a no-op when present;
 * a newer version than this code reads is an error).
 *
 * @param db the store's database
 * @param path the file, for messages
 */
export function migratePairTables(db: DatabaseSync, path: string): void {
  if (hasPairTables(db)) {
    checkPairSchema(db, path);
    return;
  }
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(PAIR_SCHEMA_SQL);
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('pair_schema_version', ?)").run(
      String(PAIR_SCHEMA_VERSION),
    );
    db.exec("COMMIT");
  } catch (e) {
    db.exec("ROLLBACK");
    throw e;
  }
}

/** Refuse pair tables of another version than {@linkcode PAIR_SCHEMA_VERSION}. */
export function checkPairSchema(db: DatabaseSync, path: string): void {
  const v = db.prepare("SELECT value FROM meta WHERE key = 'pair_schema_version'").get() as
    | { value: string }
    | undefined;
  if (v && Number(v.value) !== PAIR_SCHEMA_VERSION) {
    throw new Error(
      `${path}: pair-corpus tables of version ${v.value}; this code reads version ${PAIR_SCHEMA_VERSION}`,
    );
  }
}
