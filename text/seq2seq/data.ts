/**
 * A stored pair corpus made ready for a seq2seq model, the lesson-11 way: both sides as vocabulary ids with
 * `xxeos` appended, the translation direction chosen by language (`from: "fr"` reads French and predicts
 * English), optionally only the question pairs, every sequence cut at a percentile of its side's lengths
 * (lesson: 97th for the French input, 99th for the English output), a seeded 90/10 split, then sortish batches
 * padded at the end, time-major `(seq, batch)` ({@linkcode Seq2SeqLoader}).
 *
 * @example From a store to tensor batches
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { buildPairVocabs, ingestPairCorpus, loadPairCorpus, pairDataLoaders } from "./mod.ts";
 * const store = `${await Deno.makeTempDir()}/s.sqlite`;
 * const pairs = Array.from({ length: 40 }, (_, i) => ({ source: `Open file ${i}`, target: `Ouvrir le fichier ${i}` }));
 * await ingestPairCorpus(store, "ui", { source: () => pairs, workers: 1 });
 * await buildPairVocabs(store, "ui");
 * const data = await loadPairCorpus(store, "ui", { from: "fr", percentiles: false });
 * strictEqual(data.inputLang, "fr");
 * strictEqual(data.inputItos[data.train.x[0]!.at(-1)!], "xxeos");
 * const dls = pairDataLoaders(data, { bs: 8 });
 * const b = [...dls.train][0]!;
 * strictEqual(b.x.shape.length, 2); // (seq, batch)
 * b.x.dispose();
 * b.y.dispose();
 * ```
 *
 * @module
 */
import { EOS, PAD } from "../special_tokens.ts";
import { loadTokenizer, type TokenizeFn } from "../_tokenizers.ts";
import {
  type PairSide,
  PairStore,
  pairTokenizer,
  type StoredPair,
  type StoredPairVocab,
} from "../store/mod.ts";
import { inValidSplit, openCorpusStore } from "../corpus.ts";
import type { DataLoaders } from "../../nn/mod.ts";
import { LESSON_QUESTION_EN, LESSON_QUESTION_FR, type QuestionOptions } from "./clean.ts";
import { lengthAtPercentile } from "./split.ts";
import { seq2seqDataLoader, Seq2SeqLoader } from "./loader.ts";
import type { PairVocabParams } from "./corpus.ts";

/** Options of {@linkcode loadPairCorpus}. */
export interface LoadPairCorpusOptions {
  /** Language of the model's input side (the other side is the output). @default the corpus's source language */
  from?: string;
  /** Vocabulary parameters per side. @default the one vocabulary built for each side */
  vocabs?: PairVocabParams;
  /**
   * Keep only question pairs, each side cut to its question (`true`: the lesson's patterns, the English one on
   * the corpus's source side). @default {false}
   */
  questions?: boolean | QuestionOptions;
  /** Append `xxeos` to both sides (the lesson's `+ [2]`). @default {true} */
  eos?: boolean;
  /**
   * Cut every input / output at this percentile of its side's lengths (numpy's `int(np.percentile(...))`, eos
   * included), or `false` to keep every token. @default {{ input: 97, output: 99 }}
   */
  percentiles?: { input: number; output: number } | false;
  /** Share of pairs for validation (per pair, by its corpus index). @default {0.1} */
  validPct?: number;
  /** Seed of the split. @default {42} */
  seed?: number;
}

/** Aligned id sequences: `y[i]` is the translation of `x[i]`, pair `idx[i]` of the corpus. */
export interface PairIds {
  /** Inputs. */
  x: Int32Array[];
  /** Outputs. */
  y: Int32Array[];
  /** Corpus index of each pair. */
  idx: number[];
}

/** A pair corpus ready for training. */
export interface PairCorpusData {
  /** Corpus name. */
  name: string;
  /** Language of the inputs. */
  inputLang: string;
  /** Language of the outputs. */
  outputLang: string;
  /** Which stored side the inputs are. */
  inputSide: PairSide;
  /** Input vocabulary (specials first). */
  inputItos: string[];
  /** Output vocabulary. */
  outputItos: string[];
  /** Training pairs (about 1 - validPct of them). */
  train: PairIds;
  /** Validation pairs. */
  valid: PairIds;
  /** Lengths the sequences were cut at (Infinity: not cut). */
  maxLen: { input: number; output: number };
  /** Pairs stored, pairs kept (after the question filter), sequences cut. */
  counts: { stored: number; kept: number; cutInputs: number; cutOutputs: number };
}

function pickVocab(
  pairs: PairStore,
  name: string,
  side: PairSide,
  params: PairVocabParams | undefined,
): StoredPairVocab {
  const v = pairs.storedVocab(name, side, params?.[side]);
  if (v) return v;
  const built = pairs.describe().find((c) => c.name === name)!.tokenizations.at(-1)?.vocabs.filter((x) =>
    x.side === side
  );
  const cmd = `\`denofit vocab build --name ${name}\``;
  throw new Error(
    params?.[side]
      ? `no ${side} vocabulary of pair corpus "${name}" with ${
        JSON.stringify(params[side])
      }; run ${cmd} with it`
      : built?.length
      ? `pair corpus "${name}" has ${built.length} ${side} vocabularies (${
        built.map((x) => x.params).join(", ")
      }); choose one with vocabs.${side}`
      : `pair corpus "${name}" has no ${side} vocabulary; run ${cmd} first`,
  );
}

/** Numericalize a text cut by the question filter (stored ids when nothing was cut). */
class Requestioner {
  #fns: Partial<Record<PairSide, TokenizeFn>> = {};
  #stoi: Record<PairSide, Map<string, number>>;
  constructor(readonly langs: Record<PairSide, string>, itos: Record<PairSide, string[]>) {
    this.#stoi = {
      source: new Map(itos.source.map((t, i) => [t, i])),
      target: new Map(itos.target.map((t, i) => [t, i])),
    };
  }
  async ids(side: PairSide, text: string, match: string, stored: Int32Array): Promise<Int32Array> {
    if (match === text) return stored;
    const fn = this.#fns[side] ??= await loadTokenizer(pairTokenizer(this.langs[side]));
    const stoi = this.#stoi[side];
    const unk = stoi.get("xxunk") ?? 0;
    return Int32Array.from(fn(match), (t) => stoi.get(t) ?? unk);
  }
}

/** The stored pairs as (source, target) vocabulary ids, question-filtered when asked. */
async function readPairs(
  pairs: PairStore,
  name: string,
  vocabs: Record<PairSide, StoredPairVocab>,
  questions: boolean | QuestionOptions,
): Promise<{ stored: number; kept: StoredPair[] }> {
  const it = pairs.pairs(name, {
    vocabs: { source: vocabs.source.params, target: vocabs.target.params },
    texts: !!questions,
  });
  if (!questions) {
    const kept = [...it];
    return { stored: kept.length, kept };
  }
  const q = questions === true ? {} : questions;
  const [qs, qt] = [q.source ?? LESSON_QUESTION_EN, q.target ?? LESSON_QUESTION_FR];
  const re = new Requestioner(pairs.langs(name), {
    source: vocabs.source.itos,
    target: vocabs.target.itos,
  });
  const kept: StoredPair[] = [];
  let stored = 0;
  for (const p of it) {
    stored++;
    const s = qs.exec(p.sourceText!), t = qt.exec(p.targetText!);
    if (!s || !t) continue;
    p.source = await re.ids("source", p.sourceText!, s[0], p.source);
    p.target = await re.ids("target", p.targetText!, t[0], p.target);
    kept.push(p);
  }
  return { stored, kept };
}

function withEos(seqs: Int32Array[], eos: number): Int32Array[] {
  return seqs.map((s) => {
    const out = new Int32Array(s.length + 1);
    out.set(s);
    out[s.length] = eos;
    return out;
  });
}

/** Cut at the q-th percentile of the lengths; returns the length and how many were cut. */
function cutAt(seqs: Int32Array[], q: number | undefined): { max: number; cut: number } {
  if (q === undefined) return { max: Infinity, cut: 0 };
  const max = Math.max(1, lengthAtPercentile(seqs.map((s) => s.length), q));
  let cut = 0;
  for (let i = 0; i < seqs.length; i++) {
    if (seqs[i]!.length > max) (seqs[i] = seqs[i]!.slice(0, max), cut++);
  }
  return { max, cut };
}

/**
 * Read a pair corpus for training (see the module doc): vocabulary ids per side with eos, the direction by
 * language, the question filter, percentile truncation and the seeded split (pair `i` of the corpus goes to
 * validation when `uniformAt(seed, i) < validPct`, so a pair lands on the same side whatever the filters).
 * The corpus must be ingested and both vocabularies built (`denofit corpus ingest`, `denofit vocab build`).
 *
 * @param storePath the store file
 * @param name pair corpus name
 * @param options direction, vocabularies, filters, truncation, split
 * @returns train and validation ids, both vocabularies, what was cut
 */
export async function loadPairCorpus(
  storePath: string,
  name: string,
  options: LoadPairCorpusOptions = {},
): Promise<PairCorpusData> {
  const { questions = false, eos = true, validPct = 0.1, seed = 42 } = options;
  const pcts = options.percentiles ?? { input: 97, output: 99 };
  const store = await openCorpusStore(storePath);
  try {
    const pairs = new PairStore(store);
    const langs = pairs.langs(name);
    const from = options.from ?? langs.source;
    if (from !== langs.source && from !== langs.target) {
      throw new Error(
        `pair corpus "${name}" is ${langs.source} -> ${langs.target}; cannot read it from "${from}"`,
      );
    }
    if (!pairs.isTokenized(name)) {
      throw new Error(
        `pair corpus "${name}" is not completely ingested with the current tokenizers; run \`denofit corpus ingest\` ` +
          `for it again (or \`denofit vocab build --name ${name}\`, which re-tokenizes the stored texts)`,
      );
    }
    const vocabs = {
      source: pickVocab(pairs, name, "source", options.vocabs),
      target: pickVocab(pairs, name, "target", options.vocabs),
    };
    const { stored, kept } = await readPairs(pairs, name, vocabs, questions);
    if (kept.length === 0) {
      throw new Error(`pair corpus "${name}": no pair left${questions ? " after the question filter" : ""}`);
    }
    const inSide: PairSide = from === langs.source ? "source" : "target";
    const outSide: PairSide = inSide === "source" ? "target" : "source";
    const [inItos, outItos] = [vocabs[inSide].itos, vocabs[outSide].itos];
    if (inItos.indexOf(PAD) !== outItos.indexOf(PAD)) {
      throw new Error(`pair corpus "${name}": the two vocabularies put ${PAD} at different ids`);
    }
    let x = kept.map((p) => p[inSide]), y = kept.map((p) => p[outSide]);
    if (eos) [x, y] = [withEos(x, inItos.indexOf(EOS)), withEos(y, outItos.indexOf(EOS))];
    const cx = cutAt(x, pcts ? pcts.input : undefined), cy = cutAt(y, pcts ? pcts.output : undefined);
    const train: PairIds = { x: [], y: [], idx: [] }, valid: PairIds = { x: [], y: [], idx: [] };
    kept.forEach((p, i) => {
      const part = inValidSplit(p.idx, validPct, seed) ? valid : train;
      part.x.push(x[i]!);
      part.y.push(y[i]!);
      part.idx.push(p.idx);
    });
    return {
      name,
      inputLang: langs[inSide],
      outputLang: langs[outSide],
      inputSide: inSide,
      inputItos: inItos,
      outputItos: outItos,
      train,
      valid,
      maxLen: { input: cx.max, output: cy.max },
      counts: { stored, kept: kept.length, cutInputs: cx.cut, cutOutputs: cy.cut },
    };
  } finally {
    store.close();
  }
}

/** Options of {@linkcode pairDataLoaders}. */
export interface PairDataLoadersOptions {
  /** Training batch size (the lesson: 125). @default {125} */
  bs?: number;
  /** Validation batch size. @default {Math.trunc(bs * 1.6)} (the lesson's) */
  validBs?: number;
  /** Seed of the sortish sampler. @default {42} */
  seed?: number;
  /** Order by input length (`"x"`) or output length (`"y"`, as the lesson's sampler keyed on English). @default {"x"} */
  sortBy?: "x" | "y";
}

/**
 * Tensor batches for the {@linkcode Learner}: training in sortish order (a new one each epoch), validation
 * longest first; `x` is `(inputLen, bs)` i32, `y` is `(outputLen, bs)` i32, padded with xxpad at the end.
 *
 * @param data from {@linkcode loadPairCorpus}
 * @param options batch sizes, seed, sort key
 * @returns the data loaders (no `valid` when the validation part is empty)
 */
export function pairDataLoaders(data: PairCorpusData, options: PairDataLoadersOptions = {}): DataLoaders {
  const { bs = 125, seed = 42, sortBy = "x" } = options;
  const validBs = options.validBs ?? Math.max(1, Math.trunc(bs * 1.6));
  const padIdx = data.outputItos.indexOf(PAD);
  const train = new Seq2SeqLoader(data.train.x, data.train.y, { bs, seed, padIdx, sortBy });
  const out: DataLoaders = { train: seq2seqDataLoader(train) };
  if (data.valid.x.length) {
    out.valid = seq2seqDataLoader(
      new Seq2SeqLoader(data.valid.x, data.valid.y, { bs: validBs, shuffle: false, padIdx, sortBy }),
    );
  }
  return out;
}
