/**
 * Vision: image I/O and seeded transforms (npm sharp), folder-per-class / unlabelled / Fashion-MNIST / MNIST
 * readers, batch loaders (Workers for files, a fast path for in-memory sets), class name -> word vector mapping
 * through WordNet, and image grids for search results and predictions. Nearest-neighbour search lives in `nn/`
 * (`ExactIndex`, `UsearchIndex`), shared with text.
 *
 * Decoding needs `--allow-read --allow-env --allow-ffi` (sharp is a native addon, loaded on first use).
 *
 * @example Normalised batches of an in-memory set
 * ```ts
 * import { ArrayImageLoader, FASHION_MNIST_STATS } from "./mod.ts";
 * const set = { images: new Uint8Array(2 * 784), labels: Int32Array.of(3, 7), count: 2, height: 28, width: 28, classes: [] };
 * const [batch] = new ArrayImageLoader(set, { batchSize: 2, stats: FASHION_MNIST_STATS }).batches();
 * if (batch!.shape.join() !== "2,1,28,28" || batch!.labels[1] !== 7) throw new Error("bad batch");
 * ```
 *
 * @module
 */
export * from "./image.ts";
export * from "./transforms.ts";
export * from "./folders.ts";
export * from "./mnist.ts";
export * from "./batches.ts";
export * from "./array_loader.ts";
export * from "./image_loader.ts";
export * from "./wordnet.ts";
export * from "./class_words.ts";
export * from "./grid.ts";
