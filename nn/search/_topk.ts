/**
 * A running top-k per query over blocks of scores: one size-k min-heap per query in flat typed arrays, so a
 * block of `rows x cols` scores costs one comparison per score against the row's current k-th best (almost
 * every score is rejected there) plus a heap update for the rare winners. Ties keep the smaller id (the one
 * seen first, since blocks arrive in id order). NaN scores are never kept.
 *
 * @module
 */
import type { SearchResult } from "./types.ts";

/** Running top-k of `rows` queries. */
export class RunningTopK {
  readonly rows: number;
  readonly k: number;
  readonly #scores: Float32Array;
  readonly #ids: Int32Array;

  constructor(rows: number, k: number) {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`top-k: k must be a positive integer, got ${k}`);
    this.rows = rows;
    this.k = k;
    this.#scores = new Float32Array(rows * k).fill(-Infinity);
    this.#ids = new Int32Array(rows * k).fill(-1);
  }

  /**
   * Offer a block of scores: `scores[r * cols + c]` is the score of query `r` (of this set) against id
   * `firstId + c`.
   */
  push(scores: Float32Array, cols: number, firstId: number): void {
    const k = this.k, hs = this.#scores, hi = this.#ids;
    for (let r = 0; r < this.rows; r++) {
      const h = r * k;
      let thr = hs[h]!;
      const row = r * cols;
      for (let c = 0; c < cols; c++) {
        const s = scores[row + c]!;
        if (s > thr) {
          siftDown(hs, hi, h, k, s, firstId + c);
          thr = hs[h]!;
        }
      }
    }
  }

  /** The rows sorted best first (score descending, then id ascending), into `out` starting at row `row0`. */
  writeSorted(out: SearchResult, row0: number): void {
    const k = this.k, order = new Int32Array(k);
    for (let r = 0; r < this.rows; r++) {
      const h = r * k, hs = this.#scores.subarray(h, h + k), hi = this.#ids.subarray(h, h + k);
      for (let j = 0; j < k; j++) order[j] = j;
      order.sort((a, b) => hs[b]! - hs[a]! || idRank(hi[a]!) - idRank(hi[b]!));
      const o = (row0 + r) * out.k;
      for (let j = 0; j < Math.min(k, out.k); j++) {
        out.scores[o + j] = hs[order[j]!]!;
        out.ids[o + j] = hi[order[j]!]!;
      }
    }
  }
}

/** Empty slots (id -1) sort last. */
function idRank(id: number): number {
  return id < 0 ? 0x7fffffff : id;
}

/** Replace the root of the min-heap at `h` (size k) with (s, id) and restore the heap order. */
function siftDown(hs: Float32Array, hi: Int32Array, h: number, k: number, s: number, id: number): void {
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= k) break;
    const r = l + 1;
    // the worse child: lower score, or equal score and larger id
    let c = l;
    if (r < k && worse(hs[h + r]!, hi[h + r]!, hs[h + l]!, hi[h + l]!)) c = r;
    if (!worse(hs[h + c]!, hi[h + c]!, s, id)) break;
    hs[h + i] = hs[h + c]!;
    hi[h + i] = hi[h + c]!;
    i = c;
  }
  hs[h + i] = s;
  hi[h + i] = id;
}

function worse(sa: number, ia: number, sb: number, ib: number): boolean {
  return sa < sb || (sa === sb && idRank(ia) > idRank(ib));
}
