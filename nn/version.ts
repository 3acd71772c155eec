/**
 * The library version, recorded in checkpoints (`denofit.version`) and printed by `denofit --version`.
 *
 * @example A semantic version
 * ```ts
 * import { VERSION } from "./version.ts";
 * if (!/^\d+\.\d+\.\d+$/.test(VERSION)) throw new Error(VERSION);
 * ```
 *
 * @module
 */

/** The library version (as in `deno.json`). */
export const VERSION = "0.1.0";
