/**
 * The steps of a pair-corpus ingest (`pair_store.ts`) that need no corpus state: tokenizing chunks of pairs on
 * one pool per side, merging a chunk's terms into a side's dictionary, writing a chunk's pairs and tokens, and
 * completing a tokenization (term counts).
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { PairRecord } from "../readers/types.ts";
import type { TokenizerPool } from "../parallel.ts";
import type { TokenizedChunk } from "../_tokenizers.ts";
import { decodeIds, encodeIds, widthFor } from "./_schema.ts";
import type { PairDict, PairSide } from "./_pair_queries.ts";

const SIDES: readonly PairSide[] = ["source", "target"];

/** A pair to tokenize: stored (no `rec`) or new from the source (`rec`). */
export type PairItem = { idx: number; source: string; target: string; rec?: PairRecord };
/** Term dictionaries of both sides. */
export type PairDicts = Record<PairSide, PairDict>;
/** Row ids of the corpus and its tokenization (undefined until the first chunk creates them). */
export interface PairRowIds {
  /** `pair_corpora.id`. */
  corpusId: number | undefined;
  /** `pair_tokenizations.id`. */
  tzId: number | undefined;
}

/** Tokenize chunks of pairs on two pools (one per side), in order, at most `maxInFlight` chunks at once. */
export async function* tokenizePairChunks<T extends { source: string; target: string }>(
  chunks: AsyncIterable<T[]>,
  pools: Record<PairSide, TokenizerPool>,
  maxInFlight: number,
): AsyncGenerator<{ input: T[]; tokens: Record<PairSide, TokenizedChunk> }> {
  const queue: { input: T[]; result: Promise<TokenizedChunk[]> }[] = [];
  const it = chunks[Symbol.asyncIterator]();
  let done = false;
  try {
    for (;;) {
      while (!done && queue.length < maxInFlight) {
        const r = await it.next();
        if (r.done) {
          done = true;
          break;
        }
        const input = r.value;
        const result = Promise.all(SIDES.map((s) => pools[s].tokenize(input.map((p) => p[s]))));
        result.catch(() => {}); // surfaced when awaited in order below
        queue.push({ input, result });
      }
      const head = queue.shift();
      if (!head) return;
      const [source, target] = await head.result;
      yield { input: head.input, tokens: { source: source!, target: target! } };
    }
  } finally {
    if (!done) await it.return?.(undefined);
  }
}

/** Add a chunk's terms to a dictionary; returns chunk-local id -> global id. */
export function mergeTerms(dict: PairDict, terms: readonly string[]): Int32Array {
  const map = new Int32Array(terms.length);
  terms.forEach((t, k) => {
    let g = dict.ids.get(t);
    if (g === undefined) {
      g = dict.terms.length;
      dict.ids.set(t, g);
      dict.terms.push(t);
      dict.counts.push(0);
    }
    map[k] = g;
  });
  return map;
}

/** Document `d` of a chunk as global term ids, encoded: `[n, width, blob]`. */
function encodeDoc(tokens: TokenizedChunk, d: number, map: Int32Array): [number, number, Uint8Array] {
  const a = tokens.offsets[d]!, b = tokens.offsets[d + 1]!;
  const ids = new Int32Array(b - a);
  let max = 0;
  for (let i = a; i < b; i++) {
    const g = map[tokens.ids[i]!]!;
    ids[i - a] = g;
    if (g > max) max = g;
  }
  const width = widthFor(max + 1);
  return [ids.length, width, encodeIds(ids, width)];
}

/** Insert a chunk's new pairs and both sides' tokens (inside the caller's transaction). Returns pairs added. */
export function insertPairChunk(
  db: DatabaseSync,
  ids: PairRowIds,
  input: PairItem[],
  tokens: Record<PairSide, TokenizedChunk>,
  maps: Record<PairSide, Int32Array>,
): number {
  const insPair = db.prepare(
    "INSERT INTO pairs (corpus_id, idx, ext_id, source, target) VALUES (?, ?, ?, ?, ?)",
  );
  const insTok = db.prepare(
    "INSERT INTO pair_tokens (tokenization_id, idx, source_n, source_width, source_ids, target_n, " +
      "target_width, target_ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  );
  let added = 0;
  input.forEach((it, d) => {
    if (it.rec) {
      insPair.run(ids.corpusId!, it.idx, it.rec.id ?? null, it.source, it.target);
      added++;
    }
    insTok.run(
      ids.tzId!,
      it.idx,
      ...encodeDoc(tokens.source, d, maps.source),
      ...encodeDoc(tokens.target, d, maps.target),
    );
  });
  return added;
}

/** Count both sides' terms, write `pair_terms`, drop the batches, mark the tokenization complete. */
export function completePairTokenization(db: DatabaseSync, tzId: number, dicts: PairDicts): void {
  const counts = {
    source: new Float64Array(dicts.source.terms.length),
    target: new Float64Array(dicts.target.terms.length),
  };
  const sel = db.prepare(
    "SELECT source_width, source_ids, target_width, target_ids FROM pair_tokens WHERE tokenization_id = ?",
  );
  for (const r of sel.iterate(tzId)) {
    for (const s of SIDES) {
      const ids = decodeIds(r[`${s}_ids`] as Uint8Array, r[`${s}_width`] as number);
      for (let i = 0; i < ids.length; i++) counts[s][ids[i]!]!++;
    }
  }
  db.exec("BEGIN IMMEDIATE");
  try {
    db.prepare("DELETE FROM pair_terms WHERE tokenization_id = ?").run(tzId);
    const ins = db.prepare(
      "INSERT INTO pair_terms (tokenization_id, side, id, term, count) VALUES (?, ?, ?, ?, ?)",
    );
    for (const s of SIDES) {
      dicts[s].terms.forEach((t, g) => ins.run(tzId, s, g, t, counts[s][g]!));
      dicts[s].counts = Array.from(counts[s]);
    }
    db.prepare("DELETE FROM pair_term_batches WHERE tokenization_id = ?").run(tzId);
    db.prepare("UPDATE pair_tokenizations SET complete = 1 WHERE id = ?").run(tzId);
    db.exec("COMMIT");
  } catch (e) {
    db.exec("ROLLBACK");
    throw e;
  }
}
