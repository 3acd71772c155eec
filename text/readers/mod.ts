/**
 * Streaming readers for text corpora: folder-per-class (IMDb), CSV (fastai/LeCun layout or named columns),
 * plain lines, JSONL, aligned parallel files, TSV pairs, gettext `.mo` / `.po` catalogs and the LibreOffice help
 * pages. Each returns an async iterable read lazily from disk; malformed input raises a {@linkcode ReaderError}
 * naming the file and row, or is skipped and counted under `onError: "skip"`.
 *
 * @example Count skipped rows
 * ```ts
 * import { newStats, readJsonl } from "./mod.ts";
 * const p = await Deno.makeTempFile();
 * await Deno.writeTextFile(p, '{"text":"ok"}\n{broken\n');
 * const stats = newStats();
 * const docs = await Array.fromAsync(readJsonl(p, { onError: "skip", stats }));
 * if (docs.length !== 1 || stats.skipped !== 1) throw new Error("bad");
 * await Deno.remove(p);
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./folder.ts";
export * from "./csv.ts";
export * from "./lines.ts";
export * from "./pairs.ts";
export * from "./gettext.ts";
export * from "./libreoffice_help.ts";
export * from "./catalogs.ts";
