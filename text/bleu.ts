/**
 * BLEU exactly as sacreBLEU 2.6.0 computes it (Post 2018, "A Call for Clarity in Reporting BLEU Scores",
 * https://aclanthology.org/W18-6319): the `13a` tokenizer (mteval-v13a), n-grams up to 4, clipped counts over
 * the closest-length reference, brevity penalty, `exp` smoothing (NIST), corpus level; sentence BLEU with
 * effective order like `sacrebleu.sentence_bleu`. Scores are on sacreBLEU's 0..100 scale.
 *
 * Checked against sacreBLEU on the fixtures `tests/fixtures/sacrebleu.json` (made by
 * `tests/fixtures/make_sacrebleu.py`).
 *
 * @example The lesson's sentence (sacreBLEU prints 48.89)
 * ```ts
 * import { sentenceBleuScore } from "./bleu.ts";
 * const s = sentenceBleuScore("what factors might influence their location ?", [
 *   "what factors influence their location ?",
 * ]);
 * if (s.score.toFixed(2) !== "48.89") throw new Error(`got ${s.score}`);
 * ```
 *
 * @module
 */

/** Smoothing of zero n-gram precisions (Chen & Cherry 2014, https://aclanthology.org/W14-3346). */
export type BleuSmoothing = "exp" | "none" | "floor" | "add-k";

/** Options of the BLEU functions (sacreBLEU's `BLEU(...)` arguments). */
export interface BleuScoreOptions {
  /** `"13a"` (sacreBLEU's default, mteval-v13a) or `"none"` (split on whitespace only). @default {"13a"} */
  tokenize?: "13a" | "none";
  /** Lowercase hypotheses and references first. @default {false} */
  lowercase?: boolean;
  /** Smoothing method. @default {"exp"} */
  smooth?: BleuSmoothing;
  /** Value for `floor` and `add-k`. @default {0.1 for floor, 1 for add-k} */
  smoothValue?: number;
  /**
   * Average only the n-gram orders the hypothesis has (sentence level).
   * @default {false for corpus BLEU, true for sentence BLEU}
   */
  effectiveOrder?: boolean;
  /** Longest n-gram. @default {4} */
  maxNgramOrder?: number;
}

/** A BLEU result with its sufficient statistics (sacreBLEU's `BLEUScore`). */
export interface BleuScore {
  /** BLEU in 0..100. */
  score: number;
  /** Matched n-grams per order (with `add-k`, plus k for n > 1, as sacreBLEU reports them). */
  counts: number[];
  /** Hypothesis n-grams per order (with `add-k`, plus k for n > 1). */
  totals: number[];
  /** Precision per order in 0..100 (after smoothing). */
  precisions: number[];
  /** Brevity penalty. */
  bp: number;
  /** Hypothesis tokens. */
  sysLen: number;
  /** Reference tokens (closest reference length per segment, summed). */
  refLen: number;
}

// Python's str.split()/rstrip() whitespace (str.isspace): not JavaScript's \s (which has U+FEFF and lacks
// U+001C..U+001F and U+0085).
const PY_WS =
  "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const WS_RUN = new RegExp(`[${PY_WS}]+`, "u");
const TRAILING_WS = new RegExp(`[${PY_WS}]+$`, "u");

/** Python's `s.split()`: the non-empty runs between whitespace. */
function pySplit(s: string): string[] {
  return s.split(WS_RUN).filter((t) => t !== "");
}

// sacreBLEU's TokenizerRegexp, in order.
const RE_SYMBOLS = /([{-~\[-` -&(-+:-@\/])/gu;
const RE_PERIOD_AFTER_NONDIGIT = /([^0-9])([.,])/gu;
const RE_PERIOD_BEFORE_NONDIGIT = /([.,])([^0-9])/gu;
const RE_DASH_AFTER_DIGIT = /([0-9])(-)/gu;

/**
 * sacreBLEU's `13a` tokenizer (mteval-v13a): drop `<skipped>`, join `-\n` hyphenations, unescape four HTML
 * entities, split off punctuation and symbols (periods and commas only when not between digits).
 *
 * @param line A detokenized segment.
 * @returns The tokens joined by single spaces.
 *
 * @example
 * ```ts
 * import { tokenize13a } from "./bleu.ts";
 * if (tokenize13a("It costs $1,000.50, i.e. a lot!") !== "It costs $ 1,000.50 , i . e . a lot !") {
 *   throw new Error("13a");
 * }
 * ```
 */
export function tokenize13a(line: string): string {
  let s = line.replaceAll("<skipped>", "").replaceAll("-\n", "").replaceAll("\n", " ");
  if (s.includes("&")) {
    s = s.replaceAll("&quot;", '"').replaceAll("&amp;", "&").replaceAll("&lt;", "<").replaceAll("&gt;", ">");
  }
  s = ` ${s} `
    .replace(RE_SYMBOLS, " $1 ")
    .replace(RE_PERIOD_AFTER_NONDIGIT, "$1 $2 ")
    .replace(RE_PERIOD_BEFORE_NONDIGIT, " $1 $2")
    .replace(RE_DASH_AFTER_DIGIT, "$1 $2 ");
  return pySplit(s).join(" ");
}

/** sacreBLEU's `_preprocess_segment`: lowercase (optional), strip trailing whitespace, tokenize. */
function preprocess(sent: string, tokenize: "13a" | "none", lowercase: boolean): string {
  const s = (lowercase ? sent.toLowerCase() : sent).replace(TRAILING_WS, "");
  return tokenize === "13a" ? tokenize13a(s) : s;
}

/** Counts of the n-grams of each order 1..maxN (index n-1), keyed by the space-joined n-gram. */
function ngramCounts(tokens: readonly string[], maxN: number): Map<string, number>[] {
  const out: Map<string, number>[] = [];
  for (let n = 1; n <= maxN; n++) {
    const counts = new Map<string, number>();
    for (let i = 0; i + n <= tokens.length; i++) {
      const key = n === 1 ? tokens[i]! : tokens.slice(i, i + n).join(" ");
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    out.push(counts);
  }
  return out;
}

/** sacreBLEU's closest reference length: the smallest |hyp - ref|, ties to the shorter reference. */
function closestRefLen(hypLen: number, refLens: readonly number[]): number {
  let bestDiff = -1, best = -1;
  for (const r of refLens) {
    const d = Math.abs(hypLen - r);
    if (bestDiff === -1 || d < bestDiff) [bestDiff, best] = [d, r];
    else if (d === bestDiff && r < best) best = r;
  }
  return best;
}

const SMOOTH_DEFAULTS: Record<BleuSmoothing, number> = { exp: 0, none: 0, floor: 0.1, "add-k": 1 };

/** sacreBLEU's `my_log`: log, with log(0) floored to -9999999999. */
function myLog(x: number): number {
  return x === 0 ? -9999999999 : Math.log(x);
}

/**
 * BLEU from sufficient statistics (sacreBLEU's `BLEU.compute_bleu`, same operation order, so results agree to
 * the last bits of a double). The input arrays are not modified.
 *
 * @param correct Matched n-grams per order.
 * @param total Hypothesis n-grams per order.
 * @param sysLen Hypothesis length in tokens.
 * @param refLen Reference length in tokens.
 * @param options Smoothing, effective order and n-gram order (`smooth` defaults to `"none"` here, as in
 *   sacreBLEU's static method).
 * @returns The score with its statistics.
 *
 * @example One matched unigram of two, no higher orders: effective order gives 50
 * ```ts
 * import { computeBleu } from "./bleu.ts";
 * const s = computeBleu([1, 0, 0, 0], [2, 1, 0, 0], 2, 2, { smooth: "exp", effectiveOrder: true });
 * if (Math.abs(s.score - Math.sqrt(50 * 50)) > 1e-9) throw new Error(`${s.score}`);
 * ```
 */
export function computeBleu(
  correct: readonly number[],
  total: readonly number[],
  sysLen: number,
  refLen: number,
  options: BleuScoreOptions = {},
): BleuScore {
  const { smooth = "none", effectiveOrder = false, maxNgramOrder = 4 } = options;
  const k = options.smoothValue ?? SMOOTH_DEFAULTS[smooth];
  const counts = correct.slice(0, maxNgramOrder), totals = total.slice(0, maxNgramOrder);
  let bp = 1.0;
  if (sysLen < refLen) bp = sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0.0;
  const precisions = new Array<number>(maxNgramOrder).fill(0);
  if (!counts.some((c) => c !== 0)) return { score: 0, counts, totals, precisions, bp, sysLen, refLen };
  let smoothMteval = 1.0;
  let effOrder = maxNgramOrder;
  for (let n = 1; n <= maxNgramOrder; n++) {
    if (smooth === "add-k" && n > 1) {
      counts[n - 1]! += k;
      totals[n - 1]! += k;
    }
    if (totals[n - 1] === 0) break;
    if (effectiveOrder) effOrder = n;
    if (counts[n - 1] === 0) {
      if (smooth === "exp") {
        smoothMteval *= 2;
        precisions[n - 1] = 100.0 / (smoothMteval * totals[n - 1]!);
      } else if (smooth === "floor") precisions[n - 1] = (100.0 * k) / totals[n - 1]!;
    } else precisions[n - 1] = (100.0 * counts[n - 1]!) / totals[n - 1]!;
  }
  let logSum = 0;
  for (let i = 0; i < effOrder; i++) logSum += myLog(precisions[i]!);
  return { score: bp * Math.exp(logSum / effOrder), counts, totals, precisions, bp, sysLen, refLen };
}

/**
 * Sufficient statistics of BLEU gathered segment by segment (sacreBLEU's per-segment stats summed), so a
 * corpus score can be built up batch by batch during validation.
 *
 * @example
 * ```ts
 * import { BleuAccumulator, corpusBleuScore } from "./bleu.ts";
 * const acc = new BleuAccumulator();
 * acc.add("the cat is on the mat", ["the cat sat on the mat"]);
 * acc.add("Open file", ["Open the file"]);
 * const whole = corpusBleuScore(["the cat is on the mat", "Open file"], [["the cat sat on the mat", "Open the file"]]);
 * if (acc.score().score !== whole.score) throw new Error("accumulator");
 * ```
 */
export class BleuAccumulator {
  /** The options every segment and the final score use. */
  readonly options: Readonly<BleuScoreOptions>;
  /** Segments added. */
  segments = 0;
  /** Hypothesis tokens so far. */
  sysLen = 0;
  /** Closest reference tokens so far. */
  refLen = 0;
  /** Matched n-grams per order so far. */
  readonly correct: number[];
  /** Hypothesis n-grams per order so far. */
  readonly total: number[];

  /**
   * Start empty.
   * @param options Tokenizer, casing, smoothing and order (effective order defaults to false).
   */
  constructor(options: BleuScoreOptions = {}) {
    const maxN = options.maxNgramOrder ?? 4;
    if (!Number.isInteger(maxN) || maxN < 1) {
      throw new RangeError(`BLEU: maxNgramOrder must be a positive integer, got ${maxN}`);
    }
    this.options = { ...options };
    this.correct = new Array<number>(maxN).fill(0);
    this.total = new Array<number>(maxN).fill(0);
  }

  /**
   * Add one segment.
   * @param hypothesis The system output (detokenized).
   * @param references Its references; `null`/`undefined` entries are left out (a variable number of
   *   references per segment), but at least one must be a string.
   */
  add(hypothesis: string, references: readonly (string | null | undefined)[]): void {
    const { tokenize = "13a", lowercase = false } = this.options;
    const maxN = this.correct.length;
    const refs = references.filter((r): r is string => typeof r === "string");
    if (refs.length === 0) {
      throw new Error(`BLEU: segment ${this.segments + 1} has no reference (every reference is null)`);
    }
    const refMax = Array.from({ length: maxN }, () => new Map<string, number>());
    const refLens: number[] = [];
    for (const ref of refs) {
      const toks = pySplit(preprocess(ref, tokenize, lowercase));
      refLens.push(toks.length);
      ngramCounts(toks, maxN).forEach((m, n) => {
        for (const [g, c] of m) refMax[n]!.set(g, Math.max(refMax[n]!.get(g) ?? 0, c));
      });
    }
    const hyp = pySplit(preprocess(hypothesis, tokenize, lowercase));
    ngramCounts(hyp, maxN).forEach((m, n) => {
      for (const [g, c] of m) {
        this.total[n]! += c;
        const r = refMax[n]!.get(g);
        if (r !== undefined) this.correct[n]! += Math.min(c, r);
      }
    });
    this.sysLen += hyp.length;
    this.refLen += closestRefLen(hyp.length, refLens);
    this.segments++;
  }

  /** The BLEU of the segments added so far (0 when none). */
  score(): BleuScore {
    const { smooth = "exp", ...rest } = this.options;
    return computeBleu(this.correct, this.total, this.sysLen, this.refLen, { smooth, ...rest });
  }
}

/**
 * Corpus BLEU, as `sacrebleu.corpus_bleu(hypotheses, references)`.
 *
 * @param hypotheses One system output per segment.
 * @param references Reference *streams*, as in sacreBLEU: `references[k][i]` is the k-th reference of
 *   segment i (with one reference per segment, pass `[refs]`); a `null` entry leaves that reference out.
 * @param options Tokenizer, casing, smoothing, effective order (default false) and n-gram order.
 * @returns The score (0..100) with its statistics.
 *
 * @example
 * ```ts
 * import { corpusBleuScore } from "./bleu.ts";
 * const s = corpusBleuScore(["Where is the file?", "Open it"], [["Where is the file?", "Open it now"]]);
 * if (!(s.score > 70 && s.score < 100) || s.sysLen !== 7 || s.refLen !== 8) throw new Error(`${s.score}`);
 * ```
 */
export function corpusBleuScore(
  hypotheses: readonly string[],
  references: readonly (readonly (string | null | undefined)[])[],
  options: BleuScoreOptions = {},
): BleuScore {
  if (references.length === 0) throw new Error("corpusBleuScore: no reference streams");
  references.forEach((stream, k) => {
    if (stream.length !== hypotheses.length) {
      throw new Error(
        `corpusBleuScore: reference stream ${k} has ${stream.length} segments for ${hypotheses.length} hypotheses`,
      );
    }
  });
  const acc = new BleuAccumulator(options);
  hypotheses.forEach((h, i) => acc.add(h, references.map((s) => s[i])));
  return acc.score();
}

/**
 * Sentence BLEU, as `sacrebleu.sentence_bleu(hypothesis, references)`: effective order on by default, so short
 * sentences are not scored 0 for lacking 4-grams.
 *
 * @param hypothesis The system output.
 * @param references Its references (one or more).
 * @param options As for {@linkcode corpusBleuScore}; `effectiveOrder` defaults to true.
 * @returns The score (0..100) with its statistics.
 *
 * @example
 * ```ts
 * import { sentenceBleuScore } from "./bleu.ts";
 * const s = sentenceBleuScore("Open the file", ["Open the file"]);
 * if (Math.abs(s.score - 100) > 1e-9) throw new Error("identical");
 * ```
 */
export function sentenceBleuScore(
  hypothesis: string,
  references: readonly (string | null | undefined)[],
  options: BleuScoreOptions = {},
): BleuScore {
  const acc = new BleuAccumulator({ effectiveOrder: true, ...options });
  acc.add(hypothesis, references);
  return acc.score();
}
