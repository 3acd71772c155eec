/**
 * Character classes for the hand-written scanners (rules and word tokenizer): one flag byte per BMP code unit,
 * built once on first use, and a cached lookup for astral code points. Classes follow Python's `re` where the
 * rules need Python's semantics (`\s`, `\w`).
 *
 * @module
 */

/** `\w` in Python: a letter, a number or `_`. */
export const WORD = 1;
/** A combining mark (`\p{M}`), kept attached to the character before it. */
export const MARK = 2;
/** `\s` in Python (`str.isspace`). */
export const SPACE = 4;
/** An uppercase letter (`\p{Lu}`). */
export const UPPER = 8;
/** A lowercase letter (`\p{Ll}`). */
export const LOWER = 16;
/** A character of a script written without spaces (Han, kana): one token per character. */
export const CJK = 32;
/** Zero-width joiner, variation selectors, emoji modifiers, keycap: joins the cluster before it. */
export const JOINER = 64;
/** A titlecase letter (`\p{Lt}`): cased, but neither upper nor lower for Python. */
export const TITLE = 128;

const RE_WORD = /[\p{L}\p{N}_]/u;
const RE_MARK = /\p{M}/u;
const RE_UPPER = /\p{Lu}/u;
const RE_LOWER = /\p{Ll}/u;
const RE_TITLE = /\p{Lt}/u;

function isPySpace(cp: number): boolean {
  return (cp >= 9 && cp <= 13) || (cp >= 0x1c && cp <= 0x20) || cp === 0x85 || cp === 0xa0 || cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) || cp === 0x2028 || cp === 0x2029 || cp === 0x202f || cp === 0x205f ||
    cp === 0x3000;
}

function isCjk(cp: number): boolean {
  return (cp >= 0x2e80 && cp <= 0x2fdf) || (cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0x3100 && cp <= 0x31ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xff66 && cp <= 0xff9f) || (cp >= 0x20000 && cp <= 0x3ffff);
}

function isJoiner(cp: number): boolean {
  return cp === 0x200d || (cp >= 0xfe00 && cp <= 0xfe0f) || cp === 0x20e3 ||
    (cp >= 0x1f3fb && cp <= 0x1f3ff) ||
    (cp >= 0xe0020 && cp <= 0xe007f) || (cp >= 0xe0100 && cp <= 0xe01ef);
}

function classify(cp: number): number {
  if (cp < 128) {
    let f = 0;
    if ((cp >= 48 && cp <= 57) || cp === 95) f |= WORD;
    if (cp >= 65 && cp <= 90) f |= WORD | UPPER;
    if (cp >= 97 && cp <= 122) f |= WORD | LOWER;
    if (isPySpace(cp)) f |= SPACE;
    return f;
  }
  if (cp >= 0xd800 && cp <= 0xdfff) return 0; // surrogate code unit: handled by the callers
  const ch = String.fromCodePoint(cp);
  let f = 0;
  if (RE_WORD.test(ch)) f |= WORD;
  if (RE_MARK.test(ch)) f |= MARK;
  if (RE_UPPER.test(ch)) f |= UPPER;
  else if (RE_LOWER.test(ch)) f |= LOWER;
  else if (RE_TITLE.test(ch)) f |= TITLE;
  if (isPySpace(cp)) f |= SPACE;
  if (isCjk(cp)) f |= CJK;
  if (isJoiner(cp)) f |= JOINER;
  return f;
}

let bmp: Uint8Array | undefined;

/** The flag table of the BMP, indexed by UTF-16 code unit (surrogates have no flags). */
export function bmpFlags(): Uint8Array {
  if (bmp) return bmp;
  const t = new Uint8Array(65536);
  for (let cp = 0; cp < 65536; cp++) t[cp] = classify(cp);
  bmp = t;
  return t;
}

const astral = new Map<number, number>();

/** Flags of any code point (BMP through the table, astral through a cache). */
export function flagsOf(cp: number): number {
  if (cp < 65536) return bmpFlags()[cp]!;
  let f = astral.get(cp);
  if (f === undefined) {
    f = classify(cp);
    if (astral.size < 65536) astral.set(cp, f); // bounded, whatever the input
  }
  return f;
}

/** Whether the UTF-16 code unit `c` is a high (leading) surrogate. */
export function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/** Whether the UTF-16 code unit `c` is a low (trailing) surrogate. */
export function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** The code point at `i` of `s` and its width in code units (1 or 2); a lone surrogate is its own code point. */
export function codePointAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (isHigh(c) && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (isLow(d)) return ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
  }
  return c;
}
