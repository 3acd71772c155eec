/**
 * Padding a batch of token-id sequences into one rectangular `(rows, cols)` Int32Array with xxpad (id 1):
 * before the text for classifiers (the model reads the real tokens last, next to the pooled output), after
 * it for seq2seq. fastai 2's classifier option aligns the text start on a `seqLen` boundary.
 *
 * @module
 */

/** Options of {@linkcode padBatch}. */
export interface PadOptions {
  /** The pad id (xxpad). @default {1} */
  padIdx?: number;
  /** Pad before the text (classifiers) instead of after it (seq2seq). @default {true} */
  padFirst?: boolean;
  /**
   * fastai 2 `pad_input_chunk`: with `padFirst`, put whole chunks of `seqLen` pads before the text and the
   * remaining `l % seqLen` pads after it, so the text starts on a `seqLen` boundary (the classifier encoder
   * reads `seqLen` tokens at a time and skips all-pad chunks).
   */
  seqLen?: number;
  /** Pad to at least this many columns. */
  minLen?: number;
}

/** A padded batch. */
export interface PaddedBatch {
  /** Row-major `(rows, cols)` ids. */
  data: Int32Array;
  /** Number of sequences. */
  rows: number;
  /** Length of the longest sequence (or `minLen`). */
  cols: number;
  /** Original length of each sequence. */
  lengths: Int32Array;
}

/**
 * Pad sequences to the longest one.
 *
 * @param seqs Token-id sequences.
 * @param options Pad id, side, the seq_len alignment.
 * @returns The padded batch.
 *
 * @example Classifier (before) and seq2seq (after) padding
 * ```ts
 * import { padBatch } from "./padding.ts";
 * const seqs = [Int32Array.of(5, 6, 7), Int32Array.of(8)];
 * if (padBatch(seqs).data.join() !== "5,6,7,1,1,8") throw new Error("pad first");
 * if (padBatch(seqs, { padFirst: false }).data.join() !== "5,6,7,8,1,1") throw new Error("pad last");
 * ```
 */
export function padBatch(seqs: readonly ArrayLike<number>[], options: PadOptions = {}): PaddedBatch {
  const { padIdx = 1, padFirst = true, seqLen, minLen = 0 } = options;
  if (seqLen !== undefined && !(Number.isInteger(seqLen) && seqLen >= 1)) {
    throw new RangeError(`padBatch: seqLen must be a positive integer, got ${seqLen}`);
  }
  let cols = minLen;
  for (const s of seqs) cols = Math.max(cols, s.length);
  const rows = seqs.length;
  const data = new Int32Array(rows * cols).fill(padIdx);
  const lengths = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const s = seqs[r]!;
    lengths[r] = s.length;
    const l = cols - s.length;
    let start: number;
    if (!padFirst) start = 0;
    else if (seqLen !== undefined) start = Math.floor(l / seqLen) * seqLen;
    else start = l;
    const o = r * cols + start;
    for (let t = 0; t < s.length; t++) data[o + t] = s[t]!;
  }
  return { data, rows, cols, lengths };
}
