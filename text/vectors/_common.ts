/**
 * Internals of the word-vector readers and writers: a growable row buffer, atomic file writes (a temporary
 * file renamed into place, so a reader never sees half a file) and strict number parsing.
 *
 * @module
 */

/** A growable float buffer for readers that do not know the row count in advance. */
export class RowBuffer {
  #data: Float32Array;
  #rows = 0;
  /** Row size. */
  readonly dim: number;
  /**
   * Start empty.
   * @param dim Row size.
   * @param capacity Rows to allocate at first.
   */
  constructor(dim: number, capacity = 1024) {
    this.dim = dim;
    this.#data = new Float32Array(Math.max(1, capacity) * dim);
  }
  /** Rows so far. */
  get rows(): number {
    return this.#rows;
  }
  /** Append one row (any array-like of `dim` numbers). */
  push(row: ArrayLike<number>): void {
    if ((this.#rows + 1) * this.dim > this.#data.length) {
      const bigger = new Float32Array(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data.set(row, this.#rows * this.dim);
    this.#rows++;
  }
  /** The rows as an exactly sized array (a copy when the buffer has spare room). */
  finish(): Float32Array {
    const n = this.#rows * this.dim;
    return n === this.#data.length ? this.#data : this.#data.slice(0, n);
  }
}

/**
 * Write a file atomically: `write` fills a temporary file beside `path`, which is then renamed over `path`; on
 * any error the temporary file is removed and `path` is untouched.
 */
export async function atomicWrite(path: string, write: (file: Deno.FsFile) => Promise<void>): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    try {
      await write(file);
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Write all of `bytes` to `file`. */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await file.write(bytes.subarray(off));
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * Parse a decimal number strictly: undefined for an empty string, text that is not a number (including
 * surrounding whitespace, which `+s` would accept), or NaN/infinity.
 */
export function parseFinite(s: string): number | undefined {
  if (s === "") return undefined;
  const a = s.charCodeAt(0), z = s.charCodeAt(s.length - 1);
  if (!(isDigit(a) || a === 45 || a === 43 || a === 46) || !(isDigit(z) || z === 46)) return undefined;
  const v = +s;
  return Number.isFinite(v) ? v : undefined;
}
