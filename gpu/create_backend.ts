/**
 * The one place a compute backend is chosen: {@linkcode createBackend} makes the CPU or the WebGPU backend from
 * an explicit kind, or for `"auto"` from `DENOFIT_BACKEND` (see `config.ts`) and then from the WebGPU adapter:
 * a hardware GPU gets the WebGPU backend; a software adapter (Mesa llvmpipe, SwiftShader, lavapipe) or none gets
 * the CPU backend, which is several times faster than a CPU rasteriser running WGSL (bench/RESULTS.md). `nn/engine.ts` (`useBackend`) and the `denofit` commands call it.
 *
 * @example Get a backend that works on any machine
 * ```ts
 * import { createBackend } from "./create_backend.ts";
 * const { backend, reason } = await createBackend({ quiet: true });
 * if (backend.name !== "webgpu" && backend.name !== "cpu") throw new Error(`unexpected ${backend.name}`);
 * if (reason.length === 0) throw new Error("the choice must be explained");
 * backend.dispose();
 * ```
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import { type BackendKind, readConfig } from "./config.ts";
import { CpuBackend, type CpuBackendOptions } from "./cpu/mod.ts";
import { createWebGpuBackend, type WebGpuBackendOptions } from "./webgpu/mod.ts";

/** Options of {@linkcode createBackend}. */
export interface CreateBackendOptions extends WebGpuBackendOptions {
  /** Which backend; `"auto"` reads `DENOFIT_BACKEND` first, then takes WebGPU on a hardware GPU. @default "auto" */
  prefer?: BackendKind;
  /** Options of the CPU backend when it is the one made (threads, matmul kernel). @default {} */
  cpu?: CpuBackendOptions;
  /** Do not print the message when `"auto"` falls back to the CPU. @default false */
  quiet?: boolean;
}

/**
 * Create the backend `prefer` asks for.
 *
 * @param options The kind, the options of either backend, and whether to stay quiet on fallback.
 * @returns The backend and why it was chosen (the adapter description, or the reason WebGPU is unavailable).
 * @throws When WebGPU is asked for (explicitly or by `DENOFIT_BACKEND`) and no adapter exists, or when
 *   `DENOFIT_BACKEND` holds an unknown value.
 * @example A two-thread CPU backend
 * ```ts
 * import { createBackend } from "./create_backend.ts";
 * const { backend } = await createBackend({ prefer: "cpu", cpu: { threads: 2 } });
 * if (backend.name !== "cpu") throw new Error(backend.name);
 * backend.dispose();
 * ```
 */
export async function createBackend(
  options: CreateBackendOptions = {},
): Promise<{ backend: Backend; reason: string }> {
  const { prefer = "auto", cpu = {}, quiet = false, ...gpuOptions } = options;
  if (prefer !== "cpu" && prefer !== "webgpu" && prefer !== "auto") {
    throw new Error(`createBackend: prefer must be cpu, webgpu or auto, got ${JSON.stringify(prefer)}`);
  }
  const fromEnv = prefer === "auto" ? readConfig().backend : null;
  const kind = fromEnv ?? prefer;
  const why = fromEnv !== null && fromEnv !== "auto" ? ` (DENOFIT_BACKEND=${fromEnv})` : "";
  if (kind === "cpu") {
    const backend = new CpuBackend(cpu);
    return { backend, reason: `CPU backend requested${why}; f32 matmuls: ${backend.matmulReason}` };
  }
  const made = await createWebGpuBackend(gpuOptions);
  if (made.backend && (kind === "webgpu" || !made.backend.isFallbackAdapter)) {
    return { backend: made.backend, reason: made.reason };
  }
  if (kind === "webgpu") throw new Error(`WebGPU backend requested${why} but unavailable: ${made.reason}`);
  const software = made.backend !== null;
  made.backend?.dispose();
  const backend = new CpuBackend(cpu);
  const reason = software
    ? `the WebGPU adapter is a software rasteriser (${made.reason}), slower than the CPU backend; using the CPU ` +
      `backend; f32 matmuls: ${backend.matmulReason}`
    : `no WebGPU adapter (${made.reason}); using the CPU backend; f32 matmuls: ${backend.matmulReason}`;
  if (!quiet && !software) console.warn(`denofit: ${reason}`);
  return { backend, reason };
}
