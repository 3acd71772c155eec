/**
 * Exact nearest neighbours of word vectors by cosine similarity, to look at what a set of vectors learned
 * (`nearestWords(wv, "fichier")`) or to compare two sets of vectors on the same words.
 *
 * @example
 * ```ts
 * import { CosineIndex } from "./neighbours.ts";
 * import { WordVectors } from "./word_vectors.ts";
 * const wv = new WordVectors(["roi", "reine", "pomme"], 2, new Float32Array([1, 0.1, 0.9, 0.2, -0.1, 1]));
 * const nn = new CosineIndex(wv).nearest("roi", { k: 1 });
 * if (nn[0]!.word !== "reine") throw new Error("nn");
 * ```
 *
 * @module
 */
import type { WordVectors } from "./word_vectors.ts";

/** One neighbour. */
export interface Neighbour {
  /** The word. */
  word: string;
  /** Cosine similarity to the query, in [-1, 1]. */
  similarity: number;
}

/** Options of {@linkcode CosineIndex.nearest}. */
export interface NearestOptions {
  /** How many neighbours. @default {10} */
  k?: number;
  /** Words never returned (a word query always excludes itself). @default {none} */
  exclude?: Iterable<string>;
}

/** Unit-normalised copy of a vectors table, for repeated cosine queries. */
export class CosineIndex {
  /** The table the index was built from. */
  readonly vectors: WordVectors;
  #unit: Float32Array;

  /**
   * Normalise every row (zero rows stay zero and score 0).
   * @param vectors The table.
   */
  constructor(vectors: WordVectors) {
    this.vectors = vectors;
    const { dim, data } = vectors;
    this.#unit = new Float32Array(data.length);
    for (let r = 0; r < vectors.size; r++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += data[r * dim + j]! ** 2;
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let j = 0; j < dim; j++) this.#unit[r * dim + j] = data[r * dim + j]! * inv;
    }
  }

  /**
   * The `k` words most similar to a word or a vector.
   * @param query A word of the table, or a vector of the table's size.
   * @param options `k` and words to leave out.
   * @returns Neighbours, most similar first.
   */
  nearest(query: string | ArrayLike<number>, options: NearestOptions = {}): Neighbour[] {
    const { k = 10 } = options;
    const { dim, words } = this.vectors;
    const skip = new Set(options.exclude ?? []);
    let q: ArrayLike<number>;
    if (typeof query === "string") {
      const r = this.vectors.indexOf(query);
      if (r < 0) throw new Error(`nearest: "${query}" has no vector`);
      q = this.#unit.subarray(r * dim, (r + 1) * dim);
      skip.add(query);
    } else {
      if (query.length !== dim) {
        throw new Error(`nearest: query has ${query.length} values, vectors have ${dim}`);
      }
      q = query;
    }
    let qn = 0;
    for (let j = 0; j < dim; j++) qn += q[j]! ** 2;
    const inv = qn > 0 ? 1 / Math.sqrt(qn) : 0;
    const best: Neighbour[] = [];
    for (let r = 0; r < words.length; r++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += this.#unit[r * dim + j]! * q[j]!;
      s *= inv;
      if (best.length === k && s <= best[k - 1]!.similarity) continue;
      if (skip.has(words[r]!)) continue;
      let at = best.length;
      while (at > 0 && best[at - 1]!.similarity < s) at--;
      best.splice(at, 0, { word: words[r]!, similarity: s });
      if (best.length > k) best.pop();
    }
    return best;
  }
}

/**
 * The `k` nearest words of `word` by cosine similarity (builds a {@linkcode CosineIndex}; keep one for many
 * queries).
 *
 * @param vectors The table.
 * @param word A word of the table.
 * @param options `k` (default 10) and words to leave out.
 * @returns Neighbours, most similar first.
 *
 * @example
 * ```ts
 * import { nearestWords } from "./neighbours.ts";
 * import { WordVectors } from "./word_vectors.ts";
 * const wv = new WordVectors(["un", "deux", "rouge"], 2, new Float32Array([1, 0, 0.9, 0.1, 0, 1]));
 * if (nearestWords(wv, "un", { k: 1 })[0]!.word !== "deux") throw new Error("nn");
 * ```
 */
export function nearestWords(vectors: WordVectors, word: string, options: NearestOptions = {}): Neighbour[] {
  return new CosineIndex(vectors).nearest(word, options);
}
