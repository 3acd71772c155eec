/**
 * SentencePiece-style subword tokenizer: a trainable unigram language model (Kudo 2018) or BPE, encoding by
 * Viterbi (unigram) or best-merge-first (BPE) over a code-point trie, with an exact encode/decode round trip.
 *
 * Normalisation (what `encode` does before segmenting), chosen so that `decode(encode(s)) === s` for every
 * string `s` without lone surrogates:
 * - no Unicode normalisation and no whitespace collapsing (unlike SentencePiece's default `nmt_nfkc`);
 * - a space is prefixed to the text (SentencePiece's `add_dummy_prefix`; `decode` removes it again) and every
 *   space (U+0020) becomes `▁` (U+2581) inside pieces; each space starts a new segment, so runs of spaces encode
 *   as one `▁` piece per extra space; other whitespace (`\n`, `\t`, ...) are one-character segments;
 * - a piece never mixes Unicode scripts (Latin letters with digits or punctuation, say), as SentencePiece's
 *   `split_by_unicode_script`; Han, Hiragana and Katakana count as one script;
 * - a literal `▁` in the input is never matched by a piece: it takes the unknown path below, so it decodes back
 *   to `▁`, not to a space;
 * - special tokens (`xxbos`, `xxmaj`, ...) found in the text become their ids (fastai passes them to
 *   SentencePiece as user-defined symbols).
 *
 * Unknown characters (outside the trained character coverage): with `byteFallback` (the default) they encode
 * as their UTF-8 bytes `<0x..>`, which decode back exactly; without it they become `xxunk` (id 0) and the round
 * trip holds only for in-coverage text (a run of unknown characters gives one `xxunk`). Lone surrogates cannot
 * be written as UTF-8 and decode as U+FFFD.
 *
 * Models save to JSON ({@linkcode SubwordTokenizer.save}, `toJSON`) and to SentencePiece's `.model` format
 * (`toSentencePiece`); SentencePiece `.model` files load with {@linkcode SubwordTokenizer.load} /
 * `fromSentencePiece`. Encoding caches the ids of up to 2^18 distinct short segments (words) per tokenizer.
 *
 * @example Train, encode, decode
 * ```ts
 * import { SubwordTokenizer } from "./subword.ts";
 * const text = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"];
 * const tok = SubwordTokenizer.train(text, { vocabSize: 300, characterCoverage: 1 });
 * const ids = tok.encode("the cat  sat\non a log!");
 * if (tok.decode(ids) !== "the cat  sat\non a log!") throw new Error("round trip failed");
 * if (tok.size !== 300 || tok.idToPiece(2) !== "xxbos") throw new Error("bad vocab");
 * ```
 *
 * @module
 */
import { segmentText, SPACE_MARK, SPACE_MARK_CP, type SpecialMatcher, specialMatcher } from "./_pretok.ts";
import { codePoints, PieceTrie } from "./_trie.ts";
import { trainUnigram } from "./_unigram.ts";
import { trainBpe } from "./_bpe.ts";
import { type CollectOptions, CorpusCollector, type CorpusStats } from "./_corpus.ts";
import { bpeSegment, type EncoderModel, unigramSegment } from "./_encode.ts";
import { readSentencePieceModel, writeSentencePieceModel } from "./_spm.ts";
import { CACHE_MAX_SEGMENT, SegmentCache } from "./_cache.ts";
import { SPECIAL_TOKENS } from "../special_tokens.ts";

/** fastai's special tokens in id order (SPEC.md): xxunk 0, xxpad 1, xxbos 2, ... xxmaj 8. */
export const SUBWORD_SPECIALS: readonly string[] = SPECIAL_TOKENS;

/** Subword model kind. */
export type SubwordModelType = "unigram" | "bpe";

/**
 * Kind of a piece, as in SentencePiece's `ModelProto.SentencePiece.Type`: `normal` pieces come from training,
 * `unknown` is the unknown token, `control` pieces (`<s>`) never appear in text, `user` pieces are matched
 * verbatim in text, `byte` pieces are `<0x00>`..`<0xFF>` for byte fallback, `unused` are ignored.
 */
export type PieceType = "normal" | "unknown" | "control" | "user" | "byte" | "unused";

/** Options of {@linkcode SubwordTokenizer.train}. */
export interface SubwordTrainOptions {
  /** Total vocabulary size, specials and byte pieces included. @default 30000 */
  vocabSize?: number;
  /** Unigram language model or BPE. @default "unigram" */
  model?: SubwordModelType;
  /** Fraction of the corpus' characters the alphabet must cover (1 for small alphabets). @default 0.9995 */
  characterCoverage?: number;
  /** Encode characters outside the alphabet as UTF-8 byte pieces (else as `xxunk`). @default true */
  byteFallback?: boolean;
  /** Special tokens placed first (id = index); the first is the unknown token. @default SUBWORD_SPECIALS */
  specials?: readonly string[];
  /** Longest piece, in code points. @default 16 */
  maxPieceLength?: number;
  /** Unigram: number of seed pieces. @default 1000000 */
  seedSize?: number;
  /** Unigram: fraction of pieces kept by each pruning round. @default 0.75 */
  shrinkingFactor?: number;
  /** Unigram: EM sub-iterations per pruning round. @default 2 */
  numSubIterations?: number;
  /** Segments longer than this (UTF-16 units) are left out of training (still encodable). @default 4192 */
  maxSegmentLength?: number;
}

/** Settings saved with a model. */
export interface SubwordSettings {
  /** Prefix a space to the text before encoding (and strip it when decoding). */
  addDummyPrefix: boolean;
  /** `"identity"` (ours) or SentencePiece's `"nmt_nfkc"`/`"nfkc"` (applies `String.normalize("NFKC")`). */
  normalization: string;
  /** Trim and collapse runs of spaces before encoding (SentencePiece models; breaks the exact round trip). */
  removeExtraWhitespaces: boolean;
  /** Piece strings matched verbatim in text. */
  textSpecials: string[];
  /** Text that `decode` writes for the unknown id (SentencePiece: `" ⁇ "`); the piece itself when absent. */
  unkSurface?: string;
  /** Training settings, for the record. */
  training?: Record<string, number | string | boolean>;
}

/** JSON form of a model, as written by {@linkcode SubwordTokenizer.toJSON}. */
export interface SubwordJSON {
  /** Always `"denofit.subword"`. */
  format: "denofit.subword";
  /** Format version, 1. */
  version: 1;
  /** Model kind. */
  model: SubwordModelType;
  /** Settings. */
  settings: SubwordSettings;
  /** `[piece, score, type]` in id order. */
  pieces: Array<[string, number, PieceType]>;
}

const PIECE_TYPES = new Set<PieceType>(["normal", "unknown", "control", "user", "byte", "unused"]);
const BYTE_RE = /^<0x([0-9A-F]{2})>$/;
const CACHE_LIMIT = 1 << 18;

/** A trained (or loaded) subword model: encode text to ids and decode ids back. */
export class SubwordTokenizer {
  /** Model kind. */
  readonly model: SubwordModelType;
  /** Settings. */
  readonly settings: SubwordSettings;
  readonly #pieces: string[];
  readonly #scores: Float64Array;
  readonly #types: PieceType[];
  readonly #pieceToId = new Map<string, number>();
  readonly #decoded: string[];
  readonly #trie = new PieceTrie(1024);
  readonly #byteIds = new Int32Array(256).fill(-1);
  readonly #unkId: number;
  readonly #unkScore: number;
  readonly #specials: SpecialMatcher | null;
  readonly #cache = new SegmentCache(CACHE_LIMIT);
  #enc: EncoderModel | undefined;

  /**
   * Build from pieces in id order.
   *
   * @param model `"unigram"` or `"bpe"`.
   * @param pieces `[piece, score, type]` triples; normal pieces write spaces as `▁`.
   * @param settings normalisation settings.
   */
  constructor(
    model: SubwordModelType,
    pieces: Array<[string, number, PieceType]>,
    settings: SubwordSettings,
  ) {
    if (model !== "unigram" && model !== "bpe") {
      throw new Error(`subword: unknown model type ${JSON.stringify(model)}; use "unigram" or "bpe"`);
    }
    this.model = model;
    this.settings = settings;
    this.#pieces = pieces.map((p) => p[0]);
    this.#scores = Float64Array.from(pieces, (p) => p[1]);
    this.#types = pieces.map((p) => p[2]);
    let unk = -1, minScore = 0;
    this.#decoded = [];
    pieces.forEach(([piece, score, type], id) => {
      if (!PIECE_TYPES.has(type)) {
        throw new Error(`subword: piece ${id} ${JSON.stringify(piece)} has bad type ${type}`);
      }
      if (!this.#pieceToId.has(piece)) this.#pieceToId.set(piece, id);
      this.#decoded.push(
        type === "normal"
          ? piece.replaceAll(SPACE_MARK, " ")
          : type === "control"
          ? ""
          : type === "unknown"
          ? settings.unkSurface ?? piece
          : piece,
      );
      if (type === "unknown" && unk < 0) unk = id;
      if (type === "normal") {
        if (piece.length === 0) throw new Error(`subword: piece ${id} is empty`);
        this.#trie.insert(codePoints(piece), id);
        if (score < minScore) minScore = score;
      }
      if (type === "byte") {
        const m = BYTE_RE.exec(piece);
        if (m === null) throw new Error(`subword: byte piece ${id} ${JSON.stringify(piece)} is not <0xHH>`);
        this.#byteIds[parseInt(m[1]!, 16)] = id;
      }
    });
    if (unk < 0) throw new Error('subword: the model has no unknown piece (type "unknown")');
    this.#unkId = unk;
    this.#unkScore = minScore - 10; // SentencePiece's kUnkPenalty
    const special = settings.textSpecials.map((s) => [s, this.#pieceToId.get(s) ?? -1] as const);
    const missing = special.find(([, id]) => id < 0);
    if (missing) throw new Error(`subword: text special ${JSON.stringify(missing[0])} is not a piece`);
    this.#specials = special.length ? specialMatcher(special) : null;
  }

  /**
   * Train on a corpus.
   *
   * @param corpus texts (documents or lines); anything iterable.
   * @param options vocabulary size, model kind, coverage...
   * @returns the trained tokenizer, with exactly `vocabSize` pieces: specials, byte pieces, then the rest.
   */
  static train(corpus: Iterable<string>, options: SubwordTrainOptions = {}): SubwordTokenizer {
    const collector = new CorpusCollector(collectOptions(options));
    for (const text of corpus) collector.add(text);
    return SubwordTokenizer.#fromCorpus(collector.finish(), options);
  }

  /**
   * Train on a stream of texts (for example a corpus reader mapped to its texts): texts are counted as they
   * arrive, so memory grows with the number of distinct words, not with the corpus.
   *
   * @param corpus texts, sync or async iterable.
   * @param options as {@linkcode SubwordTokenizer.train}.
   */
  static async trainAsync(
    corpus: AsyncIterable<string> | Iterable<string>,
    options: SubwordTrainOptions = {},
  ): Promise<SubwordTokenizer> {
    const collector = new CorpusCollector(collectOptions(options));
    for await (const text of corpus) collector.add(text);
    return SubwordTokenizer.#fromCorpus(collector.finish(), options);
  }

  static #fromCorpus(stats: CorpusStats, options: SubwordTrainOptions): SubwordTokenizer {
    const {
      vocabSize,
      model,
      characterCoverage,
      byteFallback,
      specials,
      maxPieceLength,
      seedSize,
      shrinkingFactor,
      numSubIterations,
      maxSegmentLength,
    } = trainSettings(options);
    if (stats.chars.length === 0) {
      throw new Error(`subword: the corpus has no text to train on (${stats.texts} texts, all empty)`);
    }
    const meta = specials.length + (byteFallback ? 256 : 0);
    const target = vocabSize - meta;
    if (target < stats.chars.length) {
      throw new Error(
        `subword: vocabSize ${vocabSize} is too small: ${specials.length} specials` +
          (byteFallback ? " + 256 byte pieces" : "") +
          ` + ${stats.chars.length} required characters need at least ${meta + stats.chars.length}; ` +
          `raise vocabSize or lower characterCoverage`,
      );
    }
    const normal = model === "unigram"
      ? trainUnigram(stats.words, {
        targetSize: target,
        maxPieceLength,
        seedSize,
        shrinkingFactor,
        numSubIterations,
        requiredChars: new Map(stats.chars),
      })
      : trainBpe(stats.words, stats.chars.map((c) => c[0]), target, maxPieceLength);
    const pieces: Array<[string, number, PieceType]> = specials.map((
      s,
      i,
    ) => [s, 0, i === 0 ? "unknown" : "user"]);
    if (byteFallback) {
      for (let b = 0; b < 256; b++) {
        pieces.push([`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`, 0, "byte"]);
      }
    }
    for (const [p, s] of normal) pieces.push([p, s, "normal"]);
    return new SubwordTokenizer(model, pieces, {
      addDummyPrefix: true,
      normalization: "identity",
      removeExtraWhitespaces: false,
      textSpecials: [...specials],
      training: {
        vocabSize,
        model,
        characterCoverage,
        byteFallback,
        maxPieceLength,
        seedSize,
        shrinkingFactor,
        numSubIterations,
        maxSegmentLength,
        texts: stats.texts,
        skippedLongSegments: stats.skippedLong,
      },
    });
  }

  /**
   * Load a model from its JSON form (object or string).
   *
   * @param json what {@linkcode SubwordTokenizer.toJSON} wrote.
   */
  static fromJSON(json: SubwordJSON | string): SubwordTokenizer {
    const o = (typeof json === "string" ? JSON.parse(json) : json) as Partial<SubwordJSON>;
    if (o === null || typeof o !== "object" || o.format !== "denofit.subword") {
      throw new Error('subword: not a denofit subword model (expected format "denofit.subword")');
    }
    if (o.version !== 1) throw new Error(`subword: unsupported model version ${o.version}`);
    if (!Array.isArray(o.pieces)) throw new Error("subword: model JSON has no pieces array");
    o.pieces.forEach((p, i) => {
      if (
        !Array.isArray(p) || typeof p[0] !== "string" || typeof p[1] !== "number" || typeof p[2] !== "string"
      ) {
        throw new Error(`subword: model JSON piece ${i} is not [string, number, type]`);
      }
    });
    const s = o.settings;
    if (!s || typeof s.addDummyPrefix !== "boolean" || !Array.isArray(s.textSpecials)) {
      throw new Error("subword: model JSON settings are missing addDummyPrefix or textSpecials");
    }
    return new SubwordTokenizer(o.model as SubwordModelType, o.pieces, s);
  }

  /**
   * Load a SentencePiece `.model` file (the `ModelProto` protobuf): pieces, scores, types, model kind and
   * normaliser flags. SentencePiece's NFKC rules are approximated by `String.normalize("NFKC")`.
   *
   * @param bytes the file's contents.
   */
  static fromSentencePiece(bytes: Uint8Array): SubwordTokenizer {
    const m = readSentencePieceModel(bytes);
    return new SubwordTokenizer(m.model, m.pieces, {
      addDummyPrefix: m.addDummyPrefix,
      normalization: m.normalization,
      removeExtraWhitespaces: m.removeExtraWhitespaces,
      textSpecials: m.pieces.filter((p) => p[2] === "user").map((p) => p[0]),
      unkSurface: " \u2047 ",
    });
  }

  /**
   * Load a model file: our JSON (first non-blank byte `{`) or a SentencePiece `.model` protobuf.
   *
   * @param path file path or URL.
   */
  static async load(path: string | URL): Promise<SubwordTokenizer> {
    const bytes = await Deno.readFile(path);
    let k = 0;
    while (
      k < bytes.length && (bytes[k] === 0x20 || bytes[k] === 0x0a || bytes[k] === 0x0d || bytes[k] === 0x09)
    ) k++;
    if (bytes[k] === 0x7b) {
      try {
        return SubwordTokenizer.fromJSON(new TextDecoder().decode(bytes));
      } catch (e) {
        throw new Error(`subword: cannot load ${path}: ${(e as Error).message}`);
      }
    }
    try {
      return SubwordTokenizer.fromSentencePiece(bytes);
    } catch (e) {
      throw new Error(
        `subword: cannot load ${path} (neither model JSON nor SentencePiece .model): ${(e as Error).message}`,
      );
    }
  }

  /**
   * Save the model as JSON (written to a temporary file first, then renamed, so a crash leaves no half file).
   *
   * @param path file path.
   */
  async save(path: string): Promise<void> {
    const tmp = `${path}.tmp-${Date.now()}`;
    await Deno.writeTextFile(tmp, JSON.stringify(this.toJSON()));
    await Deno.rename(tmp, path);
  }

  /**
   * The model as a SentencePiece `.model` file (`ModelProto`), loadable by SentencePiece (and so by fastai's
   * `SentencePieceTokenizer`). SentencePiece then encodes like this tokenizer except that it does not cut at
   * newlines and tabs, and it writes an unknown id as `" ⁇ "`.
   */
  toSentencePiece(): Uint8Array {
    return writeSentencePieceModel({
      model: this.model,
      pieces: this.#pieces.map((p, i) => [p, this.#scores[i]!, this.#types[i]!]),
      normalization: "identity",
      addDummyPrefix: this.settings.addDummyPrefix,
      removeExtraWhitespaces: this.settings.removeExtraWhitespaces,
    });
  }

  /** The JSON form (pieces, scores, types, settings). */
  toJSON(): SubwordJSON {
    return {
      format: "denofit.subword",
      version: 1,
      model: this.model,
      settings: this.settings,
      pieces: this.#pieces.map((p, i) => [p, this.#scores[i]!, this.#types[i]!]),
    };
  }

  /** Number of pieces (ids are `0 .. size-1`). */
  get size(): number {
    return this.#pieces.length;
  }

  /** Id of the unknown piece. */
  get unkId(): number {
    return this.#unkId;
  }

  /** Piece string of an id (spaces written `▁`). */
  idToPiece(id: number): string {
    const p = this.#pieces[id];
    if (p === undefined) throw new RangeError(`subword: id ${id} out of range 0..${this.#pieces.length - 1}`);
    return p;
  }

  /** Id of a piece string, or the unknown id. */
  pieceToId(piece: string): number {
    return this.#pieceToId.get(piece) ?? this.#unkId;
  }

  /** Score (log probability for unigram, `-merge rank` for BPE) of an id. */
  score(id: number): number {
    return this.#scores[id] ?? NaN;
  }

  /** Type of an id. */
  pieceType(id: number): PieceType {
    const t = this.#types[id];
    if (t === undefined) throw new RangeError(`subword: id ${id} out of range 0..${this.#types.length - 1}`);
    return t;
  }

  #normalize(text: string): string {
    let t = this.settings.normalization.includes("nfkc") ? text.normalize("NFKC") : text;
    if (this.settings.removeExtraWhitespaces) t = t.replace(/ {2,}/g, " ").replace(/^ +| +$/g, "");
    return this.settings.addDummyPrefix && t.length > 0 ? " " + t : t;
  }

  /**
   * Encode text to ids.
   *
   * @param text any string.
   * @returns the ids; `decode` turns them back into `text`.
   */
  encode(text: string): number[] {
    if (typeof text !== "string") throw new TypeError(`subword: encode expects a string, got ${typeof text}`);
    const t = this.#normalize(text);
    const out: number[] = [];
    const cache = this.#cache;
    segmentText(t, this.#specials, (s, e, special) => {
      if (special >= 0) {
        out.push(special);
      } else if (e - s <= CACHE_MAX_SEGMENT) {
        const h = SegmentCache.hash(t, s, e);
        if (!cache.appendTo(t, s, e, h, out)) {
          const ids = this.#segment(t, s, e);
          cache.set(t, s, e, h, ids);
          for (const id of ids) out.push(id);
        }
      } else {
        for (const id of this.#segment(t, s, e)) out.push(id);
      }
    });
    return out;
  }

  /** Encode text to piece strings. */
  encodePieces(text: string): string[] {
    return this.encode(text).map((id) => this.#pieces[id]!);
  }

  #segment(text: string, start: number, end: number): number[] {
    const enc = this.#enc ??= {
      trie: this.#trie,
      scores: this.#scores,
      unkScore: this.#unkScore,
      unkId: this.#unkId,
      byteIds: this.#byteIds,
      types: this.#types,
    };
    return this.model === "unigram"
      ? unigramSegment(text, start, end, enc)
      : bpeSegment(text, start, end, enc);
  }

  /**
   * Decode ids back to text: pieces joined, `▁` turned back into spaces, byte pieces decoded as UTF-8 (invalid
   * sequences become U+FFFD), the dummy-prefix space removed.
   *
   * @param ids ids from {@linkcode SubwordTokenizer.encode}.
   */
  decode(ids: ArrayLike<number>): string {
    let out = "";
    const bytes: number[] = [];
    const flush = () => {
      if (bytes.length) out += new TextDecoder().decode(Uint8Array.from(bytes));
      bytes.length = 0;
    };
    let stripFirst = false;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const type = this.#types[id];
      if (type === undefined) {
        throw new RangeError(`subword: decode got id ${id} at ${i}, outside 0..${this.size - 1}`);
      }
      if (type === "byte") {
        bytes.push(parseInt(this.#pieces[id]!.slice(3, 5), 16));
        continue;
      }
      flush();
      if (i === 0 && type === "normal" && this.#pieces[id]!.startsWith(SPACE_MARK)) stripFirst = true;
      out += this.#decoded[id]!;
    }
    flush();
    return stripFirst && this.settings.addDummyPrefix ? out.slice(1) : out;
  }
}

/** The training options with every default filled in (the `@default`s of {@linkcode SubwordTrainOptions}). */
function trainSettings(options: SubwordTrainOptions): Required<SubwordTrainOptions> {
  return {
    vocabSize: 30000,
    model: "unigram",
    characterCoverage: 0.9995,
    byteFallback: true,
    specials: SUBWORD_SPECIALS,
    maxPieceLength: 16,
    seedSize: 1_000_000,
    shrinkingFactor: 0.75,
    numSubIterations: 2,
    maxSegmentLength: 4192,
    ...definedOnly(options),
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Validate the training options and build the corpus collector's settings. */
function collectOptions(options: SubwordTrainOptions): CollectOptions {
  const {
    vocabSize,
    model,
    characterCoverage,
    specials,
    maxPieceLength,
    seedSize,
    shrinkingFactor,
    numSubIterations,
    maxSegmentLength,
  } = trainSettings(options);
  checkInt("vocabSize", vocabSize, 1);
  checkInt("maxPieceLength", maxPieceLength, 1);
  checkInt("seedSize", seedSize, 1);
  checkInt("numSubIterations", numSubIterations, 1);
  checkInt("maxSegmentLength", maxSegmentLength, 1);
  if (!(characterCoverage > 0 && characterCoverage <= 1)) {
    throw new RangeError(`subword: characterCoverage must be in (0, 1], got ${characterCoverage}`);
  }
  if (!(shrinkingFactor > 0 && shrinkingFactor < 1)) {
    throw new RangeError(`subword: shrinkingFactor must be in (0, 1), got ${shrinkingFactor}`);
  }
  if (model !== "unigram" && model !== "bpe") {
    throw new Error(`subword: unknown model ${JSON.stringify(model)}; use "unigram" or "bpe"`);
  }
  if (specials.length === 0) throw new Error("subword: specials must hold at least the unknown token");
  return {
    characterCoverage,
    addDummyPrefix: true,
    specials: specialMatcher(specials.map((s, i) => [s, i] as const)),
    maxSegmentLength,
  };
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) {
    throw new RangeError(`subword: ${name} must be an integer >= ${min}, got ${v}`);
  }
}

/**
 * Train a subword tokenizer (same as {@linkcode SubwordTokenizer.train}).
 *
 * @example BPE with a small vocabulary
 * ```ts
 * import { trainSubword } from "./subword.ts";
 * const tok = trainSubword(["low lower lowest", "new newer newest"], {
 *   model: "bpe",
 *   vocabSize: 285,
 *   characterCoverage: 1,
 * });
 * if (tok.decode(tok.encode(" lowest  newer ")) !== " lowest  newer ") throw new Error("round trip failed");
 * ```
 */
export function trainSubword(corpus: Iterable<string>, options: SubwordTrainOptions = {}): SubwordTokenizer {
  return SubwordTokenizer.train(corpus, options);
}

export { SPACE_MARK, SPACE_MARK_CP };
