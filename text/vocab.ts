/**
 * The vocabulary: token <-> id maps built from token counts with fastai's rules (most frequent first,
 * `maxVocab`, `minFreq`, special tokens first, optional padding to a multiple of 8), numericalisation,
 * save/load and a stable content hash for checkpoints.
 *
 * @module
 */
import { SPECIAL_TOKENS, UNK } from "./special_tokens.ts";

/** Options of {@linkcode Vocab.fromTokens} and {@linkcode Vocab.fromCounts}. */
export interface VocabOptions {
  /** Most tokens kept, special tokens included (fastai `max_vocab`). @default 60000 */
  maxVocab?: number;
  /**
   * Fewest occurrences a token needs (v2 `min_freq=3`: count >= 3, the same as v0.7's `count > 2`).
   * @default 3
   */
  minFreq?: number;
  /** Special tokens put first, in this order. @default SPECIAL_TOKENS (xxunk 0 ... xxmaj 8) */
  specials?: readonly string[];
  /**
   * Pad the vocab with `xxfake`, `xxfake1`, ... up to a multiple of this (fastai v2 pads to 8 for fast
   * embeddings on GPUs); 0 or 1: no padding. fastai v2 always adds `8 - len % 8` copies of `xxfake` (8 when the
   * size is already a multiple, all with the same name); here the names are unique and a multiple gets none.
   * @default 0
   */
  padToMultiple?: number;
}

/** The saved form of a {@linkcode Vocab} ({@linkcode Vocab.toJSON}). */
export interface VocabJSON {
  /** Format version. */
  version: 1;
  /** Tokens in id order. */
  itos: string[];
}

/**
 * Token <-> id maps. Ids follow fastai v2's `make_vocab`: `counts.most_common(maxVocab)` (ties in first-seen
 * order), keep `count >= minFreq`, move the specials first, cut to `maxVocab`, then pad. (fastai v0.7 cut to
 * `max_vocab` words and then added its two specials, so its vocab could be 2 larger.)
 *
 * @example Build, numericalise, save and load
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { Vocab } from "./vocab.ts";
 * const docs = [["xxbos", "the", "cat"], ["xxbos", "the", "dog"], ["xxbos", "the", "cat"]];
 * const vocab = Vocab.fromTokens(docs, { minFreq: 2 });
 * assert.deepEqual(vocab.itos.slice(9), ["the", "cat"]);
 * assert.deepEqual([...vocab.numericalize(["the", "dog", "cat"])], [9, 0, 10]);
 * assert.equal(vocab.textify([2, 9, 10]), "xxbos the cat");
 * assert.equal(Vocab.fromJSON(vocab.toJSON()).hash(), vocab.hash());
 * ```
 */
export class Vocab {
  /** Tokens in id order. */
  readonly itos: readonly string[];
  /** Token -> id. */
  readonly stoi: ReadonlyMap<string, number>;
  /** Id of `xxunk` (what unknown tokens map to); 0 with the default specials. */
  readonly unkId: number;

  /**
   * A vocab from tokens in id order.
   *
   * @param itos the tokens, unique, in id order
   */
  constructor(itos: readonly string[]) {
    const stoi = new Map<string, number>();
    itos.forEach((t, i) => {
      if (typeof t !== "string") throw new Error(`Vocab: itos[${i}] is not a string`);
      if (stoi.has(t)) {
        throw new Error(`Vocab: token ${JSON.stringify(t)} appears twice (ids ${stoi.get(t)} and ${i})`);
      }
      stoi.set(t, i);
    });
    this.itos = Object.freeze([...itos]);
    this.stoi = stoi;
    this.unkId = stoi.get(UNK) ?? 0;
  }

  /** Number of tokens (padding included). */
  get size(): number {
    return this.itos.length;
  }

  /**
   * Count the tokens of the documents and build the vocab from the counts.
   *
   * @param docs the tokenized documents (any iterable: read once)
   * @param options see {@linkcode VocabOptions}
   * @returns the vocab
   */
  static fromTokens(docs: Iterable<readonly string[]>, options: VocabOptions = {}): Vocab {
    return Vocab.fromCounts(countTokens(docs), options);
  }

  /**
   * Build the vocab from token counts (a Map keeps first-seen order, which breaks ties as Python's Counter).
   *
   * @param counts token -> count
   * @param options see {@linkcode VocabOptions}
   * @returns the vocab
   */
  static fromCounts(counts: ReadonlyMap<string, number>, options: VocabOptions = {}): Vocab {
    const { maxVocab = 60000, minFreq = 3, specials = SPECIAL_TOKENS, padToMultiple = 0 } = options;
    if (!Number.isInteger(maxVocab) || maxVocab < specials.length) {
      throw new Error(
        `Vocab: maxVocab must be an integer >= the ${specials.length} special tokens, got ${maxVocab}`,
      );
    }
    if (!Number.isInteger(padToMultiple) || padToMultiple < 0) {
      throw new Error(`Vocab: padToMultiple must be a non-negative integer, got ${padToMultiple}`);
    }
    // most_common(maxVocab): stable sort by count, descending (ties keep first-seen order).
    const entries = [...counts];
    entries.sort((a, b) => b[1] - a[1]);
    const specialSet = new Set(specials);
    const words: string[] = [];
    for (let i = 0; i < entries.length && i < maxVocab; i++) {
      const [t, c] = entries[i]!;
      if (c >= minFreq && !specialSet.has(t)) words.push(t);
    }
    const itos = [...specials, ...words].slice(0, maxVocab);
    if (padToMultiple > 1) {
      const taken = new Set(itos);
      let k = 0;
      while (itos.length % padToMultiple !== 0) {
        const name = k === 0 ? "xxfake" : `xxfake${k}`;
        k++;
        if (!taken.has(name)) itos.push(name);
      }
    }
    return new Vocab(itos);
  }

  /**
   * Ids of tokens; tokens not in the vocab get the id of `xxunk` (0).
   *
   * @param tokens the tokens
   * @returns their ids
   */
  numericalize(tokens: readonly string[]): Int32Array {
    const ids = new Int32Array(tokens.length);
    const { stoi, unkId } = this;
    for (let i = 0; i < tokens.length; i++) ids[i] = stoi.get(tokens[i]!) ?? unkId;
    return ids;
  }

  /**
   * Tokens of ids.
   *
   * @param ids the ids
   * @returns the tokens
   */
  lookup(ids: ArrayLike<number>): string[] {
    const out: string[] = new Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const t = this.itos[id];
      if (t === undefined) {
        throw new Error(`Vocab: id ${id} at position ${i} is out of range 0..${this.size - 1}`);
      }
      out[i] = t;
    }
    return out;
  }

  /**
   * Tokens of ids joined by `sep` (fastai `textify`).
   *
   * @param ids the ids
   * @param options `sep`: the separator (default one space)
   * @returns the text
   */
  textify(ids: ArrayLike<number>, options: { sep?: string } = {}): string {
    const { sep = " " } = options;
    return this.lookup(ids).join(sep);
  }

  /** The saved form (`JSON.stringify(vocab)` works). */
  toJSON(): VocabJSON {
    return { version: 1, itos: [...this.itos] };
  }

  /**
   * Load a vocab saved with {@linkcode Vocab.toJSON} (the object, or its JSON text), or a plain token array
   * (fastai's `itos` list).
   *
   * @param data the saved vocab
   * @returns the vocab
   */
  static fromJSON(data: VocabJSON | string | readonly string[]): Vocab {
    const obj: unknown = typeof data === "string" ? JSON.parse(data) : data;
    if (Array.isArray(obj)) return new Vocab(obj as string[]);
    if (typeof obj !== "object" || obj === null || !Array.isArray((obj as VocabJSON).itos)) {
      throw new Error("Vocab.fromJSON: expected { version: 1, itos: string[] } or a string array");
    }
    const v = (obj as VocabJSON).version;
    if (v !== 1) throw new Error(`Vocab.fromJSON: unsupported version ${v}; this build reads version 1`);
    return new Vocab((obj as VocabJSON).itos);
  }

  /**
   * A stable content hash of the token list: 64-bit FNV-1a over the UTF-8 bytes of the tokens in id order,
   * each followed by a 0xFF byte (which UTF-8 never contains), as 16 hex digits. Equal vocabs hash equal in any
   * process, platform or version.
   *
   * @returns the hash
   */
  hash(): string {
    const enc = new TextEncoder();
    // The 64-bit state as two 32-bit halves; prime 0x100000001b3 = 2^40 + 0x1b3.
    let hi = 0xcbf29ce4, lo = 0x84222325;
    const step = (byte: number) => {
      lo = (lo ^ byte) >>> 0;
      const a = lo * 0x1b3;
      const carry = Math.floor(a / 0x100000000);
      hi = (hi * 0x1b3 + carry + ((lo << 8) >>> 0)) % 0x100000000;
      lo = a % 0x100000000;
    };
    for (const t of this.itos) {
      for (const b of enc.encode(t)) step(b);
      step(0xff);
    }
    return hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");
  }
}

/**
 * Count tokens over documents, keeping first-seen order (as Python's Counter).
 *
 * @param docs tokenized documents
 * @param counts counts to add to (a new Map by default)
 * @returns the counts
 */
export function countTokens(
  docs: Iterable<readonly string[]>,
  counts: Map<string, number> = new Map(),
): Map<string, number> {
  for (const doc of docs) {
    for (const t of doc) counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  return counts;
}
