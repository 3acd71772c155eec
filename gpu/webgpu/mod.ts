/**
 * The WebGPU backend: {@linkcode WebGpuBackend} runs every kernel of the engine as WGSL compute pipelines on
 * any adapter Deno's WebGPU finds (a discrete GPU, or Mesa llvmpipe on machines without one);
 * {@linkcode createWebGpuBackend} says why when there is none (`../create_backend.ts` then falls back to the
 * CPU backend).
 *
 * How it is fast where it can be:
 * - launches are recorded into one compute pass and submitted every few dozen; pipelines are cached by a
 *   shape-independent key (shapes, strides and offsets travel in a 256-byte slot of one uniform ring bound with
 *   a dynamic offset), so bind groups are cached too; data comes back only through `read()` (~11 ms on llvmpipe);
 * - matmul picks a variant per adapter from a rule table (`MATMUL_RULES`): workgroup-memory tiling on GPUs; on
 *   CPU-like adapters (llvmpipe), where a storage-buffer load costs ~30x a register FMA, operands are read as
 *   `rgba32f` texels with 8x8 outputs per invocation (cached per storage version, so weights upload once);
 * - on CPU-like adapters, large contiguous elementwise kernels and the row kernels (reduce, softmax,
 *   cross-entropy) read textures too, and contiguous copies are buffer copies;
 * - fused kernels for the LSTM and GRU cells (forward and backward), Adam/AdamW and SGD steps, cross-entropy and
 *   dropout with the shared counter-based generator (the same numbers as the CPU backend).
 *
 * @example Create the backend or learn why there is none
 * ```ts
 * import { createWebGpuBackend } from "./mod.ts";
 * const { backend, reason } = await createWebGpuBackend();
 * if (backend) {
 *   if (backend.name !== "webgpu") throw new Error("wrong backend");
 *   backend.dispose();
 * } else if (reason.length === 0) {
 *   throw new Error("a missing adapter must come with a reason");
 * }
 * ```
 *
 * @module
 */
export * from "./backend.ts";
