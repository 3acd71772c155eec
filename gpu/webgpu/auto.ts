/**
 * Pick the compute backend: WebGPU when an adapter exists, else the CPU reference backend with a one-line
 * message saying why.
 *
 * @example Get a backend that works on any machine
 * ```ts
 * import { createBackend } from "./auto.ts";
 * const { backend, reason } = await createBackend({ quiet: true });
 * if (backend.name !== "webgpu" && backend.name !== "cpu") throw new Error(`unexpected ${backend.name}`);
 * if (reason.length === 0) throw new Error("the choice must be explained");
 * backend.dispose();
 * ```
 *
 * @module
 */

import type { Backend } from "../backend.ts";
import { CpuBackend } from "../cpu/mod.ts";
import { createWebGpuBackend, type WebGpuBackendOptions } from "./backend.ts";

/** Options of {@linkcode createBackend}. */
export interface CreateBackendOptions extends WebGpuBackendOptions {
  /** `"auto"` tries WebGPU first. @default "auto" */
  prefer?: "auto" | "webgpu" | "cpu";
  /** Do not print the fallback message. @default false */
  quiet?: boolean;
}

/**
 * Create the best available backend.
 *
 * @param options Preference, WebGPU options, and whether to stay quiet on fallback.
 * @returns The backend and why it was chosen (the adapter description, or the reason WebGPU is unavailable).
 * @throws When `prefer` is `"webgpu"` and no adapter exists.
 */
export async function createBackend(
  options: CreateBackendOptions = {},
): Promise<{ backend: Backend; reason: string }> {
  const { prefer = "auto", quiet = false, ...gpuOptions } = options;
  if (prefer === "cpu") return { backend: new CpuBackend(), reason: "CPU backend requested" };
  const made = await createWebGpuBackend(gpuOptions);
  if (made.backend) return { backend: made.backend, reason: made.reason };
  if (prefer === "webgpu") throw new Error(`WebGPU backend requested but unavailable: ${made.reason}`);
  const reason = `no WebGPU adapter (${made.reason}); using the CPU backend`;
  if (!quiet) console.warn(`denofit: ${reason}`);
  return { backend: new CpuBackend(), reason };
}
