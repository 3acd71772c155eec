/**
 * Internals shared by the readers: the error type, the skip policy bookkeeping and a byte-level line splitter
 * that decodes each line with a fatal UTF-8 decoder, so a bad byte is reported with its exact line number.
 *
 * @module
 */
import { MAX_REASONS, ReaderError, type ReaderOptions } from "./types.ts";

/** Apply the skip policy to `err`: rethrow under "throw", else count it. */
export function handleBad(err: ReaderError, opts: ReaderOptions): void {
  if ((opts.onError ?? "throw") === "throw") throw err;
  const s = opts.stats;
  if (s) {
    s.skipped++;
    if (s.reasons.length < MAX_REASONS) s.reasons.push(err.message);
    if (s.rows && s.rows.length < MAX_REASONS) s.rows.push(err.row);
  }
}

/** Count one record read. */
export function countRead(opts: ReaderOptions): void {
  if (opts.stats) opts.stats.read++;
}

/** Names `path` and says in words what is wrong (a folder given for a file, no permission, ...). */
function fsReaderError(path: string, e: unknown, verb: string): ReaderError {
  const what = e instanceof Deno.errors.NotFound
    ? "file not found"
    : e instanceof Deno.errors.IsADirectory
    ? "is a folder, not a file"
    : e instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : `cannot ${verb}: ${(e as Error).message}`;
  return new ReaderError(path, 0, what, { cause: e });
}

/** Open a file for reading: a missing file or a folder is a {@linkcode ReaderError} naming the path. */
export async function openFile(path: string): Promise<Deno.FsFile> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw fsReaderError(path, e, "open");
  }
  // a folder opens fine on Linux and fails only at the first read, without its name: refuse it here
  const st = await file.stat().catch(() => undefined);
  if (st?.isDirectory) {
    file.close();
    throw new ReaderError(path, 0, "is a folder, not a file");
  }
  return file;
}

/** Read a whole file as bytes: a missing file or a folder is a {@linkcode ReaderError} naming the path. */
export async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    throw fsReaderError(path, e, "read");
  }
}

/** One line of a file: its 1-based number and text, or `bad` set when its bytes are not valid UTF-8. */
export interface Line {
  /** 1-based line number. */
  n: number;
  /** Decoded text without the line ending (U+FFFD replacements when `bad`). */
  text: string;
  /** True when the line's bytes were not valid UTF-8. */
  bad: boolean;
  /** The line's bytes with its line ending, when asked for with `raw`. */
  raw?: Uint8Array;
}

// ignoreBOM: false drops a leading U+FEFF.
const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
const lenient = new TextDecoder("utf-8", { fatal: false, ignoreBOM: false });

function decodeLine(bytes: Uint8Array, n: number): Line {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  const b = end === bytes.length ? bytes : bytes.subarray(0, end);
  try {
    return { n, text: fatal.decode(b), bad: false };
  } catch {
    return { n, text: lenient.decode(b), bad: true };
  }
}

function join(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Stream the lines of a file (LF or CRLF endings, a leading BOM dropped), reading 256 KiB at a time, so memory
 * stays bounded by the longest line. A final line without a newline is yielded too.
 */
export async function* readLines(path: string, { raw = false } = {}): AsyncGenerator<Line> {
  const file = await openFile(path);
  // Bytes of the current unfinished line, kept as pieces so a very long line is copied once (linear time).
  let pending: Uint8Array[] = [];
  let pendingLen = 0;
  let n = 0;
  const emit = (bytes: Uint8Array, withNl: Uint8Array | undefined): Line => {
    const line = decodeLine(bytes, ++n);
    if (raw) line.raw = withNl ?? bytes;
    return line;
  };
  try {
    for await (const chunk of file.readable) {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(0x0a, start);
        if (nl < 0) break;
        if (pendingLen > 0) {
          pending.push(chunk.subarray(start, nl + 1));
          const all = join(pending, pendingLen + nl + 1 - start);
          pending = [];
          pendingLen = 0;
          yield emit(all.subarray(0, all.length - 1), all);
        } else yield emit(chunk.subarray(start, nl), chunk.subarray(start, nl + 1));
        start = nl + 1;
      }
      if (start < chunk.length) {
        pending.push(chunk.subarray(start));
        pendingLen += chunk.length - start;
      }
    }
  } finally {
    try {
      file.close();
    } catch { /* already closed by the stream */ }
  }
  if (pendingLen > 0) yield emit(join(pending, pendingLen), undefined);
}
