/**
 * Word vectors in text form, streamed line by line so a file of any size can be read: fastText `.vec` (a
 * header line `count dim`, then `word v1 ... vdim`), GloVe and word2vec text files (`word v1 v2 ...`, no
 * header; the size is read from the first row), and a `.vec` writer.
 *
 * Bad input is a {@linkcode ReaderError} naming the file and line: a row with the wrong number of values
 * ("ragged"), a value that is not a finite number (NaN, inf, text), invalid UTF-8, a file with fewer or more
 * rows than its header says (truncated), a bad header.
 *
 * @example Write a `.vec` and read it back
 * ```ts
 * import { loadVectorsText, writeVec } from "./text_format.ts";
 * import { WordVectors } from "./word_vectors.ts";
 * const p = await Deno.makeTempFile({ suffix: ".vec" });
 * await writeVec(p, new WordVectors(["chat", "chien"], 2, new Float32Array([0.5, -1, 2, 0.25])));
 * const wv = await loadVectorsText(p);
 * if (wv.dim !== 2 || wv.get("chien")![1] !== 0.25) throw new Error("round trip");
 * await Deno.remove(p);
 * ```
 *
 * @module
 */
import { readLines } from "../readers/_common.ts";
import { ReaderError } from "../readers/types.ts";
import { atomicWrite, parseFinite, RowBuffer, writeAll } from "./_common.ts";
import { WordVectors } from "./word_vectors.ts";

/** One row of a vectors file. */
export interface VectorRecord {
  /** The word. */
  word: string;
  /** Its vector (a fresh array). */
  vector: Float32Array;
  /** 1-based line in the file. */
  line: number;
}

/** Options of {@linkcode readVectorsText} and {@linkcode loadVectorsText}. */
export interface TextVectorsOptions {
  /**
   * Keep only these words (a set, or a predicate). Rows left out are checked for their number of fields only,
   * not parsed, which makes picking a vocabulary out of a big file fast. @default {every word}
   */
  words?: ReadonlySet<string> | ((word: string) => boolean);
  /** Stop after this many rows of the file (kept or not); fastText files are sorted by frequency. */
  limit?: number;
  /**
   * Whether the first line is a `count dim` header: `"auto"` takes a first line of exactly two integers as a
   * header (fastText `.vec`, word2vec text); `true` requires one; `false` reads it as a row. @default {"auto"}
   */
  header?: "auto" | boolean;
  /**
   * Allow spaces inside words (some GloVe files have them): the last `dim` fields are the vector, the rest
   * is the word. Off by default, so a row with too many values is reported as ragged. @default {false}
   */
  spacesInWords?: boolean;
}

interface Shape {
  dim: number;
  count: number | undefined;
}

function headerOf(path: string, text: string, mode: "auto" | boolean): Shape | undefined {
  const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(text);
  if (!m) {
    if (mode === true) {
      throw new ReaderError(
        path,
        1,
        `expected a "count dim" header, got ${JSON.stringify(text.slice(0, 40))}`,
      );
    }
    return undefined;
  }
  if (mode === false) return undefined;
  const count = Number(m[1]), dim = Number(m[2]);
  if (dim < 1) throw new ReaderError(path, 1, `header gives dimension ${dim}`);
  return { dim, count };
}

/** Split one row into word and value fields; throws a ReaderError when the row is ragged. */
function fieldsOf(
  path: string,
  n: number,
  text: string,
  dim: number,
  spacesInWords: boolean,
): { word: string; values: string[] } {
  let end = text.length;
  while (end > 0 && (text.charCodeAt(end - 1) === 32 || text.charCodeAt(end - 1) === 9)) end--;
  const parts = text.slice(0, end).split(" ");
  if (parts.length === dim + 1 || (spacesInWords && parts.length > dim + 1)) {
    const cut = parts.length - dim;
    const word = cut === 1 ? parts[0]! : parts.slice(0, cut).join(" ");
    if (word === "") throw new ReaderError(path, n, "row has an empty word");
    return { word, values: parts.slice(cut) };
  }
  throw new ReaderError(
    path,
    n,
    `ragged row: expected a word and ${dim} values, got ${parts.length - 1} values`,
  );
}

function parseRow(path: string, n: number, values: string[]): Float32Array {
  const v = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = parseFinite(values[i]!);
    if (x === undefined) {
      throw new ReaderError(
        path,
        n,
        `value ${i + 1} is not a finite number: ${JSON.stringify(values[i]!.slice(0, 20))}`,
      );
    }
    v[i] = x;
  }
  return v;
}

/**
 * Stream the rows of a text vectors file (`.vec`, GloVe, word2vec text) in file order, without loading the
 * file. The vector size comes from the header or, without one, from the first row; every row must match it.
 *
 * @param path The file.
 * @param options Word filter, row limit, header detection, spaces in words.
 * @returns An async iterable of rows; `dim` is known once the first row is yielded.
 *
 * @example
 * ```ts
 * import { readVectorsText } from "./text_format.ts";
 * const p = await Deno.makeTempFile();
 * await Deno.writeTextFile(p, "le 0.1 0.2\nla 0.3 0.4\n");
 * const rows = await Array.fromAsync(readVectorsText(p, { words: new Set(["la"]) }));
 * if (rows.length !== 1 || rows[0]!.line !== 2) throw new Error("filter");
 * await Deno.remove(p);
 * ```
 */
export async function* readVectorsText(
  path: string,
  options: TextVectorsOptions = {},
): AsyncGenerator<VectorRecord> {
  const { words, limit = Infinity, header = "auto", spacesInWords = false } = options;
  const keep = words === undefined
    ? () => true
    : typeof words === "function"
    ? words
    : (w: string) => words.has(w);
  let shape: Shape | undefined;
  let rows = 0, lastLine = 0;
  for await (const line of readLines(path)) {
    lastLine = line.n;
    if (line.bad) throw new ReaderError(path, line.n, "invalid UTF-8");
    if (line.n === 1) {
      shape = headerOf(path, line.text, header);
      if (shape) continue;
    }
    if (line.text.trim() === "") continue;
    if (rows >= limit) break;
    if (!shape) {
      const first = line.text.trimEnd().split(" ");
      if (first.length < 2) throw new ReaderError(path, line.n, "first row has no values");
      shape = { dim: first.length - 1, count: undefined };
    }
    const { word, values } = fieldsOf(path, line.n, line.text, shape.dim, spacesInWords);
    rows++;
    if (shape.count !== undefined && rows > shape.count) {
      throw new ReaderError(path, line.n, `more rows than the header's ${shape.count}`);
    }
    if (!keep(word)) continue;
    yield { word, vector: parseRow(path, line.n, values), line: line.n };
  }
  if (shape?.count !== undefined && rows < Math.min(shape.count, limit)) {
    throw new ReaderError(
      path,
      lastLine,
      `truncated: the header says ${shape.count} rows, the file has ${rows}`,
    );
  }
}

/**
 * Load a text vectors file (or the rows of it you ask for) into a {@linkcode WordVectors}.
 *
 * @param path The file.
 * @param options As for {@linkcode readVectorsText}.
 * @returns The vectors in file order.
 *
 * @example
 * ```ts
 * import { loadVectorsText } from "./text_format.ts";
 * const p = await Deno.makeTempFile();
 * await Deno.writeTextFile(p, "2 3\nle 1 2 3 \nla 4 5 6 \n");
 * const wv = await loadVectorsText(p);
 * if (wv.size !== 2 || wv.dim !== 3 || wv.get("la")![2] !== 6) throw new Error("load");
 * await Deno.remove(p);
 * ```
 */
export async function loadVectorsText(path: string, options: TextVectorsOptions = {}): Promise<WordVectors> {
  const words: string[] = [];
  let buf: RowBuffer | undefined;
  let dim = 0;
  for await (const r of readVectorsText(path, options)) {
    buf ??= new RowBuffer(dim = r.vector.length);
    words.push(r.word);
    buf.push(r.vector);
  }
  if (!buf) {
    // No kept rows: still report the file's dimension when a header or a row gave one.
    for await (const r of readVectorsText(path, { ...options, words: () => true, limit: 1 })) {
      dim = r.vector.length;
    }
    if (dim === 0) throw new ReaderError(path, 0, "no vectors in the file");
    return new WordVectors([], dim, new Float32Array(0));
  }
  return new WordVectors(words, dim, buf.finish());
}

/** Options of {@linkcode writeVec}. */
export interface WriteVecOptions {
  /** Significant digits per value (fastText writes 5; 9 round-trips a float32 exactly). @default {6} */
  digits?: number;
}

/**
 * Write vectors as a fastText `.vec` file: a `count dim` header, then `word v1 ... vdim ` per line. The file is
 * written to a temporary name and renamed into place, so a crash never leaves half a file.
 *
 * @param path The output file.
 * @param vectors The table to write (words must not contain whitespace).
 * @param options Number precision.
 *
 * @example
 * ```ts
 * import { writeVec } from "./text_format.ts";
 * import { WordVectors } from "./word_vectors.ts";
 * const p = await Deno.makeTempFile();
 * await writeVec(p, new WordVectors(["a"], 2, new Float32Array([1 / 3, 2])), { digits: 3 });
 * if (await Deno.readTextFile(p) !== "1 2\na 0.333 2 \n") throw new Error("format");
 * await Deno.remove(p);
 * ```
 */
export async function writeVec(
  path: string,
  vectors: WordVectors,
  options: WriteVecOptions = {},
): Promise<void> {
  const { digits = 6 } = options;
  if (!(Number.isInteger(digits) && digits >= 1 && digits <= 17)) {
    throw new RangeError(`writeVec: digits must be 1..17, got ${digits}`);
  }
  vectors.words.forEach((w, i) => {
    if (w === "" || /\s/.test(w)) {
      throw new Error(`writeVec: word ${i + 1} ${JSON.stringify(w)} is empty or has whitespace`);
    }
  });
  const enc = new TextEncoder();
  const { dim, data } = vectors;
  await atomicWrite(path, async (file) => {
    let chunk = `${vectors.size} ${dim}\n`;
    for (let r = 0; r < vectors.size; r++) {
      let line = vectors.words[r]! + " ";
      for (let j = 0; j < dim; j++) line += String(Number(data[r * dim + j]!.toPrecision(digits))) + " ";
      chunk += line + "\n";
      if (chunk.length > 1 << 20) {
        await writeAll(file, enc.encode(chunk));
        chunk = "";
      }
    }
    await writeAll(file, enc.encode(chunk));
  });
}
