/**
 * fastai's tokenization rules, applied in this order: {@linkcode replaceRep}, {@linkcode replaceWrep},
 * {@linkcode specAddSpaces}, {@linkcode rmUselessSpaces} on the text, then, after word tokenization,
 * {@linkcode replaceAllCaps}, {@linkcode replaceMaj}, {@linkcode lowercase} (with the `xxbos` prefix) on the
 * tokens ({@linkcode postRules} does the last three in one pass). {@linkcode decodeRules} inverts them.
 *
 * Every rule is a single linear scan over the text (no regex backtracking), so a 1,000,000-character run of one
 * character costs one pass.
 *
 * Where this differs from fastai (each on purpose):
 * - the case rules run on tokens, as in fastai v1 (`replace_all_caps`, `deal_caps`), so `(Hello` and `"USA`
 *   keep their capitals; fastai v2 runs them on whitespace-delimited text and misses those. The v2 text forms
 *   are here too ({@linkcode replaceAllCapsText}, {@linkcode replaceMajText}, {@linkcode textRules}) for
 *   subword tokenizers;
 * - {@linkcode replaceRep} leaves URLs and e-mail addresses alone (option `keepUrls`), and never counts
 *   combining marks or emoji joiners as a run, so they stay attached;
 * - `xxrep`/`xxwrep` counts are in code points (as Python), not UTF-16 units.
 *
 * @module
 */
import {
  bmpFlags,
  codePointAt,
  flagsOf,
  isHigh,
  isLow,
  JOINER,
  LOWER,
  MARK,
  SPACE,
  TITLE,
  UPPER,
  WORD,
} from "./_chars.ts";
import { BOS, EOS, FLD, MAJ, PAD, REP, UP, WREP } from "./special_tokens.ts";
import { looksLikeUrlOrEmail } from "./_url.ts";

/** Options of {@linkcode replaceRep}. */
export interface ReplaceRepOptions {
  /**
   * Leave runs inside a URL or e-mail address alone (`www.`, `http://x.com/aaa`), so that the word tokenizer
   * keeps them whole. fastai replaces them too (`false`).
   * @default true
   */
  keepUrls?: boolean;
}

/**
 * fastai's `replace_rep`: a run of three or more of the same non-space character becomes ` xxrep N c `
 * (fastai's regex `(\S)(\1{2,})`, on code points). Combining marks and emoji joiners are left alone, so that
 * they stay attached to their base character.
 *
 * @param text the text
 * @param options see {@linkcode ReplaceRepOptions}
 * @returns the text with runs replaced (the same string when there is none)
 *
 * @example Shortening repeated characters
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { replaceRep } from "./rules.ts";
 * assert.equal(replaceRep("I'm sooooo happy!!!"), "I'm s xxrep 5 o  happy xxrep 3 ! ");
 * ```
 */
export function replaceRep(text: string, options: ReplaceRepOptions = {}): string {
  const { keepUrls = true } = options;
  const F = bmpFlags();
  const n = text.length;
  let parts: string[] | undefined;
  let copied = 0; // text[0, copied) is already in parts
  let plainEnd = -1; // the chunk ending here was checked and is no URL
  let i = 0;
  while (i < n) {
    const c0 = text.charCodeAt(i);
    if (c0 < 0xd800 || c0 > 0xdfff) {
      // Fast path: a BMP character not followed by two copies of itself starts no run (and when only the
      // next one is a copy, no run starts there either).
      if (text.charCodeAt(i + 1) !== c0) {
        i++;
        continue;
      }
      if (text.charCodeAt(i + 2) !== c0) {
        i += 2;
        continue;
      }
      if (F[c0]! & (SPACE | MARK | JOINER)) {
        i += 3;
        while (text.charCodeAt(i) === c0) i++;
        continue;
      }
    }
    const cp = codePointAt(text, i);
    const w = cp > 0xffff ? 2 : 1;
    const f = flagsOf(cp);
    if (f & (SPACE | MARK | JOINER)) {
      i += w;
      continue;
    }
    let j = i + w;
    let count = 1;
    if (w === 1) {
      while (
        j < n && text.charCodeAt(j) === cp && !(isHigh(cp) && j + 1 < n && isLow(text.charCodeAt(j + 1)))
      ) {
        j++;
        count++;
      }
      // A lone high surrogate followed by a low one is a pair, not part of the run.
    } else {
      const hi = text.charCodeAt(i), lo = text.charCodeAt(i + 1);
      while (j + 1 < n && text.charCodeAt(j) === hi && text.charCodeAt(j + 1) === lo) {
        j += 2;
        count++;
      }
    }
    if (count >= 3) {
      if (keepUrls && i >= plainEnd) {
        let a = i, b = j;
        while (a > 0 && !(flagsOf(text.charCodeAt(a - 1)) & SPACE)) a--;
        while (b < n && !(flagsOf(text.charCodeAt(b)) & SPACE)) b++;
        if (looksLikeUrlOrEmail(text, a, b)) {
          i = b;
          continue;
        }
        plainEnd = b; // later runs of this chunk need no check
      }
      parts ??= [];
      parts.push(text.slice(copied, i), ` ${REP} ${count} ${text.slice(i, i + w)} `);
      copied = j;
    }
    i = j;
  }
  if (!parts) return text;
  parts.push(text.slice(copied));
  return parts.join("");
}

function isWordAt(text: string, i: number): boolean {
  return (flagsOf(codePointAt(text, i)) & WORD) !== 0;
}

function isSpaceAt(text: string, i: number): boolean {
  return (flagsOf(text.charCodeAt(i)) & SPACE) !== 0;
}

/** Try fastai's wrep regex with the repeated word starting at `w`; returns [count, end of match, e] or null. */
function matchWrep(text: string, w: number): [number, number, string] | null {
  const n = text.length;
  let ce = w;
  while (ce < n && isWordAt(text, ce)) ce += codePointAt(text, ce) > 0xffff ? 2 : 1;
  if (ce === w || ce >= n || !isSpaceAt(text, ce)) return null;
  const word = text.slice(w, ce);
  const len = ce - w;
  let q = ce;
  while (q < n && isSpaceAt(text, q)) q++;
  let k = 0; // occurrences after the first that are followed by whitespace
  let lastEnd = -1;
  while (text.startsWith(word, q) && q + len < n && isSpaceAt(text, q + len)) {
    k++;
    lastEnd = q + len;
    q = lastEnd;
    while (q < n && isSpaceAt(text, q)) q++;
  }
  if (k >= 1 && text.startsWith(word, q) && (q + len === n || !isWordAt(text, q + len))) {
    const r = q + len;
    const ew = r === n ? 0 : codePointAt(text, r) > 0xffff ? 2 : 1;
    return [k + 2, r + ew, text.slice(r, r + ew)];
  }
  if (k >= 2) return [k + 1, lastEnd + 1, text[lastEnd]!];
  return null;
}

/**
 * fastai's `replace_wrep`: a word repeated three or more times becomes ` xxwrep N word `. Follows fastai's
 * regex `(?:\s|^)(\w+)\s+((?:\1\s+)+)\1(\s|\W|$)` exactly, including its quirk that the character after the
 * last repetition is consumed, so a repetition right after another one is not replaced
 * (`a a a b b b` -> ` xxwrep 3 a  b b b`).
 *
 * @param text the text
 * @returns the text with repetitions replaced (the same string when there is none)
 *
 * @example Shortening repeated words
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { replaceWrep } from "./rules.ts";
 * assert.equal(replaceWrep("it is very very very good"), "it is xxwrep 3 very  good");
 * ```
 */
export function replaceWrep(text: string): string {
  const n = text.length;
  const F = bmpFlags();
  let parts: string[] | undefined;
  let copied = 0;
  // A match needs two equal whitespace-delimited chunks of word characters in a row: scan chunks, compare each
  // with the one before, and run the exact matcher only there.
  let prevS = -1, prevE = -1, prevWord = false;
  let i = 0;
  while (i < n) {
    if (F[text.charCodeAt(i)]! & SPACE) {
      i++;
      continue;
    }
    const s = i;
    let allWord = true;
    while (i < n) {
      const c = text.charCodeAt(i);
      const f = F[c]!;
      if (f & SPACE) break;
      if (!(f & WORD)) {
        if (isHigh(c) && flagsOf(codePointAt(text, i)) & WORD) i++;
        else allWord = false;
      }
      i++;
    }
    const e = i;
    if (prevWord && e - s === prevE - prevS && (prevS === 0 ? copied === 0 : prevS - 1 >= copied)) {
      let same = true;
      for (let k = 0; k < e - s; k++) {
        if (text.charCodeAt(s + k) !== text.charCodeAt(prevS + k)) {
          same = false;
          break;
        }
      }
      const m = same ? matchWrep(text, prevS) : null;
      if (m) {
        const [count, end, tail] = m;
        const p = prevS === 0 ? 0 : prevS - 1;
        parts ??= [];
        parts.push(text.slice(copied, p), ` ${WREP} ${count} ${text.slice(prevS, prevE)} ${tail}`);
        copied = i = end;
        prevS = prevE = -1;
        prevWord = false;
        continue;
      }
    }
    prevS = s;
    prevE = e;
    prevWord = allWord;
  }
  if (!parts) return text;
  parts.push(text.slice(copied));
  return parts.join("");
}

/**
 * fastai's `spec_add_spaces`: spaces around `/`, `#` and `\`. (The word tokenizer does the same on its own,
 * outside URLs, when rules are on.)
 *
 * @param text the text
 * @returns the text with the three characters spaced out
 */
export function specAddSpaces(text: string): string {
  return SPEC_RE.test(text) ? text.replace(SPEC_RE_G, " $& ") : text;
}

const SPEC_RE = /[/#\\]/;
const SPEC_RE_G = /[/#\\]/g;

/**
 * fastai's `rm_useless_spaces`: runs of two or more spaces become one.
 *
 * @param text the text
 * @returns the text with single spaces
 */
export function rmUselessSpaces(text: string): string {
  return text.includes("  ") ? text.replace(/ {2,}/g, " ") : text;
}

/** The four text rules in fastai's order (rep, wrep, spec_add_spaces, rm_useless_spaces). */
export function preRules(text: string, options: ReplaceRepOptions = {}): string {
  return rmUselessSpaces(specAddSpaces(replaceWrep(replaceRep(text, options))));
}

// Case classes of a token, as Python's str.isupper / str.islower see it.
const NO_CASE = 0, ALL_UPPER = 1, CAPITALISED = 2, OTHER = 3;

function caseClass(t: string): number {
  const n = t.length;
  let upper = 0, lower = 0, title = 0, firstUpper = false, restUpper = 0, cps = 0;
  for (let i = 0; i < n; i++) {
    let c = t.charCodeAt(i);
    if (isHigh(c) && i + 1 < n && isLow(t.charCodeAt(i + 1))) c = codePointAt(t, i++);
    const f = c < 128 ? (c >= 65 && c <= 90 ? UPPER : c >= 97 && c <= 122 ? LOWER : 0) : flagsOf(c);
    if (f & UPPER) {
      upper++;
      if (cps === 0) firstUpper = true;
      else restUpper++;
    } else if (f & LOWER) lower++;
    else if (f & TITLE) title++;
    cps++;
  }
  if (cps < 2 || upper === 0) return NO_CASE;
  if (lower === 0 && title === 0) return ALL_UPPER;
  if (firstUpper && restUpper === 0 && title === 0 && lower > 0) return CAPITALISED;
  return OTHER;
}

/**
 * fastai's `replace_all_caps` on tokens: a token of two or more characters written in capitals becomes
 * `xxup` + the lowercased token.
 *
 * @param tokens the tokens
 * @returns new tokens
 */
export function replaceAllCaps(tokens: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of tokens) {
    if (caseClass(t) === ALL_UPPER) out.push(UP, t.toLowerCase());
    else out.push(t);
  }
  return out;
}

/**
 * fastai's `replace_maj` (v1 `deal_caps`) on tokens: a capitalised token of two or more characters (first
 * letter upper, the rest lower) becomes `xxmaj` + the lowercased token.
 *
 * @param tokens the tokens
 * @returns new tokens
 */
export function replaceMaj(tokens: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of tokens) {
    if (caseClass(t) === CAPITALISED) out.push(MAJ, t.toLowerCase());
    else out.push(t);
  }
  return out;
}

/** Options of {@linkcode lowercase} and {@linkcode postRules}. */
export interface LowercaseOptions {
  /** Put `xxbos` first. @default true */
  bos?: boolean;
  /** Put `xxeos` last. @default false */
  eos?: boolean;
}

/**
 * fastai's `lowercase`: every token lowercased, with `xxbos` first (and optionally `xxeos` last).
 *
 * @param tokens the tokens
 * @param options see {@linkcode LowercaseOptions}
 * @returns new tokens
 */
export function lowercase(tokens: readonly string[], options: LowercaseOptions = {}): string[] {
  const { bos = true, eos = false } = options;
  const out = bos ? [BOS] : [];
  for (const t of tokens) out.push(t.toLowerCase());
  if (eos) out.push(EOS);
  return out;
}

function hasUpperAscii(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c >= 65 && c <= 90) return true;
    if (c >= 128) return true; // may have a non-ASCII capital: take the slow path
  }
  return false;
}

/**
 * The token rules in one pass: {@linkcode replaceAllCaps}, {@linkcode replaceMaj}, {@linkcode lowercase}.
 *
 * @param tokens tokens from the word tokenizer
 * @param options see {@linkcode LowercaseOptions}
 * @returns new tokens
 *
 * @example Capitals become markers
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { postRules } from "./rules.ts";
 * assert.deepEqual(postRules(["I", "love", "NEW", "York"]), ["xxbos", "i", "love", "xxup", "new", "xxmaj", "york"]);
 * ```
 */
export function postRules(tokens: readonly string[], options: LowercaseOptions = {}): string[] {
  const { bos = true, eos = false } = options;
  const out: string[] = bos ? [BOS] : [];
  for (const t of tokens) appendWithCaseRules(out, t);
  if (eos) out.push(EOS);
  return out;
}

/**
 * Append `token` to `out` with the token rules applied: `xxup` or `xxmaj` before it where they apply, then
 * the token lowercased (what {@linkcode postRules} does for each token; the word tokenizer calls it as it goes).
 *
 * @param out the tokens so far
 * @param token the next token
 */
export function appendWithCaseRules(out: string[], token: string): void {
  if (!hasUpperAscii(token)) {
    out.push(token);
    return;
  }
  const k = caseClass(token);
  if (k === ALL_UPPER) out.push(UP);
  else if (k === CAPITALISED) out.push(MAJ);
  out.push(token.toLowerCase());
}

/** The longest expansion {@linkcode decodeRules} makes of one `xxrep` / `xxwrep`. */
export const MAX_REPEAT = 10_000_000;

function capitalise(t: string): string {
  const cp = t.codePointAt(0);
  if (cp === undefined) return t;
  const w = cp > 0xffff ? 2 : 1;
  return t.slice(0, w).toUpperCase() + t.slice(w);
}

function endsWithWord(t: string): boolean {
  return t.length > 0 && (flagsOf(t.charCodeAt(t.length - 1)) & WORD) !== 0;
}

function startsWithWord(t: string): boolean {
  return t.length > 0 && (flagsOf(codePointAt(t, 0)) & WORD) !== 0;
}

// Short words that stand alone after a run of letters ("sooo so") rather than end the word ("cooool").
const SHORT_WORDS = new Set(
  ("a i an to of in is it on at or so no my me we be do go he up by as if us oh ok am the and for not but you " +
    "was are his her she its our has had who all any can one two our out new now see saw get got say said " +
    "this that with from they them then than what when were will have just like very")
    .split(" "),
);

/** Whether a run of letters after `t` most likely continued it (`s` + `ooo`) rather than stood alone. */
function isWordStart(t: string): boolean {
  return t.length <= 5 && endsWithWord(t) && !SHORT_WORDS.has(t.toLowerCase());
}

/** Whether `t` looks like the rest of a word cut by a run (`l` of `c xxrep 4 o l`): 1-2 letters. */
function isWordFragment(t: string): boolean {
  return t.length <= 2 && startsWithWord(t) && endsWithWord(t) && !SHORT_WORDS.has(t.toLowerCase());
}

function isDigitAt(t: string, i: number): boolean {
  const c = t.charCodeAt(i < 0 ? t.length + i : i);
  return c >= 48 && c <= 57;
}

function repeatCount(t: string | undefined): number {
  if (t === undefined || !/^[0-9]{1,8}$/.test(t)) return -1;
  const n = Number(t);
  return n >= 1 && n <= MAX_REPEAT ? n : -1;
}

/**
 * Invert the rules on tokens: drop `xxbos`/`xxeos`/`xxpad`, turn `xxfld N` into a newline between fields,
 * restore capitals from `xxup`/`xxmaj`, expand `xxrep N c` and `xxwrep N word`. A repeated letter or digit is
 * glued to the word tokens around it (`c xxrep 4 o l` -> `coooool`, `1 xxrep 6 0` -> `1000000`,
 * `3 , xxrep 3 0 .00` -> `3,000.00`), which is how such runs mostly occur; fastai's tokens do not say. A
 * heuristic decides for letters: the run is glued to a word of at most 5 letters that is not a common word of
 * its own (`s` + `ooo`, but not `outside` + `aaa` or `the` + `zzz`), and a 1-2 letter fragment after it
 * (`l`, `ve`) is glued to the run. Malformed markers are kept as they are.
 *
 * @param tokens tokens produced by {@linkcode postRules} after {@linkcode preRules}
 * @returns tokens of the original text (spacing is {@linkcode detokenize}'s job)
 *
 * @example Restoring capitals and repeats
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { decodeRules } from "./rules.ts";
 * assert.deepEqual(
 *   decodeRules(["xxbos", "xxmaj", "wow", "xxrep", "3", "!", "xxwrep", "3", "xxup", "go"]),
 *   ["Wow", "!!!", "GO", "GO", "GO"],
 * );
 * assert.deepEqual(decodeRules(["xxmaj", "xxmaj", "from", "xxmaj", "xxup", "hi"]), ["From", "HI"]);
 * ```
 */
export function decodeRules(tokens: readonly string[]): string[] {
  const out: string[] = [];
  let glueNext = 0; // 1: glue a following word token to the last one, 2: a following number part
  const push = (t: string, glue: number) => {
    const last = out.length - 1;
    const prev = out[last];
    if (glueNext === 1 && prev !== undefined && endsWithWord(prev) && isWordFragment(t)) out[last] += t;
    else if (
      glueNext === 2 && prev !== undefined && (isDigitAt(t, 0) || (/^[.,]/.test(t) && isDigitAt(t, 1)))
    ) {
      out[last] += t;
    } else if (glue === 1 && prev !== undefined && isWordStart(prev)) out[last] += t;
    else if (glue === 2 && prev !== undefined && isDigitAt(prev, prev.length - 1)) out[last] += t;
    else if (glue === 2 && (prev === "," || prev === ".") && last > 0 && isDigitAt(out[last - 1]!, -1)) {
      out.pop();
      out[last - 1] += prev + t;
    } else out.push(t);
    glueNext = 0;
  };
  const cased = (i: number): [string, number] => {
    // a run of case markers ("xxmaj xxup word", as a sampling LM may write): the last one applies, like fastai
    while ((tokens[i] === UP || tokens[i] === MAJ) && (tokens[i + 1] === UP || tokens[i + 1] === MAJ)) i++;
    const t = tokens[i];
    if (t === UP && i + 1 < tokens.length) return [tokens[i + 1]!.toUpperCase(), i + 2];
    if (t === MAJ && i + 1 < tokens.length) return [capitalise(tokens[i + 1]!), i + 2];
    return [t ?? "", i + 1];
  };
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i]!;
    if (t === BOS || t === EOS || t === PAD) {
      i++;
    } else if (t === FLD) {
      if (out.length > 0) push("\n", 0);
      i += repeatCount(tokens[i + 1]) > 0 ? 2 : 1;
    } else if ((t === REP || t === WREP) && repeatCount(tokens[i + 1]) > 0 && i + 2 < tokens.length) {
      const n = repeatCount(tokens[i + 1]);
      const [c, next] = cased(i + 2);
      if (t === REP) {
        const mode = isDigitAt(c, 0) ? 2 : startsWithWord(c) ? 1 : 0;
        push(c.repeat(n), mode);
        glueNext = mode;
      } else {
        for (let k = 0; k < n; k++) push(c, 0);
      }
      i = next;
    } else {
      const [c, next] = cased(i);
      // "s xxrep 5 o c xxrep 4 o l": the c before a run of letters starts the next word.
      if (glueNext === 1 && tokens[next] === REP && startsWithWord(tokens[next + 2] ?? "")) glueNext = 0;
      push(c, 0);
      i = next;
    }
  }
  return out;
}

// fastai v2's string forms of the case rules, with Python's `\s`.
const PY_S = "\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const ALL_CAPS_RE = new RegExp(`([${PY_S}]|^)([A-Z]+[^a-z${PY_S}]*)(?=[${PY_S}]|$)`, "gu");
const MAJ_RE = new RegExp(`([${PY_S}]|^)([A-Z][^A-Z${PY_S}]*)(?=[${PY_S}]|$)`, "gu");

/**
 * fastai v2's `replace_all_caps` on text (regex `(\s|^)([A-Z]+[^a-z\s]*)(?=(\s|$))`): a whitespace-delimited
 * word of ASCII capitals becomes `xxup word` (lowercased; a one-letter word is only lowercased). For text that
 * goes to a subword tokenizer; the word tokenizer applies {@linkcode replaceAllCaps} to its tokens instead.
 *
 * @param text the text
 * @returns the text with the rule applied
 */
export function replaceAllCapsText(text: string): string {
  return text.replace(
    ALL_CAPS_RE,
    (_m, pre: string, w: string) => `${pre}${[...w].length > 1 ? `${UP} ` : ""}${w.toLowerCase()}`,
  );
}

/**
 * fastai v2's `replace_maj` on text (regex `(\s|^)([A-Z][^A-Z\s]*)(?=(\s|$))`): a whitespace-delimited
 * capitalised word becomes `xxmaj word` (lowercased; a one-letter word is only lowercased).
 *
 * @param text the text
 * @returns the text with the rule applied
 */
export function replaceMajText(text: string): string {
  return text.replace(
    MAJ_RE,
    (_m, pre: string, w: string) => `${pre}${[...w].length > 1 ? `${MAJ} ` : ""}${w.toLowerCase()}`,
  );
}

/**
 * fastai v2's whole text pipeline for subword tokenizers (`defaults.text_proc_rules`): the four text rules
 * ({@linkcode preRules}), {@linkcode replaceAllCapsText}, {@linkcode replaceMajText}, then lowercase, strip and
 * `xxbos ` in front. Run {@linkcode fixup} first, as fastai's `fix_html` is the first of its rules.
 *
 * @param text fixed-up text
 * @param options see {@linkcode LowercaseOptions} and {@linkcode ReplaceRepOptions}
 * @returns the text ready for a subword tokenizer
 *
 * @example Rules for SentencePiece
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { textRules } from "./rules.ts";
 * assert.equal(textRules("I LOVE Paris!!!"), "xxbos i xxup love xxmaj paris xxrep 3 !");
 * ```
 */
export function textRules(text: string, options: LowercaseOptions & ReplaceRepOptions = {}): string {
  const { bos = true, eos = false } = options;
  const t = replaceMajText(replaceAllCapsText(preRules(text, options))).toLowerCase().trim();
  return (bos ? `${BOS} ` : "") + t + (eos ? ` ${EOS}` : "");
}
