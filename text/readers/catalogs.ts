/**
 * Gettext catalogs by the folder: every `.mo` and `.po` file of a directory (the default English -> French
 * corpus of a Debian machine is `/usr/share/locale/fr/LC_MESSAGES`, ~90 `.mo` files) read one after the other
 * in name order, as one stream of pairs.
 *
 * @module
 */
import { readMo, readPo } from "./gettext.ts";
import { type PairRecord, ReaderError, type ReaderOptions } from "./types.ts";

/** The folder of French gettext catalogs on a Debian/Ubuntu machine. */
export const SYSTEM_FRENCH_CATALOGS = "/usr/share/locale/fr/LC_MESSAGES";

/**
 * The catalog files a path names: the file itself, or the `.mo`/`.po` files of a folder sorted by name.
 *
 * @param path a `.mo`/`.po` file or a folder
 * @returns the files (full paths)
 * @example
 * ```ts
 * import { catalogFiles } from "./catalogs.ts";
 * const dir = await Deno.makeTempDir();
 * for (const f of ["b.po", "a.mo", "notes.txt"]) await Deno.writeTextFile(`${dir}/${f}`, "");
 * const files = await catalogFiles(dir);
 * if (files.join() !== `${dir}/a.mo,${dir}/b.po`) throw new Error(files.join());
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function catalogFiles(path: string): Promise<string[]> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    throw new ReaderError(path, 0, "no such file or folder", { cause: e });
  }
  if (!info.isDirectory) return [path];
  const names: string[] = [];
  for await (const e of Deno.readDir(path)) {
    if (e.isFile && /\.(mo|po)$/.test(e.name)) names.push(e.name);
  }
  if (names.length === 0) throw new ReaderError(path, 0, "no .mo or .po file in this folder");
  return names.sort().map((n) => `${path.replace(/\/+$/, "")}/${n}`);
}

/**
 * Stream the pairs of one catalog or of every catalog in a folder (name order). From a folder, ids are
 * `<file name>#<entry id>`. Each file's errors follow its reader (`readMo` / `readPo`).
 *
 * @param path a `.mo`/`.po` file or a folder of them
 * @param options the error policy
 * @returns the pairs
 * @example The system's French catalogs, when installed
 * ```ts
 * import { readCatalogs, SYSTEM_FRENCH_CATALOGS } from "./catalogs.ts";
 * const has = await Deno.stat(`${SYSTEM_FRENCH_CATALOGS}/apt.mo`).then(() => true, () => false);
 * if (has) {
 *   const first = await readCatalogs(SYSTEM_FRENCH_CATALOGS).next();
 *   if (!first.value?.id?.includes(".mo#")) throw new Error(JSON.stringify(first.value));
 * }
 * ```
 */
export async function* readCatalogs(path: string, options: ReaderOptions = {}): AsyncGenerator<PairRecord> {
  const files = await catalogFiles(path);
  const prefix = files.length > 1 || files[0] !== path;
  for (const f of files) {
    const read = f.endsWith(".po") ? readPo(f, options) : readMo(f, options);
    const name = f.slice(f.lastIndexOf("/") + 1);
    for await (const p of read) yield prefix ? { ...p, id: `${name}#${p.id}` } : p;
  }
}
