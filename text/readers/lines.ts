/**
 * Line-oriented text readers: plain text (one document per line) and JSON Lines.
 *
 * @module
 */
import { countRead, handleBad, readLines } from "./_common.ts";
import { ReaderError, type ReaderOptions, type TextRecord } from "./types.ts";

/** Options of {@linkcode readTextLines}. */
export interface TextLinesOptions extends ReaderOptions {
  /** Drop lines that are empty or only whitespace. @default {true} */
  skipEmpty?: boolean;
  /** Label given to every record. */
  label?: string;
  /** Split given to every record. */
  split?: string;
}

/**
 * Stream a plain-text file as one document per line; `id` is the 1-based line number.
 *
 * @param path File to read.
 * @param options Empty-line handling, a label/split for every record, the error policy.
 * @returns An async iterable of records, read lazily.
 *
 * @example One document per line
 * ```ts
 * import { readTextLines } from "./lines.ts";
 * const p = await Deno.makeTempFile();
 * await Deno.writeTextFile(p, "first line\n\nsecond line\n");
 * const docs = await Array.fromAsync(readTextLines(p));
 * if (docs.length !== 2 || docs[1]!.text !== "second line" || docs[1]!.id !== "3") throw new Error("bad");
 * await Deno.remove(p);
 * ```
 */
export async function* readTextLines(
  path: string,
  options: TextLinesOptions = {},
): AsyncGenerator<TextRecord> {
  const { skipEmpty = true, label, split } = options;
  for await (const line of readLines(path)) {
    if (line.bad) {
      handleBad(new ReaderError(path, line.n, "invalid UTF-8"), options);
      continue;
    }
    if (skipEmpty && line.text.trim() === "") continue;
    const rec: TextRecord = { text: line.text, id: String(line.n) };
    if (label !== undefined) rec.label = label;
    if (split !== undefined) rec.split = split;
    countRead(options);
    yield rec;
  }
}

/** Options of {@linkcode readJsonl}. */
export interface JsonlOptions extends ReaderOptions {
  /** Field holding the text. @default {"text"} */
  textField?: string;
  /** Field holding the label (numbers are turned into strings); absent fields give no label. @default {"label"} */
  labelField?: string;
  /** Field holding the split. @default {"split"} */
  splitField?: string;
  /** Field holding the id; the line number when absent. @default {"id"} */
  idField?: string;
}

/**
 * Stream a JSON Lines file (one JSON object per line; blank lines ignored). A line that is not a JSON object
 * or whose text field is not a string is malformed (error naming file and line, or skipped under
 * `onError: "skip"`).
 *
 * @param path File to read.
 * @param options Field names and the error policy.
 * @returns An async iterable of records.
 *
 * @example Objects with text and label
 * ```ts
 * import { readJsonl } from "./lines.ts";
 * const p = await Deno.makeTempFile();
 * await Deno.writeTextFile(p, '{"text":"good","label":1}\n{"text":"bad","label":0}\n');
 * const docs = await Array.fromAsync(readJsonl(p));
 * if (docs[0]!.label !== "1" || docs[1]!.text !== "bad") throw new Error("bad");
 * await Deno.remove(p);
 * ```
 */
export async function* readJsonl(path: string, options: JsonlOptions = {}): AsyncGenerator<TextRecord> {
  const { textField = "text", labelField = "label", splitField = "split", idField = "id" } = options;
  for await (const line of readLines(path)) {
    if (line.bad) {
      handleBad(new ReaderError(path, line.n, "invalid UTF-8"), options);
      continue;
    }
    if (line.text.trim() === "") continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line.text);
    } catch (e) {
      handleBad(new ReaderError(path, line.n, `invalid JSON: ${(e as Error).message}`), options);
      continue;
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
      handleBad(new ReaderError(path, line.n, "not a JSON object"), options);
      continue;
    }
    const o = obj as Record<string, unknown>;
    const text = o[textField];
    if (typeof text !== "string") {
      handleBad(new ReaderError(path, line.n, `field "${textField}" is missing or not a string`), options);
      continue;
    }
    const rec: TextRecord = { text, id: o[idField] === undefined ? String(line.n) : String(o[idField]) };
    if (o[labelField] !== undefined && o[labelField] !== null) rec.label = String(o[labelField]);
    if (typeof o[splitField] === "string") rec.split = o[splitField] as string;
    countRead(options);
    yield rec;
  }
}
