/**
 * The folder-per-class reader (IMDb's `aclImdb/{train,test}/{neg,pos,unsup}/*.txt` layout).
 *
 * @module
 */
import { countRead, handleBad, readBytes } from "./_common.ts";
import { ReaderError, type ReaderOptions, type TextRecord } from "./types.ts";

/** Options of {@linkcode readFolderPerClass}. */
export interface FolderOptions extends ReaderOptions {
  /** Split folders to read, in this order; every sub-folder of the root, sorted, when absent. */
  splits?: string[];
  /** Class folders to read inside each split, in this order; every sub-folder, sorted, when absent. */
  classes?: string[];
  /** Only files whose name ends with this are read. @default {".txt"} */
  ext?: string;
}

async function subdirs(path: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(path)) if (e.isDirectory) out.push(e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new ReaderError(path, 0, "folder not found", { cause: e });
    if (e instanceof Deno.errors.NotADirectory) {
      throw new ReaderError(path, 0, "is a file, not a folder", { cause: e });
    }
    throw new ReaderError(path, 0, `cannot list it: ${(e as Error).message}`, { cause: e });
  }
  return out.sort();
}

async function filesIn(path: string, ext: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(path)) if (e.isFile && e.name.endsWith(ext)) out.push(e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new ReaderError(path, 0, "folder not found", { cause: e });
    if (e instanceof Deno.errors.NotADirectory) {
      throw new ReaderError(path, 0, "is a file, not a folder", { cause: e });
    }
    throw new ReaderError(path, 0, `cannot list it: ${(e as Error).message}`, { cause: e });
  }
  // Natural order: "2_3.txt" before "10_1.txt", so the order is stable and human-looking.
  return out.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
}

const fatal = new TextDecoder("utf-8", { fatal: true });

/**
 * Stream `root/<split>/<class>/*<ext>` as documents with `label = <class>`, `split = <split>` and
 * `id = "<split>/<class>/<file>"`, one file in memory at a time, in a fixed (sorted) order. A file that is not
 * valid UTF-8 is malformed (error or skipped per `onError`).
 *
 * @param root The dataset folder (e.g. `aclImdb`).
 * @param options Which splits/classes, the file extension, the error policy.
 * @returns An async iterable of records.
 *
 * @example A two-class training folder
 * ```ts
 * import { readFolderPerClass } from "./folder.ts";
 * const root = await Deno.makeTempDir();
 * for (const c of ["neg", "pos"]) {
 *   await Deno.mkdir(`${root}/train/${c}`, { recursive: true });
 *   await Deno.writeTextFile(`${root}/train/${c}/0_1.txt`, `a ${c} review`);
 * }
 * const docs = await Array.fromAsync(readFolderPerClass(root));
 * if (docs.length !== 2 || docs[1]!.label !== "pos" || docs[1]!.split !== "train") throw new Error("bad");
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function* readFolderPerClass(
  root: string,
  options: FolderOptions = {},
): AsyncGenerator<TextRecord> {
  const { ext = ".txt" } = options;
  const splits = options.splits ?? await subdirs(root);
  for (const split of splits) {
    const classes = options.classes ?? await subdirs(`${root}/${split}`);
    for (const cls of classes) {
      const dir = `${root}/${split}/${cls}`;
      for (const name of await filesIn(dir, ext)) {
        const path = `${dir}/${name}`;
        const bytes = await readBytes(path);
        let text: string;
        try {
          text = fatal.decode(bytes);
        } catch {
          handleBad(new ReaderError(path, 0, "invalid UTF-8"), options);
          continue;
        }
        countRead(options);
        yield { text, label: cls, split, id: `${split}/${cls}/${name}` };
      }
    }
  }
}
