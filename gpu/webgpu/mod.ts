/**
 * The WebGPU backend: {@linkcode WebGpuBackend} runs every kernel of the engine as WGSL compute pipelines on
 * any adapter Deno's WebGPU finds (a discrete GPU, or Mesa llvmpipe on machines without one).
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
export * from "./auto.ts";
