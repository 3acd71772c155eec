/**
 * What keeps the corpus store honest with other programs and other processes:
 *
 * - **Marking**: our stores carry `PRAGMA application_id` = {@linkcode STORE_APPLICATION_ID} ("dfit") and
 *   `PRAGMA user_version` = the schema version; a non-empty SQLite file that is not ours is never written to
 *   (a store from before the marking is recognised by its `meta` table and marked).
 * - **Writers**: a process writing a corpus (ingest, vocabulary) claims it in the `writers` table; a second
 *   writer waits for the claim to go (busy timeout) and fails with a message naming the other process when it
 *   does not; a claim of a dead process is taken over.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";

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

/** Schema of the writers table (created with the store's schema). */
export const WRITERS_SQL = `
CREATE TABLE IF NOT EXISTS writers (
  corpus TEXT PRIMARY KEY,
  pid    INTEGER NOT NULL,
  host   TEXT NOT NULL,
  token  TEXT NOT NULL,
  since  TEXT NOT NULL
);
`;

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "";
  }
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

/**
 * Claims corpus `name` for writing: waits while a live process holds it (up to `waitMs`), takes over the claim
 * of a dead one, and fails with a message that names the other process when the wait runs out.
 *
 * @param db the store (read-write)
 * @param path the store file, for messages
 * @param name the corpus
 * @param options wait time, notice
 * @returns the claim
 */
export async function claimCorpus(
  db: DatabaseSync,
  path: string,
  name: string,
  options: ClaimOptions = {},
): Promise<WriterClaim> {
  const { waitMs = 60_000 } = options;
  const host = hostname(), token = crypto.randomUUID();
  const start = Date.now();
  let told = false;
  for (;;) {
    const holder = tryClaim(db, name, host, token);
    if (!holder) break;
    if (Date.now() - start >= waitMs) {
      throw new Error(
        `${path}: another process is writing corpus "${name}" (pid ${holder.pid}${
          holder.host !== host ? ` on ${holder.host}` : ""
        }, since ${holder.since}); try again when it has finished`,
      );
    }
    if (!told) {
      options.onWait?.(`waiting for pid ${holder.pid}, which is writing corpus "${name}" in ${path} ...`);
      told = true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    release() {
      try {
        db.prepare("DELETE FROM writers WHERE corpus = ? AND token = ?").run(name, token);
      } catch {
        // the database was closed: the claim goes with the next claimer's dead-process check
      }
    },
  };
}

/** One attempt: the live holder, or undefined when the claim is now ours. */
function tryClaim(db: DatabaseSync, name: string, host: string, token: string): Row | undefined {
  db.exec("BEGIN IMMEDIATE");
  try {
    const holder = db.prepare("SELECT pid, host, token, since FROM writers WHERE corpus = ?").get(name) as
      | Row
      | undefined;
    const dead = holder && holder.host === host && pidAlive(Number(holder.pid)) === false;
    if (holder && !dead) {
      db.exec("COMMIT");
      return holder;
    }
    db.prepare("INSERT OR REPLACE INTO writers (corpus, pid, host, token, since) VALUES (?, ?, ?, ?, ?)").run(
      name,
      Deno.pid,
      host,
      token,
      new Date().toISOString(),
    );
    db.exec("COMMIT");
    return undefined;
  } catch (e) {
    db.exec("ROLLBACK");
    throw e;
  }
}
