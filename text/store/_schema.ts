/**
 * The corpus store's SQL schema (documented for users in `store/store.ts` and the README section
 * "Corpus store schema") and the id <-> BLOB codecs.
 *
 * @module
 */

/** Schema version written to `meta`. */
export const SCHEMA_VERSION = 1;

/**
 * The DDL, idempotent. Tables with large rows (document text, token BLOBs) are rowid tables: SQLite's
 * WITHOUT ROWID layout is slow for rows over ~1/20 of a page.
 */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS corpora (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  source     TEXT,
  n_docs     INTEGER NOT NULL DEFAULT 0,
  complete   INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
  corpus_id INTEGER NOT NULL REFERENCES corpora(id),
  idx       INTEGER NOT NULL,
  ext_id    TEXT,
  label     TEXT,
  split     TEXT,
  text      TEXT NOT NULL,
  fields    TEXT,
  PRIMARY KEY (corpus_id, idx)
);
CREATE INDEX IF NOT EXISTS documents_split_label ON documents (corpus_id, split, label);
CREATE TABLE IF NOT EXISTS settings (
  id   INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokenizations (
  id          INTEGER PRIMARY KEY,
  corpus_id   INTEGER NOT NULL REFERENCES corpora(id),
  settings_id INTEGER NOT NULL REFERENCES settings(id),
  n_docs      INTEGER NOT NULL DEFAULT 0,
  n_tokens    INTEGER NOT NULL DEFAULT 0,
  complete    INTEGER NOT NULL DEFAULT 0,
  UNIQUE (corpus_id, settings_id)
);
CREATE TABLE IF NOT EXISTS terms (
  tokenization_id INTEGER NOT NULL REFERENCES tokenizations(id),
  id              INTEGER NOT NULL,
  term            TEXT NOT NULL,
  count           INTEGER NOT NULL,
  PRIMARY KEY (tokenization_id, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS term_batches (
  tokenization_id INTEGER NOT NULL REFERENCES tokenizations(id),
  first_id        INTEGER NOT NULL,
  terms           TEXT NOT NULL,
  PRIMARY KEY (tokenization_id, first_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS doc_tokens (
  tokenization_id INTEGER NOT NULL REFERENCES tokenizations(id),
  idx             INTEGER NOT NULL,
  n               INTEGER NOT NULL,
  width           INTEGER NOT NULL,
  term_ids        BLOB NOT NULL,
  PRIMARY KEY (tokenization_id, idx)
);
CREATE TABLE IF NOT EXISTS vocabs (
  id              INTEGER PRIMARY KEY,
  tokenization_id INTEGER NOT NULL REFERENCES tokenizations(id),
  hash            TEXT NOT NULL,
  params          TEXT NOT NULL,
  itos            TEXT NOT NULL,
  size            INTEGER NOT NULL,
  width           INTEGER NOT NULL,
  n_docs          INTEGER NOT NULL DEFAULT 0,
  complete        INTEGER NOT NULL DEFAULT 0,
  UNIQUE (tokenization_id, hash)
);
CREATE TABLE IF NOT EXISTS doc_ids (
  vocab_id INTEGER NOT NULL REFERENCES vocabs(id),
  idx      INTEGER NOT NULL,
  n        INTEGER NOT NULL,
  ids      BLOB NOT NULL,
  PRIMARY KEY (vocab_id, idx)
);
`;

const LITTLE = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Bytes per id for ids below `limit`: 1, 2 or 4. */
export function widthFor(limit: number): 1 | 2 | 4 {
  return limit <= 0x100 ? 1 : limit <= 0x10000 ? 2 : 4;
}

/** Encode ids as little-endian unsigned `width`-byte integers (4: Int32). */
export function encodeIds(ids: Int32Array, width: 1 | 2 | 4): Uint8Array {
  if (width === 1) return Uint8Array.from(ids);
  if (LITTLE) {
    const typed = width === 2 ? Uint16Array.from(ids) : ids;
    return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  }
  const out = new Uint8Array(ids.length * width);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < ids.length; i++) {
    if (width === 2) dv.setUint16(i * 2, ids[i]!, true);
    else dv.setInt32(i * 4, ids[i]!, true);
  }
  return out;
}

/** Decode a BLOB written by {@linkcode encodeIds} (one allocation: the result). */
export function decodeIds(blob: Uint8Array, width: number): Int32Array {
  if (blob.length % width !== 0) {
    throw new Error(`corrupt id BLOB: ${blob.length} bytes is not a multiple of ${width}`);
  }
  const n = blob.length / width;
  const out = new Int32Array(n);
  if (width === 1) out.set(blob);
  else if (width === 2) {
    for (let i = 0, j = 0; i < n; i++, j += 2) {
      out[i] = blob[j]! | (blob[j + 1]! << 8);
    }
  } else {
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      out[i] = blob[j]! | (blob[j + 1]! << 8) | (blob[j + 2]! << 16) | (blob[j + 3]! << 24);
    }
  }
  return out;
}
