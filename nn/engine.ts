/**
 * Global engine state of the tensor front end: which {@linkcode Backend} new tensors live on, and whether ops
 * record the autograd graph. Every tensor op reads these two switches from here and nowhere else.
 *
 * @example Record nothing inside a no-grad scope
 * ```ts
 * import { isGradEnabled, noGrad } from "./engine.ts";
 * const inside = noGrad(() => isGradEnabled());
 * if (inside !== false || isGradEnabled() !== true) throw new Error("noGrad() did not scope the switch");
 * ```
 *
 * @module
 */

import type { Backend } from "../gpu/backend.ts";
import { CpuBackend, createWebGpuBackend } from "../gpu/mod.ts";

let current: Backend | null = null;
let gradEnabled = true;

/**
 * The backend new tensors are created on. The first call creates a CPU backend when none was set.
 * @returns the active backend
 */
export function getBackend(): Backend {
  if (current === null) current = new CpuBackend();
  return current;
}

/**
 * Make `backend` the one new tensors are created on. Tensors already made stay on their own backend; mixing
 * tensors of two backends in one op is an error.
 * @param backend the backend to use from now on
 * @returns the previously active backend (null when none had been created yet)
 */
export function setBackend(backend: Backend): Backend | null {
  const prev = current;
  current = backend;
  return prev;
}

/** Which backend {@linkcode useBackend} should make: `"auto"` prefers WebGPU and falls back to the CPU. */
export type BackendKind = "cpu" | "webgpu" | "auto";

/** The environment variable that overrides `"auto"` (`cpu` or `webgpu`). */
export const BACKEND_ENV = "DENOFIT_BACKEND";

function envKind(): BackendKind | null {
  try {
    const v = Deno.env.get(BACKEND_ENV);
    if (v === undefined || v === "") return null;
    if (v === "cpu" || v === "webgpu" || v === "auto") return v;
    throw new Error(`${BACKEND_ENV}=${v} is not one of cpu, webgpu, auto`);
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) return null;
    throw err;
  }
}

/**
 * Create a backend of `kind`, make it the active one and return it. `"auto"` reads {@linkcode BACKEND_ENV}
 * first, then uses WebGPU when an adapter exists and the CPU backend otherwise; `"webgpu"` fails with the
 * reason when there is no adapter.
 * @param kind which backend
 * @returns the new active backend
 * @example Pick the CPU backend explicitly
 * ```ts
 * import { getBackend, useBackend } from "./engine.ts";
 * const b = await useBackend("cpu");
 * if (getBackend() !== b || b.name !== "cpu") throw new Error("not switched");
 * ```
 */
export async function useBackend(kind: BackendKind = "auto"): Promise<Backend> {
  const want = kind === "auto" ? envKind() ?? "auto" : kind;
  if (want !== "cpu") {
    const made = await createWebGpuBackend();
    if (made.backend) {
      setBackend(made.backend);
      return made.backend;
    }
    if (want === "webgpu") throw new Error(`useBackend: no WebGPU backend: ${made.reason}`);
  }
  const cpu = new CpuBackend();
  setBackend(cpu);
  return cpu;
}

/** Whether ops currently record the autograd graph. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Run `fn` without recording the autograd graph (inference, optimizer updates); restores the previous mode.
 * @param fn work to run
 * @returns what `fn` returns
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Run `fn` with graph recording switched on or off explicitly; restores the previous mode.
 * @param enabled whether to record
 * @param fn work to run
 * @returns what `fn` returns
 */
export function withGrad<T>(enabled: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}
