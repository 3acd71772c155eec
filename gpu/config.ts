/**
 * The global switches of the engine read from the environment, in one typed place:
 *
 * - `DENOFIT_BACKEND` (`cpu`, `webgpu` or `auto`) overrides an `"auto"` backend choice made by
 *   {@linkcode createBackend} (and so by `useBackend` and the `denofit --backend auto` commands);
 * - `DENOFIT_CPU_MATMUL` (`auto`, `blas`, `wasm` or `js`) overrides the CPU backend's `"auto"` choice of the f32
 *   matmul kernel (the machine's BLAS through FFI when found, else WebAssembly SIMD);
 * - `DENOFIT_BLAS` names the BLAS library file to load instead of searching the usual places.
 * - `DENOFIT_PROGRESS=lines` makes training print a plain progress line every quarter of an epoch when its output
 *   is not a terminal (a log file, CI); by default a pipe gets one line per epoch only.
 *
 * @example Read the configuration
 * ```ts
 * import { readConfig } from "./config.ts";
 * const { backend } = readConfig();
 * if (backend !== null && !["cpu", "webgpu", "auto"].includes(backend)) throw new Error(String(backend));
 * ```
 *
 * @module
 */

/** Which backend to make: `"auto"` prefers WebGPU and falls back to the CPU. */
export type BackendKind = "cpu" | "webgpu" | "auto";

/** The environment variable that overrides an `"auto"` backend choice (`cpu`, `webgpu` or `auto`). */
export const BACKEND_ENV = "DENOFIT_BACKEND";

/**
 * Which kernel the CPU backend's f32 matmuls and convolutions use: `"blas"` (the machine's BLAS through FFI),
 * `"wasm"` (WebAssembly SIMD), `"js"` (JavaScript, f64 accumulation) or `"auto"` (BLAS when found and FFI is
 * permitted, else WebAssembly).
 */
export type CpuMatmulChoice = "auto" | "blas" | "wasm" | "js";

/** The environment variable that overrides an `"auto"` CPU matmul kernel choice (`auto`, `blas`, `wasm`, `js`). */
export const CPU_MATMUL_ENV = "DENOFIT_CPU_MATMUL";

/** The environment variable naming the BLAS library file to load (a path or a name the loader can find). */
export const BLAS_ENV = "DENOFIT_BLAS";

/** The environment variable that asks for progress lines on a non-terminal output (`lines`). */
export const PROGRESS_ENV = "DENOFIT_PROGRESS";

/** Every switch of {@linkcode readConfig}; null where the environment does not set it. */
export interface DenofitConfig {
  /** From {@linkcode BACKEND_ENV}. */
  backend: BackendKind | null;
  /** From {@linkcode CPU_MATMUL_ENV}. */
  cpuMatmul: CpuMatmulChoice | null;
  /** From {@linkcode BLAS_ENV}. */
  blasLibrary: string | null;
  /** From {@linkcode PROGRESS_ENV}. */
  progress: "lines" | null;
}

/** The value of `name`, or null when unset, empty, or not readable (no `--allow-env`). */
function env(name: string): string | null {
  try {
    const v = Deno.env.get(name);
    return v === undefined || v === "" ? null : v;
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) return null;
    throw err;
  }
}

/**
 * Read the switches from the environment now.
 *
 * @returns The configuration.
 * @throws When a variable holds a value it cannot take, naming the variable and the allowed values.
 * @example Force the CPU backend for `"auto"` choices
 * ```ts
 * import { BACKEND_ENV, readConfig } from "./config.ts";
 * const saved = Deno.env.get(BACKEND_ENV);
 * Deno.env.set(BACKEND_ENV, "cpu");
 * if (readConfig().backend !== "cpu") throw new Error("not read");
 * if (saved === undefined) Deno.env.delete(BACKEND_ENV);
 * else Deno.env.set(BACKEND_ENV, saved);
 * ```
 */
export function readConfig(): DenofitConfig {
  const v = env(BACKEND_ENV);
  if (v !== null && v !== "cpu" && v !== "webgpu" && v !== "auto") {
    throw new Error(`${BACKEND_ENV}=${v} is not one of cpu, webgpu, auto`);
  }
  const m = env(CPU_MATMUL_ENV);
  if (m !== null && m !== "auto" && m !== "blas" && m !== "wasm" && m !== "js") {
    throw new Error(`${CPU_MATMUL_ENV}=${m} is not one of auto, blas, wasm, js`);
  }
  const p = env(PROGRESS_ENV);
  if (p !== null && p !== "lines") throw new Error(`${PROGRESS_ENV}=${p} is not "lines"`);
  return { backend: v, cpuMatmul: m, blasLibrary: env(BLAS_ENV), progress: p };
}
