/**
 * The compute backends: the {@linkcode Backend} seam, the CPU reference backend, the WebGPU backend,
 * {@linkcode createBackend} (the one place a backend is chosen, `DENOFIT_BACKEND` read by `config.ts`), and the
 * shared counter-based random generator.
 *
 * @example Draw reproducible numbers
 * ```ts
 * import { Rng } from "./mod.ts";
 * const a = new Rng(1).random(), b = new Rng(1).random();
 * if (a !== b) throw new Error("seeded draws differ");
 * ```
 *
 * @module
 */
export * from "./backend.ts";
export * from "./kernel_names.ts";
export * from "./rng.ts";
export * from "./config.ts";
export * from "./create_backend.ts";
export * from "./conv_geometry.ts";
export * from "./cpu/mod.ts";
export * from "./webgpu/mod.ts";
