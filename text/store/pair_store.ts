/**
 * Pair corpora in the corpus store: both sides of a parallel corpus (English msgid -> French msgstr, `x.en` /
 * `x.fr` lines, ...) as ONE corpus, each side tokenized with its own language's settings, both sides of a pair
 * joined by one index. Same guarantees as the text store ({@linkcode CorpusStore}): a chunk of pairs, both
 * sides' tokens, the new terms and the counters are one transaction, so a killed ingest loses no committed pair
 * and leaves no half pair; running the same ingest again skips what is stored and carries on (the source must
 * yield the same pairs in the same order; the last stored one is checked). A vocabulary per side is built from
 * the stored term counts and kept per parameters.
 *
 * A pair corpus is identified by its name, its languages and the settings that selected and cleaned its pairs
 * (any JSON the caller records, e.g. cleaning rules): ingesting again with other settings or another source is
 * an error, not a silent mix. Tokens are kept per tokenizer settings like the text store's, so a new tokenizer
 * version re-tokenizes the stored texts.
 *
 * ## Pair tables (added to a store file by a migration on the first pair ingest)
 *
 * | table | one row per | columns |
 * |---|---|---|
 * | `pair_corpora` | pair corpus | `id`, `name` (unique), `source`, `source_lang`, `target_lang`, `settings` (canonical JSON), `n_pairs` (committed), `complete`, `report` (JSON written on completion), `created_at` |
 * | `pairs` | pair | `corpus_id`, `idx` (0-based position among the kept pairs), `ext_id` (the reader's id), `source`, `target` (texts) |
 * | `pair_tokenizations` | corpus x (source, target) tokenizer settings | `id`, `corpus_id`, `source_settings_id`, `target_settings_id` (rows of `settings`), `n_pairs`, `source_tokens`, `target_tokens`, `complete` |
 * | `pair_terms` | distinct token of a side of a complete tokenization | `tokenization_id`, `side` (`source`/`target`), `id`, `term`, `count` |
 * | `pair_term_batches` | chunk of an unfinished tokenization, per side | `tokenization_id`, `side`, `first_id`, `terms` (JSON array) |
 * | `pair_tokens` | pair x tokenization | `tokenization_id`, `idx`, `source_n`, `source_width`, `source_ids`, `target_n`, `target_width`, `target_ids` (BLOBs of little-endian term ids, width 1, 2 or 4 bytes) |
 * | `pair_vocabs` | vocabulary of a side | `id`, `tokenization_id`, `side`, `hash` (of `params`), `params` (JSON), `itos` (JSON array, specials first), `size`, `created_at` |
 *
 * Vocabulary ids are not stored a second time: {@linkcode PairStore.pairs} maps term ids through the
 * vocabulary on read (one table lookup per token).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { chunked } from "../readers/csv.ts";
import type { PairRecord } from "../readers/types.ts";
import { TokenizerPool } from "../parallel.ts";
import { canonicalJson, type TokenizedChunk } from "../_tokenizers.ts";
import {
  completePairTokenization,
  insertPairChunk,
  mergeTerms,
  type PairDicts,
  type PairItem,
  type PairRowIds,
  tokenizePairChunks,
} from "./_pair_ingest.ts";
import { decodeIds } from "./_schema.ts";
import { hasPairTables, migratePairTables } from "./_pair_schema.ts";
import {
  describePairCorpora,
  loadPairDict,
  pairCorpusNames,
  type PairCorpusSummary,
  type PairSide,
} from "./_pair_queries.ts";
import {
  type CorpusStore,
  type StoreTokenizer,
  tokenizerSettings,
  type VocabBuilder,
  type VocabParams,
} from "./store.ts";

import {
  PAIR_SIDES,
  PAIR_VOCAB_DEFAULTS,
  type PairIngestOptions,
  type PairIngestResult,
  type PairLangs,
  pairTokenizer,
  type PairTokenizers,
  type StoredPair,
  type StoredPairVocab,
} from "./pair_types.ts";

export type { PairCorpusSummary, PairTokenizationSummary, PairVocabSummary } from "./_pair_queries.ts";

type Row = Record<string, unknown>;
type Item = PairItem;
type Dicts = PairDicts;
type Ids = PairRowIds;
interface Spec {
  name: string;
  langs: PairLangs;
  settings: string;
  desc: string | null;
  tokenizers: PairTokenizers;
}

function sha256(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

function vocabParams(p: VocabParams): Required<VocabParams> {
  return {
    maxVocab: p.maxVocab ?? PAIR_VOCAB_DEFAULTS.maxVocab,
    minFreq: p.minFreq ?? PAIR_VOCAB_DEFAULTS.minFreq,
    padToMultiple: p.padToMultiple ?? PAIR_VOCAB_DEFAULTS.padToMultiple,
  };
}

function defaultTokenizers(langs: PairLangs): PairTokenizers {
  return { source: pairTokenizer(langs.source), target: pairTokenizer(langs.target) };
}

/**
 * The pair corpora of a {@linkcode CorpusStore} (same file, same connection). Opening one writes nothing; the
 * pair tables are created by the first {@linkcode PairStore.ingest}.
 *
 * @example Ingest English -> French pairs, build both vocabularies, read ids back
 * ```ts
 * import { CorpusStore, PairStore } from "./mod.ts";
 * const store = CorpusStore.open(":memory:");
 * const pairs = new PairStore(store);
 * const data = [{ source: "Open the file", target: "Ouvrir le fichier" }, { source: "Close", target: "Fermer" }];
 * const r = await pairs.ingest("ui", data, { workers: 0 }); // "xxmaj open the file", "xxmaj close"
 * if (r.added !== 2 || r.sourceTokens !== 6) throw new Error(`ingest ${JSON.stringify(r)}`);
 * const en = await pairs.vocab("ui", "source");
 * const [p0] = pairs.pairs("ui", { vocabs: { source: {} } });
 * if (en.itos[p0!.source[1]!] !== "open") throw new Error("ids");
 * store.close();
 * ```
 */
export class PairStore {
  /** The store whose file holds the pairs. */
  readonly store: CorpusStore;

  /**
   * Pair corpora of an open store.
   *
   * @param store the corpus store
   */
  constructor(store: CorpusStore) {
    this.store = store;
  }

  get #db() {
    return this.store.db;
  }

  /** Names of the stored pair corpora, in creation order. */
  names(): string[] {
    return pairCorpusNames(this.#db);
  }

  /** Every pair corpus with its tokenizations and vocabularies. */
  describe(): PairCorpusSummary[] {
    return describePairCorpora(this.#db);
  }

  #corpus(name: string): Row | undefined {
    if (!hasPairTables(this.#db)) return undefined;
    return this.#db.prepare("SELECT * FROM pair_corpora WHERE name = ?").get(name) as Row | undefined;
  }

  #requireCorpus(name: string): Row {
    const c = this.#corpus(name);
    if (!c) {
      const known = this.names();
      throw new Error(
        `${this.store.path}: no pair corpus "${name}" (pair corpora: ${known.join(", ") || "none"})`,
      );
    }
    return c;
  }

  /** The languages of a stored pair corpus. */
  langs(name: string): PairLangs {
    const c = this.#requireCorpus(name);
    return { source: String(c.source_lang), target: String(c.target_lang) };
  }

  #settingsId(tok: StoreTokenizer, create: boolean): number | undefined {
    const { hash, json } = tokenizerSettings(tok);
    if (create) this.#db.prepare("INSERT OR IGNORE INTO settings (hash, json) VALUES (?, ?)").run(hash, json);
    const s = this.#db.prepare("SELECT id FROM settings WHERE hash = ?").get(hash) as Row | undefined;
    return s ? (s.id as number) : undefined;
  }

  #tokenization(corpusId: number, toks: PairTokenizers, create: boolean): Row | undefined {
    const s = this.#settingsId(toks.source, create), t = this.#settingsId(toks.target, create);
    if (s === undefined || t === undefined) return undefined;
    if (create) {
      this.#db.prepare(
        "INSERT OR IGNORE INTO pair_tokenizations (corpus_id, source_settings_id, target_settings_id) VALUES (?, ?, ?)",
      ).run(corpusId, s, t);
    }
    return this.#db.prepare(
      "SELECT * FROM pair_tokenizations WHERE corpus_id = ? AND source_settings_id = ? AND target_settings_id = ?",
    ).get(corpusId, s, t) as Row | undefined;
  }

  /** The spec of this run, checked against a stored corpus's. */
  #spec(name: string, corpus: Row | undefined, options: PairIngestOptions): Spec {
    const langs = corpus
      ? { source: String(corpus.source_lang), target: String(corpus.target_lang) }
      : (options.langs ?? { source: "en", target: "fr" });
    const spec: Spec = {
      name,
      langs,
      settings: options.settings === undefined && corpus
        ? String(corpus.settings)
        : canonicalJson(options.settings ?? {}),
      desc: options.source ?? null,
      tokenizers: options.tokenizers ?? defaultTokenizers(langs),
    };
    if (!corpus) return spec;
    const given = options.langs;
    const wrong = given && (given.source !== langs.source || given.target !== langs.target)
      ? `languages ${given.source} -> ${given.target} (stored: ${langs.source} -> ${langs.target})`
      : spec.settings !== corpus.settings
      ? `settings ${spec.settings} (stored: ${corpus.settings})`
      : spec.desc !== null && corpus.source !== null && spec.desc !== corpus.source
      ? `source ${spec.desc} (stored: ${corpus.source})`
      : "";
    if (wrong) {
      throw new Error(
        `corpus store: pair corpus "${name}" exists with other settings: ${wrong}; use another name`,
      );
    }
    return spec;
  }

  /**
   * Read pairs from `source` into pair corpus `name` and tokenize both sides (and any stored pairs that lack
   * these tokenizer settings), committing one chunk at a time. Resumes an interrupted ingest; does nothing
   * when the corpus is complete and tokenized. Without a source, tokenizes the stored pairs of a complete
   * corpus. An empty source creates nothing (`added` 0 and no corpus).
   *
   * @param name Corpus name.
   * @param source Pairs (a reader, an array); must yield the same pairs in the same order on a re-run.
   * @param options Languages, settings, tokenizers, workers, chunk size, progress.
   * @returns Counts for this run.
   */
  async ingest(
    name: string,
    source: AsyncIterable<PairRecord> | Iterable<PairRecord> | undefined,
    options: PairIngestOptions = {},
  ): Promise<PairIngestResult> {
    const t0 = performance.now();
    const corpus = this.#corpus(name);
    const spec = this.#spec(name, corpus, options);
    if (source === undefined && !corpus?.complete) {
      throw new Error(
        corpus
          ? `corpus store: pair corpus "${name}" is incomplete (${corpus.n_pairs} pairs); pass its source to resume`
          : `corpus store: no pair corpus "${name}"; pass a source to create it`,
      );
    }
    migratePairTables(this.#db, this.store.path);
    const ids: Ids = { corpusId: undefined, tzId: undefined };
    let tz: Row | undefined;
    if (corpus) {
      ids.corpusId = corpus.id as number;
      tz = this.#tokenization(ids.corpusId, spec.tokenizers, true)!;
      ids.tzId = tz.id as number;
    }
    const result: PairIngestResult = {
      pairs: tz ? (tz.n_pairs as number) : 0,
      added: 0,
      sourceTokens: 0,
      targetTokens: 0,
      seconds: 0,
      tokenized: 0,
      reused: false,
    };
    if (corpus?.complete && tz?.complete) return { ...result, reused: true };
    const dicts: Dicts = {
      source: ids.tzId
        ? loadPairDict(this.#db, ids.tzId, "source")
        : { ids: new Map(), terms: [], counts: [] },
      target: ids.tzId
        ? loadPairDict(this.#db, ids.tzId, "target")
        : { ids: new Map(), terms: [], counts: [] },
    };
    const state = { sourceDone: false };
    const items = this.#items(name, corpus, tz, source, state);
    await this.#run(items, spec, ids, dicts, options, (added, input, tokens) => {
      result.added += added;
      result.tokenized += input;
      result.pairs += input;
      result.sourceTokens += tokens.source.ids.length;
      result.targetTokens += tokens.target.ids.length;
      result.seconds = (performance.now() - t0) / 1000;
      const { tokenized: _, reused: __, ...progress } = result;
      options.onProgress?.(progress);
    });
    if (ids.corpusId === undefined) return { ...result, seconds: (performance.now() - t0) / 1000 };
    if (state.sourceDone && !corpus?.complete) this.#markComplete(ids.corpusId, options);
    const c = this.#corpus(name)!;
    if (c.complete && (c.n_pairs as number) === result.pairs) {
      completePairTokenization(this.#db, ids.tzId!, dicts);
    }
    result.seconds = (performance.now() - t0) / 1000;
    return result;
  }

  /** The pairs to tokenize: stored ones lacking these tokenizer settings, then the source's new ones. */
  async *#items(
    name: string,
    corpus: Row | undefined,
    tz: Row | undefined,
    source: AsyncIterable<PairRecord> | Iterable<PairRecord> | undefined,
    state: { sourceDone: boolean },
  ): AsyncGenerator<Item> {
    const stored = corpus ? (corpus.n_pairs as number) : 0;
    if (corpus) {
      const sel = this.#db.prepare(
        "SELECT idx, source, target FROM pairs WHERE corpus_id = ? AND idx >= ? AND idx < ? ORDER BY idx",
      );
      for (let i = tz!.n_pairs as number; i < stored; i += 1000) {
        for (const r of sel.all(corpus.id as number, i, Math.min(stored, i + 1000))) {
          yield { idx: r.idx as number, source: r.source as string, target: r.target as string };
        }
      }
    }
    if (source === undefined || corpus?.complete) return;
    let i = 0;
    for await (const rec of source) {
      if (typeof rec?.source !== "string" || typeof rec?.target !== "string") {
        throw new Error(`corpus store: pair ${i} of "${name}" lacks a source or target text`);
      }
      if (i < stored) {
        if (i === stored - 1) this.#checkLast(name, corpus!.id as number, i, rec);
        i++;
        continue;
      }
      yield { idx: i++, source: rec.source, target: rec.target, rec };
    }
    state.sourceDone = true;
  }

  #checkLast(name: string, corpusId: number, i: number, rec: PairRecord): void {
    const last = this.#db.prepare("SELECT source, target FROM pairs WHERE corpus_id = ? AND idx = ?").get(
      corpusId,
      i,
    ) as Row;
    if (last.source !== rec.source || last.target !== rec.target) {
      throw new Error(
        `corpus store: the source of pair corpus "${name}" differs from the stored pairs at ${i}; cannot resume`,
      );
    }
  }

  async #run(
    items: AsyncIterable<Item>,
    spec: Spec,
    ids: Ids,
    dicts: Dicts,
    options: PairIngestOptions,
    onChunk: (added: number, input: number, tokens: Record<PairSide, TokenizedChunk>) => void,
  ): Promise<void> {
    const total = options.workers ?? (navigator.hardwareConcurrency || 1);
    const perSide = total <= 0 ? 0 : Math.max(1, Math.floor(total / 2));
    const pools = {} as Record<PairSide, TokenizerPool>;
    for (const s of PAIR_SIDES) {
      const tok = spec.tokenizers[s];
      pools[s] = new TokenizerPool("custom" in tok ? tok.fn : tok, { workers: perSide });
    }
    const inFlight = options.maxInFlight ?? Math.max(2, 2 * perSide);
    try {
      const chunks = chunked(items, options.chunkSize ?? 1000);
      for await (const { input, tokens } of tokenizePairChunks(chunks, pools, inFlight)) {
        const added = this.#commit(spec, ids, dicts, input, tokens);
        onChunk(added, input.length, tokens);
      }
    } finally {
      for (const s of PAIR_SIDES) pools[s].close();
    }
  }

  /** Create the corpus and tokenization rows (inside the first chunk's transaction). */
  #createRows(spec: Spec, ids: Ids): void {
    this.#db.prepare(
      "INSERT INTO pair_corpora (name, source, source_lang, target_lang, settings, created_at) " +
        "VALUES (?, ?, ?, ?, ?, ?)",
    ).run(
      spec.name,
      spec.desc,
      spec.langs.source,
      spec.langs.target,
      spec.settings,
      new Date().toISOString(),
    );
    ids.corpusId = this.#corpus(spec.name)!.id as number;
    ids.tzId = this.#tokenization(ids.corpusId, spec.tokenizers, true)!.id as number;
  }

  /** One transaction: new pairs, both sides' tokens, new terms, counters. Returns pairs added. */
  #commit(
    spec: Spec,
    ids: Ids,
    dicts: Dicts,
    input: Item[],
    tokens: Record<PairSide, TokenizedChunk>,
  ): number {
    const firstNew = { source: dicts.source.terms.length, target: dicts.target.terms.length };
    const maps = {
      source: mergeTerms(dicts.source, tokens.source.terms),
      target: mergeTerms(dicts.target, tokens.target.terms),
    };
    const db = this.#db;
    const before = { ...ids };
    db.exec("BEGIN IMMEDIATE");
    try {
      if (ids.corpusId === undefined) this.#createRows(spec, ids);
      const added = insertPairChunk(this.#db, ids, input, tokens, maps);
      for (const s of PAIR_SIDES) {
        if (dicts[s].terms.length === firstNew[s]) continue;
        db.prepare(
          "INSERT INTO pair_term_batches (tokenization_id, side, first_id, terms) VALUES (?, ?, ?, ?)",
        ).run(ids.tzId!, s, firstNew[s], JSON.stringify(dicts[s].terms.slice(firstNew[s])));
      }
      if (added) {
        db.prepare("UPDATE pair_corpora SET n_pairs = n_pairs + ? WHERE id = ?").run(added, ids.corpusId!);
      }
      db.prepare(
        "UPDATE pair_tokenizations SET n_pairs = n_pairs + ?, source_tokens = source_tokens + ?, " +
          "target_tokens = target_tokens + ? WHERE id = ?",
      ).run(input.length, tokens.source.ids.length, tokens.target.ids.length, ids.tzId!);
      db.exec("COMMIT");
      return added;
    } catch (e) {
      db.exec("ROLLBACK");
      ids.corpusId = before.corpusId;
      ids.tzId = before.tzId;
      for (const s of PAIR_SIDES) {
        for (const t of dicts[s].terms.splice(firstNew[s])) dicts[s].ids.delete(t);
        dicts[s].counts.length = dicts[s].terms.length;
      }
      throw e;
    }
  }

  #markComplete(corpusId: number, options: PairIngestOptions): void {
    const report = options.report ? JSON.stringify(options.report()) : null;
    this.#db.prepare("UPDATE pair_corpora SET complete = 1, report = ? WHERE id = ?").run(report, corpusId);
  }

  /** The tokenization of a corpus with its (default or given) tokenizers; complete unless `complete` is false. */
  #requireTokenization(name: string, tokenizers: PairTokenizers | undefined, complete = true): Row {
    const c = this.#requireCorpus(name);
    const toks = tokenizers ?? defaultTokenizers(this.langs(name));
    const tz = this.#tokenization(c.id as number, toks, false);
    const again = `run \`denofit corpus ingest\` for it again (or \`denofit vocab build --name ${name}\`)`;
    if (!tz) {
      throw new Error(
        `pair corpus "${name}" is not tokenized with the current tokenizers (${
          tokenizerSettings(toks.source).json
        }, ${tokenizerSettings(toks.target).json}); ${again}`,
      );
    }
    if (complete && !(tz.complete && c.complete)) {
      throw new Error(
        `pair corpus "${name}" is incomplete (${tz.n_pairs} pairs tokenized of ${c.n_pairs} stored, ` +
          `source ${c.complete ? "read to its end" : "not read to its end"}); ${again}`,
      );
    }
    return tz;
  }

  /** Whether pair corpus `name` is complete and completely tokenized with its current tokenizers. */
  isTokenized(name: string, tokenizers?: PairTokenizers): boolean {
    const c = this.#corpus(name);
    if (!c?.complete) return false;
    const toks = tokenizers ?? defaultTokenizers(this.langs(name));
    return Boolean(this.#tokenization(c.id as number, toks, false)?.complete);
  }

  /** The distinct tokens of one side (by term id, the ids in `pair_tokens`). */
  terms(name: string, side: PairSide, tokenizers?: PairTokenizers): string[] {
    const tz = this.#requireTokenization(name, tokenizers, false);
    return loadPairDict(this.#db, tz.id as number, side).terms;
  }

  /**
   * Build (or reuse) the vocabulary of one side of a complete pair corpus from its term counts.
   *
   * @param name Corpus name.
   * @param side Which side.
   * @param options Vocabulary parameters (default {@linkcode PAIR_VOCAB_DEFAULTS}), tokenizers, builder.
   * @returns The stored vocabulary.
   */
  async vocab(
    name: string,
    side: PairSide,
    options: VocabParams & { tokenizers?: PairTokenizers; builder?: VocabBuilder } = {},
  ): Promise<StoredPairVocab> {
    const tz = this.#requireTokenization(name, options.tokenizers);
    const tzId = tz.id as number;
    const params = vocabParams(options);
    const found = this.#vocabRow(tzId, side, params);
    if (found) return found;
    const dict = loadPairDict(this.#db, tzId, side);
    const builder = options.builder ?? (await import("./_vocab.ts")).defaultVocabBuilder;
    const { itos } = await builder(dict.terms, dict.counts, params);
    if (!itos.some((t) => !t.startsWith("xx"))) {
      throw new Error(
        `vocab build: no ${side} token of "${name}" occurs ${params.minFreq} times or more; lower --min-freq ` +
          "(nothing was stored)",
      );
    }
    this.#db.prepare(
      "INSERT INTO pair_vocabs (tokenization_id, side, hash, params, itos, size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ).run(
      tzId,
      side,
      sha256(canonicalJson({ vocab: params, store: 1 })),
      canonicalJson(params),
      JSON.stringify(itos),
      itos.length,
      new Date().toISOString(),
    );
    return this.#vocabRow(tzId, side, params)!;
  }

  #vocabRow(tzId: number, side: PairSide, params: Required<VocabParams>): StoredPairVocab | undefined {
    const r = this.#db.prepare(
      "SELECT id, itos FROM pair_vocabs WHERE tokenization_id = ? AND side = ? AND hash = ?",
    )
      .get(tzId, side, sha256(canonicalJson({ vocab: params, store: 1 }))) as Row | undefined;
    return r ? { id: r.id as number, side, itos: JSON.parse(r.itos as string), params } : undefined;
  }

  /**
   * A stored vocabulary of one side: the one with `params` when given, else the only one stored for the
   * corpus's current tokenization (undefined when there is none or several).
   */
  storedVocab(
    name: string,
    side: PairSide,
    params?: VocabParams,
    tokenizers?: PairTokenizers,
  ): StoredPairVocab | undefined {
    const tz = this.#requireTokenization(name, tokenizers);
    if (params) return this.#vocabRow(tz.id as number, side, vocabParams(params));
    const rows = this.#db.prepare(
      "SELECT id, params, itos FROM pair_vocabs WHERE tokenization_id = ? AND side = ?",
    )
      .all(tz.id as number, side) as Row[];
    if (rows.length !== 1) return undefined;
    const r = rows[0]!;
    return {
      id: r.id as number,
      side,
      itos: JSON.parse(r.itos as string),
      params: JSON.parse(r.params as string),
    };
  }

  /**
   * Iterate the pairs of a complete corpus in order: term ids per side, or vocabulary ids for the sides whose
   * vocabulary parameters are given (built with {@linkcode PairStore.vocab}); unknown terms get `xxunk`.
   *
   * @param name Corpus name.
   * @param options Vocabularies per side, `texts` to include the texts, tokenizers.
   * @returns The pairs.
   */
  *pairs(
    name: string,
    options: {
      vocabs?: Partial<Record<PairSide, VocabParams>>;
      texts?: boolean;
      tokenizers?: PairTokenizers;
    } = {},
  ): Generator<StoredPair> {
    const tz = this.#requireTokenization(name, options.tokenizers);
    const tzId = tz.id as number;
    const remap: Partial<Record<PairSide, Int32Array>> = {};
    for (const s of PAIR_SIDES) {
      const params = options.vocabs?.[s];
      if (params) remap[s] = this.#remap(name, tzId, s, params);
    }
    const cols = options.texts ? ", p.source AS s_text, p.target AS t_text" : "";
    const sql =
      `SELECT t.*, p.ext_id${cols} FROM pair_tokens t JOIN pairs p ON p.corpus_id = ? AND p.idx = t.idx ` +
      "WHERE t.tokenization_id = ? ORDER BY t.idx";
    for (const r of this.#db.prepare(sql).iterate(tz.corpus_id as number, tzId)) {
      const ids = {} as Record<PairSide, Int32Array>;
      for (const s of PAIR_SIDES) {
        ids[s] = decodeIds(r[`${s}_ids`] as Uint8Array, r[`${s}_width`] as number);
        const m = remap[s];
        if (m) { for (let i = 0; i < ids[s].length; i++) ids[s][i] = m[ids[s][i]!]!; }
      }
      const pair: StoredPair = { idx: r.idx as number, source: ids.source, target: ids.target };
      if (r.ext_id !== null) pair.id = r.ext_id as string;
      if (options.texts) [pair.sourceText, pair.targetText] = [r.s_text as string, r.t_text as string];
      yield pair;
    }
  }

  /** Term id -> vocabulary id of one side. */
  #remap(name: string, tzId: number, side: PairSide, params: VocabParams): Int32Array {
    const v = this.#vocabRow(tzId, side, vocabParams(params));
    if (!v) {
      throw new Error(
        `corpus store: no ${side} vocabulary ${
          canonicalJson(vocabParams(params))
        } for pair corpus "${name}"; ` +
          "build it first (`denofit vocab build`)",
      );
    }
    const stoi = new Map(v.itos.map((t, i) => [t, i]));
    const unk = stoi.get("xxunk") ?? 0;
    return Int32Array.from(loadPairDict(this.#db, tzId, side).terms, (t) => stoi.get(t) ?? unk);
  }
}
