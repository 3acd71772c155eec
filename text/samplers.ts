/**
 * Orders for classifier batches that keep documents of similar length together, so little padding is needed:
 * {@linkcode sortSampler} for validation and {@linkcode SortishSampler} for training (fastai's exact
 * algorithm).
 *
 * @module
 */
import { Rng } from "../gpu/rng.ts";

/**
 * Indices sorted by length, longest first; ties keep their original order (Python's stable
 * `sorted(..., reverse=True)`, as fastai's `SortSampler`).
 *
 * @param lengths Length of each item.
 * @returns A permutation of `0..n-1`.
 *
 * @example
 * ```ts
 * import { sortSampler } from "./samplers.ts";
 * if (sortSampler([3, 9, 3, 5]).join() !== "1,3,0,2") throw new Error("bad order");
 * ```
 */
export function sortSampler(lengths: ArrayLike<number>): number[] {
  const idx = Array.from({ length: lengths.length }, (_, i) => i);
  return idx.sort((a, b) => lengths[b]! - lengths[a]! || a - b);
}

/**
 * fastai's `SortSampler` (validation order: longest first) as an object with the same `indices()` shape as
 * {@linkcode SortishSampler}; the order is the same every epoch.
 *
 * @example
 * ```ts
 * import { SortSampler } from "./samplers.ts";
 * if (new SortSampler([1, 4, 2]).indices().join() !== "1,2,0") throw new Error("bad order");
 * ```
 */
export class SortSampler {
  #order: number[];
  /**
   * Sort once.
   *
   * @param lengths Length of each item.
   */
  constructor(lengths: ArrayLike<number>) {
    this.#order = sortSampler(lengths);
  }
  /** Number of items. */
  get length(): number {
    return this.#order.length;
  }
  /** The order of item indices (a copy). */
  indices(): number[] {
    return [...this.#order];
  }
}

/** Options of {@linkcode SortishSampler}. */
export interface SortishSamplerOptions {
  /** Batch size. @default {64} */
  bs?: number;
  /** Seed of the generator. @default {42} */
  seed?: number;
}

/**
 * fastai's `SortishSampler`: shuffle all indices; cut them into chunks of `bs * 50` and sort each chunk by
 * length, longest first; cut the result into batches of `bs`; move the batch whose first item is the longest
 * to the front (so an out-of-memory shows at once) and shuffle the order of the others. Each call of
 * {@linkcode SortishSampler.indices} is one epoch and advances the generator.
 *
 * @example Every index once, the longest item first
 * ```ts
 * import { SortishSampler } from "./samplers.ts";
 * const lengths = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 500);
 * const idx = new SortishSampler(lengths, { bs: 8, seed: 1 }).indices();
 * if (new Set(idx).size !== 1000 || lengths[idx[0]!] !== 499) throw new Error("bad sample");
 * ```
 */
export class SortishSampler {
  /** Batch size. */
  readonly bs: number;
  /** The generator. */
  readonly rng: Rng;
  #lengths: ArrayLike<number>;

  /**
   * Make a sampler over items of the given lengths.
   *
   * @param lengths Length of each item.
   * @param options Batch size and seed.
   */
  constructor(lengths: ArrayLike<number>, options: SortishSamplerOptions = {}) {
    const { bs = 64, seed = 42 } = options;
    if (!Number.isInteger(bs) || bs < 1) {
      throw new RangeError(`SortishSampler: bs must be a positive integer, got ${bs}`);
    }
    this.bs = bs;
    this.rng = new Rng(seed);
    this.#lengths = lengths;
  }

  /** Number of items. */
  get length(): number {
    return this.#lengths.length;
  }

  /** One epoch's order of item indices. */
  indices(): number[] {
    const len = this.#lengths;
    const idxs = this.rng.shuffle(Array.from({ length: len.length }, (_, i) => i));
    const sz = this.bs * 50;
    const sorted: number[] = [];
    for (let i = 0; i < idxs.length; i += sz) {
      // stable sort, longest first, like Python's sorted(..., reverse=True)
      const ck = idxs.slice(i, i + sz).map((v, k) => [v, k] as const);
      ck.sort((a, b) => len[b[0]]! - len[a[0]]! || a[1] - b[1]);
      for (const [v] of ck) sorted.push(v);
    }
    const batches: number[][] = [];
    for (let i = 0; i < sorted.length; i += this.bs) batches.push(sorted.slice(i, i + this.bs));
    if (batches.length === 0) return [];
    let maxCk = 0;
    for (let k = 1; k < batches.length; k++) if (len[batches[k]![0]!]! > len[batches[maxCk]![0]!]!) maxCk = k;
    [batches[0], batches[maxCk]] = [batches[maxCk]!, batches[0]!];
    const rest = this.rng.shuffle(batches.slice(1));
    return [...batches[0]!, ...rest.flat()];
  }
}
