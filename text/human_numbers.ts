/**
 * The "human numbers" data set of the 2020 fastai lesson 8 (chapter 12 of the book), generated instead of
 * downloaded: the numbers 1..9999 written in English (`eight thousand one`, `nine hundred ninety nine`; no
 * "and", no hyphens), joined with ` . `, plus the sequence helpers the lesson trains on.
 *
 * fastai ships it as `train.txt` (1..8000) and `valid.txt` (8001..9999); the lesson concatenates both, splits
 * the token stream into sequences and keeps the first 80% for training (no shuffling), so the validation
 * numbers are all larger than the training ones.
 *
 * @example The first tokens and the vocabulary
 * ```ts
 * import { humanNumbers } from "./human_numbers.ts";
 * const { tokens, vocab } = humanNumbers();
 * if (tokens.slice(0, 5).join(" ") !== "one . two . three") throw new Error("tokens");
 * if (vocab.length !== 30 || vocab[29] !== "thousand") throw new Error("vocab");
 * ```
 *
 * @module
 */

const ONES = [
  "zero",
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
  "ten",
  "eleven",
  "twelve",
  "thirteen",
  "fourteen",
  "fifteen",
  "sixteen",
  "seventeen",
  "eighteen",
  "nineteen",
];
const TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];

function below1000(n: number): string[] {
  const words: string[] = [];
  if (n >= 100) words.push(ONES[Math.floor(n / 100)]!, "hundred");
  const rest = n % 100;
  if (rest >= 20) {
    words.push(TENS[Math.floor(rest / 10)]!);
    if (rest % 10) words.push(ONES[rest % 10]!);
  } else if (rest > 0) words.push(ONES[rest]!);
  return words;
}

/**
 * A number in English words as in fastai's human-numbers files: `1234` -> `one thousand two hundred thirty four`.
 *
 * @param n an integer in [1, 999999]
 * @returns the words joined by single spaces
 */
export function numberToWords(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 999_999) {
    throw new Error(`numberToWords: expected an integer in [1, 999999], got ${n}`);
  }
  const words: string[] = [];
  const thousands = Math.floor(n / 1000);
  if (thousands) words.push(...below1000(thousands), "thousand");
  words.push(...below1000(n % 1000));
  return words.join(" ");
}

/** Options of {@linkcode humanNumbers}. */
export interface HumanNumbersOptions {
  /** First number. @default 1 */
  from?: number;
  /** Last number (inclusive). @default 9999 */
  to?: number;
}

/** The data set: the token stream, the vocabulary in order of first appearance, and the ids. */
export interface HumanNumbers {
  /** `one . two . three ...` split on spaces. */
  tokens: string[];
  /** Distinct tokens in order of first appearance (the lesson's `L(*tokens).unique()`): 30 for 1..9999. */
  vocab: string[];
  /** Token ids into `vocab`. */
  ids: Int32Array;
}

/**
 * Generate the human-numbers stream `one . two . ... . nine thousand nine hundred ninety nine`.
 *
 * @returns tokens, vocabulary and ids
 */
export function humanNumbers({ from = 1, to = 9999 }: HumanNumbersOptions = {}): HumanNumbers {
  if (!(from >= 1 && to >= from)) throw new Error(`humanNumbers: bad range [${from}, ${to}]`);
  const tokens: string[] = [];
  for (let n = from; n <= to; n++) {
    if (n > from) tokens.push(".");
    tokens.push(...numberToWords(n).split(" "));
  }
  const stoi = new Map<string, number>();
  const ids = new Int32Array(tokens.length);
  tokens.forEach((tok, i) => {
    let id = stoi.get(tok);
    if (id === undefined) stoi.set(tok, id = stoi.size);
    ids[i] = id;
  });
  return { tokens, vocab: [...stoi.keys()], ids };
}

/** Input/target pairs cut from a token-id stream. */
export interface Sequences {
  /** `(n, sl)` row-major inputs. */
  x: Int32Array;
  /** `(n)` next tokens, or `(n, sl)` when predicting at every step. */
  y: Int32Array;
  /** Number of sequences. */
  n: number;
  /** Sequence length. */
  sl: number;
}

/** Options of {@linkcode makeSequences}. */
export interface MakeSequencesOptions {
  /** Target is the whole input shifted by one (`(n, sl)`) instead of the single next token. @default false */
  everyStep?: boolean;
}

/**
 * Non-overlapping sequences of `sl` tokens, as the lesson builds them: `x = ids[i:i+sl]` for `i` in
 * `range(0, len - sl - 1, sl)`, with target `ids[i+sl]` (3-token model) or `ids[i+1:i+sl+1]` (every step).
 *
 * @param ids token ids
 * @param sl sequence length
 * @returns the sequences
 */
export function makeSequences(
  ids: ArrayLike<number>,
  sl: number,
  { everyStep = false }: MakeSequencesOptions = {},
): Sequences {
  if (!(Number.isInteger(sl) && sl >= 1)) {
    throw new Error(`makeSequences: sl must be a positive integer, got ${sl}`);
  }
  // fastai: range(0, len(nums) - 4, 3) for the 3-token model, range(0, len(nums) - sl - 1, sl) otherwise
  const stop = ids.length - sl - 1;
  const starts: number[] = [];
  for (let i = 0; i < stop; i += sl) starts.push(i);
  const n = starts.length, x = new Int32Array(n * sl), y = new Int32Array(everyStep ? n * sl : n);
  starts.forEach((s, r) => {
    for (let j = 0; j < sl; j++) x[r * sl + j] = ids[s + j]!;
    if (everyStep) { for (let j = 0; j < sl; j++) y[r * sl + j] = ids[s + j + 1]!; }
    else y[r] = ids[s + sl]!;
  });
  return { x, y, n, sl };
}

/**
 * The lesson's `group_chunks`: reorder `n` sequences so that row `j` of batch `k+1` continues row `j` of batch
 * `k` (needed by the stateful RNN). Returns the new order of sequence indices; `n % bs` are dropped.
 *
 * @param n number of sequences (in stream order)
 * @param bs batch size
 * @returns indices: position `i*bs + j` holds sequence `i + m*j`, `m = floor(n / bs)`
 */
export function groupChunks(n: number, bs: number): number[] {
  const m = Math.floor(n / bs);
  const order: number[] = [];
  for (let i = 0; i < m; i++) for (let j = 0; j < bs; j++) order.push(i + m * j);
  return order;
}

/**
 * The lesson's baseline: the accuracy of always predicting the most frequent target token (the book counts
 * the validation targets and finds `thousand`, ~15%).
 *
 * @param targets target ids to count and score
 * @returns `{ token, accuracy }`: the most frequent id (lowest id on ties) and its share of `targets`
 */
export function mostFrequentBaseline(targets: ArrayLike<number>): { token: number; accuracy: number } {
  const counts = new Map<number, number>();
  for (let i = 0; i < targets.length; i++) counts.set(targets[i]!, (counts.get(targets[i]!) ?? 0) + 1);
  let token = -1, best = -1;
  for (const [t, c] of counts) if (c > best || (c === best && t < token)) [token, best] = [t, c];
  return { token, accuracy: best / targets.length };
}
