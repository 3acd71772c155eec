/**
 * Turns a training corpus into distinct segments with counts, picks the required characters by coverage, and
 * cuts segments at characters that fell outside the coverage (they are never part of a piece; at encode time
 * they take the byte-fallback or unknown path).
 *
 * @module
 */
import { segmentText, SPACE_MARK_CP, type SpecialMatcher } from "./_pretok.ts";
import type { TrainWord } from "./_unigram.ts";

/** What {@linkcode collectCorpus} found. */
export interface CorpusStats {
  /** Distinct segments (cut at rejected characters) with counts. */
  words: TrainWord[];
  /** Required characters with counts, most frequent first. */
  chars: Array<[number, number]>;
  /** Number of texts read. */
  texts: number;
  /** Number of characters seen (code points, spaces included). */
  totalChars: number;
  /** Segments longer than `maxSegmentLength` that were left out of training. */
  skippedLong: number;
}

/** Counts distinct substrings of texts without slicing them: keys live in one UTF-16 pool. */
class SegmentCounter {
  #table = new Int32Array(1 << 16); // entry + 1, 0 = empty
  #mask = (1 << 16) - 1;
  hash = new Int32Array(1024);
  keyOff = new Int32Array(1024);
  keyLen = new Int32Array(1024);
  count = new Float64Array(1024);
  keys = new Uint16Array(1 << 16);
  n = 0;
  #used = 0;

  add(text: string, start: number, end: number): void {
    let h = 0x811c9dc5 | 0;
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    const len = end - start;
    const keys = this.keys;
    for (let slot = h & this.#mask;; slot = (slot + 1) & this.#mask) {
      const e1 = this.#table[slot]!;
      if (e1 === 0) {
        this.#insert(slot, text, start, len, h);
        return;
      }
      const e = e1 - 1;
      if (this.hash[e] !== h || this.keyLen[e] !== len) continue;
      const ko = this.keyOff[e]!;
      let i = 0;
      while (i < len && keys[ko + i] === text.charCodeAt(start + i)) i++;
      if (i === len) {
        this.count[e]!++;
        return;
      }
    }
  }

  #insert(slot: number, text: string, start: number, len: number, h: number): void {
    const e = this.n++;
    if (e >= this.hash.length) {
      const g = <T extends Int32Array | Float64Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.hash = g(this.hash), this.keyOff = g(this.keyOff), this.keyLen = g(this.keyLen);
      this.count = g(this.count);
    }
    while (this.#used + len > this.keys.length) {
      const b = new Uint16Array(this.keys.length * 2);
      b.set(this.keys);
      this.keys = b;
    }
    for (let i = 0; i < len; i++) this.keys[this.#used + i] = text.charCodeAt(start + i);
    this.hash[e] = h, this.keyOff[e] = this.#used, this.keyLen[e] = len, this.count[e] = 1;
    this.#used += len;
    this.#table[slot] = e + 1;
    if (this.n * 2 > this.#table.length) this.#rehash();
  }

  #rehash(): void {
    const cap = this.#table.length * 2;
    this.#table = new Int32Array(cap);
    this.#mask = cap - 1;
    for (let e = 0; e < this.n; e++) {
      let slot = this.hash[e]! & this.#mask;
      while (this.#table[slot] !== 0) slot = (slot + 1) & this.#mask;
      this.#table[slot] = e + 1;
    }
  }
}

/** Settings of {@linkcode CorpusCollector}. */
export interface CollectOptions {
  /** Fraction of characters the alphabet must cover. */
  characterCoverage: number;
  /** Prefix a space to each text. */
  addDummyPrefix: boolean;
  /** Special tokens to leave out of training. */
  specials: SpecialMatcher | null;
  /** Longest segment trained on (UTF-16 units). */
  maxSegmentLength: number;
}

/** Feed texts one at a time (memory grows with distinct segments only), then {@linkcode finish}. */
export class CorpusCollector {
  #counter = new SegmentCounter();
  #texts = 0;
  #skippedLong = 0;
  constructor(readonly options: CollectOptions) {}

  /** Count one text. */
  add(raw: string): void {
    if (typeof raw !== "string") {
      throw new TypeError(`subword: corpus item ${this.#texts} is ${typeof raw}, expected a string`);
    }
    this.#texts++;
    if (raw.length === 0) return;
    const text = this.options.addDummyPrefix ? " " + raw : raw;
    const max = this.options.maxSegmentLength, counter = this.#counter;
    segmentText(text, this.options.specials, (s, e, special) => {
      if (special >= 0) return;
      if (e - s > max) this.#skippedLong++;
      else counter.add(text, s, e);
    });
  }

  /** Distinct segments, required characters and counts. */
  finish(): CorpusStats {
    return finishCorpus(this.#counter, this.options, this.#texts, this.#skippedLong);
  }
}

/**
 * Count segments and characters of `corpus`.
 *
 * @param corpus texts (documents or lines).
 * @param options coverage, the dummy prefix, the special matcher and the longest segment trained on.
 */
export function collectCorpus(corpus: Iterable<string>, options: CollectOptions): CorpusStats {
  const c = new CorpusCollector(options);
  for (const raw of corpus) c.add(raw);
  return c.finish();
}

function finishCorpus(
  counter: SegmentCounter,
  options: CollectOptions,
  texts: number,
  skippedLong: number,
): CorpusStats {
  // code points of each distinct segment (space -> ▁, literal ▁ -> -1) and character counts
  const charCounts = new Map<number, number>();
  let totalChars = 0;
  const segCps: Array<[number[], number]> = [];
  const keys = counter.keys;
  for (let e = 0; e < counter.n; e++) {
    const f = counter.count[e]!, ko = counter.keyOff[e]!, kl = counter.keyLen[e]!;
    const cps: number[] = [];
    for (let i = ko; i < ko + kl; i++) {
      let cp = keys[i]!;
      if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < ko + kl) {
        const lo = keys[i + 1]!;
        if (lo >= 0xdc00 && lo < 0xe000) cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000, i++;
      }
      const m = cp === 32 ? SPACE_MARK_CP : cp === SPACE_MARK_CP ? -1 : cp;
      cps.push(m);
      totalChars += f;
      if (m >= 0) charCounts.set(m, (charCounts.get(m) ?? 0) + f);
    }
    segCps.push([cps, f]);
  }
  const sorted = [...charCounts].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const chars: Array<[number, number]> = [];
  const keep = new Set<number>();
  let acc = 0;
  for (const [cp, c] of sorted) {
    if (totalChars > 0 && acc / totalChars >= options.characterCoverage && cp !== SPACE_MARK_CP) continue;
    chars.push([cp, c]);
    keep.add(cp);
    acc += c;
  }
  // cut segments at rejected characters; merge equal pieces
  const out: TrainWord[] = [];
  const index = new Map<string, number>();
  for (const [cps, f] of segCps) {
    let clean = true;
    for (const cp of cps) if (!keep.has(cp)) clean = false;
    if (clean) {
      out.push({ cps: Int32Array.from(cps), freq: f }); // distinct segments stay distinct
      continue;
    }
    let from = 0;
    for (let i = 0; i <= cps.length; i++) {
      if (i < cps.length && keep.has(cps[i]!)) continue;
      if (i > from) {
        const part = cps.slice(from, i);
        const key = String.fromCodePoint(...part);
        const at = index.get(key);
        if (at === undefined) {
          index.set(key, out.length);
          out.push({ cps: Int32Array.from(part), freq: f });
        } else out[at]!.freq += f;
      }
      from = i + 1;
    }
  }
  return { words: out, chars, texts, totalChars, skippedLong };
}
