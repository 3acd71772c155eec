/**
 * What keeps the corpus store honest with other programs and other processes:
 *
 * - **Marking**: our stores carry `PRAGMA application_id` = {@linkcode STORE_APPLICATION_ID} ("dfit") and
 *   `PRAGMA user_version` = the schema version; a non-empty SQLite file that is not ours is never written to
 *   (a store from before the marking is recognised by its `meta` table and marked).
 * - **Writers**: a process writing a corpus (ingest, vocabulary) claims it with a file lock beside the store;
 *   a second writer waits for the claim to go and fails with a message naming the other process when it does
 *   not; a process that dies releases its claim.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";

/** `PRAGMA application_id` of a denofit corpus store: the bytes "dfit". */
export const STORE_APPLICATION_ID = 0x64666974;

interface Row {
  [k: string]: unknown;
}

function pragma(db: DatabaseSync, name: string): number {
  const r = db.prepare(`PRAGMA ${name}`).get() as Row | undefined;
  return Number(r?.[name] ?? 0);
}

/** What kind of database a file holds. */
export type StoreIdentity = "ours" | "legacy" | "empty";

/**
 * Says whether `db` is one of our stores (marked, or a legacy unmarked one), an empty database, or refuses it:
 * another program's database (or a newer schema) is an error naming the file.
 *
 * @param db the open database
 * @param path the file, for messages
 * @param schemaVersion the schema this code reads
 * @returns what it is
 */
export function storeIdentity(db: DatabaseSync, path: string, schemaVersion: number): StoreIdentity {
  const app = pragma(db, "application_id");
  const tables =
    (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Row[])
      .map((r) => String(r.name));
  if (app === STORE_APPLICATION_ID) {
    const v = pragma(db, "user_version");
    if (v > schemaVersion) {
      throw new Error(
        `${path}: a corpus store of schema version ${v}; this denofit reads ${schemaVersion}: upgrade denofit`,
      );
    }
    return "ours";
  }
  if (app === 0 && tables.length === 0) return "empty";
  const legacy = app === 0 && tables.includes("meta") && tables.includes("corpora") &&
    (db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as Row | undefined) !==
      undefined;
  if (legacy) return "legacy";
  const shown = tables.slice(0, 6).join(", ") + (tables.length > 6 ? ", ..." : "");
  throw new Error(
    `${path}: a SQLite database of another program (application_id ${app}, tables ${shown || "none"}), ` +
      "not a denofit corpus store; nothing was changed. Give another --store",
  );
}

/** Marks `db` as a store of `schemaVersion`. */
export function markStore(db: DatabaseSync, schemaVersion: number): void {
  db.exec(`PRAGMA application_id = ${STORE_APPLICATION_ID}`);
  db.exec(`PRAGMA user_version = ${schemaVersion}`);
}

/**
 * Turns an error of opening or first reading a store file into one that names the file and says what it is
 * (`file is not a database`, a folder, a missing file).
 *
 * @param path the file
 * @param e the error
 * @returns the error to throw
 */
export function storeOpenError(path: string, e: unknown): Error {
  const msg = e instanceof Error ? e.message : String(e);
  if (msg.startsWith(`${path}:`)) return e as Error;
  let st: Deno.FileInfo | undefined;
  try {
    st = Deno.statSync(path);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory) {
    return new Error(`${path}: is a folder, not a corpus store (give a file with --store)`);
  }
  if (/file is not a database/.test(msg)) {
    return new Error(`${path}: not a SQLite database (file is not a database), so not a corpus store`);
  }
  if (/unable to open database file/.test(msg) && !st) {
    return new Error(`${path}: cannot create or open it (does its folder exist?)`);
  }
  return new Error(`${path}: ${msg}`, { cause: e });
}

/** A held claim on a corpus; {@linkcode WriterClaim.release} when done. */
export interface WriterClaim {
  /** Gives the corpus back. */
  release(): void;
}

/** Options of {@linkcode claimCorpus}. */
export interface ClaimOptions {
  /** How long to wait for another writer to finish. @default 60_000 */
  waitMs?: number;
  /** Hears that it waits. */
  onWait?: (line: string) => void;
}

interface ClaimBody {
  pid: number;
  corpus: string;
  since: string;
}

/** The lock file of corpus `name` in store `path`: `.<store>.<sha-256 of the name, 16 hex>.lock` beside it. */
export function claimPath(path: string, name: string): string {
  const h = createHash("sha256").update(name).digest("hex").slice(0, 16);
  return join(dirname(path), `.${basename(path)}.${h}.lock`);
}

async function readClaim(path: string): Promise<ClaimBody | null> {
  try {
    const b = JSON.parse(await Deno.readTextFile(path)) as ClaimBody;
    return typeof b?.pid === "number" ? b : null;
  } catch {
    return null;
  }
}

/**
 * Claims corpus `name` of the store file `path` for writing, with an operating-system file lock beside the store
 * (a process that dies, even by `kill -9`, holds it no longer): waits while another process holds it (up to
 * `waitMs`) and then fails with a message naming that process. An in-memory store needs no claim.
 *
 * @param path the store file
 * @param name the corpus
 * @param options wait time, notice
 * @returns the claim
 */
export async function claimCorpus(
  path: string,
  name: string,
  options: ClaimOptions = {},
): Promise<WriterClaim> {
  if (path === ":memory:" || path === "") return { release() {} };
  const { waitMs = 60_000 } = options;
  const lock = claimPath(path, name);
  const start = Date.now();
  let told = false;
  for (;;) {
    const file = await Deno.open(lock, { read: true, write: true, create: true });
    if (await file.tryLock(true)) {
      const mine = await file.stat(), now = await Deno.stat(lock).catch(() => null);
      if (now && (mine.ino === null || mine.ino === now.ino)) {
        const body: ClaimBody = { pid: Deno.pid, corpus: name, since: new Date().toISOString() };
        await file.truncate(0);
        await file.write(new TextEncoder().encode(JSON.stringify(body) + "\n"));
        return {
          release() {
            try {
              Deno.removeSync(lock);
            } catch {
              // already gone
            }
            file.close(); // unlocks
          },
        };
      }
      file.close(); // the file was replaced after we opened it: try the one at the path
      continue;
    }
    file.close();
    const holder = await readClaim(lock);
    const who = holder ? `pid ${holder.pid}, since ${holder.since}` : "another process";
    if (Date.now() - start >= waitMs) {
      throw new Error(
        `${path}: another process is writing corpus "${name}" (${who}); try again when it has finished`,
      );
    }
    if (!told) {
      const pid = holder ? `pid ${holder.pid}` : "another process";
      options.onWait?.(`waiting for ${pid}, which is writing corpus "${name}" in ${path} ...`);
      told = true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
