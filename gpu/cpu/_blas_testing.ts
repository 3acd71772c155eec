/**
 * Test helpers for the BLAS path: whether the machine's BLAS loads here (tests that need it register with
 * {@linkcode blasTest}, so on a machine without one, such as CI, they are reported as ignored and this module
 * prints why once), and a scoped setting of environment variables.
 *
 * @module
 */

import { readConfig } from "../config.ts";
import { loadBlas } from "./_blas.ts";

const found = loadBlas(readConfig().blasLibrary);

/** True when the machine's BLAS could be loaded (a library was found and FFI is permitted). */
export const BLAS_AVAILABLE: boolean = found.blas !== null;

/** What was loaded, or why nothing was. */
export const BLAS_REASON: string = found.reason;

if (!BLAS_AVAILABLE) console.warn(`BLAS tests skipped (reported as ignored): ${BLAS_REASON}`);

/** Register a test that needs the machine's BLAS; ignored with the reason in its name when there is none. */
export function blasTest(name: string, fn: (t: Deno.TestContext) => void | Promise<void>): void {
  Deno.test({
    name: BLAS_AVAILABLE ? name : `${name} (skipped: no BLAS: ${BLAS_REASON})`,
    ignore: !BLAS_AVAILABLE,
    fn,
  });
}

/** Run `fn` with each variable of `vars` set (undefined: unset), restoring them afterwards. */
export async function withEnv<T>(
  vars: Record<string, string | undefined>,
  fn: () => T | Promise<T>,
): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, Deno.env.get(k)]));
  const set = (
    k: string,
    v: string | undefined,
  ) => (v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v));
  for (const [k, v] of Object.entries(vars)) set(k, v);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) set(k, v);
  }
}
