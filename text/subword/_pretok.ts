/**
 * Pre-tokenization shared by subword training and encoding: cuts raw text into the segments a piece may never
 * cross, the way SentencePiece's `SplitIntoWords` plus its piece-validity rules do.
 *
 * - A space (U+0020) always starts a new segment and becomes `▁` (U+2581) in pieces; so `"a  b"` gives
 *   `▁a`, `▁`, `▁b`.
 * - Other whitespace and control characters (`\n`, `\t`, `\r`, ...) are segments of their own.
 * - Inside a segment all characters share one Unicode script (Common — digits, punctuation, symbols, emoji —
 *   Latin, Greek, Cyrillic, Han with Hiragana and Katakana, ...); Inherited characters (combining marks, ZWJ)
 *   join whatever precedes them; a leading `▁` joins the first class (SentencePiece's
 *   `split_by_unicode_script`).
 * - Special tokens (`xxbos`, ...) found in the text are segments of their own and map to their ids.
 *
 * @module
 */

/** Space: starts a segment, written `▁` in pieces. */
export const CAT_SPACE = 0;
/** Whitespace/control other than space: a one-character segment. */
export const CAT_ISOLATED = 1;
/** Unicode script Inherited (combining marks, ZWJ, variation selectors): joins whatever it follows. */
export const CAT_ANY = 2;
/** Unicode script Common: digits, punctuation, symbols, emoji. */
export const CAT_COMMON = 3;
/** Han, Hiragana, Katakana (SentencePiece merges these scripts). */
export const CAT_HAN = 4;
/** Letters of a script not in the list below. */
export const CAT_OTHER_SCRIPT = 5;

/** The word-start marker, U+2581. */
export const SPACE_MARK = "\u2581";
/** Code point of {@linkcode SPACE_MARK}. */
export const SPACE_MARK_CP = 0x2581;

const SCRIPTS = [
  "Latin",
  "Greek",
  "Cyrillic",
  "Armenian",
  "Hebrew",
  "Arabic",
  "Syriac",
  "Thaana",
  "Devanagari",
  "Bengali",
  "Gurmukhi",
  "Gujarati",
  "Oriya",
  "Tamil",
  "Telugu",
  "Kannada",
  "Malayalam",
  "Sinhala",
  "Thai",
  "Lao",
  "Tibetan",
  "Myanmar",
  "Georgian",
  "Hangul",
  "Ethiopic",
  "Cherokee",
  "Khmer",
  "Mongolian",
  "Bopomofo",
  "Yi",
].map((name) => new RegExp(`^\\p{Script=${name}}$`, "u"));

const ASCII_CAT = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  ASCII_CAT[c] = c === 32
    ? CAT_SPACE
    : c < 32 || c === 127
    ? CAT_ISOLATED
    : (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
    ? 6 // Latin, the first of SCRIPTS
    : CAT_COMMON;
}
const catCache = new Map<number, number>();
const RE_ISO = /^[\s\p{Cc}]$/u;
const RE_INHERITED = /^\p{Script=Inherited}$/u;
const RE_COMMON = /^[\p{Script=Common}\u2581]$/u;
const RE_HAN = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u30fc]$/u;

/**
 * Class of a code point: one of the `CAT_*` constants, or `6 + k` for the k-th script of a fixed list
 * (Latin, Greek, Cyrillic, ...). Pieces never mix two classes, as SentencePiece's `split_by_unicode_script`.
 */
export function charCategory(cp: number): number {
  if (cp < 128) return ASCII_CAT[cp]!;
  const hit = catCache.get(cp);
  if (hit !== undefined) return hit;
  const s = String.fromCodePoint(cp);
  let c = CAT_OTHER_SCRIPT;
  if (RE_ISO.test(s)) c = CAT_ISOLATED;
  else if (RE_INHERITED.test(s)) c = CAT_ANY;
  else if (RE_HAN.test(s)) c = CAT_HAN;
  else if (RE_COMMON.test(s)) c = CAT_COMMON;
  else {
    const k = SCRIPTS.findIndex((re) => re.test(s));
    if (k >= 0) c = 6 + k;
  }
  catCache.set(cp, c);
  return c;
}

/**
 * Called once per segment: `text.slice(start, end)` is the segment; `special` is the id of a special token
 * matched there, or -1 for ordinary text.
 */
export type SegmentSink = (start: number, end: number, special: number) => void;

/** Matcher for special-token strings inside text (all of them start with a shared two-character prefix or not). */
export interface SpecialMatcher {
  /** The special strings, longest first, with their ids. */
  readonly entries: ReadonlyArray<readonly [string, number]>;
}

/** Build a matcher for the given `[string, id]` pairs. */
export function specialMatcher(pairs: Iterable<readonly [string, number]>): SpecialMatcher {
  const entries = [...pairs].filter(([s]) => s.length > 0).sort((a, b) => b[0].length - a[0].length);
  return { entries };
}

/** Segment `text[start, end)` that holds no special token. */
export function segmentPlain(text: string, start: number, end: number, sink: SegmentSink): void {
  let seg = start;
  let prev = -1; // class of the segment's last non-space char; -2 = only a space so far; -1 = empty
  let i = start;
  while (i < end) {
    let cp = text.charCodeAt(i);
    let len = 1;
    if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < end) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo < 0xe000) {
        cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
        len = 2;
      }
    }
    const c = cp < 128 ? ASCII_CAT[cp]! : charCategory(cp);
    if (c === CAT_SPACE) {
      if (i > seg) sink(seg, i, -1);
      seg = i;
      prev = -2;
    } else if (c === CAT_ISOLATED) {
      if (i > seg) sink(seg, i, -1);
      sink(i, i + len, -1);
      seg = i + len;
      prev = -1;
    } else if (c !== CAT_ANY) {
      if (prev >= 0 && prev !== c) {
        sink(seg, i, -1);
        seg = i;
      }
      prev = c;
    }
    i += len;
  }
  if (end > seg) sink(seg, end, -1);
}

/** Segment the whole `text`, cutting out special tokens first. */
export function segmentText(text: string, specials: SpecialMatcher | null, sink: SegmentSink): void {
  if (specials === null || specials.entries.length === 0) return segmentPlain(text, 0, text.length, sink);
  // next[k]: next occurrence of special k at or after pos (cached, so the scan stays linear in the text).
  const ents = specials.entries;
  const next = ents.map(([s]) => text.indexOf(s));
  let pos = 0;
  while (pos < text.length) {
    let bestK = -1;
    for (let k = 0; k < ents.length; k++) {
      let at = next[k]!;
      if (at >= 0 && at < pos) next[k] = at = text.indexOf(ents[k]![0], pos);
      if (at >= 0 && (bestK < 0 || at < next[bestK]!)) bestK = k;
    }
    if (bestK < 0) break;
    const [s, id] = ents[bestK]!;
    const at = next[bestK]!;
    if (at > pos) segmentPlain(text, pos, at, sink);
    sink(at, at + s.length, id);
    pos = at + s.length;
  }
  if (pos < text.length) segmentPlain(text, pos, text.length, sink);
}

/** Code points of a segment, with space mapped to `▁` and a literal `▁` mapped to `-1` (never a piece). */
export function segmentCodePoints(text: string, start: number, end: number): number[] {
  const out: number[] = [];
  for (let i = start; i < end;) {
    const cp = text.codePointAt(i)!;
    const isPair = cp > 0xffff;
    out.push(cp === 32 ? SPACE_MARK_CP : cp === SPACE_MARK_CP ? -1 : cp);
    i += isPair ? 2 : 1;
  }
  return out;
}
