/**
 * What a training run checks and holds about the files it will write, before any work starts:
 *
 * - {@linkcode checkOutputPath}: the path names a file (not a folder) in an existing, writable folder, and an
 *   existing file is only replaced with `force`;
 * - {@linkcode OutputLock}: an exclusive lock on an output for the length of a run (`.<name>.lock` beside it,
 *   an operating-system file lock), so a second run on the same output fails at its start instead of silently
 *   replacing the first one's file. A process that dies (even by `kill -9`) holds its lock no longer.
 *
 * @example A second lock on the same output fails, naming the holder
 * ```ts
 * import { rejects } from "node:assert/strict";
 * import { OutputLock } from "./run_outputs.ts";
 * const dir = await Deno.makeTempDir();
 * const lock = await OutputLock.acquire(`${dir}/lm.safetensors`);
 * await rejects(OutputLock.acquire(`${dir}/lm.safetensors`), /another run is writing it \(pid \d+/);
 * lock.release();
 * (await OutputLock.acquire(`${dir}/lm.safetensors`)).release();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
import { basename, dirname, join } from "node:path";

/** What an output path is for (named in messages). */
export interface OutputPathOptions {
  /** Replacing an existing file is allowed. @default false */
  force?: boolean;
  /** The file is appended to (metrics): an existing file is fine without `force`. @default false */
  append?: boolean;
  /** The flag that names this path, for messages (`--out`). */
  flag?: string;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new Error(`${path}: cannot check it (${errorText(e)})`);
  }
}

/**
 * Checks, before any work, that `path` can be written at the end: it is not a folder, its folder exists, is a
 * folder and is writable (probed with a temp file), and an existing file may be replaced (`force`) or appended
 * to (`append`).
 *
 * @param path the output file
 * @param options force / append, the flag for messages
 * @example A folder is refused
 * ```ts
 * import { rejects } from "node:assert/strict";
 * import { checkOutputPath } from "./run_outputs.ts";
 * const dir = await Deno.makeTempDir();
 * await rejects(checkOutputPath(dir, { flag: "--out" }), /--out .*: is a folder; give a file name/);
 * await rejects(checkOutputPath(`${dir}/no/such/m.safetensors`), /the folder .* does not exist/);
 * await checkOutputPath(`${dir}/m.safetensors`);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function checkOutputPath(path: string, options: OutputPathOptions = {}): Promise<void> {
  const { force = false, append = false, flag } = options;
  const what = flag ? `${flag} ${path}` : path;
  const st = await statOrNull(path);
  if (st?.isDirectory) throw new Error(`${what}: is a folder; give a file name`);
  if (st && !append && !force) throw new Error(`${path} exists; pass --force to overwrite it`);
  const dir = dirname(path);
  const d = await statOrNull(dir);
  if (!d) throw new Error(`${what}: the folder ${dir} does not exist; create it first`);
  if (!d.isDirectory) throw new Error(`${what}: ${dir} is not a folder`);
  await probeWritable(dir, what);
}

async function probeWritable(dir: string, what: string): Promise<void> {
  const probe = join(dir, `.denofit-probe.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}`);
  try {
    (await Deno.open(probe, { write: true, createNew: true })).close();
  } catch (e) {
    throw new Error(`${what}: cannot write in the folder ${dir} (${errorText(e)})`);
  }
  await Deno.remove(probe).catch(() => {});
}

interface LockBody {
  pid: number;
  started: string;
}

/**
 * An exclusive lock on an output file for the length of a run (see the module doc): an operating-system file
 * lock (`flock`) on `.<name>.lock`, so a run that dies, even by `kill -9`, holds it no longer.
 */
export class OutputLock {
  /** The output. */
  readonly path: string;
  /** The lock file (`.<name>.lock` beside the output). */
  readonly lockPath: string;
  #file: Deno.FsFile | null;

  private constructor(path: string, lockPath: string, file: Deno.FsFile) {
    this.path = path;
    this.lockPath = lockPath;
    this.#file = file;
  }

  /** The lock file of an output. */
  static lockPathOf(path: string): string {
    return join(dirname(path), `.${basename(path)}.lock`);
  }

  /**
   * Takes the lock on `path`, or fails naming the run that holds it. A lock file left by a run that died is
   * not locked any more and is taken over.
   *
   * @param path the output file
   * @returns the held lock; call {@linkcode OutputLock.release} when done
   */
  static async acquire(path: string): Promise<OutputLock> {
    const lockPath = OutputLock.lockPathOf(path);
    for (let attempt = 0; attempt < 5; attempt++) {
      let file: Deno.FsFile;
      try {
        file = await Deno.open(lockPath, { read: true, write: true, create: true });
      } catch (e) {
        throw new Error(`${path}: cannot lock it (${lockPath}: ${errorText(e)})`);
      }
      if (!await file.tryLock(true)) {
        file.close();
        const held = await readLock(lockPath);
        const who = held ? `pid ${held.pid}, since ${held.started}` : "another process";
        throw new Error(
          `${path}: another run is writing it (${who}); wait for it to finish or choose another output`,
        );
      }
      // the holder before us may have removed the file after we opened it: lock the file at the path
      const mine = await file.stat(), now = await Deno.stat(lockPath).catch(() => null);
      if (!now || (mine.ino !== null && mine.ino !== now.ino)) {
        file.close();
        continue;
      }
      const body: LockBody = { pid: Deno.pid, started: new Date().toISOString() };
      await file.truncate(0);
      await file.write(new TextEncoder().encode(JSON.stringify(body) + "\n"));
      return new OutputLock(path, lockPath, file);
    }
    throw new Error(`${path}: cannot lock it (${lockPath} keeps being replaced)`);
  }

  /** Releases the lock (synchronous, so it can run right before the process exits). */
  release(): void {
    const f = this.#file;
    if (!f) return;
    this.#file = null;
    try {
      Deno.removeSync(this.lockPath);
    } catch {
      // already gone
    }
    try {
      f.unlockSync();
    } catch {
      // closing unlocks too
    }
    f.close();
  }
}

async function readLock(path: string): Promise<LockBody | null> {
  try {
    const b = JSON.parse(await Deno.readTextFile(path)) as LockBody;
    return typeof b?.pid === "number" ? b : null;
  } catch {
    return null;
  }
}
