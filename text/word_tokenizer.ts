/**
 * The word tokenizer: a hand-written single-pass scanner over char codes with spaCy-quality English and French
 * rules (punctuation split, contractions, abbreviations, numbers, URLs, e-mail addresses, emoticons, newlines,
 * French elisions and hyphenated clitics, per-character Han/kana, emoji clusters), plus
 * {@linkcode tokenizeDocument} (fix-up + rules + tokens, what the corpus store and the Workers call) and
 * {@linkcode decodeDocument}, its inverse for display and generation.
 *
 * How a whitespace-delimited chunk is split (spaCy's scheme): a chunk of letters and digits is one token (the
 * fast path); otherwise prefixes come off the front (brackets, quotes, currency, `#`, runs of one punctuation
 * character; French elisions `l'` `qu'` `jusqu'`), suffixes off the back (closing punctuation, `.` unless an
 * abbreviation or initials, English clitics `n't 's 'm 're 've 'll 'd`, French `-vous -t-il -ce`...), and the
 * rest is split inside at hyphens between letters (in French, except common compounds like `peut-être`), `/`
 * `#` `\` (with the rules), commas and
 * colons between letters, brackets, Han/kana characters and symbol or emoji clusters. URLs and e-mail
 * addresses are recognised first and kept whole.
 *
 * Known limits: tokens are what fastai's rules make them, so decoding cannot restore a capital on a one-letter
 * word (`A` -> `a`; `i` is restored in English), spaces around `/ # \` or before punctuation, or whether a
 * repeated letter ended a word (a heuristic decides). Scripts written without spaces other than Han and kana
 * (Thai, Khmer...) come out as whole runs.
 *
 * A parser file, hence its size: one scanner with its prefix, suffix and infix stages.
 *
 * @module
 */
import {
  bmpFlags,
  CJK,
  codePointAt,
  flagsOf,
  isHigh,
  isLow,
  JOINER,
  MARK,
  SPACE,
  UPPER,
  WORD,
} from "./_chars.ts";
import {
  ABBREVIATIONS,
  EMOTICONS,
  EN_CLITICS,
  FR_CLITICS,
  FR_ELISIONS,
  FR_KEEP,
  FR_T_CLITICS,
} from "./_affixes.ts";
import { matchEmail, matchUrl } from "./_url.ts";
import { fixup } from "./fixup.ts";
import { appendWithCaseRules, decodeRules, replaceRep, replaceWrep } from "./rules.ts";
import { BOS, EOS, FLD } from "./special_tokens.ts";

/**
 * Version of the word tokenizer's output: bumped whenever the tokens of some text change, so that stores of
 * tokens can include it in the settings they hash and not reuse tokens of an older version.
 */
export const WORD_TOKENIZER_VERSION = 2;

/** Languages with their own tokenizer rules. */
export type Lang = "en" | "fr";

/** Options of {@linkcode tokenize}. */
export interface TokenizeOptions {
  /** Language rules: English contractions, or French elisions and hyphenated clitics. @default "en" */
  lang?: Lang;
  /**
   * Make `/`, `#` and `\` tokens of their own outside URLs, as fastai's `spec_add_spaces` rule does.
   * @default false
   */
  splitSpecial?: boolean;
}

// Tokenizer view of the flags: control characters separate tokens like spaces.
let tokFlags: Uint8Array | undefined;
function flagsTable(): Uint8Array {
  if (tokFlags) return tokFlags;
  const t = bmpFlags().slice();
  for (let c = 0; c < 32; c++) t[c]! |= SPACE;
  for (let c = 127; c < 160; c++) t[c]! |= SPACE;
  tokFlags = t;
  return t;
}

/** Longest run of initials (`U.S.S.R.`) kept as one token. */
const MAX_INITIALS = 32;

const NEWLINES: string[] = Array.from({ length: 17 }, (_, k) => "\n".repeat(k));

const enum Ch {
  HASH = 35,
  APOS = 39,
  PLUS = 43,
  COMMA = 44,
  MINUS = 45,
  DOT = 46,
  SLASH = 47,
  COLON = 58,
  AT = 64,
  BACKSLASH = 92,
  RSQUO = 0x2019,
}

// ASCII punctuation split off the start / end of a chunk (a run of one character stays together).
const PREFIX = new Uint8Array(128);
const SUFFIX = new Uint8Array(128);
for (const c of "([{<>\"'`,;:!?*&=|~^%$#.+-") PREFIX[c.charCodeAt(0)] = 1;
for (const c of ")]}<>\"'`,;:!?*&=|~^%$#") SUFFIX[c.charCodeAt(0)] = 1;
// ASCII punctuation always split inside a chunk.
const INFIX_ALWAYS = new Uint8Array(128);
for (const c of '()[]{}"!?;`|') INFIX_ALWAYS[c.charCodeAt(0)] = 1;
// Non-ASCII closers split off the end of a chunk.
const CLOSERS = new Set([..."”’»…›」』）】"].map((c) => c.charCodeAt(0)));

/** First index of char code `c` in `text[s, e)`, or -1 (bounded, unlike `indexOf`). */
function indexIn(text: string, c: number, s: number, e: number): number {
  for (let k = s; k < e; k++) if (text.charCodeAt(k) === c) return k;
  return -1;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function isApos(c: number): boolean {
  return c === Ch.APOS || c === Ch.RSQUO;
}

/** The scanner; one per call (cheap), holding the text, the options and the output. */
class Scanner {
  readonly F = flagsTable();
  readonly suffixes: string[] = [];
  constructor(
    readonly text: string,
    readonly out: string[],
    readonly fr: boolean,
    readonly special: boolean,
    readonly caps: boolean,
  ) {}

  /** Append a token, with the case rules when `caps` is on. */
  emit(t: string): void {
    if (this.caps) appendWithCaseRules(this.out, t);
    else this.out.push(t);
  }

  run(): void {
    const { text, F, out } = this;
    const n = text.length;
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32) {
        i++;
        continue;
      }
      if (F[c]! & SPACE) {
        if (c !== 10) {
          i++;
          continue;
        }
        let k = 0;
        let j = i;
        while (j < n) {
          const d = text.charCodeAt(j);
          if (d === 10) k++;
          else if (!(F[d]! & SPACE)) break;
          j++;
        }
        out.push(k < NEWLINES.length ? NEWLINES[k]! : "\n".repeat(k));
        i = j;
        continue;
      }
      let j = i;
      let simple = true;
      let any = 0;
      while (j < n) {
        const f = F[text.charCodeAt(j)]!;
        if (f & SPACE) break;
        if (!(f & (WORD | MARK)) || (f & CJK)) simple = false;
        any |= f;
        j++;
      }
      if (!simple) this.chunk(i, j);
      else if (this.caps && any & UPPER) appendWithCaseRules(out, text.slice(i, j));
      else out.push(text.slice(i, j));
      i = j;
    }
  }

  /** Width in code units of the cluster at `k`: a code point, its marks and joiners, ZWJ sequences, flags. */
  cluster(k: number, e: number): number {
    const { text } = this;
    const cp = codePointAt(text, k);
    let j = k + (cp > 0xffff ? 2 : 1);
    if (cp >= 0x1f1e6 && cp <= 0x1f1ff && j + 1 < e) {
      const next = codePointAt(text, j);
      if (next >= 0x1f1e6 && next <= 0x1f1ff) j += 2; // a regional-indicator pair is one flag
    }
    while (j < e) {
      const d = codePointAt(text, j);
      const f = flagsOf(d);
      if (!(f & (MARK | JOINER))) break;
      j += d > 0xffff ? 2 : 1;
      if (d === 0x200d && j < e) {
        const next = codePointAt(text, j);
        j += next > 0xffff ? 2 : 1;
      }
    }
    return j - k;
  }

  /** Flags of the code point at `k` (astral ones included). */
  flagsAt(k: number): number {
    const c = this.text.charCodeAt(k);
    return isHigh(c) ? flagsOf(codePointAt(this.text, k)) : this.F[c]!;
  }

  chunk(s: number, e: number): void {
    const { text, suffixes } = this;
    if (e - s <= 4 && EMOTICONS.has(text.slice(s, e))) {
      this.emit(text.slice(s, e));
      return;
    }
    suffixes.length = 0;
    s = this.prefixes(s, e);
    if (s < 0) return; // the whole chunk was consumed
    e = this.suffixesOf(s, e);
    this.infixes(s, e);
    for (let k = suffixes.length - 1; k >= 0; k--) this.emit(suffixes[k]!);
  }

  /** Split prefixes off `[s, e)`; returns the new start, or -1 when nothing is left. */
  prefixes(s: number, e: number): number {
    const { text } = this;
    let at = -2; // first "@" at or after s (-1: none, -2: not looked for yet); s only grows
    while (s < e) {
      const c = text.charCodeAt(s);
      if (isAsciiLetter(c)) {
        const u = matchUrl(text, s, e);
        if (u > 0) {
          this.emit(text.slice(s, u));
          s = u;
          continue;
        }
      }
      if (c < 128 && (isAsciiLetter(c) || isDigit(c))) {
        if (at === -2 || (at >= 0 && at < s)) at = indexIn(text, Ch.AT, s, e);
        if (at > s) {
          const m = matchEmail(text, s, e);
          if (m > 0) {
            this.emit(text.slice(s, m));
            s = m;
            continue;
          }
        }
      }
      if (this.fr) {
        const k = this.elision(s, e);
        if (k > 0) {
          this.emit(text.slice(s, k));
          s = k;
          continue;
        }
      }
      if (c < 128) {
        if (!PREFIX[c] || !this.splitsPrefix(c, s, e)) break;
        let j = s + 1;
        while (j < e && text.charCodeAt(j) === c) j++;
        this.emit(text.slice(s, j));
        s = j;
        if (j < e && e - j <= 4 && EMOTICONS.has(text.slice(j, e))) {
          this.emit(text.slice(j, e));
          return -1;
        }
        continue;
      }
      const f = this.flagsAt(s);
      if (f & (WORD | MARK | CJK)) break;
      if (c === Ch.RSQUO && e - s <= 3 && EN_CLITICS.has("'" + text.slice(s + 1, e).toLowerCase())) break;
      const w = this.cluster(s, e);
      this.emit(text.slice(s, s + w));
      s += w;
    }
    return s < e ? s : -1;
  }

  splitsPrefix(c: number, s: number, e: number): boolean {
    const { text } = this;
    const next = s + 1 < e ? text.charCodeAt(s + 1) : -1;
    switch (c) {
      case Ch.MINUS:
      case Ch.PLUS:
      case Ch.DOT:
        return !(isDigit(next) ||
          (c !== Ch.DOT && next === Ch.DOT && s + 2 < e && isDigit(text.charCodeAt(s + 2))));
      case Ch.APOS:
        if (isDigit(next)) return false; // '90s
        return this.fr || e - s > 3 || !EN_CLITICS.has(text.slice(s, e).toLowerCase());
      case Ch.SLASH:
      case Ch.BACKSLASH:
        return this.special;
      default:
        return true;
    }
  }

  /** French: end of an elided word (`l'`, `qu'`, `jusqu'`) at `s` followed by a letter, or -1. */
  elision(s: number, e: number): number {
    const { text } = this;
    let k = s;
    while (k < e && k - s < 8 && isAsciiLetter(text.charCodeAt(k))) k++;
    if (k === s || k + 1 >= e || !isApos(text.charCodeAt(k))) return -1;
    if (!(this.flagsAt(k + 1) & WORD)) return -1;
    return FR_ELISIONS.has(text.slice(s, k).toLowerCase()) ? k + 1 : -1;
  }

  /** Split suffixes off `[s, e)` into `this.suffixes`; returns the new end. */
  suffixesOf(s: number, e: number): number {
    const { text, suffixes } = this;
    while (e > s) {
      const c = text.charCodeAt(e - 1);
      if (c === Ch.DOT) {
        let r = e - 1;
        while (r > s && text.charCodeAt(r - 1) === Ch.DOT) r--;
        if (r === s || (r === e - 1 && this.keepsPeriod(s, e))) break;
        suffixes.push(text.slice(r, e));
        e = r;
        continue;
      }
      if (c < 128 ? SUFFIX[c] || (this.special && (c === Ch.SLASH || c === Ch.BACKSLASH)) : CLOSERS.has(c)) {
        if (e - s <= 4 && EMOTICONS.has(text.slice(s, e))) break;
        if (c === Ch.APOS && !this.fr && this.droppedG(s, e)) break;
        let r = e - 1;
        while (r > s && text.charCodeAt(r - 1) === c) r--;
        if (r === s) break; // the whole rest is this character: one token
        suffixes.push(text.slice(r, e));
        e = r;
        continue;
      }
      const k = this.fr ? this.frClitic(s, e) : this.enClitic(s, e);
      if (k > s) {
        suffixes.push(text.slice(k, e));
        e = k;
        continue;
      }
      break;
    }
    return e;
  }

  /** English: `[s, e)` is a word with a dropped g (`goin'`, `nothin'`), kept whole as spaCy does. */
  droppedG(s: number, e: number): boolean {
    const { text } = this;
    return e - s >= 5 && (text.charCodeAt(e - 2) | 32) === 110 && (text.charCodeAt(e - 3) | 32) === 105 &&
      isAsciiLetter(text.charCodeAt(e - 4)) && isAsciiLetter(text.charCodeAt(e - 5));
  }

  /** Whether `[s, e)`, ending with one period, keeps it: a listed abbreviation or initials (`U.S.`, `e.g.`). */
  keepsPeriod(s: number, e: number): boolean {
    const { text } = this;
    const len = e - s;
    if (len <= 8 && ABBREVIATIONS.has(text.slice(s, e))) return true;
    if (len === 2) {
      const c = text.charCodeAt(s);
      return c >= 65 && c <= 90; // an initial, "J."
    }
    // Initials are short; the bound keeps a long chunk of "a.a.a." followed by many suffixes linear.
    if (len % 2 !== 0 || len > MAX_INITIALS) return false;
    for (let k = s; k < e; k += 2) {
      if (!isAsciiLetter(text.charCodeAt(k)) || text.charCodeAt(k + 1) !== Ch.DOT) return false;
    }
    return true;
  }

  /** English: start of a clitic (`'s`, `'ll`, `n't`...) ending `[s, e)` after a letter, or -1. */
  enClitic(s: number, e: number): number {
    const { text } = this;
    const len = e - s;
    if (len < 3) return -1;
    // n't
    if (
      len >= 4 && (text.charCodeAt(e - 1) | 32) === 116 && isApos(text.charCodeAt(e - 2)) &&
      (text.charCodeAt(e - 3) | 32) === 110 && this.flagsAt(e - 4) & WORD
    ) return e - 3;
    for (let k = e - 2; k >= e - 3 && k > s; k--) {
      if (!isApos(text.charCodeAt(k))) continue;
      if (!(this.flagsAt(k - 1) & WORD)) return -1;
      const tail = text.slice(k + 1, e).toLowerCase();
      return EN_CLITICS.has("'" + tail) ? k : -1;
    }
    return -1;
  }

  /** French: start of a hyphenated clitic (`-vous`, `-t-il`, `-ce`) ending `[s, e)`, or -1. */
  frClitic(s: number, e: number): number {
    const { text } = this;
    // Clitics have at most 5 letters: look for the hyphen no further back.
    let h = e - 1;
    while (h > s && h >= e - 6 && text.charCodeAt(h) !== Ch.MINUS) h--;
    if (h <= s || h >= e - 1 || text.charCodeAt(h) !== Ch.MINUS) return -1;
    const word = text.slice(h + 1, e).toLowerCase();
    if (!FR_CLITICS.has(word) || (e - s <= 24 && FR_KEEP.has(text.slice(s, e).toLowerCase()))) return -1;
    if (
      FR_T_CLITICS.has(word) && h - 2 > s && text.charCodeAt(h - 2) === Ch.MINUS &&
      (text.charCodeAt(h - 1) | 32) === 116
    ) return h - 2;
    return this.flagsAt(h - 1) & WORD ? h : -1;
  }

  /** Split `[s, e)` inside: hyphens, `/ # \`, commas between letters, brackets, Han/kana, symbols. */
  infixes(s: number, e: number): void {
    const { text, F } = this;
    let ps = s; // start of the current piece
    let k = s;
    const flush = (to: number) => {
      if (to > ps) this.emit(text.slice(ps, to));
    };
    while (k < e) {
      const c = text.charCodeAt(k);
      if (c < 128) {
        const f = F[c]!;
        if (f & WORD) {
          k++;
          continue;
        }
        const len = this.infixSplit(c, k, e, ps);
        if (len > 0) {
          flush(k);
          this.emit(text.slice(k, k + len));
          k += len;
          ps = k;
        } else k++;
        continue;
      }
      const f = this.flagsAt(k);
      if ((f & (WORD | MARK | JOINER)) && !(f & CJK)) {
        k += isHigh(c) && k + 1 < e && isLow(text.charCodeAt(k + 1)) ? 2 : 1;
        continue;
      }
      if (c === Ch.RSQUO && k > ps && k + 1 < e && this.flagsAt(k + 1) & WORD) {
        k++; // an apostrophe inside a word
        continue;
      }
      if (c === 0x2010 && k > ps && k + 1 < e && !this.fr && this.flagsAt(k + 1) & WORD) {
        flush(k);
        this.emit(text.slice(k, k + 1));
        ps = ++k;
        continue;
      }
      const w = this.cluster(k, e);
      flush(k);
      this.emit(text.slice(k, k + w));
      k += w;
      ps = k;
    }
    flush(e);
  }

  /** French: whether the hyphenated word starting at `ps` (hyphen at `k`) is a compound kept whole. */
  frKept(ps: number, k: number): boolean {
    const { text } = this;
    // Kept compounds are short: look no further than 24 characters (this keeps long chunks linear).
    let q = k + 1;
    while (q < text.length && q - ps <= 24 && (this.flagsAt(q) & WORD || text.charCodeAt(q) === Ch.MINUS)) {
      q++;
    }
    return q - ps <= 24 && FR_KEEP.has(text.slice(ps, q).toLowerCase());
  }

  /** Length of the ASCII infix at `k` to split out of the piece starting at `ps`, or 0 to keep it. */
  infixSplit(c: number, k: number, e: number, ps: number): number {
    const { text } = this;
    if (INFIX_ALWAYS[c]) {
      let j = k + 1;
      while (j < e && text.charCodeAt(j) === c) j++;
      return j - k;
    }
    if (c === Ch.SLASH || c === Ch.BACKSLASH || c === Ch.HASH) {
      if (this.special) return 1;
      if (c !== Ch.SLASH) return 0;
    }
    if (k === ps) return 0;
    const prev = text.charCodeAt(k - 1);
    const next = k + 1 < e ? text.charCodeAt(k + 1) : -1;
    const prevWord = (this.flagsAt(k - 1) & WORD) !== 0 || (isLow(prev) && k - 2 >= ps);
    switch (c) {
      case Ch.MINUS: {
        if (prev === Ch.MINUS) return 0; // inside a run already examined at its start
        let j = k + 1;
        while (j < e && text.charCodeAt(j) === Ch.MINUS) j++;
        const after = j < e ? text.charCodeAt(j) : -1;
        if (isDigit(prev) && (isDigit(after) || after === Ch.MINUS)) return j - k;
        if (!prevWord || j >= e || !(this.flagsAt(j) & WORD) || isDigit(after)) return 0; // COVID-19 stays
        if (this.fr && j - k === 1 && this.frKept(ps, k)) return 0; // peut-être, rendez-vous
        return j - k;
      }
      case Ch.COMMA:
        return prevWord && !isDigit(prev) && next >= 0 && this.flagsAt(k + 1) & WORD && !isDigit(next)
          ? 1
          : 0;
      case Ch.DOT: {
        if (prev === Ch.DOT) return 0;
        let j = k + 1;
        while (j < e && text.charCodeAt(j) === Ch.DOT) j++;
        if (j - k >= 2 && j < e) return j - k; // hello...world
        return prev >= 97 && prev <= 122 && next >= 65 && next <= 90 ? 1 : 0; // end.Start
      }
      case Ch.COLON:
      case 60: // <
      case 61: // =
      case 62: // >
      case Ch.SLASH:
        return prevWord && next >= 0 && this.flagsAt(k + 1) & WORD && !isDigit(next) ? 1 : 0;
      case Ch.PLUS:
      case 42: // *
      case 94: // ^
        return isDigit(prev) && (isDigit(next) || next === Ch.MINUS) ? 1 : 0;
      default:
        return 0;
    }
  }
}

/**
 * Split text into word tokens (no rules, no case change). Whitespace separates tokens and is dropped, except
 * newlines: each run of newlines is a token (`"\n"`, `"\n\n"`). Control characters separate tokens too.
 *
 * @param text the text
 * @param options see {@linkcode TokenizeOptions}
 * @returns the tokens
 *
 * @example English rules
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { tokenize } from "./word_tokenizer.ts";
 * assert.deepEqual(tokenize("I can't pay $3,000.00 (U.S.) today!"), [
 *   "I", "ca", "n't", "pay", "$", "3,000.00", "(", "U.S.", ")", "today", "!",
 * ]);
 * ```
 */
export function tokenize(text: string, options: TokenizeOptions = {}): string[] {
  const { lang = "en", splitSpecial = false } = options;
  if (lang !== "en" && lang !== "fr") throw new Error(`tokenize: unknown lang "${lang}"; use "en" or "fr"`);
  const out: string[] = [];
  new Scanner(text, out, lang === "fr", splitSpecial, false).run();
  return out;
}

/** Options of {@linkcode tokenizeDocument}. */
export interface TokenizeDocumentOptions {
  /** Language rules of the tokenizer. @default "en" */
  lang?: Lang;
  /**
   * Apply fix-up and fastai's rules (xxrep, xxwrep, `/ # \` split, xxup, xxmaj, lowercase, xxbos); `false`
   * gives the plain tokens of the text as written.
   * @default true
   */
  rules?: boolean;
  /** With rules, put `xxbos` first. @default true */
  bos?: boolean;
  /** With rules, put `xxeos` last. @default false */
  eos?: boolean;
}

/**
 * Tokenize one document the way fastai does: {@linkcode fixup}, the text rules ({@linkcode replaceRep},
 * {@linkcode replaceWrep}, `/ # \` split), {@linkcode tokenize}, then the token rules ({@linkcode postRules}:
 * xxup, xxmaj, lowercase, `xxbos` first). This is the entry point of the corpus store and its Workers.
 *
 * @param text the raw document
 * @param options see {@linkcode TokenizeDocumentOptions}
 * @returns the tokens
 *
 * @example A review, fastai-style
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { tokenizeDocument } from "./word_tokenizer.ts";
 * assert.deepEqual(tokenizeDocument("This movie is GREAT!!!<br />Don't miss it."), [
 *   "xxbos", "xxmaj", "this", "movie", "is", "xxup", "great", "xxrep", "3", "!", "\n",
 *   "xxmaj", "do", "n't", "miss", "it", ".",
 * ]);
 * ```
 */
export function tokenizeDocument(text: string, options: TokenizeDocumentOptions = {}): string[] {
  const { lang = "en", rules = true, bos = true, eos = false } = options;
  if (!rules) return tokenize(text.isWellFormed() ? text : text.toWellFormed(), { lang });
  if (lang !== "en" && lang !== "fr") {
    throw new Error(`tokenizeDocument: unknown lang "${lang}"; use "en" or "fr"`);
  }
  const clean = replaceWrep(replaceRep(fixup(text)));
  // The token rules (xxup, xxmaj, lowercase) run inside the scanner, as each token is made.
  const out: string[] = bos ? [BOS] : [];
  new Scanner(clean, out, lang === "fr", true, true).run();
  if (eos) out.push(EOS);
  return out;
}

/**
 * Tokenize a multi-field document (CSV text columns): `xxbos xxfld 1 <field 1> xxfld 2 <field 2> ...`, as
 * fastai does (v0.7 `xbos xfld 1`).
 *
 * @param fields the text fields, in order
 * @param options see {@linkcode TokenizeDocumentOptions}
 * @returns the tokens
 */
export function tokenizeFields(fields: readonly string[], options: TokenizeDocumentOptions = {}): string[] {
  const { bos = true, eos = false } = options;
  const out: string[] = bos ? [BOS] : [];
  fields.forEach((f, i) => {
    out.push(FLD, String(i + 1));
    for (const t of tokenizeDocument(f, { ...options, bos: false, eos: false })) out.push(t);
  });
  if (eos) out.push(EOS);
  return out;
}

/** Options of {@linkcode detokenize} and {@linkcode decodeDocument}. */
export interface DetokenizeOptions {
  /** Language of the spacing rules. @default "en" */
  lang?: Lang;
}

const SENTENCE_END = /^[.!?]+$/;
const FR_SPACED = /^[:;!?»]+$/;
const CLOSING = new Set([..."'.,;:!?)]}%…”’»›"]);
const OPENING = new Set(["(", "[", "{", "$", "£", "€", "¥", "#", "“", "‘", "«", "‹", "¿", "¡", "``"]);
const GLUE_BOTH = new Set(["/", "\\", "-", "‐"]);

function isClosing(t: string): boolean {
  if (t === "''") return true;
  if (EMOTICONS.has(t)) return false;
  for (const ch of t) if (!CLOSING.has(ch)) return false;
  return t !== "'";
}

function cjkJoin(prev: string | undefined, t: string): boolean {
  if (prev === undefined || prev.length === 0) return false;
  const last = prev.charCodeAt(prev.length - 1);
  const lastCp = isLow(last) && prev.length > 1 ? codePointAt(prev, prev.length - 2) : last;
  return (flagsOf(lastCp) & CJK) !== 0 && (flagsOf(codePointAt(t, 0)) & CJK) !== 0;
}

/**
 * Join word tokens into text: spaces between words, none before closing punctuation and clitics (`do n't` ->
 * `don't`, `it 's` -> `it's`), none after opening brackets and currency signs, `"` alternating between opening
 * and closing, `-` `/` `\` joined to both sides, newline tokens as they are; French elisions (`l'`) and
 * hyphenated clitics (`-vous`) joined, and French spacing before `: ; ! ? »`; Han and kana written without
 * spaces.
 *
 * @param tokens word tokens (no special tokens: run {@linkcode decodeRules} first)
 * @param options see {@linkcode DetokenizeOptions}
 * @returns the text
 */
export function detokenize(tokens: readonly string[], options: DetokenizeOptions = {}): string {
  const { lang = "en" } = options;
  const fr = lang === "fr";
  const parts: string[] = [];
  let glue = true; // no space before the next token
  let dquote = false, squote = false;
  for (const t of tokens) {
    if (t.length === 0) continue;
    if (t.charCodeAt(0) === 10 && t.trim() === "") {
      parts.push(t);
      glue = true;
      continue;
    }
    let before = !glue;
    let after = false;
    const lower = t.toLowerCase().replaceAll("’", "'");
    if (t === '"') {
      // Closing when one is open, or right after sentence punctuation (`Sea."` with no opening quote).
      if (dquote || SENTENCE_END.test(parts[parts.length - 1] ?? "")) {
        before = false;
        dquote = false;
      } else {
        after = true;
        dquote = true;
      }
    } else if (t === "'") {
      if (squote) before = false;
      else if (/[sS]$/.test(parts[parts.length - 1] ?? "")) before = false; // dogs' (possessive)
      else after = true;
      if (before || squote) squote = !squote;
    } else if (isClosing(t)) before = fr && FR_SPACED.test(t) && !glue; // French: "vrai ?", "sont :"
    else if (OPENING.has(t)) after = !(fr && t === "«"); // French: "« Bonjour »"
    else if (GLUE_BOTH.has(t)) {
      before = false;
      after = true;
    } else if (!fr && (EN_CLITICS.has(lower) || lower === "n't")) before = false;
    else if (fr && t.length > 1 && t[0] === "-" && FR_CLITICS.has(lower.slice(lower.lastIndexOf("-") + 1))) {
      before = false;
    }
    if (fr && t.length <= 8 && (t.endsWith("'") || t.endsWith("’")) && FR_ELISIONS.has(lower.slice(0, -1))) {
      after = true;
    }
    if (before && cjkJoin(parts[parts.length - 1], t)) before = false;
    if (!before && !glue && EMOTICONS.has(parts[parts.length - 1] ?? "")) before = true; // ":( ?"
    if (before) parts.push(" ");
    parts.push(t);
    glue = after;
  }
  return parts.join("");
}

/**
 * Turn tokens from {@linkcode tokenizeDocument} back into readable text: {@linkcode decodeRules} (capitals,
 * repeats, markers), English `i` -> `I` and `a` -> `A` at the start of a sentence, then {@linkcode detokenize}.
 *
 * @param tokens tokens with fastai's special tokens
 * @param options see {@linkcode DetokenizeOptions}
 * @returns the text
 *
 * @example Round trip
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { decodeDocument, tokenizeDocument } from "./word_tokenizer.ts";
 * const text = "I don't think it's SO bad, do you? No, it is sooooo good!!!";
 * assert.equal(decodeDocument(tokenizeDocument(text)), text);
 * ```
 */
export function decodeDocument(tokens: readonly string[], options: DetokenizeOptions = {}): string {
  const { lang = "en" } = options;
  const words = decodeRules(tokens);
  if (lang === "en") {
    for (let i = 0; i < words.length; i++) {
      const w = words[i];
      if (w === "i") words[i] = "I";
      // A one-letter capital is lost by the rules; "A" starting a sentence is the usual one.
      else if (w === "a" && (i === 0 || /^(?:[.!?]+|\n+)$/.test(words[i - 1]!))) words[i] = "A";
    }
  }
  return detokenize(words, { lang });
}
