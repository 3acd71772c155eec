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
import type { BackendKind } from "../gpu/config.ts";
import { CpuBackend, createBackend } from "../gpu/mod.ts";

export { BACKEND_ENV, type BackendKind } from "../gpu/config.ts";

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

/**
 * Create a backend of `kind` with `createBackend` (gpu/create_backend.ts), make it the active one and return it.
 * `"auto"` reads `DENOFIT_BACKEND` first, then uses WebGPU when an adapter exists and the CPU backend otherwise
 * (quietly); `"webgpu"` fails with the reason when there is no adapter.
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
  const { backend } = await createBackend({ prefer: kind, quiet: true });
  setBackend(backend);
  return backend;
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
