/**
 * Types and defaults of the pair corpora in the corpus store ({@linkcode PairStore} in `pair_store.ts`): sides,
 * languages, tokenizers per side, ingest options and results, stored pairs and vocabularies.
 *
 * @module
 */
import type { TokenizerSpec } from "../_tokenizers.ts";
import type { PairSide } from "./_pair_queries.ts";
import type { StoreTokenizer, VocabParams } from "./store.ts";

export type { PairSide } from "./_pair_queries.ts";

/** Both sides, in the order they are stored. */
export const PAIR_SIDES: readonly PairSide[] = Object.freeze(["source", "target"]);

/** Tokenizers of the two sides. */
export interface PairTokenizers {
  /** Source side. */
  source: StoreTokenizer;
  /** Target side. */
  target: StoreTokenizer;
}

/** Languages of the two sides. */
export interface PairLangs {
  /** Source side (e.g. `en`). */
  source: string;
  /** Target side (e.g. `fr`). */
  target: string;
}

/** The lesson's vocabulary per side: the 40,000 most frequent tokens (specials included), every count kept. */
export const PAIR_VOCAB_DEFAULTS: Readonly<Required<VocabParams>> = Object.freeze({
  maxVocab: 40000,
  minFreq: 1,
  padToMultiple: 0,
});

/**
 * The tokenizer of one side of a pair corpus: the word tokenizer with the language's rules (`en`, `fr`), fix-up
 * and fastai's rules, without `xxbos` (seq2seq appends `xxeos` when loading; the decoder starts from `xxbos`).
 *
 * @param lang language of the side
 * @returns the tokenizer settings
 * @example
 * ```ts
 * import { pairTokenizer } from "./pair_types.ts";
 * if (pairTokenizer("fr").lang !== "fr") throw new Error("lang");
 * ```
 */
export function pairTokenizer(lang: string): TokenizerSpec {
  if (lang !== "en" && lang !== "fr") {
    throw new Error(
      `pair corpus: the word tokenizer has rules for "en" and "fr", not "${lang}" (choose --source-lang / ` +
        "--target-lang en or fr, or pass tokenizers to the library)",
    );
  }
  return { name: "word", lang, options: { bos: false } };
}

/** Options of {@linkcode PairStore.ingest}. */
export interface PairIngestOptions {
  /** Languages of the sides (recorded when the corpus is created). @default {{ source: "en", target: "fr" }} */
  langs?: PairLangs;
  /** What selected and cleaned the pairs (JSON); part of the corpus's identity. @default {{}} */
  settings?: Record<string, unknown>;
  /** Tokenizers of the sides. @default {pairTokenizer(lang) for each side} */
  tokenizers?: PairTokenizers;
  /** Description of the source, recorded when the corpus is created and checked on later runs. */
  source?: string;
  /** Tokenizer workers, split between the two sides. @default {navigator.hardwareConcurrency} */
  workers?: number;
  /** Pairs per chunk sent to the workers and per committed transaction. @default {1000} */
  chunkSize?: number;
  /** Chunks in flight at once (bounds memory). @default {2 * workers per side} */
  maxInFlight?: number;
  /** Called after each committed chunk. */
  onProgress?: (p: PairIngestProgress) => void;
  /** Called once when the source has been read to its end; its JSON is stored as the corpus's report. */
  report?: () => Record<string, unknown>;
}

/** Progress of a pair ingest. */
export interface PairIngestProgress {
  /** Pairs of the corpus tokenized with these settings so far (committed). */
  pairs: number;
  /** Pairs added to the corpus in this run. */
  added: number;
  /** Source-side tokens produced in this run. */
  sourceTokens: number;
  /** Target-side tokens produced in this run. */
  targetTokens: number;
  /** Seconds since the start of this run. */
  seconds: number;
}

/** What a pair ingest did. */
export interface PairIngestResult extends PairIngestProgress {
  /** Pairs tokenized in this run (new ones plus stored ones missing these tokenizer settings). */
  tokenized: number;
  /** True when everything was already stored and nothing was done. */
  reused: boolean;
}

/** A stored vocabulary of one side. */
export interface StoredPairVocab {
  /** Row id in `pair_vocabs`. */
  id: number;
  /** Which side. */
  side: PairSide;
  /** Id to token. */
  itos: string[];
  /** The parameters, defaults filled in. */
  params: Required<VocabParams>;
}

/** One stored pair. */
export interface StoredPair {
  /** 0-based position in the corpus. */
  idx: number;
  /** The reader's id, if any. */
  id?: string;
  /** Source ids (vocabulary ids when that side's vocabulary was asked for, else term ids). */
  source: Int32Array;
  /** Target ids. */
  target: Int32Array;
  /** Source text (with `texts: true`). */
  sourceText?: string;
  /** Target text (with `texts: true`). */
  targetText?: string;
}
