/**
 * Record and option types shared by the readers, and {@linkcode ReaderError}.
 *
 * @module
 */

/** One document from a text reader. */
export interface TextRecord {
  /** The document text (multi-field CSV rows joined as `xxfld 1 <f1> xxfld 2 <f2>`). */
  text: string;
  /** Class label, when the source has one. */
  label?: string;
  /** The separate text fields of a multi-field row. */
  fields?: string[];
  /** Split (`"train"`, `"test"`, ...), when the source has one. */
  split?: string;
  /** Where it came from (a relative path, a row number). */
  id?: string;
}

/** One aligned pair from a parallel reader (source -> target, e.g. English -> French). */
export interface PairRecord {
  /** Source side. */
  source: string;
  /** Target side. */
  target: string;
  /** Where it came from (a line number, an entry number). */
  id?: string;
  /** Gettext message context (`msgctxt`), when present. */
  context?: string;
  /** Gettext plural forms of the target (`msgstr[1]`, ...), when present. */
  plurals?: string[];
  /** Gettext `#, fuzzy` flag (a `.po` translation marked as unreviewed). */
  fuzzy?: boolean;
}

/** Counters a reader fills in as it goes (see {@linkcode ReaderOptions.stats}). */
export interface ReaderStats {
  /** Records yielded. */
  read: number;
  /** Malformed rows dropped under `onError: "skip"`. */
  skipped: number;
  /** The first {@linkcode MAX_REASONS} reasons, `"<file>: row <n>: <what>"`. */
  reasons: string[];
  /** The first {@linkcode MAX_REASONS} skipped rows' numbers (1-based; 0: the whole file), when kept. */
  rows?: number[];
}

/** How many skip reasons {@linkcode ReaderStats.reasons} keeps. */
export const MAX_REASONS = 20;

/** Options every reader accepts. */
export interface ReaderOptions {
  /**
   * What to do with a malformed row (unterminated quote, ragged row, invalid UTF-8, bad JSON, a missing pair
   * side): `"throw"` raises a {@linkcode ReaderError} naming the file and row; `"skip"` drops the row and counts
   * it in `stats.skipped` (with its reason in `stats.reasons`). Missing files and truncated binary files
   * always throw.
   * @default {"throw"}
   */
  onError?: "throw" | "skip";
  /** Filled in while reading: rows read and rows skipped. */
  stats?: ReaderStats;
}

/** An error in an input file, naming the file and the (1-based) row or line. */
export class ReaderError extends Error {
  /** The file at fault. */
  readonly file: string;
  /** 1-based row (line, record or entry) at fault; 0 when the whole file is. */
  readonly row: number;
  /** Make an error for `file` at `row`. */
  constructor(file: string, row: number, what: string, options?: ErrorOptions) {
    super(row > 0 ? `${file}: row ${row}: ${what}` : `${file}: ${what}`, options);
    this.name = "ReaderError";
    this.file = file;
    this.row = row;
  }
}

/** Make an empty stats object. */
export function newStats(): ReaderStats {
  return { read: 0, skipped: 0, reasons: [], rows: [] };
}
