/**
 * fastai's text fix-up (v0.7 `fixup`, v2 `fix_html`): the replacements of messy HTML and wikitext leftovers,
 * then HTML unescaping, then collapsing runs of spaces.
 *
 * @module
 */
import { htmlEntities, LEGACY_ENTITIES } from "./_html_entities.ts";
import { UNK } from "./special_tokens.ts";

/**
 * fastai's literal replacements, in the order they are applied (each replaces every occurrence). The list is
 * v0.7's plus v1/v2's ` @,@ ` -> `,`. Because they run before unescaping, a well-formed `&amp;` becomes `&&`
 * and `&quot;` becomes `&'` — exactly as in fastai, whose corpora had lost their `&`s.
 */
export const FIXUP_REPLACEMENTS: readonly (readonly [string, string])[] = Object.freeze(
  [
    ["#39;", "'"],
    ["amp;", "&"],
    ["#146;", "'"],
    ["nbsp;", " "],
    ["#36;", "$"],
    ["\\n", "\n"],
    ["quot;", "'"],
    ["<br />", "\n"],
    ['\\"', '"'],
    ["<unk>", UNK],
    [" @.@ ", "."],
    [" @,@ ", ","],
    [" @-@ ", "-"],
  ] as const,
);

/** Options of {@linkcode fixup}. */
export interface FixupOptions {
  /**
   * Replace control characters (NUL and the other C0 controls except tab, newline and carriage return, DEL,
   * the C1 controls) with a space. Not in fastai; on by default so that they never become tokens.
   * @default true
   */
  controlChars?: boolean;
}

/**
 * Clean a raw document the way fastai does: the {@linkcode FIXUP_REPLACEMENTS}, then HTML unescaping with
 * Python's `html.unescape` rules ({@linkcode htmlUnescape}), then runs of spaces collapsed to one.
 * Lone UTF-16 surrogates (text decoded from invalid UTF-8 by some tools) become U+FFFD first.
 *
 * @param text the raw document
 * @param options see {@linkcode FixupOptions}
 * @returns the cleaned text
 *
 * @example Fixing an IMDb review
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { fixup } from "./fixup.ts";
 * assert.equal(fixup("It#39;s  great!<br /><br />Really &lt;3"), "It's great!\n\nReally <3");
 * ```
 */
export function fixup(text: string, options: FixupOptions = {}): string {
  const { controlChars = true } = options;
  let s = text.isWellFormed() ? text : text.toWellFormed();
  for (const [from, to] of FIXUP_REPLACEMENTS) {
    if (s.includes(from)) s = s.replaceAll(from, to);
  }
  if (s.includes("&")) s = htmlUnescape(s);
  if (controlChars) s = s.replace(CONTROL_RE, " ");
  if (s.includes("  ")) s = s.replace(SPACES_RE, " ");
  return s;
}

// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL_RE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;
const SPACES_RE = / {2,}/g;
const ENTITY_RE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/g;

/** Windows-1252 meanings of the numeric references 0x80-0x9F, plus 0 and CR, as in Python's `html`. */
const INVALID_CHARREFS = new Map<number, string>([
  [0x00, "\ufffd"],
  [0x0d, "\r"],
  ...[..."€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8dŽ\x8f\x90‘’“”•–—˜™š›œ\x9džŸ"].map((c, i) => [0x80 + i, c] as [number, string]),
]);

function isInvalidCodepoint(n: number): boolean {
  return (n >= 0x1 && n <= 0x8) || n === 0xb || (n >= 0xe && n <= 0x1f) || (n >= 0x7f && n <= 0x9f) ||
    (n >= 0xfdd0 && n <= 0xfdef) || (n & 0xfffe) === 0xfffe;
}

function numericRef(s: string): string {
  const hex = s[1] === "x" || s[1] === "X";
  const digits = s.slice(hex ? 2 : 1).replace(/;$/, "");
  // Beyond 8 significant digits the value is over 0x10FFFF whatever they are.
  const trimmed = digits.replace(/^0+/, "");
  const n = trimmed.length > 8 ? Infinity : trimmed === "" ? 0 : parseInt(trimmed, hex ? 16 : 10);
  const known = INVALID_CHARREFS.get(n);
  if (known !== undefined) return known;
  if ((n >= 0xd800 && n <= 0xdfff) || n > 0x10ffff) return "\ufffd";
  if (isInvalidCodepoint(n)) return "";
  return String.fromCodePoint(n);
}

function namedRef(s: string): string {
  const table = htmlEntities();
  if (s.endsWith(";")) {
    const hit = table.get(s.slice(0, -1));
    if (hit !== undefined) return hit;
  } else if (LEGACY_ENTITIES.has(s)) return table.get(s)!;
  // Longest legacy name that prefixes s (these may appear without `;`), as Python does.
  for (let x = s.length - 1; x > 1; x--) {
    const name = s.slice(0, x);
    if (LEGACY_ENTITIES.has(name)) return table.get(name)! + s.slice(x);
  }
  return `&${s}`;
}

/**
 * Replace HTML character references (`&lt;`, `&eacute;`, `&#39;`, `&#x263a;`, legacy `&copy` without `;`)
 * with the characters they stand for, following Python's `html.unescape` exactly (HTML5 rules: invalid
 * numeric references become U+FFFD or their Windows-1252 meaning, unknown names are left alone).
 *
 * @param text text with character references
 * @returns the unescaped text
 */
export function htmlUnescape(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(ENTITY_RE, (_m, s: string) => s[0] === "#" ? numericRef(s) : namedRef(s));
}
