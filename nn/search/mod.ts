/**
 * Nearest-neighbour search by cosine similarity, one interface ({@linkcode VectorIndex}) and two engines:
 * {@linkcode ExactIndex} (batched matmul on the active backend with a blocked running top-k; the default and
 * the ground truth) and {@linkcode UsearchIndex} (approximate HNSW through npm usearch: save, load,
 * memory-mapped open). Used by vision (image <-> word search) and text (nearest words) alike.
 *
 * @example Exact search, and recall of an approximate result against it
 * ```ts
 * import { ExactIndex, recallAtK } from "./mod.ts";
 * const index = new ExactIndex(3);
 * index.add(Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0));
 * const exact = await index.search(Float32Array.of(1, 0.9, 0), 2);
 * if (exact.ids.join() !== "3,0") throw new Error(`got ${exact.ids.join()}`);
 * if (recallAtK(exact, exact) !== 1) throw new Error("recall");
 * index.dispose();
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./exact.ts";
export * from "./ann.ts";
