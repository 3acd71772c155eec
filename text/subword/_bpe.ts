/**
 * Byte-pair-encoding training (Sennrich et al. 2016, https://arxiv.org/abs/1508.07909) with incremental pair
 * counts: every distinct segment is a doubly linked list of symbols; a merge visits only the recorded positions of
 * the merged pair, updates the counts of the neighbouring pairs it destroys and creates, and pushes the changed
 * counts on a max-heap with lazy deletion (a popped entry whose count is stale is skipped). Nothing is recounted.
 *
 * Ties on count go to the lexicographically smaller merged string (as SentencePiece's BPE trainer does).
 *
 * @module
 */
import type { TrainWord } from "./_unigram.ts";

const KEY_MUL = 2 ** 21; // pair key = left * KEY_MUL + right (symbol ids stay below 2^21)

class PairHeap {
  counts: number[] = [];
  keys: number[] = [];
  constructor(readonly name: (key: number) => string) {}

  #less(i: number, j: number): boolean {
    // true when entry i should be popped before entry j
    const ci = this.counts[i]!, cj = this.counts[j]!;
    if (ci !== cj) return ci > cj;
    return this.name(this.keys[i]!) < this.name(this.keys[j]!);
  }

  #swap(i: number, j: number): void {
    const c = this.counts[i]!, k = this.keys[i]!;
    this.counts[i] = this.counts[j]!, this.keys[i] = this.keys[j]!;
    this.counts[j] = c, this.keys[j] = k;
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(i, p)) break;
      this.#swap(i, p);
      i = p;
    }
  }

  pop(): [number, number] | null {
    const n = this.counts.length;
    if (n === 0) return null;
    const top: [number, number] = [this.counts[0]!, this.keys[0]!];
    const lastC = this.counts.pop()!, lastK = this.keys.pop()!;
    if (n > 1) {
      this.counts[0] = lastC, this.keys[0] = lastK;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < n - 1 && this.#less(l, m)) m = l;
        if (r < n - 1 && this.#less(r, m)) m = r;
        if (m === i) break;
        this.#swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

/**
 * Train BPE on distinct segments.
 *
 * @param words distinct segments with counts; code points outside `chars` must already be removed.
 * @param chars the required characters, most frequent first (they become the first symbols).
 * @param targetSize number of normal pieces wanted (characters included).
 * @param maxPieceLength longest merged piece in code points.
 * @returns `[string, score]` pairs, merges first in merge order (score `-rank`), then the characters.
 */
export function trainBpe(
  words: TrainWord[],
  chars: number[],
  targetSize: number,
  maxPieceLength: number,
): Array<[string, number]> {
  const symStr: string[] = chars.map((c) => String.fromCodePoint(c));
  const symLen: number[] = chars.map(() => 1);
  const charId = new Map<number, number>(chars.map((c, i) => [c, i]));
  let total = 0;
  for (const w of words) total += w.cps.length;
  const sym = new Int32Array(total), next = new Int32Array(total), prev = new Int32Array(total);
  const wordFreq = new Float64Array(total);
  let p = 0;
  for (const w of words) {
    const start = p;
    for (let i = 0; i < w.cps.length; i++, p++) {
      const id = charId.get(w.cps[i]!);
      if (id === undefined) throw new Error(`subword: BPE got a character outside the alphabet: ${w.cps[i]}`);
      sym[p] = id;
      prev[p] = p === start ? -1 : p - 1;
      next[p] = i === w.cps.length - 1 ? -1 : p + 1;
      wordFreq[p] = w.freq;
    }
  }
  const counts = new Map<number, number>();
  const where = new Map<number, number[]>();
  const name = (key: number) => symStr[Math.floor(key / KEY_MUL)]! + symStr[key % KEY_MUL]!;
  const add = (a: number, b: number, pos: number, f: number) => {
    if (symLen[a]! + symLen[b]! > maxPieceLength) return;
    const key = a * KEY_MUL + b;
    counts.set(key, (counts.get(key) ?? 0) + f);
    let list = where.get(key);
    if (list === undefined) where.set(key, list = []);
    list.push(pos);
  };
  const sub = (a: number, b: number, f: number, changed: Set<number>) => {
    const key = a * KEY_MUL + b;
    const c = counts.get(key);
    if (c === undefined) return;
    counts.set(key, c - f);
    changed.add(key);
  };
  for (let i = 0; i < total; i++) if (next[i]! >= 0) add(sym[i]!, sym[next[i]!]!, i, wordFreq[i]!);
  const heap = new PairHeap(name);
  for (const [key, c] of counts) heap.push(c, key);

  const merges: string[] = [];
  while (symStr.length < targetSize) {
    const top = heap.pop();
    if (top === null) {
      throw new Error(
        `subword: vocabSize too large for this corpus: BPE ran out of pairs to merge after ${merges.length} ` +
          `merges (${symStr.length} normal pieces, ${targetSize} asked); lower vocabSize or give more text`,
      );
    }
    const [c, key] = top;
    if (counts.get(key) !== c || c <= 0) continue; // stale entry
    const a = Math.floor(key / KEY_MUL), b = key % KEY_MUL;
    const id = symStr.length;
    symStr.push(symStr[a]! + symStr[b]!);
    symLen.push(symLen[a]! + symLen[b]!);
    merges.push(symStr[id]!);
    const positions = where.get(key)!;
    positions.sort((x, y) => x - y);
    counts.delete(key);
    where.delete(key);
    const changed = new Set<number>();
    for (const pos of positions) {
      const r = next[pos]!;
      if (sym[pos] !== a || r < 0 || sym[r] !== b) continue; // consumed by an earlier merge
      const f = wordFreq[pos]!;
      const l = prev[pos]!, rr = next[r]!;
      if (l >= 0) sub(sym[l]!, a, f, changed);
      if (rr >= 0) sub(b, sym[rr]!, f, changed);
      sym[pos] = id;
      sym[r] = -1;
      next[pos] = rr;
      if (rr >= 0) prev[rr] = pos;
      if (l >= 0) {
        add(sym[l]!, id, l, f);
        changed.add(sym[l]! * KEY_MUL + id);
      }
      if (rr >= 0) {
        add(id, sym[rr]!, pos, f);
        changed.add(id * KEY_MUL + sym[rr]!);
      }
    }
    for (const k of changed) {
      const cc = counts.get(k);
      if (cc !== undefined && cc > 0) heap.push(cc, k);
    }
  }
  const out: Array<[string, number]> = merges.map((m, k) => [m, 0 - k]);
  chars.forEach((c, k) => out.push([String.fromCodePoint(c), -(merges.length + k)]));
  return out;
}
