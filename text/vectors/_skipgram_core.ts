/**
 * The skip-gram inner loop, as fastText's `FastText::skipgram` + `Model::update` + `NegativeSamplingLoss`
 * (word rows only, no character n-grams): per line, subsample (`keep if rand <= pdiscard[w]`), then for each
 * center word draw a window `b` in 1..ws and, for every context word within `b`, take the center's input row
 * as the hidden vector and do one logistic step on the context word's output row (label 1) and on `neg`
 * negatives drawn from the unigram table (label 0), accumulating the input gradient, which is added to the
 * center's row at the end. The learning rate decays linearly with the tokens processed by all threads.
 *
 * Runs inside a Worker on SharedArrayBuffer-backed arrays; threads update the same rows without locks
 * (Hogwild!, Recht et al. 2011, https://arxiv.org/abs/1106.5730), as fastText and word2vec do.
 *
 * @module
 */

/** Arrays shared by every worker (SharedArrayBuffer-backed). */
export interface SkipGramShared {
  /** Input (word) vectors `(V, dim)`: the result. */
  input: Float32Array;
  /** Output (context) vectors `(V, dim)`. */
  output: Float32Array;
  /** Token ids, line after line. */
  ids: Int32Array;
  /** Line starts in `ids`, plus the end. */
  lineStarts: Int32Array;
  /** Unigram^power table for negatives. */
  negTable: Int32Array;
  /** Keep probability of each word under subsampling. */
  pdiscard: Float32Array;
  /** `[0]`: tokens processed by all workers. */
  progress: BigInt64Array;
  /** Per worker `[loss sum, logistic steps]`. */
  stats: Float64Array;
}

/** One worker's job. */
export interface SkipGramJob {
  /** Vector size. */
  dim: number;
  /** Largest window. */
  window: number;
  /** Negatives per context word (0 unless the table holds two different words, or the draw never ends). */
  negatives: number;
  /** Starting learning rate. */
  lr: number;
  /** Passes over the lines. */
  epochs: number;
  /** Tokens in one pass over the whole corpus (all workers). */
  epochTokens: number;
  /** Publish progress every this many tokens. */
  lrUpdateRate: number;
  /** RNG seed of this worker. */
  seed: number;
  /** Worker number (its slot in `stats`). */
  worker: number;
  /** First line. */
  lineFrom: number;
  /** One past the last line. */
  lineTo: number;
}

const SIG_SIZE = 512, MAX_SIG = 8, LOG_SIZE = 512;
const SIGMOID = Float32Array.from({ length: SIG_SIZE + 1 }, (_, i) => {
  const x = (i * 2 * MAX_SIG) / SIG_SIZE - MAX_SIG;
  return 1 / (1 + Math.exp(-x));
});
const LOG = Float32Array.from({ length: LOG_SIZE + 1 }, (_, i) => Math.log((i + 1e-5) / LOG_SIZE));

function sigmoid(x: number): number {
  if (x < -MAX_SIG) return 0;
  if (x > MAX_SIG) return 1;
  return SIGMOID[((x + MAX_SIG) * (SIG_SIZE / MAX_SIG / 2)) | 0]!;
}

function flog(x: number): number {
  return x > 1 ? 0 : LOG[(x * LOG_SIZE) | 0]!;
}

/**
 * One logistic step of the context/negative word `t` against the hidden row at `hOff` of `input`;
 * `grad` accumulates the input gradient. Returns the loss.
 */
function logistic(
  input: Float32Array,
  hOff: number,
  output: Float32Array,
  t: number,
  label: number,
  lr: number,
  grad: Float32Array,
  dim: number,
): number {
  const o = t * dim;
  let dot = 0;
  for (let j = 0; j < dim; j++) dot += output[o + j]! * input[hOff + j]!;
  const score = sigmoid(dot);
  const alpha = lr * (label - score);
  for (let j = 0; j < dim; j++) {
    const ov = output[o + j]!;
    grad[j] = grad[j]! + alpha * ov;
    output[o + j] = ov + alpha * input[hOff + j]!;
  }
  return label === 1 ? -flog(score) : -flog(1 - score);
}

/** Run a worker's job to the end (all epochs over its lines). */
export function trainSkipGramLines(s: SkipGramShared, job: SkipGramJob): void {
  const { dim, window, negatives, epochs, lineFrom, lineTo } = job;
  const { input, output, ids, lineStarts, negTable, pdiscard } = s;
  const grad = new Float32Array(dim);
  let longest = 0;
  for (let l = lineFrom; l < lineTo; l++) longest = Math.max(longest, lineStarts[l + 1]! - lineStarts[l]!);
  const kept = new Int32Array(longest);
  const total = epochs * job.epochTokens;
  const tableSize = negTable.length;
  let x = (job.seed ^ 0x9e3779b9) >>> 0 || 1; // xorshift32 state
  let local = 0, loss = 0, steps = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let l = lineFrom; l < lineTo; l++) {
      const done = Number(Atomics.load(s.progress, 0)) + local;
      const lr = job.lr * Math.max(0, 1 - done / total);
      const a = lineStarts[l]!, b = lineStarts[l + 1]!;
      let n = 0;
      for (let k = a; k < b; k++) {
        x ^= x << 13, x ^= x >>> 17, x ^= x << 5;
        if ((x >>> 0) * 2.3283064365386963e-10 <= pdiscard[ids[k]!]!) kept[n++] = ids[k]!;
      }
      local += b - a;
      for (let w = 0; w < n; w++) {
        x ^= x << 13, x ^= x >>> 17, x ^= x << 5;
        const span = 1 + ((x >>> 0) % window);
        const hOff = kept[w]! * dim;
        const lo = Math.max(0, w - span), hi = Math.min(n - 1, w + span);
        for (let c = lo; c <= hi; c++) {
          if (c === w) continue;
          const target = kept[c]!;
          grad.fill(0);
          loss += logistic(input, hOff, output, target, 1, lr, grad, dim);
          for (let k = 0; k < negatives; k++) {
            let neg: number;
            do {
              x ^= x << 13, x ^= x >>> 17, x ^= x << 5;
              neg = negTable[(x >>> 0) % tableSize]!;
            } while (neg === target);
            loss += logistic(input, hOff, output, neg, 0, lr, grad, dim);
          }
          for (let j = 0; j < dim; j++) input[hOff + j] = input[hOff + j]! + grad[j]!;
          steps += 1 + negatives;
        }
      }
      if (local > job.lrUpdateRate) {
        Atomics.add(s.progress, 0, BigInt(local));
        local = 0;
        s.stats[job.worker * 2] = loss;
        s.stats[job.worker * 2 + 1] = steps;
      }
    }
  }
  Atomics.add(s.progress, 0, BigInt(local));
  s.stats[job.worker * 2] = loss;
  s.stats[job.worker * 2 + 1] = steps;
}
