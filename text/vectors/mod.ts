/**
 * Word vectors: streaming readers for fastText `.vec`, GloVe and word2vec text files, fastText `.bin` models,
 * the npm GloVe 100-d package with a binary cache, a `.vec` writer, an embedding matrix for a vocabulary
 * (found words get their vector, missing words random rows at the measured std), cosine nearest neighbours,
 * and a skip-gram trainer with negative sampling (fastText's defaults) for languages without vectors offline.
 *
 * @example Vectors for a vocabulary
 * ```ts
 * import { embeddingFromVectors, loadVectorsText } from "./mod.ts";
 * const p = await Deno.makeTempFile({ suffix: ".vec" });
 * await Deno.writeTextFile(p, "2 3\nchat 0.1 0.2 0.3\nchien 0.3 0.2 0.1\n");
 * const e = embeddingFromVectors(["xxunk", "chat", "chien"], await loadVectorsText(p));
 * if (e.found !== 2 || e.missing !== 1 || e.weight.length !== 9) throw new Error("embedding");
 * await Deno.remove(p);
 * ```
 *
 * @module
 */
export * from "./word_vectors.ts";
export * from "./text_format.ts";
export * from "./cache.ts";
export * from "./wink.ts";
export * from "./fasttext_bin.ts";
export * from "./embedding.ts";
export * from "./neighbours.ts";
export * from "./skipgram.ts";
