/**
 * The SQLite corpus store (`node:sqlite`): documents with their labels and splits, their tokens as compact
 * BLOBs, the vocabulary, and the settings that produced them, in one file that users can query with plain SQL.
 *
 * - **Remembers what you did**: tokens are kept per settings hash (tokenizer name, language, options);
 *   re-running with the same settings reuses them, different settings are kept apart. A vocabulary is kept per
 *   tokenization and per vocabulary parameters (`maxVocab`, `minFreq`).
 * - **Crash-safe and resumable**: ingest commits one chunk of documents at a time in a transaction (WAL
 *   journal) holding the documents, their tokens, the new terms and the progress counters together, so a
 *   killed process loses no committed document and leaves no partial one; running the same ingest again skips
 *   what is stored (the source must yield the same documents in the same order; the last stored one is
 *   checked) and carries on.
 * - **Fast and flat**: tokenization runs on a {@linkcode TokenizerPool} of Workers fed from the reader in
 *   bounded chunks, so memory does not grow with the corpus (only the term dictionary does).
 *
 * ## Corpus store schema
 *
 * | table | one row per | columns |
 * |---|---|---|
 * | `corpora` | corpus | `id`, `name` (unique), `source`, `n_docs` (documents committed), `complete` (1 when the source was read to its end), `created_at` |
 * | `documents` | document | `corpus_id`, `idx` (0-based position in the source), `ext_id` (the reader's id: path, row), `label`, `split`, `text`, `fields` (JSON array for multi-field rows) |
 * | `settings` | tokenizer setting | `id`, `hash` (SHA-256 of `json`), `json` (canonical JSON: tokenizer name, lang, options) |
 * | `tokenizations` | corpus x settings | `id`, `corpus_id`, `settings_id`, `n_docs` (documents tokenized), `n_tokens`, `complete` |
 * | `terms` | distinct token of a complete tokenization | `tokenization_id`, `id` (0-based, in order of first appearance), `term`, `count` (written when the tokenization completes) |
 * | `term_batches` | chunk of an unfinished tokenization | `tokenization_id`, `first_id`, `terms` (JSON array of the terms first seen in that chunk, ids `first_id`...; moved to `terms` on completion) |
 * | `doc_tokens` | document x tokenization | `tokenization_id`, `idx`, `n` (tokens), `width` (bytes per id: 1, 2 or 4), `term_ids` (BLOB of `n` little-endian unsigned ids into `terms`; width 4 = Int32) |
 * | `vocabs` | vocabulary of a tokenization | `id`, `tokenization_id`, `hash` (of `params`), `params` (JSON: maxVocab, minFreq), `itos` (JSON array, specials first), `size`, `width` (bytes per id in `doc_ids`), `n_docs` (documents numericalized), `complete` |
 * | `doc_ids` | document x vocabulary | `vocab_id`, `idx`, `n`, `ids` (BLOB of `n` little-endian vocabulary ids, `vocabs.width` bytes each) |
 * | `meta` | key | `key`, `value` (`schema_version`) |
 * | `corpus_sources` | corpus | `corpus_id`, `hash` (SHA-256 of the records as stored: {@linkcode RecordHasher}), `n_docs`, `size` / `mtime` of the source file, `desc`, `recorded_at` |
 *
 * - **Never lies about its sources**: a corpus name given another source (another hash) is an error naming
 *   both; `replace` ingests the new one aside and swaps it in, in one transaction.
 * - **Never writes where it should not**: stores are marked (`PRAGMA application_id` =
 *   {@linkcode STORE_APPLICATION_ID}, `user_version` = schema version); another program's non-empty database
 *   is refused unchanged; `open(path, { readOnly: true })` changes nothing in the file.
 * - **One writer per corpus**: ingest and vocabulary builds hold a lock file per corpus beside the store; a
 *   second writer waits (`waitMs`) and then fails with a message naming the process that writes.
 *
 * Example queries: documents per label — `SELECT label, count(*) FROM documents d JOIN corpora c ON
 * c.id = d.corpus_id WHERE c.name = 'imdb' GROUP BY label`; the most frequent tokens — `SELECT term, count FROM
 * terms WHERE tokenization_id = 1 ORDER BY count DESC LIMIT 20`; tokens of a document — read `doc_tokens.term_ids`
 * as an Int32Array (width 4) / Uint16Array (width 2) / Uint8Array (width 1) and look the ids up in `terms`.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { createHash } from "node:crypto";
import { chunked } from "../readers/csv.ts";
import type { TextRecord } from "../readers/types.ts";
import { TokenizerPool } from "../parallel.ts";
import { canonicalJson, type TokenizedChunk, type TokenizeFn, type TokenizerSpec } from "../_tokenizers.ts";
import { decodeIds, encodeIds, SCHEMA_SQL, SCHEMA_VERSION, widthFor } from "./_schema.ts";
import { claimCorpus, markStore, storeIdentity, storeOpenError, type WriterClaim } from "./_guard.ts";
import {
  checkSource,
  deleteCorpus,
  recordSource,
  sameSource,
  type SourceInfo,
  SOURCES_SQL,
  transaction,
} from "./_source.ts";
import { WORD_TOKENIZER_VERSION } from "../word_tokenizer.ts";
import {
  completeVocabItos,
  corpusNames,
  type CorpusSummary,
  describeCorpora,
  hasCompleteTokenization,
} from "./_queries.ts";

export type { CorpusSummary, TokenizationSummary, VocabSummary } from "./_queries.ts";
export { RecordHasher, type SourceInfo } from "./_source.ts";
export { STORE_APPLICATION_ID } from "./_guard.ts";

/** A tokenizer for the store: a named one (run on Workers) or a function with a name for the settings hash. */
export type StoreTokenizer = TokenizerSpec | { custom: string; fn: TokenizeFn };

/** The default tokenizer: fastai-style English word tokenization with rules. */
export const DEFAULT_STORE_TOKENIZER: TokenizerSpec = { name: "word", lang: "en" };

/** Options of {@linkcode CorpusStore.ingest}. */
export interface IngestOptions {
  /** How to tokenize. @default {DEFAULT_STORE_TOKENIZER} */
  tokenizer?: StoreTokenizer;
  /** Tokenizer workers. @default {navigator.hardwareConcurrency} */
  workers?: number;
  /** Documents per chunk sent to a worker and per committed transaction. @default {1000} */
  chunkSize?: number;
  /** Chunks in flight at once (bounds memory). @default {2 * workers} */
  maxInFlight?: number;
  /**
   * A pool to reuse (its tokenizer must be the one `tokenizer` names; it is not closed). Saves starting
   * workers for every ingest.
   */
  pool?: TokenizerPool;
  /** Description of the source, stored when the corpus is created. */
  source?: string;
  /** Called after each committed chunk. */
  onProgress?: (p: IngestProgress) => void;
  /**
   * The source's content hash (a {@linkcode RecordHasher} over exactly the records given), size and time:
   * recorded with a new corpus; an existing corpus of another hash is an error (or replaced with `replace`).
   */
  sourceInfo?: SourceInfo;
  /** Replace an existing corpus of another source (the new one is ingested aside, then swapped in). */
  replace?: boolean;
  /** How long to wait for another process writing the same corpus. @default 60_000 */
  waitMs?: number;
  /** Hears that the ingest waits for another writer. */
  onWait?: (line: string) => void;
}

/** Progress of an ingest. */
export interface IngestProgress {
  /** Documents of the corpus tokenized with these settings so far (committed). */
  docs: number;
  /** Documents added to the corpus in this run. */
  added: number;
  /** Tokens produced in this run. */
  tokens: number;
  /** Seconds since the start of this run. */
  seconds: number;
}

/** What an ingest did. */
export interface IngestResult extends IngestProgress {
  /** The settings hash the tokens are stored under. */
  settingsHash: string;
  /** Documents tokenized in this run (new ones plus stored ones missing these settings). */
  tokenized: number;
  /** True when everything was already stored and nothing was done. */
  reused: boolean;
  /** True when a corpus of another source was replaced (`replace`). */
  replaced?: boolean;
}

/** Vocabulary parameters (as `VocabOptions` of `vocab.ts`). */
export interface VocabParams {
  /** Largest vocabulary (specials included). @default {60000} */
  maxVocab?: number;
  /** Smallest count for a token to get an id (fastai v2 `min_freq`). @default {3} */
  minFreq?: number;
  /** Pad the vocabulary to a multiple of this (fastai v2: 8); 0: no padding. @default {0} */
  padToMultiple?: number;
}

/** A stored vocabulary. */
export interface StoredVocab {
  /** Row id in `vocabs`. */
  id: number;
  /** Id to token. */
  itos: string[];
  /** Bytes per id in `doc_ids`. */
  width: 1 | 2 | 4;
  /** Hash of the parameters. */
  hash: string;
}

/** One stored document with its ids. */
export interface StoredDoc {
  /** 0-based position in the source. */
  idx: number;
  /** Vocabulary ids (when a vocabulary was asked for) or term ids. */
  ids: Int32Array;
  /** Label, if any. */
  label?: string;
  /** Split, if any. */
  split?: string;
}

/**
 * Builds a vocabulary from term counts. `terms` are in order of first appearance in the corpus; returns the
 * itos list (specials first) and a function giving each term's id.
 */
export type VocabBuilder = (
  terms: string[],
  counts: number[],
  params: Required<VocabParams>,
) => Promise<{ itos: string[]; idsOf: (terms: string[]) => Int32Array }>;

interface Row {
  [k: string]: unknown;
}

function vocabParams(p: VocabParams): Required<VocabParams> {
  return { maxVocab: p.maxVocab ?? 60000, minFreq: p.minFreq ?? 3, padToMultiple: p.padToMultiple ?? 0 };
}

function sha256(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

function sha256Bytes(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

/** The settings hash of a tokenizer (what `settings.hash` holds). */
export function tokenizerSettings(tok: StoreTokenizer): { hash: string; json: string } {
  // The word tokenizer's version is part of the hash, so a tokenizer change is never served from old tokens.
  const plain = "custom" in tok ? { custom: tok.custom } : {
    ...tok,
    lang: tok.lang ?? "en",
    ...(tok.name === "word" ? { version: WORD_TOKENIZER_VERSION } : {}),
    // A subword model is identified by its content, not its path.
    ...(tok.name === "subword" && tok.model ? { model: sha256Bytes(Deno.readFileSync(tok.model)) } : {}),
  };
  const json = canonicalJson({ tokenizer: plain, store: 1 });
  return { hash: sha256(json), json };
}

interface Dict {
  ids: Map<string, number>;
  terms: string[];
  /** As stored: valid once the tokenization is complete. */
  counts: number[];
}

/**
 * A corpus store in one SQLite file (see the module doc for the schema).
 *
 * @example Ingest once, reuse on the second run
 * ```ts
 * import { CorpusStore } from "./store.ts";
 * const store = CorpusStore.open(":memory:");
 * const docs = [{ text: "a b a", label: "x" }, { text: "b c", label: "y" }];
 * const tokenizer = { name: "whitespace" } as const;
 * const first = await store.ingest("tiny", docs, { tokenizer, workers: 0 });
 * const again = await store.ingest("tiny", docs, { tokenizer, workers: 0 });
 * if (first.tokens !== 5 || !again.reused) throw new Error("bad ingest");
 * const [d0] = store.documents("tiny", { tokenizer });
 * if (d0!.ids.join() !== "0,1,0" || d0!.label !== "x") throw new Error("bad ids");
 * store.close();
 * ```
 */
export class CorpusStore {
  /** The open database (plain SQL welcome). */
  readonly db: DatabaseSync;
  /** The file it was opened from (`:memory:` for an in-memory store). */
  readonly path: string;

  private constructor(db: DatabaseSync, path: string) {
    this.db = db;
    this.path = path;
  }

  /**
   * Open (or create) a store. WAL journal; `synchronous = NORMAL` survives a killed process (committed data is
   * in the WAL); pass `synchronous: "FULL"` to also survive power loss. `readOnly` opens an existing store
   * without changing anything (no journal mode, no schema). A non-empty SQLite file that is not a denofit store
   * (`PRAGMA application_id`) is refused; a new store is marked with our application id and schema version.
   */
  static open(
    path: string,
    options: { synchronous?: "NORMAL" | "FULL"; readOnly?: boolean } = {},
  ): CorpusStore {
    const readOnly = options.readOnly ?? false;
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path, readOnly ? { readOnly: true } : {});
    } catch (e) {
      throw storeOpenError(path, e);
    }
    try {
      db.exec("PRAGMA busy_timeout = 10000");
      const identity = storeIdentity(db, path, SCHEMA_VERSION);
      if (readOnly) {
        if (identity === "empty") throw new Error(`${path}: an empty database, not a corpus store yet`);
        return new CorpusStore(db, path);
      }
      db.exec("PRAGMA journal_mode = WAL");
      db.exec(`PRAGMA synchronous = ${options.synchronous ?? "NORMAL"}`);
      db.exec(SCHEMA_SQL);
      db.exec(SOURCES_SQL);
      const v = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as Row | undefined;
      if (!v) {
        db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
      } else if (Number(v.value) !== SCHEMA_VERSION) {
        throw new Error(`${path}: corpus store schema version ${v.value}, this code reads ${SCHEMA_VERSION}`);
      }
      if (identity !== "ours") markStore(db, SCHEMA_VERSION);
    } catch (e) {
      db.close();
      throw storeOpenError(path, e);
    }
    return new CorpusStore(db, path);
  }

  /** Close the database. */
  close(): void {
    this.db.close();
  }

  /** Names of the stored corpora, in creation order. */
  corpusNames(): string[] {
    return corpusNames(this.db);
  }

  /** Whether corpus `name` is completely tokenized with `tokenizer` (in its current version). */
  isTokenized(name: string, tokenizer: StoreTokenizer = DEFAULT_STORE_TOKENIZER): boolean {
    return hasCompleteTokenization(this.db, name, tokenizerSettings(tokenizer).hash);
  }

  /**
   * The vocabulary of corpus `name` with these parameters when it was built and every document numericalized
   * ({@linkcode CorpusStore.vocab} builds it); undefined otherwise.
   */
  completeVocab(
    name: string,
    params: VocabParams,
    tokenizer: StoreTokenizer = DEFAULT_STORE_TOKENIZER,
  ): string[] | undefined {
    return completeVocabItos(
      this.db,
      name,
      canonicalJson(vocabParams(params)),
      tokenizerSettings(tokenizer).hash,
    );
  }

  /** Every corpus with its documents per split and label, tokenizations and vocabularies. */
  describe(): CorpusSummary[] {
    return describeCorpora(this.db);
  }

  #corpus(name: string): Row | undefined {
    return this.db.prepare("SELECT * FROM corpora WHERE name = ?").get(name) as Row | undefined;
  }

  #tokenization(corpusId: number, tok: StoreTokenizer, create: boolean): Row | undefined {
    const { hash, json } = tokenizerSettings(tok);
    if (create) this.db.prepare("INSERT OR IGNORE INTO settings (hash, json) VALUES (?, ?)").run(hash, json);
    const s = this.db.prepare("SELECT id FROM settings WHERE hash = ?").get(hash) as Row | undefined;
    if (!s) return undefined;
    if (create) {
      this.db.prepare("INSERT OR IGNORE INTO tokenizations (corpus_id, settings_id) VALUES (?, ?)").run(
        corpusId,
        s.id as number,
      );
    }
    return this.db.prepare("SELECT * FROM tokenizations WHERE corpus_id = ? AND settings_id = ?").get(
      corpusId,
      s.id as number,
    ) as
      | Row
      | undefined;
  }

  #loadDict(tzId: number): Dict {
    const dict: Dict = { ids: new Map(), terms: [], counts: [] };
    const add = (term: string, count: number, id: number) => {
      if (id !== dict.terms.length) {
        throw new Error(`corpus store: terms of tokenization ${tzId} are not contiguous at ${id}`);
      }
      dict.ids.set(term, id);
      dict.terms.push(term);
      dict.counts.push(count);
    };
    const db = this.db;
    for (
      const r of db.prepare("SELECT id, term, count FROM terms WHERE tokenization_id = ? ORDER BY id")
        .iterate(tzId)
    ) {
      add(r.term as string, r.count as number, r.id as number);
    }
    // terms of an unfinished tokenization: one JSON array per committed chunk
    const batches = db.prepare(
      "SELECT first_id, terms FROM term_batches WHERE tokenization_id = ? ORDER BY first_id",
    );
    for (const r of batches.iterate(tzId)) {
      const first = r.first_id as number;
      (JSON.parse(r.terms as string) as string[]).forEach((t, k) => add(t, 0, first + k));
    }
    return dict;
  }

  /**
   * Read documents from `source` into corpus `name` and tokenize them (and any stored documents that lack
   * these settings), committing one chunk at a time. Resumes an interrupted ingest; does nothing when the
   * corpus is complete and tokenized with these settings. Without a source, tokenizes the stored documents
   * of a complete corpus.
   *
   * @param name Corpus name.
   * @param source Records (a reader, an array); must yield the same documents in the same order on a re-run.
   * @param options Tokenizer, workers, chunk size, progress callback.
   * @returns Counts for this run.
   */
  async ingest(
    name: string,
    source: AsyncIterable<TextRecord> | Iterable<TextRecord> | undefined,
    options: IngestOptions = {},
  ): Promise<IngestResult> {
    const claim = await this.#claim(name, options);
    try {
      if (source !== undefined && options.replace && options.sourceInfo) {
        const old = this.#corpus(name);
        if (old && !sameSource(this.db, old, options.sourceInfo)) {
          return await this.#replace(name, old, source, options);
        }
      }
      return await this.#ingest(name, source, options);
    } finally {
      claim.release();
    }
  }

  #claim(name: string, options: { waitMs?: number; onWait?: (line: string) => void }): Promise<WriterClaim> {
    return claimCorpus(this.path, name, {
      ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}),
      ...(options.onWait ? { onWait: options.onWait } : {}),
    });
  }

  /** Ingests `source` beside corpus `name`, then swaps it in and drops the old one, in one transaction. */
  async #replace(
    name: string,
    old: Row,
    source: AsyncIterable<TextRecord> | Iterable<TextRecord>,
    options: IngestOptions,
  ): Promise<IngestResult> {
    const aside = `${name}~replacing`;
    const prev = this.#corpus(aside);
    if (prev && !sameSource(this.db, prev, options.sourceInfo!)) {
      transaction(this.db, () => deleteCorpus(this.db, prev));
    }
    const r = await this.#ingest(aside, source, { ...options, replace: false });
    transaction(this.db, () => {
      deleteCorpus(this.db, old);
      this.db.prepare("UPDATE corpora SET name = ? WHERE name = ?").run(name, aside);
    });
    return { ...r, replaced: true };
  }

  async #ingest(
    name: string,
    source: AsyncIterable<TextRecord> | Iterable<TextRecord> | undefined,
    options: IngestOptions,
  ): Promise<IngestResult> {
    const t0 = performance.now();
    const tok = options.tokenizer ?? DEFAULT_STORE_TOKENIZER;
    const { chunkSize = 1000 } = options;
    const db = this.db;
    const existing = this.#corpus(name);
    if (existing && source !== undefined && options.sourceInfo) {
      checkSource(this.db, this.path, name, existing, options.sourceInfo);
    }
    if (source !== undefined && !existing) {
      transaction(db, () => {
        db.prepare("INSERT INTO corpora (name, source, created_at) VALUES (?, ?, ?)").run(
          name,
          options.source ?? null,
          new Date().toISOString(),
        );
        if (options.sourceInfo) recordSource(db, this.#corpus(name)!.id as number, options.sourceInfo);
      });
    }
    const corpus = this.#corpus(name);
    if (!corpus) throw new Error(`corpus store: no corpus "${name}"; pass a source to create it`);
    const corpusId = corpus.id as number;
    const tz = this.#tokenization(corpusId, tok, true)!;
    const tzId = tz.id as number;
    const settingsHash = tokenizerSettings(tok).hash;
    const stored = corpus.n_docs as number;
    const result: IngestResult = {
      docs: tz.n_docs as number,
      added: 0,
      tokens: 0,
      seconds: 0,
      settingsHash,
      tokenized: 0,
      reused: false,
    };
    if (tz.complete && corpus.complete) return { ...result, reused: true };
    if (source === undefined && !corpus.complete) {
      throw new Error(
        `corpus store: corpus "${name}" is incomplete (${stored} documents); pass its source to resume`,
      );
    }
    const dict = this.#loadDict(tzId);
    let sourceDone = false;
    const selectDocs = db.prepare(
      "SELECT idx, text FROM documents WHERE corpus_id = ? AND idx >= ? AND idx < ? ORDER BY idx",
    );
    type Item = { text: string; idx: number; rec?: TextRecord };
    async function* items(): AsyncGenerator<Item> {
      for (let i = tz.n_docs as number; i < stored; i += chunkSize) {
        for (const r of selectDocs.all(corpusId, i, Math.min(stored, i + chunkSize))) {
          yield { text: (r as Row).text as string, idx: (r as Row).idx as number };
        }
      }
      if (source === undefined || corpus!.complete) return;
      let i = 0;
      for await (const rec of source) {
        if (typeof rec?.text !== "string") {
          throw new Error(`corpus store: record ${i} of "${name}" has no text`);
        }
        if (i < stored) {
          if (i === stored - 1) {
            const last = db.prepare("SELECT text FROM documents WHERE corpus_id = ? AND idx = ?").get(
              corpusId,
              i,
            ) as Row;
            if (last.text !== rec.text) {
              throw new Error(
                `corpus store: the source of "${name}" differs from the stored documents at ${i}; cannot resume`,
              );
            }
          }
          i++;
          continue;
        }
        yield { text: rec.text, idx: i++, rec };
      }
      sourceDone = true;
    }
    const fn = "custom" in tok ? tok.fn : tok;
    const poolOpts: { workers?: number; maxInFlight?: number } = {};
    if (options.workers !== undefined) poolOpts.workers = options.workers;
    if (options.maxInFlight !== undefined) poolOpts.maxInFlight = options.maxInFlight;
    const pool = options.pool ?? new TokenizerPool(fn, poolOpts);
    try {
      for await (const { input, tokens } of pool.mapWith(chunked(items(), chunkSize))) {
        const added = this.#commit(corpusId, tzId, dict, input, tokens);
        result.added += added;
        result.tokenized += input.length;
        result.tokens += tokens.ids.length;
        result.docs += input.length;
        result.seconds = (performance.now() - t0) / 1000;
        options.onProgress?.({
          docs: result.docs,
          added: result.added,
          tokens: result.tokens,
          seconds: result.seconds,
        });
      }
    } finally {
      if (!options.pool) pool.close();
    }
    if (sourceDone) db.prepare("UPDATE corpora SET complete = 1 WHERE id = ?").run(corpusId);
    const c = this.#corpus(name)!;
    if (c.complete && (c.n_docs as number) === result.docs) this.#completeTokenization(tzId, dict);
    result.seconds = (performance.now() - t0) / 1000;
    return result;
  }

  /** One transaction: new documents, their tokens, the term counts and the counters. Returns documents added. */
  #commit(
    corpusId: number,
    tzId: number,
    dict: Dict,
    input: readonly { text: string; idx: number; rec?: TextRecord }[],
    tokens: TokenizedChunk,
  ): number {
    const db = this.db;
    const map = new Int32Array(tokens.terms.length);
    const firstNew = dict.terms.length;
    tokens.terms.forEach((t, k) => {
      let g = dict.ids.get(t);
      if (g === undefined) {
        g = dict.terms.length;
        dict.ids.set(t, g);
        dict.terms.push(t);
        dict.counts.push(0);
      }
      map[k] = g;
    });
    db.exec("BEGIN IMMEDIATE");
    try {
      const insDoc = db.prepare(
        "INSERT INTO documents (corpus_id, idx, ext_id, label, split, text, fields) VALUES (?, ?, ?, ?, ?, ?, ?)",
      );
      const insTok = db.prepare(
        "INSERT INTO doc_tokens (tokenization_id, idx, n, width, term_ids) VALUES (?, ?, ?, ?, ?)",
      );
      let added = 0;
      for (let d = 0; d < input.length; d++) {
        const it = input[d]!;
        if (it.rec) {
          const r = it.rec;
          insDoc.run(
            corpusId,
            it.idx,
            r.id ?? null,
            r.label ?? null,
            r.split ?? null,
            r.text,
            r.fields ? JSON.stringify(r.fields) : null,
          );
          added++;
        }
        const a = tokens.offsets[d]!;
        const b = tokens.offsets[d + 1]!;
        const ids = new Int32Array(b - a);
        let max = 0;
        for (let i = a; i < b; i++) {
          const g = map[tokens.ids[i]!]!;
          ids[i - a] = g;
          if (g > max) max = g;
        }
        const width = widthFor(max + 1);
        insTok.run(tzId, it.idx, ids.length, width, encodeIds(ids, width));
      }
      // the chunk's new terms as one row; `terms` (with counts) is written when the tokenization completes
      if (dict.terms.length > firstNew) {
        db.prepare("INSERT INTO term_batches (tokenization_id, first_id, terms) VALUES (?, ?, ?)").run(
          tzId,
          firstNew,
          JSON.stringify(dict.terms.slice(firstNew)),
        );
      }
      if (added) db.prepare("UPDATE corpora SET n_docs = n_docs + ? WHERE id = ?").run(added, corpusId);
      db.prepare("UPDATE tokenizations SET n_docs = n_docs + ?, n_tokens = n_tokens + ? WHERE id = ?").run(
        input.length,
        tokens.ids.length,
        tzId,
      );
      db.exec("COMMIT");
      return added;
    } catch (e) {
      db.exec("ROLLBACK");
      // undo the in-memory dictionary changes of this chunk
      for (const t of dict.terms.splice(firstNew)) dict.ids.delete(t);
      if (/UNIQUE constraint failed/.test(String((e as Error)?.message))) {
        throw new Error(
          `${this.path}: another process wrote the same documents of this corpus at the same time; ` +
            "run the ingest again when it has finished",
          { cause: e },
        );
      }
      throw e;
    }
  }

  /**
   * Count every term over the stored tokens, write `terms` with the counts, drop the pending `term_batches`
   * and mark the tokenization complete, in one transaction.
   */
  #completeTokenization(tzId: number, dict: Dict): void {
    const db = this.db;
    const counts = new Float64Array(dict.terms.length);
    for (
      const r of db.prepare("SELECT width, term_ids FROM doc_tokens WHERE tokenization_id = ?").iterate(tzId)
    ) {
      const ids = decodeIds(r.term_ids as Uint8Array, r.width as number);
      for (let i = 0; i < ids.length; i++) counts[ids[i]!]!++;
    }
    db.exec("BEGIN IMMEDIATE");
    try {
      db.prepare("DELETE FROM terms WHERE tokenization_id = ?").run(tzId);
      // many rows per statement: the per-call cost of the binding dominates single-row inserts
      const ROWS = 200;
      const insMany = db.prepare(
        `INSERT INTO terms (tokenization_id, id, term, count) VALUES ${
          Array(ROWS).fill("(?, ?, ?, ?)").join(", ")
        }`,
      );
      const ins = db.prepare("INSERT INTO terms (tokenization_id, id, term, count) VALUES (?, ?, ?, ?)");
      const n = dict.terms.length;
      const args: (string | number)[] = [];
      let g = 0;
      for (; g + ROWS <= n; g += ROWS) {
        args.length = 0;
        for (let k = g; k < g + ROWS; k++) args.push(tzId, k, dict.terms[k]!, counts[k]!);
        insMany.run(...args);
      }
      for (; g < n; g++) ins.run(tzId, g, dict.terms[g]!, counts[g]!);
      db.prepare("DELETE FROM term_batches WHERE tokenization_id = ?").run(tzId);
      db.prepare("UPDATE tokenizations SET complete = 1 WHERE id = ?").run(tzId);
      db.exec("COMMIT");
    } catch (e) {
      db.exec("ROLLBACK");
      throw e;
    }
  }

  /** The distinct tokens of a tokenization, by term id (the ids in `doc_tokens`). */
  terms(name: string, tokenizer: StoreTokenizer = DEFAULT_STORE_TOKENIZER): string[] {
    const tz = this.#requireTokenization(name, tokenizer, false);
    return this.#loadDict(tz.id as number).terms;
  }

  #requireTokenization(name: string, tokenizer: StoreTokenizer, complete: boolean): Row {
    const c = this.#corpus(name);
    if (!c) throw new Error(`corpus store: no corpus "${name}"`);
    const tz = this.#tokenization(c.id as number, tokenizer, false);
    if (!tz) {
      throw new Error(
        `corpus store: corpus "${name}" was not tokenized with ${tokenizerSettings(tokenizer).json}`,
      );
    }
    if (complete && !tz.complete) {
      throw new Error(
        `corpus store: the tokenization of "${name}" is incomplete (${tz.n_docs} of ${c.n_docs} documents); run ingest again`,
      );
    }
    return tz;
  }

  /**
   * Build (or reuse) the vocabulary of a complete tokenization and numericalize its documents into `doc_ids`,
   * one committed batch at a time (resumable like ingest).
   *
   * @param name Corpus name.
   * @param options Tokenizer, vocabulary parameters, the builder (default: `Vocab` of `vocab.ts`), batch size.
   * @returns The stored vocabulary.
   */
  async vocab(
    name: string,
    options: VocabParams & {
      tokenizer?: StoreTokenizer;
      builder?: VocabBuilder;
      chunkSize?: number;
      waitMs?: number;
      onWait?: (line: string) => void;
    } = {},
  ): Promise<StoredVocab> {
    const claim = await this.#claim(name, options);
    try {
      return await this.#vocab(name, options);
    } finally {
      claim.release();
    }
  }

  async #vocab(
    name: string,
    options: VocabParams & { tokenizer?: StoreTokenizer; builder?: VocabBuilder; chunkSize?: number },
  ): Promise<StoredVocab> {
    const { chunkSize = 2000 } = options;
    const tokenizer = options.tokenizer ?? DEFAULT_STORE_TOKENIZER;
    const tz = this.#requireTokenization(name, tokenizer, true);
    const tzId = tz.id as number;
    const params = vocabParams(options);
    const hash = sha256(canonicalJson({ vocab: params, store: 1 }));
    const db = this.db;
    let v = db.prepare("SELECT * FROM vocabs WHERE tokenization_id = ? AND hash = ?").get(tzId, hash) as
      | Row
      | undefined;
    const dict = this.#loadDict(tzId);
    let remap: Int32Array;
    if (!v) {
      const builder = options.builder ?? (await import("./_vocab.ts")).defaultVocabBuilder;
      const built = await builder(dict.terms, dict.counts, params);
      const width = widthFor(built.itos.length);
      db.prepare(
        "INSERT INTO vocabs (tokenization_id, hash, params, itos, size, width) VALUES (?, ?, ?, ?, ?, ?)",
      ).run(
        tzId,
        hash,
        canonicalJson(params),
        JSON.stringify(built.itos),
        built.itos.length,
        width,
      );
      v = db.prepare("SELECT * FROM vocabs WHERE tokenization_id = ? AND hash = ?").get(tzId, hash) as Row;
      remap = built.idsOf(dict.terms);
    } else {
      const itos = JSON.parse(v.itos as string) as string[];
      const stoi = new Map(itos.map((s, i) => [s, i]));
      remap = Int32Array.from(dict.terms, (t) => stoi.get(t) ?? 0);
    }
    const vocabId = v.id as number;
    const width = v.width as 1 | 2 | 4;
    if (!v.complete) {
      const sel = db.prepare(
        "SELECT idx, width, term_ids FROM doc_tokens WHERE tokenization_id = ? AND idx >= ? ORDER BY idx LIMIT ?",
      );
      const ins = db.prepare("INSERT INTO doc_ids (vocab_id, idx, n, ids) VALUES (?, ?, ?, ?)");
      const upd = db.prepare("UPDATE vocabs SET n_docs = ? WHERE id = ?");
      let next = v.n_docs as number;
      for (;;) {
        const rows = sel.all(tzId, next, chunkSize) as Row[];
        if (rows.length === 0) break;
        db.exec("BEGIN IMMEDIATE");
        try {
          for (const r of rows) {
            const ids = decodeIds(r.term_ids as Uint8Array, r.width as number);
            for (let i = 0; i < ids.length; i++) ids[i] = remap[ids[i]!]!;
            ins.run(vocabId, r.idx as number, ids.length, encodeIds(ids, width));
          }
          next = (rows.at(-1)!.idx as number) + 1;
          upd.run(next, vocabId);
          db.exec("COMMIT");
        } catch (e) {
          db.exec("ROLLBACK");
          throw e;
        }
      }
      db.prepare("UPDATE vocabs SET complete = 1 WHERE id = ?").run(vocabId);
    }
    return { id: vocabId, itos: JSON.parse(v.itos as string), width, hash };
  }

  /**
   * Iterate a corpus's documents with their ids: vocabulary ids when `vocab` parameters are given (the
   * vocabulary must have been built with {@linkcode CorpusStore.vocab}), else term ids. Filter by split and
   * label.
   */
  *documents(
    name: string,
    options: { tokenizer?: StoreTokenizer; vocab?: VocabParams; split?: string; label?: string } = {},
  ): Generator<StoredDoc> {
    const tokenizer = options.tokenizer ?? DEFAULT_STORE_TOKENIZER;
    const tz = this.#requireTokenization(name, tokenizer, false);
    const where: string[] = ["d.corpus_id = ?"];
    const args: (string | number)[] = [tz.corpus_id as number];
    if (options.split !== undefined) (where.push("d.split = ?"), args.push(options.split));
    if (options.label !== undefined) (where.push("d.label = ?"), args.push(options.label));
    let sql: string;
    let width = 0;
    if (options.vocab) {
      const params = vocabParams(options.vocab);
      const hash = sha256(canonicalJson({ vocab: params, store: 1 }));
      const v = this.db.prepare("SELECT id, width FROM vocabs WHERE tokenization_id = ? AND hash = ?").get(
        tz.id as number,
        hash,
      ) as
        | Row
        | undefined;
      if (!v) {
        throw new Error(
          `corpus store: no vocabulary ${canonicalJson(params)} for "${name}"; call vocab() first`,
        );
      }
      width = v.width as number;
      sql =
        "SELECT d.idx, d.label, d.split, t.ids AS blob FROM documents d JOIN doc_ids t ON t.vocab_id = ? AND t.idx = d.idx";
      args.unshift(v.id as number);
    } else {
      sql = "SELECT d.idx, d.label, d.split, t.width, t.term_ids AS blob FROM documents d " +
        "JOIN doc_tokens t ON t.tokenization_id = ? AND t.idx = d.idx";
      args.unshift(tz.id as number);
    }
    for (const r of this.db.prepare(`${sql} WHERE ${where.join(" AND ")} ORDER BY d.idx`).iterate(...args)) {
      const row = r as Row;
      const doc: StoredDoc = {
        idx: row.idx as number,
        ids: decodeIds(row.blob as Uint8Array, width || (row.width as number)),
      };
      if (row.label !== null) doc.label = row.label as string;
      if (row.split !== null) doc.split = row.split as string;
      yield doc;
    }
  }
}
