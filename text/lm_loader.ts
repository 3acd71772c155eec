/**
 * The language-model stream: all documents concatenated, split into `bs` contiguous streams, served in
 * pieces of about `bptt` tokens so that row `j` of batch `k+1` continues row `j` of batch `k` (the hidden state
 * carries over between batches). Two modes:
 *
 * - `"v0.7"` (fastai 0.7 `LanguageModelLoader`, Merity et al. AWD-LSTM): stream `j` is the `j`-th of `bs`
 *   equal segments (the remainder dropped); each batch's length is random — `bptt` with probability 0.95,
 *   else `bptt/2`, then `seqLen = max(5, round(normal(that, 5)))` (fastai truncates: `rounding: "trunc"`) —
 *   except the first batch, `bptt + 25`, and at most `floor(streamLength / bptt) - 1` batches; targets are
 *   the next token inside the same stream. `backwards` reverses each stream.
 * - `"v2"` (fastai 2 `LMDataLoader`): documents reshuffled every epoch (unless `shuffle: false`), concatenated,
 *   `bl = floor((n - 1) / bs)` tokens per stream, fixed `seqLen = bptt`, a shorter last batch; the target of a
 *   stream's last token is the first token of the next stream. `backwards` reverses the concatenated corpus.
 *
 * Batches are row-major `(bs, seqLen)` Int32Arrays of token ids: `x` and `y` (x shifted by one).
 *
 * @module
 */
import { Rng } from "../gpu/rng.ts";

/** One language-model batch. */
export interface LmBatch {
  /** Inputs, row-major `(bs, seqLen)`. */
  x: Int32Array;
  /** Targets (the next token of each input), row-major `(bs, seqLen)`. */
  y: Int32Array;
  /** Rows (streams). */
  bs: number;
  /** Columns (time steps) of this batch. */
  seqLen: number;
}

/** Options of {@linkcode LanguageModelLoader}. */
export interface LanguageModelLoaderOptions {
  /** Number of parallel streams (rows). @default {64} */
  bs?: number;
  /** Mean sequence length (v0.7) or the fixed one (v2). @default {70} */
  bptt?: number;
  /** fastai 0.7 random-bptt streams or fastai 2 fixed-length streams over reshuffled documents. @default {"v0.7"} */
  mode?: "v0.7" | "v2";
  /** v0.7 only: draw random sequence lengths; `false` serves exactly `bptt` every batch. @default {true} */
  randomBptt?: boolean;
  /**
   * v0.7 only: how a drawn length becomes an integer — `"round"` (the spec) or `"trunc"` (fastai 0.7's
   * `int(np.random.normal(bptt, 5))`, exactly).
   * @default {"round"}
   */
  rounding?: "round" | "trunc";
  /** v2 only: reshuffle the documents every epoch. @default {true} */
  shuffle?: boolean;
  /** Reverse the stream (for a backwards language model). @default {false} */
  backwards?: boolean;
  /** Seed of the generator for sequence lengths and shuffles. @default {42} */
  seed?: number;
}

function concat(docs: readonly Int32Array[], order?: readonly number[]): Int32Array {
  let n = 0;
  for (const d of docs) n += d.length;
  const out = new Int32Array(n);
  let o = 0;
  for (let k = 0; k < docs.length; k++) {
    const d = docs[order ? order[k]! : k]!;
    out.set(d, o);
    o += d.length;
  }
  return out;
}

/**
 * Serves language-model batches over a corpus of numericalized documents (see the module doc for the two
 * modes). Deterministic for a seed; each call of {@linkcode LanguageModelLoader.batches} is one epoch and
 * advances the generator.
 *
 * @example The 2020 lesson's 90 tokens: 6 streams of 15, batches of 5 columns
 * ```ts
 * import { LanguageModelLoader } from "./lm_loader.ts";
 * const tokens = Int32Array.from({ length: 90 }, (_, i) => i);
 * const dl = new LanguageModelLoader([tokens], { bs: 6, bptt: 5, randomBptt: false });
 * const [b0, b1] = [...dl.batches()];
 * // row 1 of batch 0 starts at token 15; row 1 of batch 1 continues at token 20
 * if (b0!.x[5] !== 15 || b1!.x[5] !== 20 || b0!.y[5] !== 16) throw new Error("bad layout");
 * ```
 */
export class LanguageModelLoader {
  /** Rows per batch. */
  readonly bs: number;
  /** Mean or fixed sequence length. */
  readonly bptt: number;
  /** Which fastai behaviour. */
  readonly mode: "v0.7" | "v2";
  /** Whether the stream is reversed. */
  readonly backwards: boolean;
  /** The generator (its `counter` is the state to checkpoint). */
  readonly rng: Rng;
  #docs: readonly Int32Array[];
  #randomBptt: boolean;
  #trunc: boolean;
  #shuffle: boolean;
  #total: number;

  /**
   * Make a loader over `docs`.
   *
   * @param docs Numericalized documents (or one already concatenated stream).
   * @param options Batch size, bptt, mode, backwards, seed.
   */
  constructor(docs: readonly Int32Array[] | Int32Array, options: LanguageModelLoaderOptions = {}) {
    const {
      bs = 64,
      bptt = 70,
      mode = "v0.7",
      randomBptt = true,
      shuffle = true,
      backwards = false,
      seed = 42,
    } = options;
    if (!Number.isInteger(bs) || bs < 1) {
      throw new RangeError(`LanguageModelLoader: bs must be a positive integer, got ${bs}`);
    }
    if (!(bptt >= 1)) throw new RangeError(`LanguageModelLoader: bptt must be >= 1, got ${bptt}`);
    this.#docs = docs instanceof Int32Array ? [docs] : docs;
    this.bs = bs;
    this.bptt = bptt;
    this.mode = mode;
    this.backwards = backwards;
    this.rng = new Rng(seed);
    this.#randomBptt = randomBptt;
    this.#trunc = options.rounding === "trunc";
    this.#shuffle = shuffle;
    this.#total = this.#docs.reduce((s, d) => s + d.length, 0);
    const perRow = mode === "v2" ? Math.floor((this.#total - 1) / bs) : Math.floor(this.#total / bs);
    if (perRow < 2) {
      throw new RangeError(
        `LanguageModelLoader: ${this.#total} tokens are too few for ${bs} streams of >= 2 tokens`,
      );
    }
  }

  /** Total tokens in the corpus. */
  get totalTokens(): number {
    return this.#total;
  }

  /** Tokens per stream: `floor(n / bs)` in v0.7 mode, `floor((n - 1) / bs)` in v2 mode. */
  get streamLength(): number {
    return this.mode === "v2" ? Math.floor((this.#total - 1) / this.bs) : Math.floor(this.#total / this.bs);
  }

  /**
   * Batches per epoch: exact for v2 and fixed-bptt v0.7; for random bptt it is fastai 0.7's cap
   * `floor(streamLength / bptt) - 1` (an epoch stops there or when the stream runs out).
   */
  get length(): number {
    const n = this.streamLength;
    if (this.mode === "v2") return Math.ceil(n / this.bptt);
    if (this.#randomBptt) return Math.max(1, Math.floor(n / this.bptt) - 1);
    return Math.ceil((n - 1) / this.bptt);
  }

  /** One epoch of batches. */
  *batches(): Generator<LmBatch> {
    if (this.mode === "v2") yield* this.#v2();
    else yield* this.#v07();
  }

  *#v07(): Generator<LmBatch> {
    const { bs, bptt } = this;
    const n = this.streamLength;
    const data = concat(this.#docs);
    // rows[j] = segment j (reversed when backwards), laid out row-major (bs, n)
    const rows = new Int32Array(bs * n);
    for (let j = 0; j < bs; j++) {
      const seg = data.subarray(j * n, (j + 1) * n);
      if (this.backwards) { for (let t = 0; t < n; t++) rows[j * n + t] = seg[n - 1 - t]!; }
      else rows.set(seg, j * n);
    }
    const cap = this.#randomBptt ? this.length : Infinity;
    let i = 0;
    for (let it = 0; i < n - 1 && it < cap; it++) {
      let seqLen = bptt;
      if (this.#randomBptt) {
        if (i === 0) seqLen = bptt + 25;
        else {
          const b = this.rng.random() < 0.95 ? bptt : bptt / 2;
          const draw = b + 5 * this.rng.normal();
          seqLen = Math.max(5, this.#trunc ? Math.trunc(draw) : Math.round(draw));
        }
      }
      const sl = Math.min(seqLen, n - 1 - i);
      const x = new Int32Array(bs * sl);
      const y = new Int32Array(bs * sl);
      for (let j = 0; j < bs; j++) {
        x.set(rows.subarray(j * n + i, j * n + i + sl), j * sl);
        y.set(rows.subarray(j * n + i + 1, j * n + i + 1 + sl), j * sl);
      }
      yield { x, y, bs, seqLen: sl };
      i += seqLen;
    }
  }

  *#v2(): Generator<LmBatch> {
    const { bs, bptt } = this;
    const order = this.#docs.map((_, k) => k);
    if (this.#shuffle) this.rng.shuffle(order);
    const data = concat(this.#docs, order);
    if (this.backwards) data.reverse();
    const bl = this.streamLength;
    const nb = this.length;
    for (let k = 0; k < nb; k++) {
      const sl = k === nb - 1 ? bl - (nb - 1) * bptt : bptt;
      const x = new Int32Array(bs * sl);
      const y = new Int32Array(bs * sl);
      for (let j = 0; j < bs; j++) {
        const st = j * bl + k * bptt;
        x.set(data.subarray(st, st + sl), j * sl);
        y.set(data.subarray(st + 1, st + 1 + sl), j * sl);
      }
      yield { x, y, bs, seqLen: sl };
    }
  }
}
