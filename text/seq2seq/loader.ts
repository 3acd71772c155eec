/**
 * Sequence-to-sequence batches as the lesson-11 model reads them: pairs ordered by
 * {@linkcode SortishSampler} (training: similar lengths together, shuffled each epoch) or
 * {@linkcode sortSampler} (validation: longest first), padded with xxpad at the END ({@linkcode padBatch}), and
 * laid out time-major, `(seq, batch)`, for both the input and the target (fastai 0.7 `DataLoader(...,
 * transpose=True, transpose_y=True, pad_idx=1, pre_pad=False)`).
 *
 * @example Validation batches: longest input first, padded at the end, (seq, batch)
 * ```ts
 * import { Seq2SeqLoader } from "./loader.ts";
 * const x = [Int32Array.of(5, 3), Int32Array.of(6, 7, 3)];
 * const y = [Int32Array.of(8, 3), Int32Array.of(9, 3)];
 * const [b] = [...new Seq2SeqLoader(x, y, { bs: 2, shuffle: false }).batches()];
 * // column 0 is pair 1 (longer), column 1 is pair 0, padded with 1 at the end
 * if (b!.x.join() !== "6,5,7,3,3,1" || b!.xLen !== 3 || b!.y.join() !== "9,8,3,3") throw new Error("batch");
 * ```
 *
 * @module
 */
import { padBatch } from "../padding.ts";
import { SortishSampler, sortSampler } from "../samplers.ts";
import { type DataLoader, fromArray, hostDataLoader } from "../../nn/mod.ts";

/** One batch: time-major input and target ids. */
export interface Seq2SeqBatch {
  /** Input ids, row-major `(xLen, bs)`: `x[t * bs + b]` is token `t` of row `b`. */
  x: Int32Array;
  /** Target ids, row-major `(yLen, bs)`. */
  y: Int32Array;
  /** Rows (pairs) in this batch. */
  bs: number;
  /** Length of the longest input of the batch. */
  xLen: number;
  /** Length of the longest target of the batch. */
  yLen: number;
  /** Which pairs the rows are (indices into the loader's arrays). */
  indices: number[];
}

/** Options of {@linkcode Seq2SeqLoader}. */
export interface Seq2SeqLoaderOptions {
  /** Rows per batch (the lesson: 125 for training, `int(125 * 1.6)` for validation). @default {125} */
  bs?: number;
  /** Sortish shuffled order (training) or sorted longest first (validation). @default {true} */
  shuffle?: boolean;
  /** Pad id (xxpad). @default {1} */
  padIdx?: number;
  /** Seed of the sampler. @default {42} */
  seed?: number;
  /** Whose length orders the pairs: the input's (`"x"`) or the target's (`"y"`, as the lesson's sampler). @default {"x"} */
  sortBy?: "x" | "y";
}

/** Transpose a row-major `(rows, cols)` matrix into `(cols, rows)`. */
function transpose(data: Int32Array, rows: number, cols: number): Int32Array {
  const out = new Int32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

/**
 * Batches of (input, target) id sequences for a seq2seq model; each call of
 * {@linkcode Seq2SeqLoader.batches} is one epoch (a new sortish order when shuffling).
 */
export class Seq2SeqLoader {
  /** Rows per batch. */
  readonly bs: number;
  /** Pad id. */
  readonly padIdx: number;
  #x: readonly Int32Array[];
  #y: readonly Int32Array[];
  #sampler?: SortishSampler;
  #lengths: Int32Array;

  /**
   * Make a loader over aligned inputs and targets.
   *
   * @param x Input id sequences.
   * @param y Target id sequences (`y[i]` is the translation of `x[i]`).
   * @param options Batch size, order, padding.
   */
  constructor(x: readonly Int32Array[], y: readonly Int32Array[], options: Seq2SeqLoaderOptions = {}) {
    if (x.length !== y.length) {
      throw new RangeError(`Seq2SeqLoader: ${x.length} inputs but ${y.length} targets`);
    }
    const { bs = 125, shuffle = true, padIdx = 1, seed = 42, sortBy = "x" } = options;
    if (!Number.isInteger(bs) || bs < 1) {
      throw new RangeError(`Seq2SeqLoader: bs must be a positive integer, got ${bs}`);
    }
    this.bs = bs;
    this.padIdx = padIdx;
    this.#x = x;
    this.#y = y;
    this.#lengths = Int32Array.from(sortBy === "x" ? x : y, (s) => s.length);
    if (shuffle) this.#sampler = new SortishSampler(this.#lengths, { bs, seed });
  }

  /** Pairs. */
  get size(): number {
    return this.#x.length;
  }

  /** Batches per epoch. */
  get length(): number {
    return Math.ceil(this.#x.length / this.bs);
  }

  /** One epoch of batches. */
  *batches(): Generator<Seq2SeqBatch> {
    const order = this.#sampler ? this.#sampler.indices() : sortSampler(this.#lengths);
    const pad = { padIdx: this.padIdx, padFirst: false };
    for (let i = 0; i < order.length; i += this.bs) {
      const indices = order.slice(i, i + this.bs);
      const px = padBatch(indices.map((k) => this.#x[k]!), pad);
      const py = padBatch(indices.map((k) => this.#y[k]!), pad);
      yield {
        x: transpose(px.data, px.rows, px.cols),
        y: transpose(py.data, py.rows, py.cols),
        bs: indices.length,
        xLen: px.cols,
        yLen: py.cols,
        indices,
      };
    }
  }
}

/**
 * Adapt a {@linkcode Seq2SeqLoader} into tensor batches for the {@linkcode Learner}: `x` is `(xLen, bs)` i32,
 * `y` is `(yLen, bs)` i32.
 *
 * @param loader the host-side loader
 * @returns the data loader
 * @example
 * ```ts
 * import { Seq2SeqLoader, seq2seqDataLoader } from "./loader.ts";
 * const dl = seq2seqDataLoader(new Seq2SeqLoader([Int32Array.of(4, 3)], [Int32Array.of(5, 6, 3)], { bs: 1 }));
 * const [b] = [...dl];
 * if (b!.x.shape.join() !== "2,1" || b!.y.shape.join() !== "3,1") throw new Error("shapes");
 * b!.x.dispose();
 * b!.y.dispose();
 * ```
 */
export function seq2seqDataLoader(loader: Seq2SeqLoader): DataLoader {
  return hostDataLoader({ length: loader.length, batches: () => loader.batches() }, (b) => ({
    x: fromArray(b.x, [b.xLen, b.bs], { dtype: "i32" }),
    y: fromArray(b.y, [b.yLen, b.bs], { dtype: "i32" }),
  }));
}
