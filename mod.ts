/**
 * denofit: fastai's text stack (ULMFiT, seq2seq with attention, DeViSE, generation) for Deno, on its own
 * WebGPU compute backend, with SQLite storage for corpora and vocabularies.
 *
 * @example Import the packages
 * ```ts
 * import { Rng } from "./mod.ts";
 * if (typeof new Rng(0).random() !== "number") throw new Error("bad rng");
 * ```
 *
 * @module
 */
export * from "./gpu/mod.ts";
export * from "./nn/mod.ts";
export * from "./text/mod.ts";
export * from "./vision/mod.ts";
