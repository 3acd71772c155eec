/**
 * The lesson-11 data steps after tokenization (pure functions): the length at a percentile (`int(np.percentile
 * (lens, 99))` for English, 97 for French), truncation of every sequence to it, and the seeded 90/10 split.
 *
 * @example
 * ```ts
 * import { lengthAtPercentile, splitTrainValid, truncateSequences } from "./split.ts";
 * const seqs = [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10]];
 * const max = lengthAtPercentile(seqs.map((s) => s.length), 50); // 3
 * const cut = truncateSequences(seqs, max);
 * if (cut[2]!.length !== 3) throw new Error("truncate");
 * const { train, valid } = splitTrainValid(seqs, { validPct: 0.34, seed: 1 });
 * if (train.length + valid.length !== 3) throw new Error("split");
 * ```
 *
 * @module
 */
import { uniformAt } from "../../gpu/rng.ts";

/**
 * The q-th percentile with linear interpolation between the closest ranks (numpy's default `percentile`).
 *
 * @param values The sample (not modified).
 * @param q Percentile in [0, 100].
 * @returns The percentile.
 *
 * @example
 * ```ts
 * import { percentile } from "./split.ts";
 * if (percentile([1, 2, 3, 4], 50) !== 2.5 || percentile([7, 1, 3], 100) !== 7) throw new Error("percentile");
 * ```
 */
export function percentile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) throw new RangeError("percentile of an empty sample");
  if (!(q >= 0 && q <= 100)) throw new RangeError(`percentile: q must be in [0, 100], got ${q}`);
  const sorted = Float64Array.from(values).sort();
  const pos = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * The lesson's maximum length: `int(np.percentile(lengths, q))` (truncated towards zero).
 *
 * @param lengths Sequence lengths.
 * @param q Percentile (the lesson: 99 for English, 97 for French).
 * @returns The length to truncate at.
 *
 * @example
 * ```ts
 * import { lengthAtPercentile } from "./split.ts";
 * const lens = Array.from({ length: 100 }, (_, i) => i + 1);
 * if (lengthAtPercentile(lens, 99) !== 99) throw new Error("99th"); // numpy: 99.01 -> 99
 * ```
 */
export function lengthAtPercentile(lengths: ArrayLike<number>, q: number): number {
  return Math.trunc(percentile(lengths, q));
}

/**
 * Cut every sequence to at most `maxLen` items (the lesson's `o[:enlen_90]`).
 *
 * @param seqs The sequences (not modified).
 * @param maxLen The largest length kept.
 * @returns New arrays for cut sequences, the same arrays for short ones.
 *
 * @example
 * ```ts
 * import { truncateSequences } from "./split.ts";
 * if (truncateSequences([[1, 2, 3]], 2)[0]!.join() !== "1,2") throw new Error("cut");
 * ```
 */
export function truncateSequences<T>(seqs: readonly (readonly T[])[], maxLen: number): (readonly T[])[] {
  if (!(Number.isInteger(maxLen) && maxLen >= 0)) {
    throw new RangeError(`maxLen must be an integer >= 0, got ${maxLen}`);
  }
  return seqs.map((s) => (s.length > maxLen ? s.slice(0, maxLen) : s));
}

/** Options of {@linkcode splitTrainValid}. */
export interface TrainValidSplitOptions {
  /** Probability of an item going to validation. @default {0.1} */
  validPct?: number;
  /** Seed of the split. @default {42} */
  seed?: number;
}

/**
 * A seeded random split, item by item like the lesson's `np.random.rand(n) > 0.1`: item `i` goes to
 * validation when `uniformAt(seed, i) < validPct` — the same rule the CLI's corpus split uses, so the same
 * seed splits the same items, and a split does not change when items are appended.
 *
 * @param items The items (pairs, id sequences, indices).
 * @param options Validation share and seed.
 * @returns Train and validation items in their original order, and the validation indices.
 *
 * @example
 * ```ts
 * import { splitTrainValid } from "./split.ts";
 * const items = Array.from({ length: 10_000 }, (_, i) => i);
 * const { valid } = splitTrainValid(items, { seed: 42 });
 * if (Math.abs(valid.length - 1000) > 100) throw new Error(`${valid.length}`);
 * ```
 */
export function splitTrainValid<T>(
  items: readonly T[],
  options: TrainValidSplitOptions = {},
): { train: T[]; valid: T[]; validIdx: number[] } {
  const { validPct = 0.1, seed = 42 } = options;
  if (!(validPct >= 0 && validPct <= 1)) throw new RangeError(`validPct must be in [0, 1], got ${validPct}`);
  const train: T[] = [], valid: T[] = [], validIdx: number[] = [];
  items.forEach((x, i) => {
    if (uniformAt(seed >>> 0, i) < validPct) {
      valid.push(x);
      validIdx.push(i);
    } else train.push(x);
  });
  return { train, valid, validIdx };
}
