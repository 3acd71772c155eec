/**
 * What the image loaders yield ({@linkcode ImageBatch}: host float32 `(N, C, H, W)` plus labels or continuous
 * targets) and the batching both share: the seeded epoch order and batch ranges, and targets gathered per item.
 *
 * @example Batches of a shuffled epoch
 * ```ts
 * import { batchRanges, epochOrder } from "./batches.ts";
 * const order = epochOrder(5, { shuffle: true, seed: 1, epoch: 0 });
 * const ranges = batchRanges(5, 2, false); // [0, 2), [2, 4), [4, 5)
 * if (ranges.length !== 3 || [...order].sort().join() !== "0,1,2,3,4") throw new Error("bad");
 * ```
 *
 * @module
 */
import { pcgHash, Rng } from "../gpu/rng.ts";

/** One batch of images on the host. */
export interface ImageBatch {
  /** Pixels, `(n, channels, height, width)` row-major, normalised. */
  x: Float32Array;
  /** `[n, channels, height, width]`. */
  shape: [number, number, number, number];
  /** Class of each image (-1 for unlabelled items). */
  labels: Int32Array;
  /** Continuous targets, `(n, targetDim)` (e.g. a word vector per image), when the loader was given some. */
  targets?: Float32Array;
  /** Index of each image in the loader's items (to find its file or caption). */
  indices: Int32Array;
}

/** Continuous targets: one row of `dim` numbers per item. */
export interface Targets {
  /** `items x dim` numbers. */
  data: Float32Array;
  /** Row length. */
  dim: number;
}

/** Batching options shared by the loaders. */
export interface BatchOptions {
  /** Images per batch. */
  batchSize: number;
  /** Shuffle the items each epoch (seeded by `seed` and the epoch). @default false */
  shuffle?: boolean;
  /** Leave out the last, smaller batch. @default false */
  dropLast?: boolean;
  /** Seed of the order and of the augmentation. @default 42 */
  seed?: number;
  /** Continuous targets, one row per item, yielded as `batch.targets`. */
  targets?: Targets;
}

/** The item order of one epoch: `0..n-1`, shuffled with a seed derived from `(seed, epoch)` when asked. */
export function epochOrder(n: number, { shuffle = false, seed = 42, epoch = 0 } = {}): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  if (!shuffle) return order;
  const rng = new Rng(pcgHash((seed ^ Math.imul(epoch + 1, 0x9e3779b9)) >>> 0));
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1), t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/** `[start, end)` of each batch of an epoch of `n` items. */
export function batchRanges(n: number, batchSize: number, dropLast: boolean): [number, number][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    if (dropLast && e - s < batchSize) break;
    out.push([s, e]);
  }
  return out;
}

/** Check that `targets` has one row per item. */
export function checkTargets(targets: Targets | undefined, items: number, what: string): void {
  if (!targets) return;
  if (!Number.isInteger(targets.dim) || targets.dim < 1 || targets.data.length !== items * targets.dim) {
    throw new RangeError(
      `${what}: targets hold ${targets.data.length} numbers, not ${items} rows of ${targets.dim}`,
    );
  }
}

/** The target rows of `indices`. */
export function gatherTargets(targets: Targets | undefined, indices: Int32Array): Float32Array | undefined {
  if (!targets) return undefined;
  const d = targets.dim, out = new Float32Array(indices.length * d);
  indices.forEach((j, i) => out.set(targets.data.subarray(j * d, (j + 1) * d), i * d));
  return out;
}

/**
 * Continuous targets from class labels: row `i` is the vector of class `labels[i]` (DeViSE: each image's target
 * is its class word's vector).
 * @param labels class of each item
 * @param classVectors `classes x dim` numbers
 * @param dim vector size
 */
export function targetsFromLabels(
  labels: ArrayLike<number>,
  classVectors: Float32Array,
  dim: number,
): Targets {
  const classes = classVectors.length / dim;
  const data = new Float32Array(labels.length * dim);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (!Number.isInteger(l) || l < 0 || l >= classes) {
      throw new RangeError(`targetsFromLabels: item ${i} has label ${l}, not in 0..${classes - 1}`);
    }
    data.set(classVectors.subarray(l * dim, (l + 1) * dim), i * dim);
  }
  return { data, dim };
}
