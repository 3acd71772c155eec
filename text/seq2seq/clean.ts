/**
 * Cleaning a parallel corpus for translation (pure functions): gettext catalogs are full of menu items with
 * accelerator marks (`_Open`, `&Save`, `~Close`), format strings (`%s`, `%1$d`, `{0}`), punctuation-only
 * entries and untranslated ones; help texts repeat. {@linkcode cleanParallel} strips the marks, drops the rest,
 * dedupes and says how many pairs each rule removed. {@linkcode questionPairs} applies the lesson-11 question
 * filters.
 *
 * @example
 * ```ts
 * import { cleanParallel } from "./clean.ts";
 * const { pairs, report } = cleanParallel([
 *   { source: "_Open File", target: "_Ouvrir le fichier" },
 *   { source: "Open File", target: "Ouvrir le fichier" },
 *   { source: "%s of %d", target: "%s sur %d" },
 *   { source: "...", target: "…" },
 *   { source: "OK", target: "OK" },
 * ]);
 * if (pairs.length !== 1 || pairs[0]!.source !== "Open File" || report.duplicate !== 1) throw new Error("clean");
 * ```
 *
 * @module
 */
import type { PairRecord } from "../readers/types.ts";

const ALNUM = /[\p{L}\p{N}]/u;

/**
 * Remove a keyboard accelerator mark: one `_` (GTK), `&` (Qt/KDE, not an HTML entity) or `~` (LibreOffice)
 * right before a letter or digit. A text with several candidate marks (`file_name_x`) is left alone, as are
 * doubled marks, which stand for the character itself (`__` -> `_`, `&&` -> `&`, `~~` -> `~`).
 *
 * @param text A catalog string.
 * @returns The string without its accelerator mark.
 *
 * @example
 * ```ts
 * import { stripAccelerators } from "./clean.ts";
 * const got = ["_Open", "Save &As…", "~Fermer", "Tom & Jerry", "a_b_c", "&amp; more", "R&&D"].map(stripAccelerators);
 * if (got.join("|") !== "Open|Save As…|Fermer|Tom & Jerry|a_b_c|&amp; more|R&D") throw new Error(got.join("|"));
 * ```
 */
export function stripAccelerators(text: string): string {
  const marks: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== "_" && c !== "&" && c !== "~") continue;
    if (text[i + 1] === c) {
      i++; // a doubled mark is the literal character
      continue;
    }
    const next = text.codePointAt(i + 1);
    if (next === undefined || !ALNUM.test(String.fromCodePoint(next))) continue;
    if (c === "&" && /^&(?:[a-zA-Z][a-zA-Z0-9]*|#\d+|#x[0-9a-fA-F]+);/.test(text.slice(i, i + 40))) continue;
    marks.push(i);
  }
  const undouble = (s: string) => s.replace(/__|&&|~~/g, (m) => m[0]!);
  if (marks.length !== 1) return marks.length === 0 ? undouble(text) : text;
  const at = marks[0]!;
  return undouble(text.slice(0, at)) + undouble(text.slice(at + 1));
}

const FORMAT_SPECIFIER = new RegExp(
  [
    // no space flag: French puts a space after "%" ("50 % des fichiers")
    String
      .raw`%(?:\d+\$)?[-+#0']*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|L|q|j|z|t|I64|I32)?[diouxXeEfFgGaAcspn]`,
    String.raw`%\([^)\s]+\)[-+#0]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]`, // Python %(name)s
    String.raw`%L?\d+`, // Qt %1, %L1
    String.raw`\{\d*(?::[^{}]*)?\}`, // {0} {} {0:.2f}
    String.raw`\{[A-Za-z_][A-Za-z0-9_.]*(?::[^{}]*)?\}`, // {name}
  ].join("|"),
);

/**
 * Whether a string holds a format placeholder: printf (`%s`, `%-5.2f`, `%1$s`, `%ld`), Python `%(name)s`, Qt
 * `%1`, or brace placeholders (`{0}`, `{}`, `{name}`, `{0:.2f}`). `%%` is a literal percent sign.
 *
 * @param text A catalog string.
 * @returns True when a placeholder is found.
 *
 * @example
 * ```ts
 * import { hasFormatSpecifier } from "./clean.ts";
 * const yes = ["%s files", "%1$s of %2$d", "%(count)d items", "Page %1", "{0} rows", "{name}!", "%-10.3lf"];
 * const no = ["100%", "50%% done", "a {b c}", "Save"];
 * if (!yes.every(hasFormatSpecifier) || no.some(hasFormatSpecifier)) throw new Error("placeholders");
 * ```
 */
export function hasFormatSpecifier(text: string): boolean {
  return FORMAT_SPECIFIER.test(text.replaceAll("%%", ""));
}

/**
 * Whether a string has no letter and no digit (punctuation, symbols, spaces only).
 *
 * @param text Any string.
 * @returns True when nothing in it is a letter or a digit.
 *
 * @example
 * ```ts
 * import { isPunctuationOnly } from "./clean.ts";
 * if (!isPunctuationOnly("… -- ?!") || isPunctuationOnly("é.") || isPunctuationOnly("3")) throw new Error("punct");
 * ```
 */
export function isPunctuationOnly(text: string): boolean {
  return !ALNUM.test(text);
}

/** Options of {@linkcode cleanParallel}; every rule is on by default. */
export interface CleanParallelOptions {
  /** Strip accelerator marks from both sides ({@linkcode stripAccelerators}). @default {true} */
  accelerators?: boolean;
  /** Drop pairs with a format placeholder on either side ({@linkcode hasFormatSpecifier}). @default {true} */
  formatSpecifiers?: boolean;
  /** Drop pairs with a side of punctuation only. @default {true} */
  punctuationOnly?: boolean;
  /** Drop pairs whose two sides are equal after cleaning (untranslated, names, numbers). @default {true} */
  identical?: boolean;
  /** Drop pairs with a line break in a side. @default {true} */
  singleLine?: boolean;
  /** Keep only the first of equal (source, target) pairs. @default {true} */
  dedupe?: boolean;
  /** Turn no-break and thin spaces (U+00A0, U+202F, U+2009) into spaces and collapse runs. @default {true} */
  normalizeSpaces?: boolean;
  /** Drop pairs with a side longer than this many characters. @default {Infinity} */
  maxChars?: number;
}

/** How many pairs each rule removed (a pair is counted under the first rule that removes it). */
export interface CleanReport {
  /** Pairs in. */
  input: number;
  /** Pairs out. */
  kept: number;
  /** An empty side (after cleaning). */
  empty: number;
  /** A line break in a side. */
  multiline: number;
  /** A format placeholder. */
  formatSpecifier: number;
  /** A side of punctuation only. */
  punctuationOnly: number;
  /** Both sides equal. */
  identical: number;
  /** A side over `maxChars`. */
  tooLong: number;
  /** Seen before. */
  duplicate: number;
}

type Rule = Exclude<keyof CleanReport, "input" | "kept">;

function normalize(s: string, spaces: boolean): string {
  return spaces ? s.replace(/[\u00a0\u202f\u2009]/g, " ").replace(/[ \t]+/g, " ").trim() : s.trim();
}

/**
 * Clean a parallel corpus (see the module doc). Sides are trimmed; the kept pairs keep their other fields.
 *
 * @param pairs The pairs (source -> target).
 * @param options Which rules apply.
 * @returns The kept pairs and the count removed by each rule.
 */
export function cleanParallel(
  pairs: Iterable<PairRecord>,
  options: CleanParallelOptions = {},
): { pairs: PairRecord[]; report: CleanReport } {
  const {
    accelerators = true,
    formatSpecifiers = true,
    punctuationOnly = true,
    identical = true,
    singleLine = true,
    dedupe = true,
    normalizeSpaces = true,
    maxChars = Infinity,
  } = options;
  const report: CleanReport = {
    input: 0,
    kept: 0,
    empty: 0,
    multiline: 0,
    formatSpecifier: 0,
    punctuationOnly: 0,
    identical: 0,
    tooLong: 0,
    duplicate: 0,
  };
  const seen = new Set<string>();
  const out: PairRecord[] = [];
  const rule = (p: PairRecord, source: string, target: string): Rule | undefined => {
    if (singleLine && (/[\r\n]/.test(p.source) || /[\r\n]/.test(p.target))) return "multiline";
    if (source === "" || target === "") return "empty";
    if (formatSpecifiers && (hasFormatSpecifier(source) || hasFormatSpecifier(target))) {
      return "formatSpecifier";
    }
    if (punctuationOnly && (isPunctuationOnly(source) || isPunctuationOnly(target))) return "punctuationOnly";
    if (identical && source === target) return "identical";
    if (source.length > maxChars || target.length > maxChars) return "tooLong";
    if (dedupe) {
      const key = `${source}\u0000${target}`;
      if (seen.has(key)) return "duplicate";
      seen.add(key);
    }
    return undefined;
  };
  for (const p of pairs) {
    report.input++;
    const clean = (s: string) => normalize(accelerators ? stripAccelerators(s) : s, normalizeSpaces);
    const source = clean(p.source), target = clean(p.target);
    const why = rule(p, source, target);
    if (why) {
      report[why]++;
      continue;
    }
    out.push({ ...p, source, target });
  }
  report.kept = out.length;
  return { pairs: out, report };
}

/** The lesson's English question filter: starts with "Wh", ends at the first `?` (no `.`/`!` before it). */
export const LESSON_QUESTION_EN: RegExp = /^(Wh[^?.!]+\?)/;
/** The lesson's French question filter: anything up to the first `?` with no `.`/`!` before it. */
export const LESSON_QUESTION_FR: RegExp = /^([^?.!]+\?)/;

/** Options of {@linkcode questionPairs}. */
export interface QuestionOptions {
  /** Pattern for the source side. @default {LESSON_QUESTION_EN} */
  source?: RegExp;
  /** Pattern for the target side. @default {LESSON_QUESTION_FR} */
  target?: RegExp;
}

/**
 * The lesson-11 question filter: keep pairs whose source matches `source` and target matches `target`,
 * each side cut to its match (as the lesson keeps `e.group()`, `f.group()`).
 *
 * @param pairs The pairs (by default English source, French target).
 * @param options The two patterns.
 * @returns The question pairs.
 *
 * @example
 * ```ts
 * import { questionPairs } from "./clean.ts";
 * const q = questionPairs([
 *   { source: "What is light? It is a wave.", target: "Qu'est-ce que la lumière ? C'est une onde." },
 *   { source: "How are you?", target: "Comment allez-vous ?" },
 * ]);
 * if (q.length !== 1 || q[0]!.source !== "What is light?" || q[0]!.target !== "Qu'est-ce que la lumière ?") {
 *   throw new Error("questions");
 * }
 * ```
 */
export function questionPairs(pairs: Iterable<PairRecord>, options: QuestionOptions = {}): PairRecord[] {
  const { source = LESSON_QUESTION_EN, target = LESSON_QUESTION_FR } = options;
  const out: PairRecord[] = [];
  for (const p of pairs) {
    const s = source.exec(p.source), t = target.exec(p.target);
    if (s && t) out.push({ ...p, source: s[0], target: t[0] });
  }
  return out;
}
