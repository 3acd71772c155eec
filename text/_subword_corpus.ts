/**
 * Turns a training corpus into distinct segments with counts, picks the required characters by coverage, and
 * cuts segments at characters that fell outside the coverage (they are never part of a piece; at encode time
 * they take the byte-fallback or unknown path).
 *
 * @module
 */
import { segmentText, SPACE_MARK_CP, type SpecialMatcher } from "./_subword_pretok.ts";
import type { TrainWord } from "./_subword_unigram.ts";

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

/**
 * Count segments and characters of `corpus`.
 *
 * @param corpus texts (documents or lines).
 * @param options coverage, the dummy prefix, the special matcher and the longest segment trained on.
 */
export function collectCorpus(
  corpus: Iterable<string>,
  options: {
    characterCoverage: number;
    addDummyPrefix: boolean;
    specials: SpecialMatcher | null;
    maxSegmentLength: number;
  },
): CorpusStats {
  const segCounts = new Map<string, number>();
  let texts = 0, skippedLong = 0;
  for (const raw of corpus) {
    if (typeof raw !== "string") {
      throw new TypeError(`subword: corpus item ${texts} is ${typeof raw}, expected a string`);
    }
    texts++;
    if (raw.length === 0) continue;
    const text = options.addDummyPrefix ? " " + raw : raw;
    segmentText(text, options.specials, (s, e, special) => {
      if (special >= 0) return;
      if (e - s > options.maxSegmentLength) {
        skippedLong++;
        return;
      }
      const seg = text.slice(s, e);
      segCounts.set(seg, (segCounts.get(seg) ?? 0) + 1);
    });
  }
  const charCounts = new Map<number, number>();
  let totalChars = 0;
  const segCps: Array<[number[], number]> = [];
  for (const [seg, f] of segCounts) {
    const cps: number[] = [];
    for (const ch of seg) {
      const cp = ch.codePointAt(0)!;
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
  const words = new Map<string, number>();
  const cutAt = new Map<string, Int32Array>();
  for (const [cps, f] of segCps) {
    let from = 0;
    for (let i = 0; i <= cps.length; i++) {
      if (i < cps.length && keep.has(cps[i]!)) continue;
      if (i > from) {
        const part = cps.slice(from, i);
        const key = String.fromCodePoint(...part);
        words.set(key, (words.get(key) ?? 0) + f);
        if (!cutAt.has(key)) cutAt.set(key, Int32Array.from(part));
      }
      from = i + 1;
    }
  }
  const out: TrainWord[] = [];
  for (const [key, f] of words) out.push({ cps: cutAt.get(key)!, freq: f });
  return { words: out, chars, texts, totalChars, skippedLong };
}
