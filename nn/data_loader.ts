/**
 * What the {@linkcode Learner} trains on: a {@linkcode DataLoader} is `length` plus an iterator of tensor
 * batches per epoch. Adapters turn the host-side loaders of `text/` (typed arrays) into tensor batches one
 * batch at a time.
 *
 * @example Language-model batches from typed arrays
 * ```ts
 * import { lmDataLoader } from "./data_loader.ts";
 * const dl = lmDataLoader({
 *   length: 1,
 *   *batches() {
 *     yield { x: Int32Array.of(1, 2, 3, 4), y: Int32Array.of(2, 3, 4, 5), bs: 2, seqLen: 2 };
 *   },
 * });
 * const [b] = [...dl];
 * if (b!.x.shape.join() !== "2,2" || b!.y.dtype !== "i32") throw new Error("bad batch");
 * b!.x.dispose();
 * b!.y.dispose();
 * ```
 *
 * @module
 */

import { Rng } from "../gpu/rng.ts";
import { fromArray, type Tensor } from "./tensor.ts";

/** A batch: inputs and targets (the {@linkcode Learner} disposes both after use). */
export interface Batch {
  /** Model input. */
  x: Tensor;
  /** Targets. */
  y: Tensor;
}

/** Batches for one epoch; iterated once per epoch. */
export interface DataLoader {
  /** Number of batches per epoch. */
  readonly length: number;
  /** The batches. */
  [Symbol.iterator](): Iterator<Batch>;
  /**
   * The generator that decides the batches of an epoch (shuffles, random lengths), when there is one: a
   * training checkpoint saves its counter so a resumed run draws the same batches (`TrainingRun`, `resume.ts`).
   */
  readonly rng?: Rng;
}

/** Training and (optional) validation data. */
export interface DataLoaders {
  /** Training batches. */
  train: DataLoader;
  /** Validation batches. */
  valid?: DataLoader;
}

/**
 * A {@linkcode DataLoader} over host-side batches (typed arrays), made into tensors one batch at a time. The
 * source's generator (`rng`, e.g. `LanguageModelLoader.rng`, `ClassifierLoader.rng`) is passed on as the
 * loader's `rng`, so a training checkpoint can save and restore the batch order.
 * @param source `length` batches per epoch, a `batches()` generator (called once per epoch) and its `rng`
 * @param toTensors turns one host batch into `{ x, y }` tensors
 * @example The source's generator is visible on the loader
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { Rng } from "../gpu/rng.ts";
 * import { hostDataLoader } from "./data_loader.ts";
 * import { fromArray } from "./tensor.ts";
 * const rng = new Rng(7);
 * const dl = hostDataLoader({ length: 0, rng, batches: () => [] as number[] }, (v) => ({ x: fromArray([v], [1]), y: fromArray([v], [1]) }));
 * strictEqual(dl.rng, rng);
 * ```
 */
export function hostDataLoader<T>(
  source: { readonly length: number; batches(): Iterable<T>; readonly rng?: Rng | undefined },
  toTensors: (b: T) => Batch,
): DataLoader {
  const loader: DataLoader = {
    get length() {
      return source.length;
    },
    *[Symbol.iterator]() {
      for (const b of source.batches()) yield toTensors(b);
    },
  };
  return source.rng ? Object.assign(loader, { rng: source.rng }) : loader;
}

/**
 * Adapt a language-model loader (`text/lm_loader.ts` `LanguageModelLoader`: batches `{ x, y, bs, seqLen }`)
 * into `(bs, seqLen)` i32 input and target tensors.
 */
export function lmDataLoader(
  loader: {
    readonly length: number;
    batches(): Iterable<{ x: Int32Array; y: Int32Array; bs: number; seqLen: number }>;
    readonly rng?: Rng | undefined;
  },
): DataLoader {
  return hostDataLoader(loader, (b) => ({
    x: fromArray(b.x, [b.bs, b.seqLen], { dtype: "i32" }),
    y: fromArray(b.y, [b.bs, b.seqLen], { dtype: "i32" }),
  }));
}

/**
 * Adapt a classifier loader (`text/clas_loader.ts` `ClassifierLoader`: batches `{ data, rows, cols, labels }`)
 * into `(rows, cols)` i32 ids and `(rows)` i32 labels.
 */
export function classifierDataLoader(
  loader: {
    readonly length: number;
    batches(): Iterable<{ data: Int32Array; rows: number; cols: number; labels: Int32Array }>;
    readonly rng?: Rng | undefined;
  },
): DataLoader {
  return hostDataLoader(loader, (b) => ({
    x: fromArray(b.data, [b.rows, b.cols], { dtype: "i32" }),
    y: fromArray(b.labels, [b.rows], { dtype: "i32" }),
  }));
}

/**
 * A seeded split of `n` items into training and validation indices (each list in increasing order), like
 * fastai's `RandomSplitter`: the same `n`, fraction and seed always give the same split.
 *
 * @param n number of items
 * @param validPct fraction for validation (0 < validPct < 1); at least one item goes to validation
 * @param seed random seed
 * @returns the two index lists
 * @example Seeded 90/10 split of 10 items
 * ```ts
 * import { splitIndices } from "./data_loader.ts";
 * const { train, valid } = splitIndices(10, 0.1, 42);
 * if (train.length !== 9 || valid.length !== 1) throw new Error("bad split");
 * ```
 */
export function splitIndices(
  n: number,
  validPct: number,
  seed: number,
): { train: number[]; valid: number[] } {
  if (!(validPct > 0 && validPct < 1)) throw new Error(`valid fraction must be in (0, 1), got ${validPct}`);
  const order = new Rng(seed).shuffle(Array.from({ length: n }, (_, i) => i));
  const nValid = Math.max(1, Math.round(n * validPct));
  const valid = order.slice(0, nValid).sort((a, b) => a - b);
  const train = order.slice(nValid).sort((a, b) => a - b);
  return { train, valid };
}
