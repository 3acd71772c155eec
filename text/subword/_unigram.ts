/**
 * Unigram language-model training, following SentencePiece's `unigram_model_trainer.cc` (Kudo 2018,
 * "Subword Regularization", https://arxiv.org/abs/1804.10959):
 *
 * 1. Seed pieces: every character that passed the coverage cut, plus the substrings (up to `maxPieceLength`
 *    code points, never crossing a segment) seen at least twice, ranked by `frequency * length`; the top
 *    `seedSize` are kept, scored `log(freq*len / total)`.
 * 2. EM: the E-step runs forward-backward over each distinct segment's lattice (weighted by its count) to get
 *    expected piece counts; the M-step drops pieces expected fewer than 0.5 times and scores the rest with the
 *    Bayesian (digamma) estimate `digamma(count) - digamma(total)`. Two sub-iterations per round.
 * 3. Pruning: each piece's loss is how much the corpus likelihood drops when its count moves to its best
 *    alternative segmentation; pieces unused by the Viterbi segmentation or whose own Viterbi path splits them go
 *    first, then the lowest-loss ones, keeping `max(desired, 0.75 * size)`; repeat until at most 1.1x the target.
 * 4. Finalize: all required characters, then the highest-scoring pieces, exactly `targetSize` in all.
 *
 * Every segment's lattice edges are found once, through a trie of the seeds, and kept in flat arrays; later
 * rounds only skip (and periodically compact away) edges of dead pieces.
 *
 * @module
 */
import { PieceTrie } from "./_trie.ts";

/** A distinct training segment: code points (space as `▁`) and how often it occurred. */
export interface TrainWord {
  /** Code points of the segment. */
  cps: Int32Array;
  /** Occurrence count. */
  freq: number;
}

/** Settings of {@linkcode trainUnigram}. */
export interface UnigramConfig {
  /** Number of normal pieces wanted (characters included). */
  targetSize: number;
  /** Longest piece in code points. */
  maxPieceLength: number;
  /** Number of seed pieces kept. */
  seedSize: number;
  /** Fraction of pieces kept per pruning round. */
  shrinkingFactor: number;
  /** EM sub-iterations per round. */
  numSubIterations: number;
  /** Required characters with their counts. */
  requiredChars: Map<number, number>;
}

/** SentencePiece's digamma approximation. */
export function digamma(x: number): number {
  let r = 0;
  for (; x < 7; ++x) r -= 1 / x;
  x -= 0.5;
  const xx = 1 / x, xx2 = xx * xx, xx4 = xx2 * xx2;
  return r + Math.log(x) + (1 / 24) * xx2 - (7 / 960) * xx4 + (31 / 8064) * xx4 * xx2 -
    (127 / 30720) * xx4 * xx4;
}

function logAdd(x: number, y: number): number {
  if (x < y) [x, y] = [y, x];
  if (y === -Infinity) return x;
  return x + Math.log1p(Math.exp(y - x));
}

interface Seeds {
  /** Code points of each seed piece. */
  pieces: number[][];
  /** String of each seed piece. */
  strings: string[];
  /** Initial scores (log probabilities). */
  scores: Float64Array;
  /** Trie of all substrings; `value` maps seed pieces to their ids. */
  trie: PieceTrie;
  /** Nodes visited while counting (see {@linkcode Lattices}). */
  walk: Int32Array;
}

/**
 * Frequent substrings + required characters, scored as log probabilities. Substrings are counted in a bounded-
 * depth suffix trie of the distinct segments (each insertion walks at most `maxPieceLength` nodes), which then
 * serves as the seed trie.
 */
function makeSeeds(words: TrainWord[], cfg: UnigramConfig): Seeds {
  const maxLen = cfg.maxPieceLength;
  const trie = new PieceTrie(1 << 20);
  let count = new Float64Array(1 << 20);
  let walkLen = 0;
  for (const { cps } of words) {
    for (let i = 0; i < cps.length; i++) walkLen += Math.min(maxLen, cps.length - i);
  }
  const walk = new Int32Array(walkLen);
  let k = 0;
  for (const { cps, freq } of words) {
    for (let i = 0; i < cps.length; i++) {
      let node = 0;
      const end = Math.min(cps.length, i + maxLen);
      for (let j = i; j < end; j++) {
        node = trie.childOrInsert(node, cps[j]!);
        walk[k++] = node;
        if (node >= count.length) {
          const c2 = new Float64Array(count.length * 2);
          c2.set(count);
          count = c2;
        }
        count[node]! += freq;
      }
    }
  }
  // candidates: substrings of 2+ code points seen at least twice, ranked by count * length, ties by node id
  const cand: number[] = [];
  for (let node = 1; node < trie.nodes; node++) {
    if (trie.depth[node]! >= 2 && count[node]! >= 2) cand.push(node);
  }
  const key = new Float64Array(cand.length);
  for (let k = 0; k < cand.length; k++) key[k] = count[cand[k]!]! * trie.depth[cand[k]!]!;
  const order = Int32Array.from(cand.keys());
  order.sort((x, y) => key[y]! - key[x]! || cand[x]! - cand[y]!);
  const chars = [...cfg.requiredChars].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const take = Math.max(0, Math.min(cand.length, cfg.seedSize - chars.length));
  const pieces: number[][] = [];
  const strings: string[] = [];
  const raw: number[] = [];
  for (const [cp, c] of chars) {
    pieces.push([cp]);
    strings.push(String.fromCodePoint(cp));
    raw.push(c);
    trie.value[trie.childOrInsert(0, cp)] = pieces.length - 1;
  }
  for (let k = 0; k < take; k++) {
    const node = cand[order[k]!]!;
    const cps = trie.spell(node);
    trie.value[node] = pieces.length;
    pieces.push(cps);
    strings.push(String.fromCodePoint(...cps));
    raw.push(key[order[k]!]!);
  }
  let sum = 0;
  for (const r of raw) sum += r;
  const logSum = Math.log(sum);
  const scores = new Float64Array(raw.length);
  for (let i = 0; i < raw.length; i++) scores[i] = Math.log(raw[i]!) - logSum;
  return { pieces, strings, scores, trie, walk };
}

/** Lattice edges of every word, grouped by word and ordered by start position. */
class Lattices {
  start: Int32Array;
  end: Int32Array;
  id: Int32Array;
  /** Edge range of word w is `[off[w], off[w+1])`. */
  off: Int32Array;
  len: Int32Array;
  freq: Float64Array;

  /**
   * @param walk the trie nodes visited while counting substrings, in the order `makeSeeds` visited them (per
   *   word, per start, per end): every lattice edge is read from it without touching the trie again.
   */
  constructor(words: TrainWord[], trie: PieceTrie, maxLen: number, walk: Int32Array) {
    let cap = 1 << 16;
    let start = new Int32Array(cap), end = new Int32Array(cap), id = new Int32Array(cap);
    const off = new Int32Array(words.length + 1);
    let n = 0, k = 0;
    const value = trie.value;
    for (let w = 0; w < words.length; w++) {
      const L = words[w]!.cps.length;
      off[w] = n;
      for (let i = 0; i < L; i++) {
        const stop = Math.min(L, i + maxLen);
        for (let j = i; j < stop; j++) {
          const v = value[walk[k++]!]!;
          if (v < 0) continue;
          if (n === cap) {
            cap *= 2;
            const s2 = new Int32Array(cap), e2 = new Int32Array(cap), i2 = new Int32Array(cap);
            s2.set(start), e2.set(end), i2.set(id);
            start = s2, end = e2, id = i2;
          }
          start[n] = i, end[n] = j + 1, id[n] = v;
          n++;
        }
      }
    }
    off[words.length] = n;
    this.start = start.subarray(0, n), this.end = end.subarray(0, n), this.id = id.subarray(0, n);
    this.off = off;
    this.len = Int32Array.from(words, (w) => w.cps.length);
    this.freq = Float64Array.from(words, (w) => w.freq);
  }

  /** Drop the edges of dead pieces (score -Infinity). */
  compact(scores: Float64Array): void {
    let n = 0;
    const { start, end, id, off } = this;
    for (let w = 0; w < off.length - 1; w++) {
      const a = off[w]!, b = off[w + 1]!;
      off[w] = n;
      for (let e = a; e < b; e++) {
        if (scores[id[e]!] === -Infinity) continue;
        start[n] = start[e]!, end[n] = end[e]!, id[n] = id[e]!;
        n++;
      }
    }
    off[off.length - 1] = n;
    this.start = start.subarray(0, n), this.end = end.subarray(0, n), this.id = id.subarray(0, n);
  }
}

/**
 * Expected piece counts by forward-backward over every lattice. Short segments run in probability space
 * (`exp(score)` once per piece); a segment whose total probability underflows is redone in log space.
 */
function eStep(lat: Lattices, scores: Float64Array): Float64Array {
  const expected = new Float64Array(scores.length);
  const prob = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) prob[i] = Math.exp(scores[i]!);
  const { start, end, id, off, len, freq } = lat;
  let alpha = new Float64Array(64), beta = new Float64Array(64);
  for (let w = 0; w < len.length; w++) {
    const L = len[w]!, a = off[w]!, b = off[w + 1]!;
    if (alpha.length <= L) alpha = new Float64Array(2 * L + 2), beta = new Float64Array(2 * L + 2);
    if (L <= 40) {
      alpha.fill(0, 0, L + 1);
      beta.fill(0, 0, L + 1);
      alpha[0] = 1;
      for (let e = a; e < b; e++) alpha[end[e]!]! += alpha[start[e]!]! * prob[id[e]!]!;
      const z = alpha[L]!;
      if (z > 1e-250) {
        beta[L] = 1;
        const fz = freq[w]! / z;
        for (let e = b - 1; e >= a; e--) {
          const pid = id[e]!, p = prob[pid]!;
          const s = start[e]!, bt = beta[end[e]!]!;
          beta[s]! += p * bt;
          expected[pid]! += fz * alpha[s]! * p * bt;
        }
        continue;
      }
    }
    alpha.fill(-Infinity, 0, L + 1);
    beta.fill(-Infinity, 0, L + 1);
    alpha[0] = 0;
    for (let e = a; e < b; e++) {
      const sc = scores[id[e]!]!;
      if (sc === -Infinity) continue;
      const t = end[e]!;
      alpha[t] = logAdd(alpha[t]!, alpha[start[e]!]! + sc);
    }
    const z = alpha[L]!;
    if (z === -Infinity) continue;
    beta[L] = 0;
    const f = freq[w]!;
    for (let e = b - 1; e >= a; e--) {
      const pid = id[e]!;
      const sc = scores[pid]!;
      if (sc === -Infinity) continue;
      const s = start[e]!, bt = beta[end[e]!]!;
      beta[s] = logAdd(beta[s]!, sc + bt);
      expected[pid]! += f * Math.exp(alpha[s]! + sc + bt - z);
    }
  }
  return expected;
}

/** Viterbi counts: how often each piece is used in the best segmentation of every word. */
function viterbiCounts(lat: Lattices, scores: Float64Array): Float64Array {
  const counts = new Float64Array(scores.length);
  const { start, end, id, off, len, freq } = lat;
  let best = new Float64Array(64), back = new Int32Array(64);
  for (let w = 0; w < len.length; w++) {
    const L = len[w]!, a = off[w]!, b = off[w + 1]!;
    if (best.length <= L) best = new Float64Array(2 * L + 2), back = new Int32Array(2 * L + 2);
    best.fill(-Infinity, 0, L + 1);
    best[0] = 0;
    for (let e = a; e < b; e++) {
      const sc = scores[id[e]!]!;
      if (sc === -Infinity) continue;
      const t = end[e]!, v = best[start[e]!]! + sc;
      if (v > best[t]!) best[t] = v, back[t] = e;
    }
    if (best[L] === -Infinity) continue;
    const f = freq[w]!;
    for (let p = L; p > 0;) {
      const e = back[p]!;
      counts[id[e]!]! += f;
      p = start[e]!;
    }
  }
  return counts;
}

/** Best segmentation of a piece that does not use the piece itself: `[score, ids]`, or null when none. */
function alternative(
  cps: number[],
  self: number,
  trie: PieceTrie,
  scores: Float64Array,
): [number, number[]] | null {
  const L = cps.length;
  const best = new Float64Array(L + 1).fill(-Infinity);
  const backPos = new Int32Array(L + 1), backId = new Int32Array(L + 1);
  best[0] = 0;
  for (let i = 0; i < L; i++) {
    if (best[i] === -Infinity) continue;
    let node = 0;
    for (let j = i; j < L; j++) {
      node = trie.child(node, cps[j]!);
      if (node < 0) break;
      const v = trie.value[node]!;
      if (v < 0 || v === self) continue;
      const sc = scores[v]!;
      if (sc === -Infinity) continue;
      const cand = best[i]! + sc;
      if (cand > best[j + 1]!) best[j + 1] = cand, backPos[j + 1] = i, backId[j + 1] = v;
    }
  }
  if (best[L] === -Infinity) return null;
  const ids: number[] = [];
  for (let p = L; p > 0; p = backPos[p]!) ids.push(backId[p]!);
  return [best[L]!, ids];
}

/** One pruning round; returns the number of pieces alive afterwards. */
function prune(
  seeds: Seeds,
  lat: Lattices,
  scores: Float64Array,
  desired: number,
  cfg: UnigramConfig,
  removedAt: Float64Array,
  round: number,
): number {
  const n = scores.length;
  const freq = viterbiCounts(lat, scores);
  let sum = 0, vsum = 0, alive = 0;
  for (let i = 0; i < n; i++) {
    sum += freq[i]!;
    if (scores[i] !== -Infinity) alive++;
  }
  for (let w = 0; w < lat.freq.length; w++) vsum += lat.freq[w]!;
  const logSum = Math.log(sum);
  // a compact trie of the live pieces only: far smaller (and cache-friendlier) than the seed trie
  const live = new PieceTrie(alive * 4);
  for (let i = 0; i < n; i++) if (scores[i] !== -Infinity) live.insert(seeds.pieces[i]!, i);
  const keep: number[] = [];
  const candidates: Array<[number, number]> = [];
  const drop: number[] = [];
  for (let i = 0; i < n; i++) {
    if (scores[i] === -Infinity) continue;
    const cps = seeds.pieces[i]!;
    if (cps.length === 1) {
      keep.push(i); // required characters are never pruned
      continue;
    }
    if (freq[i] === 0) {
      drop.push(i); // unused by the Viterbi segmentation of the corpus
      continue;
    }
    const alt = alternative(cps, i, live, scores);
    if (alt === null) {
      keep.push(i);
      continue;
    }
    if (alt[0] > scores[i]!) {
      drop.push(i);
      continue;
    }
    const f = freq[i]!;
    const logSumAlt = Math.log(sum + f * (alt[1].length - 1));
    let logProbAlt = 0;
    for (const a of alt[1]) logProbAlt += Math.log(freq[a]! + f) - logSumAlt;
    const loss = (f / vsum) * (Math.log(f) - logSum - logProbAlt);
    candidates.push([i, loss]);
  }
  const prunedSize = Math.max(desired, Math.floor(cfg.shrinkingFactor * alive));
  candidates.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  let size = keep.length;
  for (const [i] of candidates) {
    if (size < prunedSize) size++;
    else drop.push(i);
  }
  for (const i of drop) {
    removedAt[i] = round + 1e-9 * (scores[i]! + 1000);
    scores[i] = -Infinity;
  }
  return size;
}

/**
 * Train a unigram model on distinct segments.
 *
 * @returns the pieces as `[string, score]`, highest score first, exactly `cfg.targetSize` of them.
 */
export function trainUnigram(words: TrainWord[], cfg: UnigramConfig): Array<[string, number]> {
  const seeds = makeSeeds(words, cfg);
  const n = seeds.pieces.length;
  if (n < cfg.targetSize) {
    throw new Error(
      `subword: vocabSize too large for this corpus: the unigram model can have at most ${n} normal pieces ` +
        `(${cfg.requiredChars.size} characters + ${n - cfg.requiredChars.size} repeated substrings), ` +
        `${cfg.targetSize} were asked; lower vocabSize or give more text`,
    );
  }
  const trie = seeds.trie;
  const lat = new Lattices(words, trie, cfg.maxPieceLength, seeds.walk);
  seeds.walk = new Int32Array(0);
  const scores = seeds.scores;
  const removedAt = new Float64Array(n).fill(-Infinity);
  const desired = Math.floor(cfg.targetSize * 1.1);
  for (let round = 0;; round++) {
    let alive = 0;
    for (let it = 0; it < cfg.numSubIterations; it++) {
      const expected = eStep(lat, scores);
      let sum = 0;
      alive = 0;
      for (let i = 0; i < n; i++) {
        if (scores[i] === -Infinity) continue;
        if (expected[i]! < 0.5 && seeds.pieces[i]!.length > 1) {
          removedAt[i] = round - 0.5 + 1e-9 * (scores[i]! + 1000);
          scores[i] = -Infinity;
          continue;
        }
        sum += expected[i]!;
        alive++;
      }
      const logSum = digamma(sum);
      for (let i = 0; i < n; i++) {
        if (scores[i] !== -Infinity) scores[i] = digamma(Math.max(expected[i]!, 1e-3)) - logSum;
      }
    }
    if (alive <= desired) break;
    const left = prune(seeds, lat, scores, desired, cfg, removedAt, round);
    if (left >= alive) break; // nothing prunable is left (every piece is needed); finalize ranks by score
    lat.compact(scores);
  }
  return finalize(seeds, scores, removedAt, cfg.targetSize);
}

function finalize(
  seeds: Seeds,
  scores: Float64Array,
  removedAt: Float64Array,
  target: number,
): Array<[string, number]> {
  const n = scores.length;
  const chars: number[] = [], rest: number[] = [];
  for (let i = 0; i < n; i++) (seeds.pieces[i]!.length === 1 ? chars : rest).push(i);
  rest.sort((a, b) => {
    const sa = scores[a]!, sb = scores[b]!;
    if (sa !== sb) return sb > sa ? 1 : -1;
    return removedAt[b]! - removedAt[a]! || a - b; // pruned late ranks before pruned early
  });
  let minScore = 0;
  for (let i = 0; i < n; i++) if (scores[i] !== -Infinity && scores[i]! < minScore) minScore = scores[i]!;
  const out: Array<[string, number]> = [];
  for (const i of chars) out.push([seeds.strings[i]!, scores[i]!]);
  let penalty = 1;
  for (let k = 0; out.length < target && k < rest.length; k++) {
    const i = rest[k]!;
    const sc = scores[i] === -Infinity ? minScore - penalty++ * 1e-3 : scores[i]!;
    out.push([seeds.strings[i]!, sc]);
  }
  out.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return out;
}
