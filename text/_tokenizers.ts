/**
 * Tokenizers by name, so a Worker can build the same tokenizer as the main thread from a plain
 * (structured-cloneable) {@linkcode TokenizerSpec}, and the corpus store can hash what produced its tokens.
 *
 * @module
 */
import { tokenizeDocument, type TokenizeDocumentOptions } from "./word_tokenizer.ts";
import { SubwordTokenizer } from "./subword/subword.ts";

/** A tokenizer named in a form that can be sent to a Worker and hashed. */
export interface TokenizerSpec {
  /**
   * `"word"`: the fastai-style word tokenizer with fix-up and rules (`tokenizeDocument` of
   * `word_tokenizer.ts`); `"subword"`: a trained {@linkcode SubwordTokenizer} loaded from `model` (its pieces are
   * the tokens); `"whitespace"`: split on runs of whitespace (for tests and raw baselines).
   */
  name: "word" | "whitespace" | "subword";
  /** Path of the subword model (`SubwordTokenizer.save` JSON or a SentencePiece `.model`), for `"subword"`. */
  model?: string;
  /** Language of the word tokenizer's rules. @default {"en"} */
  lang?: "en" | "fr";
  /** Extra options passed to the tokenizer (JSON values only; they are part of the settings hash). */
  options?: Record<string, unknown>;
}

/** A tokenizer function: one document in, its tokens out. */
export type TokenizeFn = (text: string) => string[];

/** Split on runs of whitespace. */
export function whitespaceTokenize(text: string): string[] {
  const out = text.split(/\s+/);
  if (out.length && out[0] === "") out.shift();
  if (out.length && out[out.length - 1] === "") out.pop();
  return out;
}

/** Build the tokenizer a spec names (loads the word tokenizer module on first use). */
export function loadTokenizer(spec: TokenizerSpec): Promise<TokenizeFn> {
  if (spec.name === "whitespace") return Promise.resolve(whitespaceTokenize);
  if (spec.name === "word") {
    const opts = { lang: spec.lang ?? "en", ...spec.options } as TokenizeDocumentOptions;
    return Promise.resolve((text: string) => tokenizeDocument(text, opts));
  }
  if (spec.name === "subword") {
    if (!spec.model) {
      return Promise.reject(new Error(`the "subword" tokenizer needs a model path (spec.model)`));
    }
    return SubwordTokenizer.load(spec.model).then((tok) => (text: string) => tok.encodePieces(text));
  }
  return Promise.reject(
    new Error(
      `unknown tokenizer "${(spec as { name: string }).name}"; use "word", "subword" or "whitespace"`,
    ),
  );
}

/** Canonical JSON of a spec (sorted keys), for hashing settings. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${
      Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) =>
        `${JSON.stringify(k)}:${canonicalJson(o[k])}`
      )
        .join(",")
    }}`;
  }
  return JSON.stringify(v);
}

/** Tokenize a chunk of documents into the compact chunk form (unique terms + local ids + offsets). */
export function tokenizeChunk(texts: readonly string[], tok: TokenizeFn): TokenizedChunk {
  const terms: string[] = [];
  const local = new Map<string, number>();
  const offsets = new Int32Array(texts.length + 1);
  let ids = new Int32Array(1024);
  let n = 0;
  for (let d = 0; d < texts.length; d++) {
    const toks = tok(texts[d]!);
    if (n + toks.length > ids.length) {
      const grown = new Int32Array(Math.max(ids.length * 2, n + toks.length));
      grown.set(ids.subarray(0, n));
      ids = grown;
    }
    for (const t of toks) {
      let id = local.get(t);
      if (id === undefined) {
        id = terms.length;
        local.set(t, id);
        terms.push(t);
      }
      ids[n++] = id;
    }
    offsets[d + 1] = n;
  }
  return { terms, ids: ids.slice(0, n), offsets };
}

/**
 * A chunk of tokenized documents in compact form: document `d`'s tokens are
 * `terms[ids[offsets[d]]] ... terms[ids[offsets[d+1]-1]]`.
 */
export interface TokenizedChunk {
  /** The distinct tokens of the chunk, in first-appearance order. */
  terms: string[];
  /** Every token of every document, as an index into `terms`. */
  ids: Int32Array;
  /** Document boundaries into `ids` (length = documents + 1). */
  offsets: Int32Array;
}
