/**
 * The CSV reader: the fastai / LeCun layout (label column(s) then text field(s), no header) or named columns,
 * parsed in streaming mode by the `csv-parse` package, one line at a time from disk.
 *
 * @module
 */
import { parseCsvStream as parse } from "../_deps.ts";
import { countRead, handleBad, readLines } from "./_common.ts";
import { ReaderError, type ReaderOptions, type TextRecord } from "./types.ts";

/** Options of {@linkcode readCsv}. */
export interface CsvOptions extends ReaderOptions {
  /**
   * Headerless fastai layout: how many leading columns are labels (several are joined with `;`); every later
   * column is a text field. Ignored when `textColumns` is given.
   * @default {1}
   */
  labelCols?: number;
  /** Named-column layout: the first row is a header and these columns hold the text fields. */
  textColumns?: string[];
  /** Named-column layout: the label column(s). */
  labelColumns?: string[];
  /** Named-column layout: a column holding the split. */
  splitColumn?: string;
  /** Named-column layout: a column holding the id (the row number otherwise). */
  idColumn?: string;
  /**
   * When the text is marked with field tokens: `"multi"` joins several fields as `xxfld 1 <f1> xxfld 2 <f2>`
   * (a single field stays as is), `"always"` marks single fields too (`xxfld 1 <f1>`, fastai v0.7), `"never"`
   * joins fields with a space.
   * @default {"multi"}
   */
  fieldMarks?: "multi" | "always" | "never";
  /** Headerless layout: skip the first line (a header the columns are not named from). @default {false} */
  skipHeader?: boolean;
  /** Field delimiter. @default {","} */
  delimiter?: string;
  /** Label given to every record (overrides label columns). */
  label?: string;
  /** Split given to every record (overrides a split column). */
  split?: string;
}

/** Join text fields the way fastai does for multi-field documents (`xxfld 1 <f1> xxfld 2 <f2>`). */
export function joinFields(fields: string[], marks: "multi" | "always" | "never" = "multi"): string {
  if (marks === "never" || (marks === "multi" && fields.length === 1)) return fields.join(" ");
  return fields.map((f, i) => `xxfld ${i + 1} ${f}`).join(" ");
}

interface CsvInfo {
  lines: number;
  records: number;
}

function toRecord(row: unknown, n: number, opts: CsvOptions): TextRecord {
  let fields: string[];
  let labels: string[] = [];
  let id = String(n);
  let split: string | undefined;
  if (opts.textColumns) {
    const o = row as Record<string, string>;
    fields = opts.textColumns.map((c) => o[c] ?? "");
    labels = (opts.labelColumns ?? []).map((c) => o[c] ?? "");
    if (opts.idColumn !== undefined && o[opts.idColumn] !== undefined) id = o[opts.idColumn]!;
    if (opts.splitColumn !== undefined) split = o[opts.splitColumn];
  } else {
    const r = row as string[];
    const k = opts.labelCols ?? 1;
    labels = r.slice(0, k);
    fields = r.slice(k);
  }
  const rec: TextRecord = { text: joinFields(fields, opts.fieldMarks ?? "multi"), id };
  if (fields.length > 1) rec.fields = fields;
  const label = opts.label ?? (labels.length ? labels.join(";") : undefined);
  if (label !== undefined) rec.label = label;
  split = opts.split ?? split;
  if (split !== undefined) rec.split = split;
  return rec;
}

/**
 * Stream a CSV file as documents. Quoted fields may span lines. Malformed input — an unterminated quote, a
 * row whose column count differs from the first row's, a stray quote, invalid UTF-8, a named column missing
 * from the header — raises a {@linkcode ReaderError} naming the file, row and line; under `onError: "skip"`
 * the bad record is dropped and counted instead (an unterminated quote swallows the rest of the file, so it
 * ends the read and counts as one skipped row).
 *
 * @param path File to read.
 * @param options Layout (fastai headerless or named columns), field marking, the error policy.
 * @returns An async iterable of records.
 *
 * @example fastai's layout: label, then two text fields
 * ```ts
 * import { readCsv } from "./csv.ts";
 * const p = await Deno.makeTempFile();
 * await Deno.writeTextFile(p, '2,"Title","Body, with a comma"\n1,T2,B2\n');
 * const docs = await Array.fromAsync(readCsv(p));
 * if (docs[0]!.label !== "2" || docs[0]!.text !== "xxfld 1 Title xxfld 2 Body, with a comma") {
 *   throw new Error("bad");
 * }
 * await Deno.remove(p);
 * ```
 */
export async function* readCsv(path: string, options: CsvOptions = {}): AsyncGenerator<TextRecord> {
  const skip = (options.onError ?? "throw") === "skip";
  const badLines: number[] = [];
  const skipped: ReaderError[] = [];
  const named = options.textColumns !== undefined;
  const parser = parse({
    info: true,
    bom: true,
    columns: named,
    delimiter: options.delimiter ?? ",",
    skip_empty_lines: true,
    from_line: !named && options.skipHeader ? 2 : 1,
    skip_records_with_error: skip,
    on_skip: (e: { message: string; lines?: number; records?: number } | undefined) => {
      if (e) skipped.push(new ReaderError(path, (e.records ?? 0) + 1, e.message));
    },
  });
  async function* bytes(): AsyncGenerator<Uint8Array> {
    for await (const line of readLines(path, { raw: true })) {
      if (line.bad) {
        if (!skip) throw new ReaderError(path, line.n, `line ${line.n}: invalid UTF-8`);
        badLines.push(line.n);
      }
      yield line.raw!;
    }
  }
  let prevEnd = named || options.skipHeader ? 1 : 0;
  let n = 0;
  try {
    const rows = ReadableStream.from(bytes()).pipeThrough(parser) as ReadableStream<
      { record: unknown; info: CsvInfo }
    >;
    for await (const { record, info } of rows) {
      for (const e of skipped.splice(0)) handleBad(e, options);
      n++;
      const start = prevEnd + 1;
      prevEnd = info.lines;
      while (badLines.length && badLines[0]! < start) badLines.shift();
      if (badLines.length && badLines[0]! <= info.lines) {
        handleBad(new ReaderError(path, n, `line ${badLines[0]}: invalid UTF-8`), options);
        continue;
      }
      if (named) {
        const missing = [...options.textColumns!, ...(options.labelColumns ?? [])].find((c) =>
          !(c in (record as Record<string, string>))
        );
        if (missing !== undefined) throw new ReaderError(path, 0, `column "${missing}" is not in the header`);
      }
      countRead(options);
      yield toRecord(record, n, options);
    }
  } catch (e) {
    if (e instanceof ReaderError) throw e;
    const ce = e as { message: string; records?: number; code?: string; lines?: number; name?: string };
    // csv-parse's CsvError: codes "CSV_..." in older versions, "INVALID_OPENING_QUOTE" etc. in 6.x
    if (
      typeof ce.code === "string" &&
      (ce.code.startsWith("CSV_") || ce.name === "CsvError" || typeof ce.lines === "number")
    ) {
      throw new ReaderError(path, (ce.records ?? n) + 1, ce.message, { cause: e });
    }
    throw e;
  }
  for (const e of skipped.splice(0)) handleBad(e, options);
}

/**
 * Group an async iterable into arrays of `size` items (the last may be shorter) — the seeds read CSVs with
 * `chunksize=24000`.
 *
 * @param source Items to group.
 * @param size Items per chunk. @default {24000}
 * @returns An async iterable of chunks.
 *
 * @example
 * ```ts
 * import { chunked } from "./csv.ts";
 * async function* nums() { for (let i = 0; i < 5; i++) yield i; }
 * const chunks = await Array.fromAsync(chunked(nums(), 2));
 * if (chunks.length !== 3 || chunks[2]![0] !== 4) throw new Error("bad");
 * ```
 */
export async function* chunked<T>(source: AsyncIterable<T> | Iterable<T>, size = 24000): AsyncGenerator<T[]> {
  if (!(size >= 1)) throw new RangeError(`chunked: size must be >= 1, got ${size}`);
  let buf: T[] = [];
  for await (const x of source) {
    buf.push(x);
    if (buf.length >= size) {
      yield buf;
      buf = [];
    }
  }
  if (buf.length) yield buf;
}
