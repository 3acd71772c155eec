/**
 * The one interface both search engines implement ({@linkcode VectorIndex}: the exact blocked-matmul engine and
 * the approximate HNSW one), their result type, and the row normalisation they share. Scores are cosine
 * similarities: every vector is L2-normalised when added or queried, so the inner product is the cosine.
 *
 * @example Normalise rows in place
 * ```ts
 * import { normalizeRows } from "./types.ts";
 * const v = normalizeRows(Float32Array.of(3, 4, 0, 0), 2);
 * if (Math.abs(v[0]! - 0.6) > 1e-7 || Math.abs(v[1]! - 0.8) > 1e-7) throw new Error("not normalised");
 * ```
 *
 * @module
 */

/** The `k` best matches of each of `queries` query vectors, row-major, best first. */
export interface SearchResult {
  /** Number of queries. */
  queries: number;
  /** Matches per query (rows are padded with id -1 and score -Infinity when the index holds fewer). */
  k: number;
  /** `queries x k` ids: the positions at which the vectors were added (0, 1, 2, ...). */
  ids: Int32Array;
  /** `queries x k` cosine similarities, descending within each row. */
  scores: Float32Array;
}

/** Options of a search. */
export interface SearchOptions {
  /** Threads the engine may use (the exact engine uses the backend's own). @default 1 */
  threads?: number;
}

/**
 * A nearest-neighbour index over L2-normalised vectors, searched by cosine similarity. Ids are the positions
 * at which vectors were added, in order.
 */
export interface VectorIndex {
  /** Engine name: `"exact"` or `"usearch"`. */
  readonly engine: string;
  /** Vector size. */
  readonly dim: number;
  /** Number of vectors held. */
  readonly size: number;
  /**
   * Add `vectors.length / dim` vectors (row-major); they get the next ids.
   * @returns the id of the first one
   */
  add(vectors: Float32Array): number;
  /** The `k` nearest vectors of each query (row-major, `queries.length / dim` of them). */
  search(queries: Float32Array, k: number, options?: SearchOptions): Promise<SearchResult>;
  /** Write the index to `path` (atomically: a crash leaves the old file or none). */
  save(path: string): Promise<void>;
  /** Release what the index holds (device memory, native memory). */
  dispose(): void;
}

/**
 * Scale each row of a row-major matrix to unit L2 norm, in place (all-zero rows stay zero).
 * @param data `rows x dim` numbers
 * @param dim row length
 * @returns `data`
 */
export function normalizeRows(data: Float32Array, dim: number): Float32Array {
  for (let o = 0; o < data.length; o += dim) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += data[o + d]! * data[o + d]!;
    if (s === 0) continue;
    const inv = 1 / Math.sqrt(s);
    for (let d = 0; d < dim; d++) data[o + d]! *= inv;
  }
  return data;
}

/**
 * Fraction of the exact top-k ids that an approximate result also found (recall@k), over all queries.
 * @param approx the approximate engine's result
 * @param exact the ground truth (same queries and k)
 * @returns recall in [0, 1]
 * @example Half of the true neighbours found
 * ```ts
 * import { recallAtK } from "./types.ts";
 * const r = recallAtK(
 *   { queries: 1, k: 2, ids: Int32Array.of(4, 9), scores: Float32Array.of(1, 0.5) },
 *   { queries: 1, k: 2, ids: Int32Array.of(4, 7), scores: Float32Array.of(1, 0.8) },
 * );
 * if (r !== 0.5) throw new Error(`recall ${r}`);
 * ```
 */
export function recallAtK(approx: SearchResult, exact: SearchResult): number {
  if (approx.queries !== exact.queries || approx.k !== exact.k) {
    throw new RangeError(
      `recallAtK: results differ in shape (${approx.queries}x${approx.k} vs ${exact.queries}x${exact.k})`,
    );
  }
  let hit = 0, total = 0;
  for (let q = 0; q < exact.queries; q++) {
    const found = new Set(approx.ids.subarray(q * approx.k, (q + 1) * approx.k));
    for (let j = q * exact.k; j < (q + 1) * exact.k; j++) {
      if (exact.ids[j]! < 0) continue;
      total++;
      if (found.has(exact.ids[j]!)) hit++;
    }
  }
  return total === 0 ? 1 : hit / total;
}
