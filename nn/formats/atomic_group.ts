/**
 * Several files replaced as one unit (a language model and its encoder): every new file is written to a temp
 * beside its destination (`.<name>.<pid>.<random>.pending`), then a journal listing the renames is written
 * atomically (`.<first name>.<pid>.<random>.journal`, the commit point), then the temps are renamed over their
 * destinations, the folders are synced and the journal is removed.
 *
 * A process killed before the journal exists leaves every old file in place (its temps are stale and removed
 * by the next run that locks the outputs); killed after, it leaves a journal that
 * {@linkcode recoverInterruptedWrites} replays (as SQLite replays a hot journal): the new set is completed.
 * Either way no mix of old and new files survives the next run or load.
 *
 * @example Two files replaced together
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { writeFilesAtomic } from "./atomic_group.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFilesAtomic([
 *   { path: `${dir}/a.txt`, write: (tmp) => Deno.writeTextFile(tmp, "new a") },
 *   { path: `${dir}/b.txt`, write: (tmp) => Deno.writeTextFile(tmp, "new b") },
 * ]);
 * strictEqual(await Deno.readTextFile(`${dir}/b.txt`), "new b");
 * strictEqual([...Deno.readDirSync(dir)].length, 2); // no temp, no journal left
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { writeFileAtomic } from "./atomic.ts";

/** One file of a {@linkcode writeFilesAtomic} unit. */
export interface GroupFile {
  /** The destination. */
  path: string;
  /** Writes the new contents to exactly the path it is given (a temp beside the destination). */
  write: (tmp: string) => Promise<void>;
}

interface Journal {
  /** Format version. */
  v: 1;
  /** The writer. */
  pid: number;
  /** `[temp, destination]`, absolute, in rename order. */
  renames: [string, string][];
}

const JOURNAL = /^\..+\.(\d+)\.[0-9a-z]+\.journal$/;

async function syncDir(dir: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  const f = await Deno.open(dir, { read: true });
  try {
    await f.sync();
  } finally {
    f.close();
  }
}

function rand(): string {
  return crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Replaces every file of `files` as one unit (see the module doc). When a writer fails, no destination has
 * changed and the temps are removed.
 *
 * @param files destinations and their writers, in the order the renames happen
 */
export async function writeFilesAtomic(files: readonly GroupFile[]): Promise<void> {
  if (files.length === 0) return;
  const targets = files.map((f) => resolve(f.path));
  if (new Set(targets).size !== targets.length) {
    throw new Error(
      `writeFilesAtomic: a destination is named twice (${files.map((f) => f.path).join(", ")})`,
    );
  }
  for (const t of targets) await recoverInterruptedWrites(t);
  const temps = targets.map((t) => join(dirname(t), `.${basename(t)}.${Deno.pid}.${rand()}.pending`));
  const first = targets[0]!;
  const journal = join(dirname(first), `.${basename(first)}.${Deno.pid}.${rand()}.journal`);
  try {
    for (let i = 0; i < files.length; i++) {
      await files[i]!.write(temps[i]!);
      if (!await exists(temps[i]!)) {
        throw new Error(`writeFilesAtomic: the writer of ${files[i]!.path} wrote nothing to ${temps[i]}`);
      }
    }
    const body: Journal = { v: 1, pid: Deno.pid, renames: temps.map((t, i) => [t, targets[i]!]) };
    await writeFileAtomic(journal, new TextEncoder().encode(JSON.stringify(body)), { cleanStale: false });
  } catch (e) {
    for (const t of temps) await Deno.remove(t).catch(() => {});
    throw e;
  }
  await replay(journal, temps.map((t, i) => [t, targets[i]!]));
}

/** Renames what is still pending, syncs the folders, removes the journal. */
async function replay(journal: string, renames: readonly [string, string][]): Promise<void> {
  const dirs = new Set<string>();
  for (const [tmp, target] of renames) {
    // a reader may be replaying the same journal at the same time: a temp already renamed is fine
    await Deno.rename(tmp, target).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
    dirs.add(dirname(target));
  }
  for (const d of dirs) await syncDir(d);
  await Deno.remove(journal).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  await syncDir(dirname(journal));
}

async function readJournal(path: string): Promise<Journal | undefined> {
  try {
    const j = JSON.parse(await Deno.readTextFile(path)) as Journal;
    const ok = j?.v === 1 && Array.isArray(j.renames) &&
      j.renames.every((r) => Array.isArray(r) && typeof r[0] === "string" && typeof r[1] === "string");
    return ok ? j : undefined;
  } catch {
    return undefined;
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Options of {@linkcode recoverInterruptedWrites}. */
export interface RecoverOptions {
  /**
   * Also remove every temp left for `path` (`.pending` temps of this module, `.tmp` temps of `atomic.ts`, a
   * journal's temp). Only for a caller that holds the output's lock (no one else can be writing it now).
   * @default false
   */
  removeTemps?: boolean;
}

/**
 * Finishes the unit writes that a killed process left half done for `path`: every journal in its folder that
 * lists `path` is replayed (the renames it still lists are done; replaying a journal whose writer is still
 * renaming is harmless). With `removeTemps`, the temps left for `path` are removed too.
 *
 * @param path a file that a unit write may have been replacing
 * @param options whether to remove temps
 * @returns the destinations completed from journals and the temps removed
 * @example Nothing to do in a clean folder
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { recoverInterruptedWrites } from "./atomic_group.ts";
 * const dir = await Deno.makeTempDir();
 * deepStrictEqual(await recoverInterruptedWrites(`${dir}/lm.safetensors`), { completed: [], removed: [] });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function recoverInterruptedWrites(
  path: string,
  options: RecoverOptions = {},
): Promise<{ completed: string[]; removed: string[] }> {
  const target = resolve(path);
  const dir = dirname(target);
  const completed: string[] = [], removed: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
      return { completed, removed };
    }
    throw e;
  }
  for (const e of entries) {
    if (!e.isFile || !JOURNAL.test(e.name)) continue;
    const full = join(dir, e.name);
    const j = await readJournal(full);
    if (!j || !j.renames.some(([, t]) => t === target)) continue;
    const pending = [];
    for (const [tmp, t] of j.renames) if (await exists(tmp)) pending.push(t);
    await replay(full, j.renames);
    completed.push(...pending);
  }
  if (!options.removeTemps) return { completed, removed };
  const base = escapeRe(basename(target));
  const temp = new RegExp(
    `^\\.\\.?${base}\\.\\d+\\.[0-9a-z]+\\.(pending|tmp|journal)(\\.\\d+\\.[0-9a-z]+\\.tmp)?$`,
  );
  for (const e of await Array.fromAsync(Deno.readDir(dir))) {
    if (!e.isFile || !temp.test(e.name)) continue;
    const full = join(dir, e.name);
    if (await Deno.remove(full).then(() => true, () => false)) removed.push(full);
  }
  return { completed, removed };
}
