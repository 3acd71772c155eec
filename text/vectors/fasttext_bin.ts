/**
 * fastText `.bin` models (format version 12, as fastText 0.9 writes them; 11 read too): the arguments, the
 * dictionary and the input matrix, from which word vectors are built the way fastText's `getWordVector` does
 * it — the average of the word's own row and the rows of its character n-grams (`minn..maxn` of `<word>`,
 * FNV-1a hashed into `bucket` rows). Words outside the vocabulary get a vector from their n-grams too, which
 * is what the `.bin` offers over the `.vec`.
 *
 * Safety: the header and dictionary are read through a bounded buffer and every size is checked against the
 * file length before anything is allocated; the matrix is streamed once in 4 MiB pieces, so memory stays at
 * the vectors you ask for, whatever the model's size. The file must end exactly after the output matrix, so
 * a truncated file is an error. Quantized models (`.ftz`) are refused with a clear error.
 * Layout: fastText `src/fasttext.cc` (`saveModel`), `args.cc`, `dictionary.cc`, `densematrix.cc`.
 *
 * @example
 * ```ts
 * import { loadFastTextBin } from "./fasttext_bin.ts";
 * const bin = new URL("../../tests/fixtures/fasttext/tiny.bin", import.meta.url).pathname;
 * const wv = await loadFastTextBin(bin, { words: ["fichier", "fichiers!"] });
 * if (wv.dim !== 8 || wv.size !== 2) throw new Error("bin");
 * ```
 *
 * @module
 */
import { openFile } from "../readers/_common.ts";
import { ReaderError } from "../readers/types.ts";
import { WordVectors } from "./word_vectors.ts";

const MAGIC = 793712314;
const EOS = "</s>";

/** The training arguments stored in a `.bin`. */
export interface FastTextArgs {
  /** Vector size. */
  dim: number;
  /** Context window. */
  ws: number;
  /** Epochs. */
  epoch: number;
  /** Minimal word count. */
  minCount: number;
  /** Negatives. */
  neg: number;
  /** Word n-grams (supervised). */
  wordNgrams: number;
  /** Loss: 1 hs, 2 ns, 3 softmax, 4 ova. */
  loss: number;
  /** Model: 1 cbow, 2 skipgram, 3 supervised. */
  model: number;
  /** Hash buckets for n-grams. */
  bucket: number;
  /** Shortest character n-gram. */
  minn: number;
  /** Longest character n-gram (0: none). */
  maxn: number;
  /** Learning-rate update period. */
  lrUpdateRate: number;
  /** Subsampling threshold. */
  t: number;
}

/** Sequential little-endian reader over a file with a bounded buffer. */
class BinReader {
  #buf = new Uint8Array(0);
  #pos = 0; // in #buf
  offset = 0; // in the file
  constructor(readonly file: Deno.FsFile, readonly path: string, readonly size: number) {}

  async need(n: number, what: string): Promise<void> {
    if (this.offset + n > this.size) {
      throw new ReaderError(
        this.path,
        0,
        `truncated: ${what} at byte ${this.offset} needs ${n} bytes, file has ${this.size}`,
      );
    }
    if (this.#pos + n <= this.#buf.length) return;
    const keep = this.#buf.subarray(this.#pos);
    const next = new Uint8Array(Math.max(n, 1 << 20));
    next.set(keep);
    let have = keep.length;
    while (have < n) {
      const r = await this.file.read(next.subarray(have));
      if (r === null) throw new ReaderError(this.path, 0, `truncated: end of file while reading ${what}`);
      have += r;
    }
    this.#buf = next.subarray(0, have);
    this.#pos = 0;
  }
  #view(n: number): DataView {
    const dv = new DataView(this.#buf.buffer, this.#buf.byteOffset + this.#pos, n);
    this.#pos += n;
    this.offset += n;
    return dv;
  }
  async i32(what: string): Promise<number> {
    await this.need(4, what);
    return this.#view(4).getInt32(0, true);
  }
  async i64(what: string): Promise<number> {
    await this.need(8, what);
    const v = this.#view(8).getBigInt64(0, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new ReaderError(this.path, 0, `${what} ${v} is out of range`);
    }
    return Number(v);
  }
  async f64(what: string): Promise<number> {
    await this.need(8, what);
    return this.#view(8).getFloat64(0, true);
  }
  async u8(what: string): Promise<number> {
    await this.need(1, what);
    return this.#view(1).getUint8(0);
  }
  /** A NUL-terminated byte string of at most `max` bytes (the NUL is consumed, not returned). */
  async cstring(what: string, max: number): Promise<Uint8Array> {
    for (let n = 256;; n *= 4) {
      const avail = Math.min(n, max + 1, this.size - this.offset);
      await this.need(avail, what);
      const z = this.#buf.subarray(this.#pos, this.#pos + avail).indexOf(0);
      if (z >= 0) {
        const out = this.#buf.slice(this.#pos, this.#pos + z);
        this.#pos += z + 1;
        this.offset += z + 1;
        return out;
      }
      if (avail > max || this.offset + avail >= this.size) {
        throw new ReaderError(
          this.path,
          0,
          `${what} at byte ${this.offset} has no NUL terminator within ${max} bytes`,
        );
      }
    }
  }
  /** Skip to an absolute file offset (forward only). */
  async skipTo(off: number): Promise<void> {
    const ahead = off - this.offset;
    if (ahead <= this.#buf.length - this.#pos) {
      this.#pos += ahead;
    } else {
      await this.file.seek(off, Deno.SeekMode.Start);
      this.#buf = new Uint8Array(0);
      this.#pos = 0;
    }
    this.offset = off;
  }
}

/**
 * fastText's FNV-1a over bytes, with its sign-extended `int8_t` quirk for bytes >= 0x80 (the n-gram bucket of
 * a subword is `hash % bucket`).
 *
 * @param bytes UTF-8 bytes of a word or n-gram.
 * @returns The 32-bit hash.
 *
 * @example
 * ```ts
 * import { fastTextHash } from "./fasttext_bin.ts";
 * if (fastTextHash(new TextEncoder().encode("a")) !== 0xe40c292c) throw new Error("fnv");
 * ```
 */
export function fastTextHash(bytes: Uint8Array): number {
  let h = 2166136261;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    h = Math.imul((h ^ (b >= 128 ? b | 0xffffff00 : b)) >>> 0, 16777619) >>> 0;
  }
  return h;
}

/** The input-matrix rows fastText averages for a word (its own row if known, then its n-gram rows). */
function subwordRows(
  word: Uint8Array,
  id: number,
  nwords: number,
  a: FastTextArgs,
  prune: Map<number, number> | null,
): number[] {
  const rows = id >= 0 ? [id] : [];
  if (a.maxn <= 0 || a.bucket <= 0) return rows;
  const w = new Uint8Array(word.length + 2);
  w[0] = 0x3c; // "<"
  w.set(word, 1);
  w[w.length - 1] = 0x3e; // ">"
  for (let i = 0; i < w.length; i++) {
    if ((w[i]! & 0xc0) === 0x80) continue;
    let j = i;
    for (let n = 1; j < w.length && n <= a.maxn; n++) {
      j++;
      while (j < w.length && (w[j]! & 0xc0) === 0x80) j++;
      if (n >= a.minn && !(n === 1 && (i === 0 || j === w.length))) {
        let h = fastTextHash(w.subarray(i, j)) % a.bucket;
        if (prune) {
          const p = prune.get(h);
          if (p === undefined) continue;
          h = p;
        }
        rows.push(nwords + h);
      }
    }
  }
  return rows;
}

/** A fastText `.bin` model's header and dictionary (the matrix stays on disk until vectors are asked for). */
export interface FastTextBinInfo {
  /** The stored arguments. */
  args: FastTextArgs;
  /** Dictionary entries of type word, in order (most frequent first). */
  words: string[];
  /** Their counts. */
  counts: number[];
  /** Number of label entries (supervised models). */
  nlabels: number;
  /** Tokens seen in training. */
  ntokens: number;
}

interface Parsed extends FastTextBinInfo {
  wordBytes: Uint8Array[];
  prune: Map<number, number> | null;
  matrixOffset: number;
  rows: number;
}

async function readArgs(r: BinReader): Promise<FastTextArgs> {
  const names = [
    "dim",
    "ws",
    "epoch",
    "minCount",
    "neg",
    "wordNgrams",
    "loss",
    "model",
    "bucket",
    "minn",
    "maxn",
  ];
  const a: Record<string, number> = {};
  for (const k of names) a[k] = await r.i32(`args.${k}`);
  a.lrUpdateRate = await r.i32("args.lrUpdateRate");
  a.t = await r.f64("args.t");
  const args = a as unknown as FastTextArgs;
  const bad = (what: string) => new ReaderError(r.path, 0, `bad model arguments: ${what}`);
  if (!(args.dim >= 1 && args.dim <= 1 << 16)) throw bad(`dim ${args.dim}`);
  if (!(args.model >= 1 && args.model <= 3)) throw bad(`model ${args.model}`);
  if (!(args.bucket >= 0 && args.minn >= 0 && args.maxn >= 0 && args.maxn <= 1024)) {
    throw bad(`bucket ${args.bucket}, minn ${args.minn}, maxn ${args.maxn}`);
  }
  return args;
}

async function readDictionary(
  r: BinReader,
  args: FastTextArgs,
): Promise<Omit<Parsed, "args" | "matrixOffset" | "rows">> {
  const size = await r.i32("dictionary size"),
    nwords = await r.i32("nwords"),
    nlabels = await r.i32("nlabels");
  const ntokens = await r.i64("ntokens"), pruneSize = await r.i64("pruneidx size");
  if (size < 0 || nwords < 0 || nlabels < 0 || nwords + nlabels !== size) {
    throw new ReaderError(
      r.path,
      0,
      `bad dictionary sizes: size ${size}, nwords ${nwords}, nlabels ${nlabels}`,
    );
  }
  if (size * 10 > r.size - r.offset) { // an entry takes at least 10 bytes
    throw new ReaderError(
      r.path,
      0,
      `truncated: a dictionary of ${size} entries does not fit in ${r.size} bytes`,
    );
  }
  const dec = new TextDecoder("utf-8", { fatal: true });
  const words: string[] = [], counts: number[] = [], wordBytes: Uint8Array[] = [];
  for (let i = 0; i < size; i++) {
    const bytes = await r.cstring(`dictionary entry ${i + 1}`, 1 << 20);
    const count = await r.i64(`count of entry ${i + 1}`);
    const type = await r.u8(`type of entry ${i + 1}`);
    if (type > 1 || count < 0) {
      throw new ReaderError(r.path, i + 1, `dictionary entry has type ${type}, count ${count}`);
    }
    if (type !== 0) continue;
    let word: string;
    try {
      word = dec.decode(bytes);
    } catch {
      throw new ReaderError(r.path, i + 1, "dictionary word is not valid UTF-8");
    }
    words.push(word);
    counts.push(count);
    wordBytes.push(bytes);
  }
  if (words.length !== nwords) {
    throw new ReaderError(r.path, 0, `${words.length} word entries, header says ${nwords}`);
  }
  let prune: Map<number, number> | null = null;
  if (pruneSize > 0) {
    if (pruneSize * 8 > r.size) throw new ReaderError(r.path, 0, `bad pruneidx size ${pruneSize}`);
    prune = new Map();
    for (let i = 0; i < pruneSize; i++) prune.set(await r.i32("pruneidx"), await r.i32("pruneidx"));
  } else if (pruneSize === 0 && args.maxn > 0) prune = new Map();
  return { words, counts, nlabels, ntokens, wordBytes, prune };
}

async function parse(r: BinReader): Promise<Parsed> {
  const magic = await r.i32("magic");
  if (magic !== MAGIC) {
    throw new ReaderError(r.path, 0, `not a fastText model: magic ${magic}, expected ${MAGIC}`);
  }
  const version = await r.i32("version");
  if (version !== 11 && version !== 12) {
    throw new ReaderError(r.path, 0, `unsupported fastText format version ${version}`);
  }
  const args = await readArgs(r);
  if (version === 11 && args.model === 3) args.maxn = 0;
  const dict = await readDictionary(r, args);
  if ((await r.u8("quant flag")) !== 0) {
    throw new ReaderError(
      r.path,
      0,
      "quantized fastText models (.ftz) are not supported; use the .bin or .vec",
    );
  }
  const rows = await r.i64("input rows"), cols = await r.i64("input columns");
  if (cols !== args.dim || rows !== dict.words.length + args.bucket) {
    throw new ReaderError(
      r.path,
      0,
      `input matrix ${rows}x${cols}, expected ${dict.words.length + args.bucket}x${args.dim}`,
    );
  }
  const matrixOffset = r.offset;
  const outAt = matrixOffset + rows * cols * 4;
  if (outAt + 17 > r.size) {
    throw new ReaderError(r.path, 0, `truncated: the input matrix ends past ${r.size} bytes`);
  }
  await r.skipTo(outAt);
  await r.u8("output quant flag");
  const orows = await r.i64("output rows"), ocols = await r.i64("output columns");
  if (orows < 0 || ocols < 0 || r.offset + orows * ocols * 4 !== r.size) {
    throw new ReaderError(
      r.path,
      0,
      `truncated or padded: output matrix ${orows}x${ocols} does not end at the file's ${r.size} bytes`,
    );
  }
  return { args, ...dict, matrixOffset, rows };
}

/**
 * Read a `.bin` model's arguments and dictionary (not its matrix).
 *
 * @param path The model file.
 * @returns Arguments, words (most frequent first) with counts, label count and training tokens.
 *
 * @example
 * ```ts
 * import { readFastTextBinInfo } from "./fasttext_bin.ts";
 * const info = await readFastTextBinInfo(new URL("../../tests/fixtures/fasttext/tiny.bin", import.meta.url).pathname);
 * if (info.args.dim !== 8 || info.words[0] !== "</s>") throw new Error("info");
 * ```
 * @throws {ReaderError} for a file that is not a fastText model, quantized, inconsistent or truncated.
 */
export async function readFastTextBinInfo(path: string): Promise<FastTextBinInfo> {
  const file = await openFile(path);
  try {
    const { args, words, counts, nlabels, ntokens } = await parse(
      new BinReader(file, path, (await file.stat()).size),
    );
    return { args, words, counts, nlabels, ntokens };
  } finally {
    file.close();
  }
}

/** Options of {@linkcode loadFastTextBin}. */
export interface FastTextBinOptions {
  /**
   * Words to build vectors for; words outside the model's vocabulary get their n-gram vector (left out when
   * they have no n-gram either). @default {the model's vocabulary}
   */
  words?: Iterable<string>;
  /** With the default word list, only the first (most frequent) `limit` words. */
  limit?: number;
}

/** Stream the input matrix once and sum the needed rows into each word's slot. */
async function gatherRows(
  file: Deno.FsFile,
  p: Parsed,
  slots: number[][],
  path: string,
): Promise<Float32Array> {
  const dim = p.args.dim;
  const pairs: [number, number][] = [];
  slots.forEach((rows, s) => rows.forEach((row) => pairs.push([row, s])));
  pairs.sort((a, b) => a[0] - b[0]);
  const acc = new Float64Array(slots.length * dim);
  const rowsPerChunk = Math.max(1, Math.floor((4 << 20) / (dim * 4)));
  const buf = new Uint8Array(rowsPerChunk * dim * 4);
  let k = 0;
  while (k < pairs.length) {
    const first = pairs[k]![0];
    const n = Math.min(rowsPerChunk, p.rows - first);
    await file.seek(p.matrixOffset + first * dim * 4, Deno.SeekMode.Start);
    let have = 0;
    while (have < n * dim * 4) {
      const r = await file.read(buf.subarray(have, n * dim * 4));
      if (r === null) throw new ReaderError(path, 0, "truncated: the matrix ended early");
      have += r;
    }
    const f = new Float32Array(buf.buffer, 0, n * dim);
    for (; k < pairs.length && pairs[k]![0] < first + n; k++) {
      const [row, s] = pairs[k]!;
      const o = (row - first) * dim;
      for (let j = 0; j < dim; j++) acc[s * dim + j]! += f[o + j]!;
    }
  }
  const out = new Float32Array(acc.length);
  slots.forEach((rows, s) => {
    for (let j = 0; j < dim; j++) out[s * dim + j] = acc[s * dim + j]! / rows.length;
  });
  return out;
}

/**
 * Word vectors from a fastText `.bin` model, computed as fastText's `getWordVector` (so they equal what
 * `fasttext print-word-vectors` prints), for the model's vocabulary or for any words you list.
 *
 * @param path The model file.
 * @param options Which words.
 * @returns The vectors, in the order of the words asked for (or the model's order).
 *
 * @example An out-of-vocabulary word gets its n-gram vector
 * ```ts
 * import { loadFastTextBin } from "./fasttext_bin.ts";
 * const bin = new URL("../../tests/fixtures/fasttext/tiny.bin", import.meta.url).pathname;
 * const wv = await loadFastTextBin(bin, { words: ["ouvrirait"] });
 * if (wv.size !== 1 || !wv.get("ouvrirait")!.some((v) => v !== 0)) throw new Error("oov");
 * ```
 * @throws {ReaderError} for a bad, quantized or truncated file.
 */
export async function loadFastTextBin(path: string, options: FastTextBinOptions = {}): Promise<WordVectors> {
  const file = await openFile(path);
  try {
    const p = await parse(new BinReader(file, path, (await file.stat()).size));
    const ids = new Map(p.words.map((w, i) => [w, i]));
    const enc = new TextEncoder();
    const asked = options.words
      ? [...new Set(options.words)]
      : p.words.slice(0, options.limit ?? p.words.length);
    const words: string[] = [], slots: number[][] = [];
    for (const w of asked) {
      const id = ids.get(w) ?? -1;
      const rows = w === EOS
        ? (id >= 0 ? [id] : [])
        : subwordRows(id >= 0 ? p.wordBytes[id]! : enc.encode(w), id, p.words.length, p.args, p.prune);
      if (rows.length === 0) continue;
      words.push(w);
      slots.push(rows);
    }
    return new WordVectors(words, p.args.dim, await gatherRows(file, p, slots, path));
  } finally {
    file.close();
  }
}
