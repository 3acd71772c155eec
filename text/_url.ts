/**
 * URL and e-mail address recognisers for the word tokenizer and the repetition rule: linear scans over char
 * codes of `text[s, e)`, no regex.
 *
 * @module
 */

const TRAILING = new Set([...".,;:!?'\")]}>`*"].map((c) => c.charCodeAt(0)));
const LEADING = new Set([..."(\"'<[{`*"].map((c) => c.charCodeAt(0)));

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isAlnum(c: number): boolean {
  return isAlpha(c) || (c >= 48 && c <= 57);
}

function startsWithCi(text: string, s: number, e: number, prefix: string): boolean {
  if (e - s < prefix.length) return false;
  for (let k = 0; k < prefix.length; k++) {
    let c = text.charCodeAt(s + k);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== prefix.charCodeAt(k)) return false;
  }
  return true;
}

/** Trim trailing punctuation off a URL or address ending at `e`, keeping a `)` that closes a `(` inside. */
function trimTrailing(text: string, s: number, e: number): number {
  let opens = 0, closes = 0;
  for (let k = s; k < e; k++) {
    const c = text.charCodeAt(k);
    if (c === 40) opens++;
    else if (c === 41) closes++;
  }
  while (e > s && TRAILING.has(text.charCodeAt(e - 1))) {
    if (text.charCodeAt(e - 1) === 41) {
      if (opens >= closes) break; // it closes a "(" of the URL
      closes--;
    }
    e--;
  }
  return e;
}

/**
 * If a URL starts at `s` (a scheme `xxx://`, `www.`, or `mailto:`) and runs inside `[s, e)`, its end without
 * trailing punctuation; otherwise -1.
 */
export function matchUrl(text: string, s: number, e: number): number {
  let k = s;
  if (startsWithCi(text, s, e, "www.")) k = s + 4;
  else if (startsWithCi(text, s, e, "mailto:")) k = s + 7;
  else {
    if (k >= e || !isAlpha(text.charCodeAt(k))) return -1;
    while (k < e && k - s < 16) {
      const c = text.charCodeAt(k);
      if (isAlnum(c) || c === 43 || c === 45 || c === 46) k++;
      else break;
    }
    if (!(text.startsWith("://", k) && k + 3 <= e)) return -1;
    k += 3;
  }
  if (k >= e || !isAlnum(text.charCodeAt(k))) return -1;
  const end = trimTrailing(text, k, e);
  return end > k ? end : -1;
}

/** If an e-mail address (`local@domain.tld`) starts at `s` and runs inside `[s, e)`, its end; otherwise -1. */
export function matchEmail(text: string, s: number, e: number): number {
  let k = s;
  while (k < e) {
    const c = text.charCodeAt(k);
    if (isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45) k++;
    else break;
  }
  if (k === s || k >= e || text.charCodeAt(k) !== 64) return -1;
  const at = k++;
  let lastDot = -1;
  while (k < e) {
    const c = text.charCodeAt(k);
    if (isAlnum(c) || c === 45) k++;
    else if (c === 46 && k + 1 < e && isAlnum(text.charCodeAt(k + 1))) lastDot = k++;
    else break;
  }
  if (lastDot < 0 || lastDot === at + 1 || k - lastDot < 3) return -1;
  for (let t = lastDot + 1; t < k; t++) if (!isAlpha(text.charCodeAt(t))) return -1;
  // Whatever follows must be trailing punctuation, not more word.
  for (let t = k; t < e; t++) if (!TRAILING.has(text.charCodeAt(t))) return -1;
  return k;
}

/** Whether the whitespace-free chunk `text[a, b)`, leading brackets or quotes aside, is a URL or an address. */
export function looksLikeUrlOrEmail(text: string, a: number, b: number): boolean {
  while (a < b && LEADING.has(text.charCodeAt(a))) a++;
  return matchUrl(text, a, b) >= 0 || matchEmail(text, a, b) >= 0;
}
