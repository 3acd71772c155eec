/**
 * Encoding of one segment: Viterbi over the piece trie (unigram) or best-merge-first with a heap (BPE). Both
 * read the raw text directly (space read as `▁`, a literal `▁` as the never-matching code point -1) and send
 * characters with no piece to byte fallback (their UTF-8 bytes) or to the unknown id (one id for a run of
 * unknown characters).
 *
 * @module
 */
import { SPACE_MARK_CP } from "./_pretok.ts";
import type { PieceTrie } from "./_trie.ts";

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

/** Length in UTF-16 units of the code point last read by {@linkcode readCp} (avoids returning a pair). */
let cpLen = 1;

/** Code point at `i` of the segment as pieces see it (space as `▁`, literal `▁` as -1); sets `cpLen`. */
function readCp(text: string, i: number, end: number): number {
  const c = text.charCodeAt(i);
  cpLen = 1;
  if (c === 32) return SPACE_MARK_CP;
  if (c === SPACE_MARK_CP) return -1;
  if (c >= 0xd800 && c < 0xdc00 && i + 1 < end) {
    const lo = text.charCodeAt(i + 1);
    if (lo >= 0xdc00 && lo < 0xe000) {
      cpLen = 2;
      return ((c - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
    }
  }
  return c;
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
    const cp0 = readCp(text, start + i, end), len0 = cpLen;
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
        node = trie.child(node, readCp(text, start + j, end));
        j += cpLen;
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

// BPE work arrays, reused across calls (grown on demand)
let bCps = new Int32Array(256);
let bFrom = new Int32Array(256);
let bTo = new Int32Array(256);
let bNode = new Int32Array(256);
let bNext = new Int32Array(256);
let bPrev = new Int32Array(256);
let bVer = new Int32Array(256);
let hScore = new Float64Array(512);
let hLeft = new Int32Array(512);
let hRight = new Int32Array(512);
let hVerL = new Int32Array(512);
let hVerR = new Int32Array(512);
let hNode = new Int32Array(512);
let hSize = 0;

function growBpe(n: number): void {
  const c = 2 * n + 2;
  bCps = new Int32Array(c), bFrom = new Int32Array(c), bTo = new Int32Array(c), bNode = new Int32Array(c);
  bNext = new Int32Array(c), bPrev = new Int32Array(c), bVer = new Int32Array(c);
}

function heapBefore(a: number, b: number): boolean {
  return hScore[a]! > hScore[b]! || (hScore[a] === hScore[b] && hLeft[a]! < hLeft[b]!);
}

function heapSwap(a: number, b: number): void {
  let t: number = hScore[a]!;
  hScore[a] = hScore[b]!, hScore[b] = t;
  t = hLeft[a]!, hLeft[a] = hLeft[b]!, hLeft[b] = t;
  t = hRight[a]!, hRight[a] = hRight[b]!, hRight[b] = t;
  t = hVerL[a]!, hVerL[a] = hVerL[b]!, hVerL[b] = t;
  t = hVerR[a]!, hVerR[a] = hVerR[b]!, hVerR[b] = t;
  t = hNode[a]!, hNode[a] = hNode[b]!, hNode[b] = t;
}

/** Push the merge of symbol `left` with its right neighbour when the union is a normal piece. */
function pushPair(left: number, m: EncoderModel): void {
  const right = bNext[left]!;
  if (right < 0) return;
  let node = bNode[left]!;
  if (node < 0 || bNode[right]! < 0) return;
  for (let t = bFrom[right]!; t < bTo[right]! && node >= 0; t++) node = m.trie.child(node, bCps[t]!);
  if (node < 0) return;
  const id = m.trie.value[node]!;
  if (id < 0 || m.types[id] !== "normal") return;
  if (hSize === hScore.length) {
    const c = hSize * 2;
    const f = new Float64Array(c);
    f.set(hScore);
    hScore = f;
    const g = (a: Int32Array) => {
      const b = new Int32Array(c);
      b.set(a);
      return b;
    };
    hLeft = g(hLeft), hRight = g(hRight), hVerL = g(hVerL), hVerR = g(hVerR), hNode = g(hNode);
  }
  let k = hSize++;
  hScore[k] = m.scores[id]!, hLeft[k] = left, hRight[k] = right;
  hVerL[k] = bVer[left]!, hVerR[k] = bVer[right]!, hNode[k] = node;
  while (k > 0) {
    const p = (k - 1) >> 1;
    if (!heapBefore(k, p)) break;
    heapSwap(k, p);
    k = p;
  }
}

function popPair(): number {
  const top = 0;
  heapSwap(top, --hSize);
  for (let k = 0;;) {
    const l = 2 * k + 1, r = l + 1;
    let b = k;
    if (l < hSize && heapBefore(l, b)) b = l;
    if (r < hSize && heapBefore(r, b)) b = r;
    if (b === k) break;
    heapSwap(k, b);
    k = b;
  }
  return hSize; // the popped entry now sits just past the heap
}

/**
 * BPE of `text[start, end)`: repeatedly merge the adjacent pair whose union is the best-scored piece (leftmost
 * first on ties). Symbols are spans of the segment's code points with their trie node, so a candidate merge is
 * a walk of the right symbol's code points from the left symbol's node — no strings are built.
 */
export function bpeSegment(text: string, start: number, end: number, m: EncoderModel): number[] {
  if (bCps.length <= end - start) growBpe(end - start);
  let n = 0;
  for (let i = start; i < end; n++) {
    const cp = readCp(text, i, end), len = cpLen;
    bCps[n] = cp;
    bFrom[n] = n, bTo[n] = n + 1;
    const node = cp >= 0 ? m.trie.child(0, cp) : -1;
    bNode[n] = node >= 0 && m.trie.value[node]! >= 0 ? node : -1;
    bNext[n] = -1, bPrev[n] = n - 1, bVer[n] = 0;
    if (n > 0) bNext[n - 1] = n;
    i += len;
  }
  hSize = 0;
  for (let i = 0; i + 1 < n; i++) pushPair(i, m);
  while (hSize > 0) {
    const e = popPair();
    const left = hLeft[e]!, right = hRight[e]!;
    if (bVer[left] !== hVerL[e] || bVer[right] !== hVerR[e] || bNext[left] !== right) continue; // stale
    bTo[left] = bTo[right]!;
    bNode[left] = hNode[e]!;
    bVer[left]!++;
    bVer[right]!++;
    const rr = bNext[right]!;
    bNext[left] = rr;
    if (rr >= 0) bPrev[rr] = left;
    bNext[right] = -2;
    if (bPrev[left]! >= 0) pushPair(bPrev[left]!, m);
    pushPair(left, m);
  }
  const out: number[] = [];
  for (let i = n > 0 ? 0 : -1; i >= 0; i = bNext[i]!) {
    const node = bNode[i]!;
    if (node >= 0) out.push(m.trie.value[node]!);
    else pushUnknown(bCps[i]!, m, out);
  }
  return out;
}
