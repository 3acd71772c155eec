/**
 * An embedding matrix for a vocabulary from pre-trained word vectors (lesson 11's `create_emb`): rows of
 * words found in the vectors are their vectors; missing words get random normal rows with the *measured* std
 * of the found rows (the lesson multiplied fastText vectors, std ~0.3, by 3 to match `nn.Embedding`'s N(0, 1)
 * init; here the scale is measured, and `targetStd` rescales everything when you want a given std).
 *
 * @example
 * ```ts
 * import { embeddingFromVectors } from "./embedding.ts";
 * import { WordVectors } from "./word_vectors.ts";
 * const wv = new WordVectors(["chat", "chien"], 2, new Float32Array([1, -1, -1, 1]));
 * const e = embeddingFromVectors(["xxunk", "xxpad", "chat", "Chien"], wv, { zeroRows: [1] });
 * if (e.found !== 2 || e.missing !== 1 || e.weight[4] !== 1 || e.weight[2] !== 0) throw new Error("emb");
 * if (Math.abs(e.foundStd - 1) > 1e-9) throw new Error("std");
 * ```
 *
 * @module
 */
import { Rng } from "../../gpu/rng.ts";
import type { WordVectors } from "./word_vectors.ts";

/** Options of {@linkcode embeddingFromVectors}. */
export interface EmbeddingFromVectorsOptions {
  /** Seed of the random rows. @default {42} */
  seed?: number;
  /** Look a word up lowercased when it is missing as written (vectors like GloVe are lowercase). @default {true} */
  caseFallback?: boolean;
  /** Rows set to zero whatever the vectors say (e.g. the padding id); they count as neither found nor missing. */
  zeroRows?: readonly number[];
  /**
   * Scale every row so that the found rows' std becomes this (the lesson's `* 3` made it ~1); the random rows
   * follow. @default {keep the vectors' own scale}
   */
  targetStd?: number;
  /** How many missing words to list in the result. @default {20} */
  listMissing?: number;
}

/** The embedding matrix and what went into it. */
export interface VectorsEmbedding {
  /** Row-major `(itos.length, dim)` weights. */
  weight: Float32Array;
  /** Vector size. */
  dim: number;
  /** Vocabulary words that had a vector. */
  found: number;
  /** Vocabulary words that got a random row. */
  missing: number;
  /** The first `listMissing` missing words, in vocabulary order. */
  missingWords: string[];
  /** Mean of the found rows' values (before `targetStd` scaling). */
  foundMean: number;
  /** Std of the found rows' values (before scaling; 1 when nothing was found). */
  foundStd: number;
  /** Factor applied to every row (`targetStd / foundStd`, or 1). */
  scale: number;
}

/**
 * Build an embedding matrix for the vocabulary `itos` from word vectors.
 *
 * @param itos The vocabulary, id -> word.
 * @param vectors Pre-trained vectors (`.vec`, GloVe, `.bin`, trained skip-gram).
 * @param options Seed, case fallback, zero rows, target std.
 * @returns Weights and counts (found, missing, measured std).
 *
 * @example The lesson's scale: std 1 for found and random rows
 * ```ts
 * import { embeddingFromVectors } from "./embedding.ts";
 * import { WordVectors } from "./word_vectors.ts";
 * const wv = new WordVectors(["a", "b"], 2, new Float32Array([0.3, -0.3, -0.3, 0.3]));
 * const e = embeddingFromVectors(["a", "b", "zzz"], wv, { targetStd: 1 });
 * if (Math.abs(e.weight[0]! - 1) > 1e-6 || e.missingWords[0] !== "zzz") throw new Error("scale");
 * ```
 */
export function embeddingFromVectors(
  itos: readonly string[],
  vectors: WordVectors,
  options: EmbeddingFromVectorsOptions = {},
): VectorsEmbedding {
  const { seed = 42, caseFallback = true, zeroRows = [], targetStd, listMissing = 20 } = options;
  const dim = vectors.dim;
  const weight = new Float32Array(itos.length * dim);
  const zero = new Set(zeroRows);
  const missingIds: number[] = [];
  let found = 0, sum = 0, sumSq = 0;
  itos.forEach((w, i) => {
    if (zero.has(i)) return;
    let r = vectors.indexOf(w);
    if (r < 0 && caseFallback) r = vectors.indexOf(w.toLowerCase());
    if (r < 0) {
      missingIds.push(i);
      return;
    }
    const v = vectors.data.subarray(r * dim, (r + 1) * dim);
    weight.set(v, i * dim);
    for (let j = 0; j < dim; j++) {
      sum += v[j]!;
      sumSq += v[j]! * v[j]!;
    }
    found++;
  });
  const n = found * dim;
  const foundMean = n > 0 ? sum / n : 0;
  const foundStd = n > 0 ? Math.sqrt(Math.max(0, sumSq / n - foundMean * foundMean)) : 1;
  if (targetStd !== undefined && !(targetStd > 0)) {
    throw new RangeError(`targetStd must be > 0, got ${targetStd}`);
  }
  const scale = targetStd !== undefined && foundStd > 0 ? targetStd / foundStd : 1;
  if (scale !== 1) { for (let i = 0; i < weight.length; i++) weight[i]! *= scale; }
  const rng = new Rng(seed);
  const randomStd = (foundStd > 0 ? foundStd : 1) * scale;
  for (const i of missingIds) {
    for (let j = 0; j < dim; j++) weight[i * dim + j] = rng.normal() * randomStd;
  }
  return {
    weight,
    dim,
    found,
    missing: missingIds.length,
    missingWords: missingIds.slice(0, listMissing).map((i) => itos[i]!),
    foundMean,
    foundStd,
    scale,
  };
}
