/**
 * Classifier batches: documents ordered by {@linkcode SortishSampler} (training: similar lengths together,
 * shuffled) or {@linkcode sortSampler} (validation: longest first), cut into batches of `bs`, padded with
 * xxpad before the text ({@linkcode padBatch}, optionally aligned on `seqLen` as fastai 2 does).
 *
 * @module
 */
import type { Rng } from "../gpu/rng.ts";
import { padBatch, type PaddedBatch } from "./padding.ts";
import { SortishSampler, sortSampler } from "./samplers.ts";

/** One classifier batch. */
export interface ClassifierBatch extends PaddedBatch {
  /** Label of each row. */
  labels: Int32Array;
  /** Which documents the rows are. */
  indices: number[];
}

/** Options of {@linkcode ClassifierLoader}. */
export interface ClassifierLoaderOptions {
  /** Rows per batch. @default {64} */
  bs?: number;
  /** Sortish shuffled order (training) or sorted longest first (validation). @default {true} */
  shuffle?: boolean;
  /** Pad id. @default {1} */
  padIdx?: number;
  /** fastai 2 alignment: the text starts on a multiple of `seqLen` (see {@linkcode padBatch}). */
  seqLen?: number;
  /** Seed of the sampler. @default {42} */
  seed?: number;
}

/**
 * Batches of (padded ids, labels) for a text classifier; each call of {@linkcode ClassifierLoader.batches} is
 * one epoch.
 *
 * @example Validation batches: longest first, padded before the text
 * ```ts
 * import { ClassifierLoader } from "./clas_loader.ts";
 * const docs = [Int32Array.of(5), Int32Array.of(6, 7, 8), Int32Array.of(9, 10)];
 * const dl = new ClassifierLoader(docs, Int32Array.of(0, 1, 0), { bs: 2, shuffle: false });
 * const [b0, b1] = [...dl.batches()];
 * if (b0!.data.join() !== "6,7,8,1,9,10" || b0!.labels.join() !== "1,0" || b1!.cols !== 1) throw new Error("bad");
 * ```
 */
export class ClassifierLoader {
  /** Rows per batch. */
  readonly bs: number;
  #docs: readonly Int32Array[];
  #labels: Int32Array;
  #opts: ClassifierLoaderOptions;
  #sampler?: SortishSampler;

  /**
   * Make a loader over documents and their labels.
   *
   * @param docs Numericalized documents.
   * @param labels One class id per document.
   * @param options Batch size, order, padding.
   */
  constructor(docs: readonly Int32Array[], labels: Int32Array, options: ClassifierLoaderOptions = {}) {
    if (labels.length !== docs.length) {
      throw new RangeError(`ClassifierLoader: ${docs.length} documents but ${labels.length} labels`);
    }
    this.bs = options.bs ?? 64;
    this.#docs = docs;
    this.#labels = labels;
    this.#opts = options;
    if (options.shuffle ?? true) {
      this.#sampler = new SortishSampler(docs.map((d) => d.length), {
        bs: this.bs,
        seed: options.seed ?? 42,
      });
    }
  }

  /** Batches per epoch. */
  get length(): number {
    return Math.ceil(this.#docs.length / this.bs);
  }

  /** The shuffling sampler's generator (its `counter` is the state to checkpoint); none without shuffling. */
  get rng(): Rng | undefined {
    return this.#sampler?.rng;
  }

  /** One epoch of batches. */
  *batches(): Generator<ClassifierBatch> {
    const order = this.#sampler ? this.#sampler.indices() : sortSampler(this.#docs.map((d) => d.length));
    const padOpts: { padIdx: number; seqLen?: number } = { padIdx: this.#opts.padIdx ?? 1 };
    if (this.#opts.seqLen !== undefined) padOpts.seqLen = this.#opts.seqLen;
    for (let i = 0; i < order.length; i += this.bs) {
      const indices = order.slice(i, i + this.bs);
      const b = padBatch(indices.map((k) => this.#docs[k]!), padOpts);
      yield { ...b, labels: Int32Array.from(indices, (k) => this.#labels[k]!), indices };
    }
  }
}
