/**
 * Word vectors trained from text: skip-gram with negative sampling (Mikolov et al. 2013,
 * https://arxiv.org/abs/1310.4546) as fastText trains it (`fasttext skipgram -maxn 0`: word vectors without
 * character n-grams), with fastText's defaults: dim 100, a window drawn in 1..5 per word, 5 negatives,
 * subsampling t = 1e-4 (`keep if rand <= sqrt(t/f) + t/f`), min count 5, 5 epochs, a learning rate decaying
 * linearly to 0 (0.025 here, word2vec's skip-gram value; fastText's is 0.05), lines ending with `</s>`.
 * Negatives come from the unigram distribution to the power 0.75 (word2vec; fastText uses 0.5: set
 * `negativePower`).
 *
 * Threads are Workers sharing the vectors through SharedArrayBuffers and updating them without locks
 * (Hogwild!), as fastText does; one thread gives the same vectors for the same seed, several threads do not
 * (the update order races). Why not batched tensor ops: each step touches 7 rows of 100 floats, so a batch
 * would be gathers and scatter-adds of tiny rows, dominated by dispatch overhead on either backend.
 *
 * {@linkcode trainSkipGramVectors} does the whole job from a text file or token stream to a `.vec` file.
 *
 * @example Train on a tiny corpus
 * ```ts
 * import { trainSkipGram } from "./skipgram.ts";
 * const lines = Array.from({ length: 200 }, (_, i) => i % 2 ? "le chat mange la souris" : "le chien mange la viande");
 * const r = await trainSkipGram(lines, { dim: 10, minCount: 1, epochs: 2, threads: 1, seed: 1 });
 * if (r.vectors.size !== 8 || r.vectors.dim !== 10 || !r.vectors.has("</s>")) throw new Error("train");
 * ```
 *
 * @module
 */
import { Rng } from "../../gpu/rng.ts";
import type { SkipGramJob, SkipGramShared } from "./_skipgram_core.ts";
import { buildSkipGramCorpus, type SkipGramCorpus, type SkipGramSource } from "./_skipgram_corpus.ts";
import { CosineIndex, type Neighbour } from "./neighbours.ts";
import { writeVec } from "./text_format.ts";
import { WordVectors } from "./word_vectors.ts";

export type { SkipGramSource } from "./_skipgram_corpus.ts";

/** Progress of a training run. */
export interface SkipGramProgress {
  /** Fraction of the work done, 0..1. */
  progress: number;
  /** Current learning rate. */
  lr: number;
  /** Mean logistic loss so far. */
  loss: number;
  /** Tokens per second per thread so far (fastText's "words/sec/thread"). */
  wordsPerSecondPerThread: number;
  /** Seconds since training started (after reading the corpus). */
  seconds: number;
}

/** Options of {@linkcode trainSkipGram}. */
export interface SkipGramOptions {
  /** Vector size. @default {100} */
  dim?: number;
  /** Largest context window (each word draws its window in 1..window). @default {5} */
  window?: number;
  /** Negatives per context word. @default {5} */
  negatives?: number;
  /** Power of the unigram counts for negative sampling (word2vec 0.75, fastText 0.5). @default {0.75} */
  negativePower?: number;
  /** Subsampling threshold t. @default {1e-4} */
  sample?: number;
  /** Starting learning rate (decays linearly to 0). @default {0.025} */
  lr?: number;
  /** Words seen fewer times are dropped. @default {5} */
  minCount?: number;
  /** Passes over the corpus. @default {5} */
  epochs?: number;
  /** Worker threads. @default {navigator.hardwareConcurrency} */
  threads?: number;
  /** Seed of the initial vectors and of every thread's draws. @default {1} */
  seed?: number;
  /** End-of-line token appended to each line (fastText `</s>`), or null. @default {"</s>"} */
  eos?: string | null;
  /** Longer lines are cut (fastText: 1024). @default {1024} */
  maxLineTokens?: number;
  /** Called about every `progressEvery` ms while training, and once at the end. */
  onProgress?: (p: SkipGramProgress) => void;
  /** Milliseconds between progress calls. @default {1000} */
  progressEvery?: number;
}

/** What {@linkcode trainSkipGram} returns. */
export interface SkipGramResult {
  /** The word (input) vectors, most frequent word first. */
  vectors: WordVectors;
  /** Count of each word in the corpus. */
  counts: number[];
  /** Tokens of one pass (words kept by `minCount`, `</s>` included). */
  epochTokens: number;
  /** Threads used. */
  threads: number;
  /** Seconds spent reading the corpus. */
  readSeconds: number;
  /** The final progress report (training time, speed, loss). */
  final: SkipGramProgress;
}

const NEG_TABLE_MAX = 10_000_000;

function sharedOf<T extends Float32Array | Int32Array>(
  Ctor: { new (b: SharedArrayBuffer): T },
  n: number,
): T {
  return new Ctor(new SharedArrayBuffer(Math.max(1, n) * 4));
}

function negativeTable(counts: Float64Array, power: number): Int32Array {
  const size = Math.min(NEG_TABLE_MAX, Math.max(100_000, counts.length * 1000));
  let z = 0;
  for (const c of counts) z += c ** power;
  const ids: number[] = [];
  counts.forEach((c, i) => {
    const reps = Math.ceil((c ** power * size) / z);
    for (let j = 0; j < reps; j++) ids.push(i);
  });
  const t = sharedOf(Int32Array, ids.length);
  t.set(ids);
  return t;
}

function sharedArrays(
  c: SkipGramCorpus,
  o: Required<Pick<SkipGramOptions, "dim" | "seed" | "sample" | "negativePower">>,
  threads: number,
): SkipGramShared {
  const V = c.words.length;
  const input = sharedOf(Float32Array, V * o.dim);
  const rng = new Rng(o.seed);
  for (let i = 0; i < input.length; i++) input[i] = (rng.random() * 2 - 1) / o.dim; // fastText: U(-1/dim, 1/dim)
  const ids = sharedOf(Int32Array, c.ids.length), lineStarts = sharedOf(Int32Array, c.lineStarts.length);
  ids.set(c.ids);
  lineStarts.set(c.lineStarts);
  const pdiscard = sharedOf(Float32Array, V);
  c.counts.forEach((n, i) => {
    const f = n / c.totalTokens;
    pdiscard[i] = Math.sqrt(o.sample / f) + o.sample / f;
  });
  return {
    input,
    output: sharedOf(Float32Array, V * o.dim),
    ids,
    lineStarts,
    negTable: negativeTable(c.counts, o.negativePower),
    pdiscard,
    progress: new BigInt64Array(new SharedArrayBuffer(8)),
    stats: new Float64Array(new SharedArrayBuffer(16 * threads)),
  };
}

/** Cut the lines into `threads` contiguous ranges of about equal token counts. */
function lineRanges(lineStarts: Int32Array, threads: number): [number, number][] {
  const lines = lineStarts.length - 1, total = lineStarts[lines]!;
  const out: [number, number][] = [];
  let from = 0;
  for (let t = 1; t <= threads; t++) {
    let to = from;
    const goal = (total * t) / threads;
    while (to < lines && (t === threads || lineStarts[to + 1]! <= goal)) to++;
    out.push([from, to]);
    from = to;
  }
  return out;
}

function runWorker(shared: SkipGramShared, job: SkipGramJob): Promise<void> {
  const w = new Worker(new URL("./_skipgram_worker.ts", import.meta.url).href, { type: "module" });
  return new Promise<void>((resolve, reject) => {
    w.onmessage = (ev: MessageEvent) => {
      w.terminate();
      if (ev.data.error) reject(new Error(`skip-gram worker ${job.worker}: ${ev.data.error}`));
      else resolve();
    };
    w.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      w.terminate();
      reject(new Error(`skip-gram worker ${job.worker}: ${ev.message}`));
    };
    w.postMessage({ shared, job });
  });
}

/**
 * Train skip-gram word vectors on a corpus.
 *
 * @param source A text file (whitespace-separated tokens, one sentence per line), lines, or token lists.
 * @param options Hyper-parameters (fastText defaults), threads, seed, progress.
 * @returns The vectors (most frequent word first), counts, speed and final loss.
 *
 * @example Same seed on one thread, same vectors
 * ```ts
 * import { trainSkipGram } from "./skipgram.ts";
 * const text = [["un", "deux", "trois"], ["deux", "trois", "quatre"]];
 * const a = await trainSkipGram(text, { dim: 4, minCount: 1, threads: 1, seed: 3 });
 * const b = await trainSkipGram(text, { dim: 4, minCount: 1, threads: 1, seed: 3 });
 * if (a.vectors.data.some((v, i) => v !== b.vectors.data[i])) throw new Error("seeded");
 * ```
 */
export async function trainSkipGram(
  source: SkipGramSource,
  options: SkipGramOptions = {},
): Promise<SkipGramResult> {
  const {
    dim = 100,
    window = 5,
    negatives = 5,
    negativePower = 0.75,
    sample = 1e-4,
    lr = 0.025,
    minCount = 5,
    epochs = 5,
    seed = 1,
    eos = "</s>",
    maxLineTokens = 1024,
    onProgress,
    progressEvery = 1000,
  } = options;
  const threads = Math.max(1, Math.floor(options.threads ?? navigator.hardwareConcurrency));
  for (const [k, v] of Object.entries({ dim, window, epochs, maxLineTokens })) {
    if (!(Number.isInteger(v) && v >= 1)) {
      throw new RangeError(`trainSkipGram: ${k} must be a positive integer, got ${v}`);
    }
  }
  if (!(Number.isInteger(negatives) && negatives >= 0)) {
    throw new RangeError(`trainSkipGram: negatives must be >= 0, got ${negatives}`);
  }
  if (!(lr > 0 && sample > 0)) throw new RangeError(`trainSkipGram: lr and sample must be > 0`);
  const t0 = performance.now();
  const corpus = await buildSkipGramCorpus(source, { minCount, eos, maxLineTokens });
  if (corpus.words.length === 0) throw new Error(`trainSkipGram: no word occurs ${minCount} times or more`);
  const readSeconds = (performance.now() - t0) / 1000;
  const shared = sharedArrays(corpus, { dim, seed, sample, negativePower }, threads);
  // the table is sorted by id: two different ends mean two different words, so a negative draw can end
  const twoWords = shared.negTable[0] !== shared.negTable[shared.negTable.length - 1];
  const epochTokens = corpus.ids.length;
  const start = performance.now();
  const report = (): SkipGramProgress => {
    const done = Number(Atomics.load(shared.progress, 0));
    let loss = 0, steps = 0;
    for (let t = 0; t < threads; t++) {
      [loss, steps] = [loss + shared.stats[2 * t]!, steps + shared.stats[2 * t + 1]!];
    }
    const seconds = (performance.now() - start) / 1000;
    const progress = Math.min(1, done / (epochs * epochTokens));
    return {
      progress,
      lr: lr * (1 - progress),
      loss: steps ? loss / steps : NaN,
      wordsPerSecondPerThread: done / seconds / threads,
      seconds,
    };
  };
  const timer = onProgress ? setInterval(() => onProgress(report()), progressEvery) : undefined;
  try {
    await Promise.all(
      lineRanges(corpus.lineStarts, threads).map(([lineFrom, lineTo], worker) =>
        runWorker(shared, {
          dim,
          window,
          negatives: twoWords ? negatives : 0,
          lr,
          epochs,
          epochTokens,
          lrUpdateRate: 100,
          seed: (seed + Math.imul(worker + 1, 0x9e3779b9)) >>> 0,
          worker,
          lineFrom,
          lineTo,
        })
      ),
    );
  } finally {
    if (timer !== undefined) clearInterval(timer);
  }
  const final = report();
  onProgress?.(final);
  return {
    vectors: new WordVectors(corpus.words, dim, shared.input.slice()),
    counts: Array.from(corpus.counts),
    epochTokens,
    threads,
    readSeconds,
    final,
  };
}

/** Options of {@linkcode trainSkipGramVectors}. */
export interface SkipGramVectorsOptions extends SkipGramOptions {
  /** Words whose nearest neighbours to report (those without a vector are left out). @default {none} */
  neighboursOf?: readonly string[];
  /** Neighbours per word. @default {10} */
  k?: number;
  /** Significant digits in the `.vec`. @default {6} */
  digits?: number;
}

/** What {@linkcode trainSkipGramVectors} returns: the training result and the neighbour report. */
export interface SkipGramVectorsResult extends SkipGramResult {
  /** The `.vec` written. */
  path: string;
  /** Nearest neighbours (cosine) of each asked word that has a vector. */
  neighbours: Record<string, Neighbour[]>;
}

/**
 * The whole job: train skip-gram vectors on a text file or token stream, write them as a `.vec` file
 * (atomically), and report the nearest neighbours of a few words.
 *
 * @param source A text file, lines, or token lists.
 * @param outPath The `.vec` to write.
 * @param options Training options, plus the words to report neighbours of.
 * @returns The training result, the path and the neighbours.
 *
 * @example
 * ```ts
 * import { trainSkipGramVectors } from "./skipgram.ts";
 * const out = await Deno.makeTempFile({ suffix: ".vec" });
 * const lines = Array.from({ length: 100 }, (_, i) => `ouvrir le fichier ${i % 3 ? "texte" : "image"}`);
 * const r = await trainSkipGramVectors(lines, out, { dim: 8, minCount: 1, epochs: 1, threads: 1, neighboursOf: ["fichier"], k: 2 });
 * if (r.neighbours.fichier!.length !== 2 || !(await Deno.readTextFile(out)).startsWith("6 8\n")) throw new Error("vec");
 * await Deno.remove(out);
 * ```
 */
export async function trainSkipGramVectors(
  source: SkipGramSource,
  outPath: string,
  options: SkipGramVectorsOptions = {},
): Promise<SkipGramVectorsResult> {
  const { neighboursOf = [], k = 10, digits = 6, ...train } = options;
  const result = await trainSkipGram(source, train);
  await writeVec(outPath, result.vectors, { digits });
  const index = new CosineIndex(result.vectors);
  const neighbours: Record<string, Neighbour[]> = {};
  for (const w of neighboursOf) if (result.vectors.has(w)) neighbours[w] = index.nearest(w, { k });
  return { ...result, path: outPath, neighbours };
}
