/**
 * Image files on disk: a folder per class (`root/<split>/<class>/*`, the ImageNet / Imagenette layout) and a
 * folder of unlabelled images. Only the listing happens here; decoding is the loader's job.
 *
 * @example Two classes of one split
 * ```ts
 * import { readImageFolder } from "./folders.ts";
 * const root = await Deno.makeTempDir();
 * for (const c of ["cat", "dog"]) {
 *   await Deno.mkdir(`${root}/train/${c}`, { recursive: true });
 *   await Deno.writeFile(`${root}/train/${c}/1.jpg`, new Uint8Array(1));
 * }
 * const set = await readImageFolder(root, { split: "train" });
 * if (set.classes.join() !== "cat,dog" || set.items[1]!.label !== 1) throw new Error("bad listing");
 * await Deno.remove(root, { recursive: true });
 * ```
 *
 * @module
 */

/** File extensions listed as images (lower case, with the dot). */
export const IMAGE_EXTENSIONS: readonly string[] = [
  ".jpg",
  ".jpeg",
  ".png",
  ".webp",
  ".gif",
  ".tif",
  ".tiff",
  ".avif",
];

/** One labelled image file. */
export interface ImageItem {
  /** Path of the file. */
  path: string;
  /** Class index into {@linkcode ImageFolderSet.classes}. */
  label: number;
}

/** The images of a folder-per-class split. */
export interface ImageFolderSet {
  /** Class names (folder names), in label order. */
  classes: string[];
  /** Files sorted by class, then by name. */
  items: ImageItem[];
}

/** Options of {@linkcode readImageFolder}. */
export interface ImageFolderOptions {
  /** Sub-folder holding the class folders (`"train"`, `"val"`); omit when `root` holds them directly. */
  split?: string;
  /**
   * Class names in label order, e.g. the training split's, so a validation split gets the same labels; a class
   * folder not in the list is an error. @default {the folder names, sorted}
   */
  classes?: readonly string[];
  /** Extensions to list. @default {IMAGE_EXTENSIONS} */
  extensions?: readonly string[];
}

function isImage(name: string, extensions: readonly string[]): boolean {
  const dot = name.lastIndexOf(".");
  return dot > 0 && extensions.includes(name.slice(dot).toLowerCase());
}

async function sortedEntries(dir: string): Promise<Deno.DirEntry[]> {
  const out: Deno.DirEntry[] = [];
  try {
    for await (const e of Deno.readDir(dir)) out.push(e);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`image folder ${dir} does not exist`);
    throw e;
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * List a folder-per-class split: `root/<split>/<class>/<image>`.
 * @param root data set folder
 * @param options split, class order, extensions
 * @returns class names and files
 */
export async function readImageFolder(
  root: string,
  options: ImageFolderOptions = {},
): Promise<ImageFolderSet> {
  const dir = options.split ? `${root}/${options.split}` : root;
  const extensions = options.extensions ?? IMAGE_EXTENSIONS;
  const folders = (await sortedEntries(dir)).filter((e) => e.isDirectory && !e.name.startsWith("."));
  const classes = options.classes ? [...options.classes] : folders.map((e) => e.name);
  const label = new Map(classes.map((c, i) => [c, i]));
  const items: ImageItem[] = [];
  for (const f of folders) {
    const l = label.get(f.name);
    if (l === undefined) {
      throw new Error(
        `image folder ${dir}/${f.name}: class "${f.name}" is not one of the ${classes.length} given classes`,
      );
    }
    for (const e of await sortedEntries(`${dir}/${f.name}`)) {
      if (e.isFile && isImage(e.name, extensions)) {
        items.push({ path: `${dir}/${f.name}/${e.name}`, label: l });
      }
    }
  }
  if (folders.length === 0) throw new Error(`image folder ${dir} has no class folders`);
  items.sort((a, b) => a.label - b.label || (a.path < b.path ? -1 : 1));
  return { classes, items };
}

/**
 * List the image files of a folder (unlabelled images, e.g. to search), sorted by path.
 * @param dir the folder
 * @param options `recursive` also lists sub-folders (default false); `extensions` as in {@linkcode readImageFolder}
 * @returns file paths
 */
export async function listImages(
  dir: string,
  { recursive = false, extensions = IMAGE_EXTENSIONS }: {
    recursive?: boolean;
    extensions?: readonly string[];
  } = {},
): Promise<string[]> {
  const out: string[] = [];
  for (const e of await sortedEntries(dir)) {
    if (e.isFile && isImage(e.name, extensions)) out.push(`${dir}/${e.name}`);
    else if (recursive && e.isDirectory && !e.name.startsWith(".")) {
      out.push(...await listImages(`${dir}/${e.name}`, { recursive, extensions }));
    }
  }
  return out;
}
