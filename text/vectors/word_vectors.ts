/**
 * {@linkcode WordVectors}: a table of word vectors (words in file order, one `Float32Array` of rows) with a
 * word -> row index, as every reader in this folder returns it.
 *
 * @example
 * ```ts
 * import { WordVectors } from "./word_vectors.ts";
 * const wv = new WordVectors(["le", "la"], 2, new Float32Array([1, 0, 0, 1]));
 * if (wv.get("la")![1] !== 1 || wv.has("les") || wv.size !== 2) throw new Error("bad");
 * ```
 *
 * @module
 */

/** Word vectors: `words[i]` has the vector `data[i*dim .. (i+1)*dim)`. */
export class WordVectors {
  /** The words, in file order (for fastText and GloVe files: most frequent first). */
  readonly words: readonly string[];
  /** Vector size. */
  readonly dim: number;
  /** Row-major `(words.length, dim)` vectors. */
  readonly data: Float32Array;
  #index: Map<string, number>;

  /**
   * Wrap a table. A word listed twice keeps its first row in the index (fastText writes unique words).
   * @param words The words.
   * @param dim Vector size.
   * @param data `words.length * dim` numbers.
   */
  constructor(words: readonly string[], dim: number, data: Float32Array) {
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`WordVectors: dim must be >= 1, got ${dim}`);
    if (data.length !== words.length * dim) {
      throw new RangeError(`WordVectors: ${data.length} numbers for ${words.length} words of dim ${dim}`);
    }
    this.words = words;
    this.dim = dim;
    this.data = data;
    this.#index = new Map();
    words.forEach((w, i) => {
      if (!this.#index.has(w)) this.#index.set(w, i);
    });
  }

  /** Number of words. */
  get size(): number {
    return this.words.length;
  }

  /** Row of `word`, or -1. */
  indexOf(word: string): number {
    return this.#index.get(word) ?? -1;
  }

  /** Whether `word` has a vector. */
  has(word: string): boolean {
    return this.#index.has(word);
  }

  /** The vector of `word` (a view into {@linkcode data}), or undefined. */
  get(word: string): Float32Array | undefined {
    const i = this.#index.get(word);
    return i === undefined ? undefined : this.row(i);
  }

  /** The vector of row `i` (a view). */
  row(i: number): Float32Array {
    if (!(i >= 0 && i < this.words.length)) {
      throw new RangeError(`WordVectors: row ${i} outside [0, ${this.size})`);
    }
    return this.data.subarray(i * this.dim, (i + 1) * this.dim);
  }
}
