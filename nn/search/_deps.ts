/**
 * The search package's third-party package, pinned with a full `npm:` specifier. usearch is a native addon: it
 * is imported on first use (never at module load), so programs that only use the exact engine need no
 * `--allow-ffi` and a machine without a matching prebuilt binary still loads this package.
 *
 * @module
 */
// deno-lint-ignore no-import-prefix -- library code must resolve without deno.json (full npm: specifier)
import type * as Usearch from "npm:usearch@2.26.2";
import { importNpm } from "../_npm.ts";

/** The usearch module's exports. */
export type UsearchModule = typeof Usearch;

let loaded: Promise<UsearchModule> | undefined;

/** Import npm `usearch@2.26.2` once (needs `--allow-read --allow-env --allow-ffi`). */
export function importUsearch(): Promise<UsearchModule> {
  loaded ??= importNpm<UsearchModule>("usearch@2.26.2");
  return loaded;
}
