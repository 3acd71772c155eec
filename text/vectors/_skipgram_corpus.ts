/**
 * The skip-gram trainer's corpus: one pass over the source counts words and stores provisional ids; then the
 * vocabulary is cut at `minCount`, sorted by count (most frequent first, ties in first-seen order) and the id
 * stream is remapped, dropping the rare words as fastText does (they do not break a window). Lines become
 * training "sentences" of at most `maxLineTokens` tokens, each ending with the end-of-line token (fastText's
 * `</s>`).
 *
 * @module
 */
import { readLines } from "../readers/_common.ts";
import { ReaderError } from "../readers/types.ts";

/** Where the text comes from: a file path (whitespace-separated tokens, one sentence per line), lines, or
 * token lists. */
export type SkipGramSource =
  | string
  | Iterable<string | readonly string[]>
  | AsyncIterable<string | readonly string[]>;

/** The encoded corpus. */
export interface SkipGramCorpus {
  /** Vocabulary, most frequent first. */
  words: string[];
  /** Count of each word. */
  counts: Float64Array;
  /** Token ids of every kept token, line after line. */
  ids: Int32Array;
  /** Start of each line in `ids`, plus the end (`lines + 1` entries). */
  lineStarts: Int32Array;
  /** Every token read, rare words included (fastText's `ntokens`, for subsampling frequencies). */
  totalTokens: number;
}

class IntBuffer {
  data = new Int32Array(1 << 16);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const b = new Int32Array(this.data.length * 2);
      b.set(this.data);
      this.data = b;
    }
    this.data[this.length++] = v;
  }
}

const SPLIT = /[ \t\r\v\f\0]+/;

async function* sentences(source: SkipGramSource): AsyncGenerator<readonly string[]> {
  if (typeof source === "string") {
    for await (const line of readLines(source)) {
      if (line.bad) throw new ReaderError(source, line.n, "invalid UTF-8");
      yield line.text.split(SPLIT).filter((t) => t !== "");
    }
    return;
  }
  for await (const s of source as AsyncIterable<string | readonly string[]>) {
    yield typeof s === "string" ? s.split(SPLIT).filter((t) => t !== "") : s;
  }
}

/** Options of {@linkcode buildSkipGramCorpus}. */
export interface CorpusOptions {
  /** Words seen fewer times are dropped. */
  minCount: number;
  /** End-of-line token appended to every line, or null for none. */
  eos: string | null;
  /** Longer lines are cut into pieces of this many tokens. */
  maxLineTokens: number;
}

/** Read the source once and encode it (see the module doc). */
export async function buildSkipGramCorpus(
  source: SkipGramSource,
  opts: CorpusOptions,
): Promise<SkipGramCorpus> {
  const index = new Map<string, number>();
  const names: string[] = [];
  const counts: number[] = [];
  const raw = new IntBuffer(), starts = new IntBuffer();
  const add = (tok: string) => {
    let id = index.get(tok);
    if (id === undefined) {
      id = names.length;
      index.set(tok, id);
      names.push(tok);
      counts.push(0);
    }
    counts[id]!++;
    raw.push(id);
  };
  for await (const toks of sentences(source)) {
    if (toks.length === 0) continue;
    starts.push(raw.length);
    for (const t of toks) add(t);
    if (opts.eos !== null) add(opts.eos);
  }
  const order = names.map((_, i) => i).filter((i) => counts[i]! >= opts.minCount);
  order.sort((a, b) => counts[b]! - counts[a]! || a - b);
  const remap = new Int32Array(names.length).fill(-1);
  order.forEach((old, i) => (remap[old] = i));
  const ids = new IntBuffer(), lineStarts = new IntBuffer();
  for (let l = 0; l < starts.length; l++) {
    const end = l + 1 < starts.length ? starts.data[l + 1]! : raw.length;
    let inLine = 0;
    for (let k = starts.data[l]!; k < end; k++) {
      const id = remap[raw.data[k]!]!;
      if (id < 0) continue;
      if (inLine % opts.maxLineTokens === 0) lineStarts.push(ids.length);
      ids.push(id);
      inLine++;
    }
  }
  lineStarts.push(ids.length);
  return {
    words: order.map((i) => names[i]!),
    counts: Float64Array.from(order, (i) => counts[i]!),
    ids: ids.data.slice(0, ids.length),
    lineStarts: lineStarts.data.slice(0, lineStarts.length),
    totalTokens: raw.length,
  };
}
