/**
 * Several files replaced as one unit (a language model and its encoder): every new file is written to a temp
 * beside its destination (`.<name>.<pid>.<random>.pending`), then a journal listing the renames is written
 * atomically (`.<first name>.<pid>.<random>.journal`, the commit point), then the temps are renamed over their
 * destinations, the folders are synced and the journal is removed.
 *
 * A process killed before the journal exists leaves every old file in place (its temps are stale and removed
 * later); killed after, it leaves a journal that {@linkcode recoverInterruptedWrites} replays (as SQLite replays
 * a hot journal): the new set is completed. Either way no mix of old and new files survives the next run or
 * load. Temps of dead writers (`.pending`, and `.tmp` of `atomic.ts`) are removed by the same call.
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
import { removeStaleTemps, writeFileAtomic } from "./atomic.ts";

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
    if (await exists(tmp)) await Deno.rename(tmp, target);
    dirs.add(dirname(target));
  }
  for (const d of dirs) await syncDir(d);
  await Deno.remove(journal).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  await syncDir(dirname(journal));
}

function pidAlive(pid: number): boolean | undefined {
  if (pid === Deno.pid) return true;
  if (Deno.build.os !== "linux") return undefined;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
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

/**
 * Finishes the unit writes of dead processes in `path`'s folder (replays their journals) and removes the temps
 * dead writers left for `path` (`.pending` temps of this module, `.tmp` temps of `writeFileAtomic`). Journals
 * of live writers are left alone (their save is still running).
 *
 * @param path a file that a unit write may have been replacing
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
): Promise<{ completed: string[]; removed: string[] }> {
  const target = resolve(path);
  const dir = dirname(target);
  const completed: string[] = [], removed: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { completed, removed };
    throw e;
  }
  const referenced = new Set<string>();
  for (const e of entries) {
    const m = e.isFile ? JOURNAL.exec(e.name) : null;
    if (!m) continue;
    const full = join(dir, e.name);
    const j = await readJournal(full);
    if (!j) continue;
    if (pidAlive(Number(m[1])) !== false && pidAlive(j.pid) !== false) {
      for (const [tmp] of j.renames) referenced.add(tmp);
      continue;
    }
    await replay(full, j.renames);
    completed.push(...j.renames.map(([, t]) => t));
  }
  const base = escapeRe(basename(target));
  const temp = new RegExp(
    `^\\.\\.?${base}\\.(\\d+)\\.[0-9a-z]+\\.(pending|tmp|journal)(\\.\\d+\\.[0-9a-z]+\\.tmp)?$`,
  );
  for (const e of entries) {
    const m = e.isFile ? temp.exec(e.name) : null;
    const full = join(dir, e.name);
    if (!m || referenced.has(full) || pidAlive(Number(m[1])) !== false) continue;
    if (await Deno.remove(full).then(() => true, () => false)) removed.push(full);
  }
  removed.push(...await removeStaleTemps(target));
  return { completed, removed };
}
