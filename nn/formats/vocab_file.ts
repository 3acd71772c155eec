/**
 * Vocabulary files of pre-trained language models: fastai's pickled `itos` lists (v0.7 `itos_wt103.pkl` /
 * `itos.pkl`, fastai v1/v2 `*_vocab.pkl`, `lm.vocab`: `pickle.dump(itos, f)` with protocol 2 to 5), read by the
 * allow-list pickle interpreter with no global allowed but fastcore's `L` (read as a plain list) — a pickle that
 * names any other class or function (a `Vocab` object, `os.system`) is refused before anything after it is read —
 * plus JSON arrays and one token per line. Errors name the file and what was found instead of a list of strings.
 *
 * @module
 */
import { PyBytes, PyDict, PyGlobal, PyTuple, type PyValue, unpickle } from "./_pickle.ts";
import { PickleError, VocabFileError } from "./errors.ts";

/** How {@linkcode decodeItos} reads the bytes. */
export type ItosFormat = "auto" | "pickle" | "json" | "lines";

/** Options of {@linkcode decodeItos}. */
export interface DecodeItosOptions {
  /** File name for errors; its extension picks the format under `"auto"`. @default "<bytes>" */
  file?: string;
  /**
   * `"auto"`: a pickle when the name ends in `.pkl` / `.pickle` or the bytes start with the pickle PROTO opcode
   * (0x80, protocol 2 to 5); JSON when the name ends in `.json` or the text starts with `[`; else one token per
   * line. @default "auto"
   */
  format?: ItosFormat;
}

/** The only global a vocabulary pickle may name: fastcore's `L`, read as a plain list (`pickle.dump(dls.vocab)`). */
const VOCAB_GLOBALS: ReadonlySet<string> = new Set(["fastcore.foundation.L"]);

/**
 * Whether `bytes` start like a pickle of protocol 2 to 5 (the PROTO opcode 0x80 and its version byte).
 *
 * @param bytes file contents
 * @returns true for a pickle stream's first two bytes
 */
export function looksLikePickle(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x80 && bytes[1]! >= 2 && bytes[1]! <= 5;
}

function describe(v: PyValue): string {
  if (v instanceof PyDict) {
    const keys = [...v.map.keys()].slice(0, 3).map((k) => JSON.stringify(k) ?? "None");
    const more = v.map.size > 3 ? ", ..." : "";
    return `${v.ordered ? "an OrderedDict" : "a dict"} of ${v.map.size} entries (keys ${
      keys.join(", ")
    }${more})`;
  }
  if (v instanceof PyTuple) return `a tuple of ${v.items.length} items`;
  if (v instanceof PyGlobal) return `the global ${v.qualified}`;
  if (Array.isArray(v)) return `a list of ${v.length} items`;
  if (v === null) return "None";
  if (typeof v === "bigint") return `an int (${v})`;
  if (typeof v === "number") return Number.isInteger(v) ? `an int (${v})` : `a float (${v})`;
  if (typeof v === "boolean") return `a bool (${v ? "True" : "False"})`;
  if (typeof v === "string") return `a str (${JSON.stringify(v.slice(0, 40))})`;
  if (v instanceof PyBytes) return `bytes (${v.bytes.length}; decode the words to str first)`;
  return "a tensor, storage or numpy dtype";
}

function checkWords(items: readonly unknown[], file: string, container: string): string[] {
  if (items.length === 0) {
    throw new VocabFileError("empty", `holds an empty ${container}: a vocabulary needs words`, { file });
  }
  items.forEach((w, i) => {
    if (typeof w !== "string") {
      const found = container === "JSON array"
        ? `${w === null ? "null" : typeof w} ${JSON.stringify(w)}`
        : describe(
          w as PyValue,
        );
      throw new VocabFileError("not_a_string", `item ${i} of the ${container} is ${found}, expected a str`, {
        file,
      });
    }
  });
  return items as string[];
}

/**
 * Decodes a pickled vocabulary: a list (or tuple, or fastcore `L`) of `str`, as fastai writes `itos` with
 * `pickle.dump`. Runs nothing: the interpreter accepts no other global, so pickled objects are refused.
 *
 * @param bytes the pickle
 * @param options `{ file }` for errors
 * @returns the words by id
 * @throws {PickleError} truncated, not UTF-8 (e.g. a lone surrogate), names a global / class, unknown opcode
 * @throws {VocabFileError} holds something other than a non-empty list of str (a dict, an int item, ...)
 * @example A protocol-2 pickle of ["xxunk", "the"]
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { decodeItosPickle } from "./vocab_file.ts";
 * // PROTO 2, EMPTY_LIST, MARK, BINUNICODE "xxunk", BINUNICODE "the", APPENDS, STOP
 * const enc = (s: string) => [0x58, s.length, 0, 0, 0, ...new TextEncoder().encode(s)];
 * const bytes = new Uint8Array([0x80, 2, 0x5d, 0x28, ...enc("xxunk"), ...enc("the"), 0x65, 0x2e]);
 * deepStrictEqual(decodeItosPickle(bytes), ["xxunk", "the"]);
 * ```
 */
export function decodeItosPickle(bytes: Uint8Array, options: { file?: string } = {}): string[] {
  const { file = "<bytes>" } = options;
  let value: PyValue;
  try {
    value = unpickle(bytes, {
      file,
      globals: VOCAB_GLOBALS,
      expected: "a vocabulary pickle is a plain list of str (save it with pickle.dump(list(itos), f))",
    }).value;
  } catch (e) {
    if (e instanceof PickleError && e.code === "unknown_opcode" && bytes[0] !== 0x80) {
      const first = `0x${bytes[0]!.toString(16).padStart(2, "0")} (${
        JSON.stringify(String.fromCharCode(bytes[0]!))
      })`;
      throw new PickleError(
        "unknown_opcode",
        `is not a pickle of protocol 1 to 5 (it starts with byte ${first}): a protocol-0 text pickle or another ` +
          `format; re-save the list with pickle.dump(itos, f, protocol=4), or pass a JSON array`,
        { file, cause: e },
      );
    }
    throw e;
  }
  if (Array.isArray(value)) return checkWords(value, file, "list");
  if (value instanceof PyTuple) return checkWords(value.items, file, "tuple");
  const hint = value instanceof PyDict ? " (a {word: id} stoi? pass the itos list instead)" : "";
  throw new VocabFileError("not_a_list", `holds ${describe(value)}, expected a list of str${hint}`, { file });
}

function decodeText(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes); // drops a leading BOM
  } catch (cause) {
    throw new VocabFileError("bad_utf8", "is not UTF-8 text (nor a pickle of protocol 2 to 5)", {
      file,
      cause,
    });
  }
}

/**
 * Decodes a vocabulary (words by id) in any of the formats pre-trained LMs ship with: a pickled list of str
 * (fastai), a JSON array, or one token per line (`\n` or `\r\n`).
 *
 * @param bytes file contents
 * @param options file name (errors, format by extension), format
 * @returns the words by id
 * @example JSON, lines and a pickle give the same words
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { decodeItos } from "./vocab_file.ts";
 * const t = (s: string) => new TextEncoder().encode(s);
 * deepStrictEqual(decodeItos(t('["xxunk", "the"]')), ["xxunk", "the"]);
 * deepStrictEqual(decodeItos(t("xxunk\r\nthe\r\n")), ["xxunk", "the"]);
 * // protocol 4: PROTO, FRAME, EMPTY_LIST, MEMOIZE, MARK, SHORT_BINUNICODE "the", MEMOIZE, APPENDS, STOP
 * const p4 = [0x80, 4, 0x95, 10, 0, 0, 0, 0, 0, 0, 0, 0x5d, 0x94, 0x28, 0x8c, 3, ...t("the"), 0x94, 0x65, 0x2e];
 * deepStrictEqual(decodeItos(new Uint8Array(p4), { file: "lm.vocab" }), ["the"]);
 * ```
 */
export function decodeItos(bytes: Uint8Array, options: DecodeItosOptions = {}): string[] {
  const { file = "<bytes>", format = "auto" } = options;
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) {
    throw new VocabFileError(
      "wrong_format",
      "is a zip archive (a torch.save checkpoint?), not a vocabulary: pass the itos .pkl or .json",
      { file },
    );
  }
  const lower = file.toLowerCase();
  const isPickle = format === "pickle" ||
    (format === "auto" && (/\.(pkl|pickle)$/.test(lower) || looksLikePickle(bytes)));
  if (isPickle) return decodeItosPickle(bytes, { file });
  const text = decodeText(bytes, file);
  const isJson = format === "json" ||
    (format === "auto" && (lower.endsWith(".json") || text.trimStart().startsWith("[")));
  if (isJson) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw new VocabFileError("bad_json", `is not valid JSON: ${(cause as Error).message}`, { file, cause });
    }
    if (!Array.isArray(value)) {
      const found = value === null
        ? "null"
        : typeof value === "object"
        ? "a JSON object"
        : `a ${typeof value}`;
      throw new VocabFileError("not_a_list", `holds ${found}, expected a JSON array of strings`, { file });
    }
    return checkWords(value, file, "JSON array");
  }
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  return checkWords(lines, file, "lines");
}

/**
 * Reads a vocabulary file (pickle, JSON array or lines; see {@linkcode decodeItos}).
 *
 * @param path the file
 * @param options format
 * @returns the words by id
 */
export async function readItos(
  path: string | URL,
  options: Omit<DecodeItosOptions, "file"> = {},
): Promise<string[]> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (cause) {
    throw new VocabFileError("unreadable", `cannot be read: ${(cause as Error).message}`, {
      file: String(path),
      cause,
    });
  }
  return decodeItos(bytes, { ...options, file: String(path) });
}
