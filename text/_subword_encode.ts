/**
 * Encoding of one segment: Viterbi over the piece trie (unigram) or best-merge-first with a heap (BPE). Both
 * read the raw text directly (space read as `▁`, a literal `▁` as the never-matching code point -1) and send
 * characters with no piece to byte fallback (their UTF-8 bytes) or to the unknown id (one id for a run of
 * unknown characters).
 *
 * @module
 */
import { SPACE_MARK_CP } from "./_subword_pretok.ts";
import type { PieceTrie } from "./_subword_trie.ts";

/** What the segment encoders need from the model. */
export interface EncoderModel {
  /** Trie of normal pieces. */
  trie: PieceTrie;
  /** Score per id. */
  scores: Float64Array;
  /** Score of the unknown path (min score - 10). */
  unkScore: number;
  /** Unknown id. */
  unkId: number;
  /** Id of byte piece `<0xHH>` per byte, -1 when absent. */
  byteIds: Int32Array;
  /** Piece string to id. */
  pieceToId: Map<string, number>;
  /** Type per id. */
  types: string[];
}

const encoder = new TextEncoder();

/** Append the ids of a character that has no piece. */
function pushUnknown(cp: number, m: EncoderModel, out: number[]): void {
  const real = cp === SPACE_MARK_CP ? 32 : cp === -1 ? SPACE_MARK_CP : cp;
  if (m.byteIds[0x41]! < 0) {
    // consecutive unknown characters give one unknown id (SentencePiece does the same)
    if (out[out.length - 1] !== m.unkId) out.push(m.unkId);
    return;
  }
  for (const b of encoder.encode(String.fromCodePoint(real))) {
    const id = m.byteIds[b]!;
    out.push(id < 0 ? m.unkId : id);
  }
}

/** Code point at `i` of the segment as pieces see it, and its length in UTF-16 units (packed: cp * 4 + len). */
function readCp(text: string, i: number, end: number): [number, number] {
  const c = text.charCodeAt(i);
  if (c === 32) return [SPACE_MARK_CP, 1];
  if (c === SPACE_MARK_CP) return [-1, 1];
  if (c >= 0xd800 && c < 0xdc00 && i + 1 < end) {
    const lo = text.charCodeAt(i + 1);
    if (lo >= 0xdc00 && lo < 0xe000) return [((c - 0xd800) << 10) + (lo - 0xdc00) + 0x10000, 2];
  }
  return [c, 1];
}

let best = new Float64Array(256);
let backStart = new Int32Array(256);
let backId = new Int32Array(256);

/** Viterbi segmentation of `text[start, end)` with a unigram model. */
export function unigramSegment(text: string, start: number, end: number, m: EncoderModel): number[] {
  const L = end - start;
  if (best.length <= L) {
    best = new Float64Array(2 * L + 2);
    backStart = new Int32Array(2 * L + 2);
    backId = new Int32Array(2 * L + 2);
  }
  best.fill(-Infinity, 0, L + 1);
  best[0] = 0;
  const { trie, scores } = m;
  const value = trie.value;
  for (let i = 0; i < L;) {
    const [cp0, len0] = readCp(text, start + i, end);
    const bi = best[i]!;
    if (bi !== -Infinity) {
      let node = trie.child(0, cp0);
      let j = i + len0;
      let single = false;
      while (node >= 0) {
        const v = value[node]!;
        if (v >= 0) {
          // exact ties go to the later start (this matches SentencePiece on 57336 of 57340 Brown sentences;
          // it breaks ties by float32 rounding of whole-sentence sums, which a per-segment cache cannot mirror)
          const cand = bi + scores[v]!;
          if (cand >= best[j]!) best[j] = cand, backStart[j] = i, backId[j] = v;
          if (j === i + len0) single = true;
        }
        if (j >= L) break;
        const [cp, len] = readCp(text, start + j, end);
        node = trie.child(node, cp);
        j += len;
      }
      if (!single) {
        const cand = bi + m.unkScore;
        const e = i + len0;
        if (cand > best[e]!) best[e] = cand, backStart[e] = i, backId[e] = -1 - (cp0 + 1);
      }
    }
    i += len0;
  }
  const rev: number[] = [];
  for (let p = L; p > 0; p = backStart[p]!) rev.push(backId[p]!);
  const out: number[] = [];
  for (let k = rev.length - 1; k >= 0; k--) {
    const id = rev[k]!;
    if (id >= 0) out.push(id);
    else pushUnknown(-1 - id - 1, m, out);
  }
  return out;
}

/** BPE of `text[start, end)`: repeatedly merge the adjacent pair whose union has the best score. */
export function bpeSegment(text: string, start: number, end: number, m: EncoderModel): number[] {
  const strs: string[] = [];
  const ids: number[] = [];
  const cps: number[] = [];
  for (let i = start; i < end;) {
    const [cp, len] = readCp(text, i, end);
    const node = m.trie.child(0, cp);
    const id = node >= 0 ? m.trie.value[node]! : -1;
    strs.push(cp >= 0 ? String.fromCodePoint(cp) : "");
    ids.push(id);
    cps.push(cp);
    i += len;
  }
  const n = strs.length;
  const next = Int32Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : -1));
  const prev = Int32Array.from({ length: n }, (_, i) => i - 1);
  // heap of candidate merges: [score, left position, merged id]; best score first, then leftmost
  const hs: number[] = [], hp: number[] = [], hi: number[] = [];
  const less = (a: number, b: number) => hs[a]! > hs[b]! || (hs[a] === hs[b] && hp[a]! < hp[b]!);
  const swap = (a: number, b: number) => {
    [hs[a], hs[b]] = [hs[b]!, hs[a]!];
    [hp[a], hp[b]] = [hp[b]!, hp[a]!];
    [hi[a], hi[b]] = [hi[b]!, hi[a]!];
  };
  const push = (left: number) => {
    const right = next[left]!;
    if (right < 0 || ids[left]! < 0 || ids[right]! < 0) return;
    const id = m.pieceToId.get(strs[left]! + strs[right]!);
    if (id === undefined || m.types[id] !== "normal") return;
    hs.push(m.scores[id]!), hp.push(left), hi.push(id);
    for (let k = hs.length - 1; k > 0;) {
      const p = (k - 1) >> 1;
      if (!less(k, p)) break;
      swap(k, p);
      k = p;
    }
  };
  const pop = (): [number, number] => {
    const top: [number, number] = [hp[0]!, hi[0]!];
    const last = hs.length - 1;
    swap(0, last);
    hs.pop(), hp.pop(), hi.pop();
    for (let k = 0;;) {
      const l = 2 * k + 1, r = l + 1;
      let b = k;
      if (l < hs.length && less(l, b)) b = l;
      if (r < hs.length && less(r, b)) b = r;
      if (b === k) break;
      swap(k, b);
      k = b;
    }
    return top;
  };
  for (let i = 0; i + 1 < n; i++) push(i);
  while (hs.length) {
    const [left, id] = pop();
    const right = next[left]!;
    if (ids[left]! < 0 || right < 0 || m.pieceToId.get(strs[left]! + strs[right]!) !== id) continue; // stale
    strs[left] = strs[left]! + strs[right]!;
    ids[left] = id;
    ids[right] = -2;
    const rr = next[right]!;
    next[left] = rr;
    if (rr >= 0) prev[rr] = left;
    if (prev[left]! >= 0) push(prev[left]!);
    push(left);
  }
  const out: number[] = [];
  for (let i = 0; i >= 0 && i < n; i = next[i]!) {
    if (ids[i]! >= 0) out.push(ids[i]!);
    else pushUnknown(cps[i]!, m, out);
  }
  return out;
}
