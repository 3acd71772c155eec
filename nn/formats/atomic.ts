/**
 * Crash-safe file replacement: write a temp file in the destination's folder, fsync it, rename it over the
 * destination, fsync the folder. A process killed at any moment leaves either the old file or the new one.
 * Temp files of writers that died (`.<name>.<pid>.<random>.tmp`) are removed by the next save.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";

/** Options of {@linkcode writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /** Remove temp files left by dead writers of the same destination before writing. @default true */
  cleanStale?: boolean;
}

function tempPrefix(path: string): string {
  return `.${basename(path)}.`;
}

async function syncDir(dir: string): Promise<void> {
  if (Deno.build.os === "windows") return; // directories cannot be opened for fsync there
  const f = await Deno.open(dir, { read: true });
  try {
    await f.sync();
  } finally {
    f.close();
  }
}

/**
 * Atomically replaces `path` with `data`.
 *
 * @param path destination file
 * @param data new contents, or a list of chunks written in order (no concatenated copy is made)
 * @param options stale-temp cleaning
 * @example Replace a file
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { writeFileAtomic } from "./atomic.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/a.bin`, new Uint8Array([1, 2]));
 * await writeFileAtomic(`${dir}/a.bin`, new Uint8Array([3]));
 * strictEqual((await Deno.readFile(`${dir}/a.bin`)).join(), "3");
 * strictEqual([...Deno.readDirSync(dir)].length, 1); // no temp left behind
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | readonly Uint8Array[],
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const { cleanStale = true } = options;
  const dir = dirname(path);
  if (cleanStale) await removeStaleTemps(path);
  const rand = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36);
  const tmp = join(dir, `${tempPrefix(path)}${Deno.pid}.${rand}.tmp`);
  try {
    const f = await Deno.open(tmp, { write: true, createNew: true });
    try {
      for (const chunk of data instanceof Uint8Array ? [data] : data) {
        let off = 0;
        while (off < chunk.length) off += await f.write(chunk.subarray(off));
      }
      await f.sync();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  await syncDir(dir);
}

/** Options of {@linkcode removeStaleTemps}. */
export interface RemoveStaleTempsOptions {
  /**
   * Remove temps whose writer cannot be proven dead once they are this old. On Linux a temp whose writer pid is
   * gone from `/proc` is removed at any age. @default 3_600_000 (one hour)
   */
  olderThanMs?: number;
}

function pidAlive(pid: number): boolean | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (e) {
    // only a missing /proc entry proves the writer dead; without --allow-all Deno refuses to look (NotCapable)
    return e instanceof Deno.errors.NotFound ? false : undefined;
  }
}

/**
 * Removes temp files that {@linkcode writeFileAtomic} left for `path` when its writer was killed.
 *
 * @param path the destination whose temps to clean
 * @param options age threshold
 * @returns the removed temp file paths
 */
export async function removeStaleTemps(
  path: string,
  options: RemoveStaleTempsOptions = {},
): Promise<string[]> {
  const { olderThanMs = 3_600_000 } = options;
  const dir = dirname(path);
  const prefix = tempPrefix(path);
  const removed: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || !e.name.startsWith(prefix) || !e.name.endsWith(".tmp")) continue;
    const m = /^(\d+)\.[0-9a-z]+\.tmp$/.exec(e.name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    const full = join(dir, e.name);
    if (pid === Deno.pid) continue; // possibly a save of ours still in flight
    let stale = pidAlive(pid) === false;
    if (!stale) {
      const st = await Deno.stat(full).catch(() => undefined);
      stale = st?.mtime != null && Date.now() - st.mtime.getTime() >= olderThanMs;
    }
    if (stale && await Deno.remove(full).then(() => true, () => false)) removed.push(full);
  }
  return removed;
}
