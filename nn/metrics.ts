/**
 * Metrics on plain arrays (read back from the device once per batch or epoch): accuracy, perplexity, corpus
 * BLEU, and fastai's smoothed training loss.
 *
 * @example Accuracy and perplexity
 * ```ts
 * import { accuracy, perplexity } from "./metrics.ts";
 * if (accuracy([1, 2, 3, 4], [1, 2, 0, 4]) !== 0.75) throw new Error("accuracy");
 * if (Math.abs(perplexity(Math.log(20)) - 20) > 1e-9) throw new Error("perplexity");
 * ```
 *
 * @module
 */

/** Options of {@linkcode accuracy}. */
export interface AccuracyOptions {
  /** Targets equal to this id (padding) are left out of the count. */
  ignoreIndex?: number;
}

/**
 * Fraction of predicted ids equal to their targets.
 *
 * @param predicted predicted class ids
 * @param targets target class ids, same length
 * @returns accuracy in [0, 1] (NaN when every target is ignored)
 */
export function accuracy(
  predicted: ArrayLike<number>,
  targets: ArrayLike<number>,
  { ignoreIndex }: AccuracyOptions = {},
): number {
  if (predicted.length !== targets.length) {
    throw new Error(`accuracy: ${predicted.length} predictions for ${targets.length} targets`);
  }
  let hit = 0, n = 0;
  for (let i = 0; i < targets.length; i++) {
    if (targets[i] === ignoreIndex) continue;
    n++;
    if (predicted[i] === targets[i]) hit++;
  }
  return hit / n;
}

/**
 * Index of the largest value of each row of a row-major `(rows, cols)` matrix.
 *
 * @param values `rows * cols` numbers
 * @param cols row length (number of classes)
 * @returns one index per row
 */
export function argmaxRows(values: ArrayLike<number>, cols: number): Int32Array {
  if (cols <= 0 || values.length % cols !== 0) {
    throw new Error(`argmaxRows: ${values.length} values do not split into rows of ${cols}`);
  }
  const rows = values.length / cols;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = -Infinity, arg = 0;
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c]!;
      if (v > best) {
        best = v;
        arg = c;
      }
    }
    out[r] = arg;
  }
  return out;
}

/**
 * Accuracy of row-major logits `(rows, cols)` against `rows` targets.
 *
 * @param logits scores, one row per target
 * @param targets class ids
 * @returns accuracy in [0, 1]
 */
export function accuracyFromLogits(
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  options: AccuracyOptions = {},
): number {
  if (targets.length === 0 || logits.length % targets.length !== 0) {
    throw new Error(`accuracyFromLogits: ${logits.length} logits for ${targets.length} targets`);
  }
  return accuracy(argmaxRows(logits, logits.length / targets.length), targets, options);
}

/** Perplexity of a mean cross-entropy loss in nats: `exp(loss)`. */
export function perplexity(loss: number): number {
  return Math.exp(loss);
}

/** Options of {@linkcode corpusBleu}. */
export interface BleuOptions {
  /** Longest n-gram. @default 4 */
  maxN?: number;
  /** Add-one smoothing of the n-gram precisions for n > 1 (Lin & Och 2004), for short texts. @default false */
  smooth?: boolean;
}

function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join("\u0000");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * Corpus BLEU (Papineni et al. 2002, https://aclanthology.org/P02-1040): clipped n-gram counts summed over the
 * corpus, geometric mean of the precisions for n = 1..maxN, times the brevity penalty `exp(1 - r/c)` when the
 * candidates are shorter than the references (`c < r`).
 *
 * @param candidates tokenized system outputs
 * @param references one tokenized reference per candidate
 * @returns BLEU in [0, 1]
 */
export function corpusBleu(
  candidates: readonly (readonly string[])[],
  references: readonly (readonly string[])[],
  { maxN = 4, smooth = false }: BleuOptions = {},
): number {
  if (candidates.length !== references.length) {
    throw new Error(`corpusBleu: ${candidates.length} candidates for ${references.length} references`);
  }
  const matches = new Array<number>(maxN).fill(0), totals = new Array<number>(maxN).fill(0);
  let c = 0, r = 0;
  for (let s = 0; s < candidates.length; s++) {
    const cand = candidates[s]!, ref = references[s]!;
    c += cand.length;
    r += ref.length;
    for (let n = 1; n <= maxN; n++) {
      const refCounts = ngramCounts(ref, n);
      for (const [gram, count] of ngramCounts(cand, n)) {
        matches[n - 1]! += Math.min(count, refCounts.get(gram) ?? 0);
      }
      totals[n - 1]! += Math.max(0, cand.length - n + 1);
    }
  }
  if (c === 0) return 0;
  let logSum = 0;
  for (let n = 0; n < maxN; n++) {
    const add = smooth && n > 0 ? 1 : 0;
    const m = matches[n]! + add, t = totals[n]! + add;
    if (m === 0 || t === 0) return 0;
    logSum += Math.log(m / t);
  }
  const bp = c < r ? Math.exp(1 - r / c) : 1;
  return bp * Math.exp(logSum / maxN);
}

/**
 * fastai's smoothed training loss: an exponential moving average debiased like Adam's moments,
 * `avg = beta * avg + (1 - beta) * loss`, `value = avg / (1 - beta^count)`.
 */
export class SmoothedLoss {
  /** Smoothing factor. */
  readonly beta: number;
  #avg = 0;
  #count = 0;
  /**
   * Create a SmoothedLoss.
   * @param beta smoothing factor @default 0.98
   */
  constructor(beta = 0.98) {
    if (!(beta >= 0 && beta < 1)) throw new Error(`SmoothedLoss: beta must be in [0, 1), got ${beta}`);
    this.beta = beta;
  }
  /** Add one loss value; returns the new smoothed value. */
  update(loss: number): number {
    this.#count++;
    this.#avg = this.beta * this.#avg + (1 - this.beta) * loss;
    return this.value;
  }
  /** The debiased average (NaN before the first update). */
  get value(): number {
    return this.#count === 0 ? NaN : this.#avg / (1 - this.beta ** this.#count);
  }
  /** Number of values seen. */
  get count(): number {
    return this.#count;
  }
  /** Forget every value. */
  reset(): void {
    this.#avg = 0;
    this.#count = 0;
  }
  /** The running state (for training checkpoints): the biased average and the number of values. */
  state(): { avg: number; count: number } {
    return { avg: this.#avg, count: this.#count };
  }
  /** Continue from a {@linkcode SmoothedLoss.state}. */
  restore(state: { avg: number; count: number }): void {
    this.#avg = state.avg;
    this.#count = state.count;
  }
}

/** A running mean weighted by batch size (validation loss and metrics over an epoch). */
export class WeightedMean {
  #sum = 0;
  #weight = 0;
  /** Add `value` with `weight` (e.g. the number of items it averages). */
  add(value: number, weight = 1): void {
    this.#sum += value * weight;
    this.#weight += weight;
  }
  /** The mean so far (NaN when empty). */
  get value(): number {
    return this.#sum / this.#weight;
  }
}
