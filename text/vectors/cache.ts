/**
 * A compact binary file for word vectors, so a big table parsed once (a 307 MB JSON, a multi-GB `.vec`) loads
 * again in a fraction of a second. Layout (little-endian):
 *
 * ```
 * "DFWVEC01"                      8 bytes magic
 * u32 H                           length of the header JSON
 * H bytes                         {"dim","count","wordsBytes","wordsHash","dataHash","meta"}
 * pad to 4 bytes
 * wordsBytes bytes                the words in UTF-8, joined by "\n"
 * pad to 4 bytes
 * count * dim float32             the vectors, row-major
 * ```
 *
 * Loading checks the magic, that the file is exactly as long as the header says, both hashes, and the word
 * count, so a truncated or corrupted cache is an error, never wrong vectors. Files are written atomically.
 *
 * @example
 * ```ts
 * import { loadVectorsCache, saveVectorsCache } from "./cache.ts";
 * import { WordVectors } from "./word_vectors.ts";
 * const p = await Deno.makeTempFile();
 * await saveVectorsCache(p, new WordVectors(["été", "hiver"], 2, new Float32Array([1, 2, 3, 4])), { from: "demo" });
 * const { vectors, meta } = await loadVectorsCache(p);
 * if (vectors.get("hiver")![0] !== 3 || meta.from !== "demo") throw new Error("cache");
 * await Deno.remove(p);
 * ```
 *
 * @module
 */
import { readBytes } from "../readers/_common.ts";
import { ReaderError } from "../readers/types.ts";
import { atomicWrite, writeAll } from "./_common.ts";
import { WordVectors } from "./word_vectors.ts";

const MAGIC = "DFWVEC01";
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** What a cache file's header holds besides the sizes: anything JSON the writer wants to remember. */
export type VectorsCacheMeta = Record<string, unknown>;

interface Header {
  dim: number;
  count: number;
  wordsBytes: number;
  wordsHash: number;
  dataHash: number;
  meta: VectorsCacheMeta;
}

/** A 32-bit FNV-1a-style hash over the bytes, four at a time (fast enough for hundreds of MB). */
function hashBytes(bytes: Uint8Array): number {
  let h = 0x811c9dc5 ^ bytes.length;
  const n4 = bytes.length >>> 2;
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) {
    const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, n4);
    for (let i = 0; i < n4; i++) h = Math.imul(h ^ u32[i]!, 0x01000193);
  } else {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n4; i++) h = Math.imul(h ^ dv.getUint32(i * 4, true), 0x01000193);
  }
  for (let i = n4 * 4; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;

function dataBytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.length * 4);
  const dv = new DataView(out.buffer);
  data.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  return out;
}

/**
 * Save vectors to a cache file (atomically: a crash leaves the old file or none, never half of one).
 *
 * @param path The cache file.
 * @param vectors The table (words must not contain a newline).
 * @param meta JSON-serialisable facts to keep with it (e.g. which source it came from).
 *
 * @example
 * ```ts
 * import { saveVectorsCache } from "./cache.ts";
 * import { WordVectors } from "./word_vectors.ts";
 * const p = await Deno.makeTempFile();
 * await saveVectorsCache(p, new WordVectors(["a"], 1, new Float32Array([1])));
 * if ((await Deno.stat(p)).size < 20) throw new Error("cache");
 * await Deno.remove(p);
 * ```
 */
export async function saveVectorsCache(
  path: string,
  vectors: WordVectors,
  meta: VectorsCacheMeta = {},
): Promise<void> {
  vectors.words.forEach((w, i) => {
    if (w.includes("\n")) throw new Error(`saveVectorsCache: word ${i + 1} contains a newline`);
  });
  const enc = new TextEncoder();
  const words = enc.encode(vectors.words.join("\n"));
  const data = dataBytes(vectors.data);
  const header: Header = {
    dim: vectors.dim,
    count: vectors.size,
    wordsBytes: words.length,
    wordsHash: hashBytes(words),
    dataHash: hashBytes(data),
    meta,
  };
  const h = enc.encode(JSON.stringify(header));
  const pre = new Uint8Array(12 + h.length + pad4(12 + h.length));
  pre.set(enc.encode(MAGIC));
  new DataView(pre.buffer).setUint32(8, h.length, true);
  pre.set(h, 12);
  await atomicWrite(path, async (file) => {
    await writeAll(file, pre);
    await writeAll(file, words);
    await writeAll(file, new Uint8Array(pad4(words.length)));
    await writeAll(file, data);
  });
}

function parseHeader(path: string, buf: Uint8Array): { header: Header; offset: number } {
  if (buf.length < 12 || new TextDecoder().decode(buf.subarray(0, 8)) !== MAGIC) {
    throw new ReaderError(path, 0, `not a word-vectors cache (no ${MAGIC} magic)`);
  }
  const hLen = new DataView(buf.buffer, buf.byteOffset).getUint32(8, true);
  if (12 + hLen > buf.length) throw new ReaderError(path, 0, "truncated cache: header runs past the end");
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(buf.subarray(12, 12 + hLen)));
  } catch (e) {
    throw new ReaderError(path, 0, `bad cache header: ${(e as Error).message}`);
  }
  for (const k of ["dim", "count", "wordsBytes", "wordsHash", "dataHash"] as const) {
    if (!Number.isInteger(header[k]) || header[k] < 0) {
      throw new ReaderError(path, 0, `bad cache header field ${k}`);
    }
  }
  if (header.dim < 1) throw new ReaderError(path, 0, "bad cache header: dim 0");
  return { header, offset: 12 + hLen + pad4(12 + hLen) };
}

/**
 * Load a cache file written by {@linkcode saveVectorsCache}, checking its size, hashes and word count.
 *
 * @param path The cache file.
 * @returns The vectors and the meta saved with them.
 * @throws {ReaderError} when the file is missing, not a cache, truncated or corrupted.
 *
 * @example A truncated cache is an error
 * ```ts
 * import { loadVectorsCache, saveVectorsCache } from "./cache.ts";
 * import { WordVectors } from "./word_vectors.ts";
 * const p = await Deno.makeTempFile();
 * await saveVectorsCache(p, new WordVectors(["a", "b"], 2, new Float32Array(4)));
 * await Deno.truncate(p, 30);
 * const err = await loadVectorsCache(p).then(() => null, (e) => e);
 * if (!err?.message.includes("truncated")) throw new Error("no error");
 * await Deno.remove(p);
 * ```
 */
export async function loadVectorsCache(
  path: string,
): Promise<{ vectors: WordVectors; meta: VectorsCacheMeta }> {
  const buf = await readBytes(path);
  const { header, offset } = parseHeader(path, buf);
  const dataOff = offset + header.wordsBytes + pad4(header.wordsBytes);
  const n = header.count * header.dim;
  if (buf.length !== dataOff + n * 4) {
    throw new ReaderError(
      path,
      0,
      `truncated or padded cache: ${buf.length} bytes, the header implies ${dataOff + n * 4}`,
    );
  }
  const wordBytes = buf.subarray(offset, offset + header.wordsBytes);
  const raw = buf.subarray(dataOff);
  if (hashBytes(wordBytes) !== header.wordsHash || hashBytes(raw) !== header.dataHash) {
    throw new ReaderError(path, 0, "corrupted cache: hash mismatch");
  }
  const text = new TextDecoder("utf-8", { fatal: true }).decode(wordBytes);
  const words = header.count === 0 ? [] : text.split("\n");
  if (words.length !== header.count) {
    throw new ReaderError(path, 0, `corrupted cache: ${words.length} words for ${header.count} rows`);
  }
  let data: Float32Array;
  if (LITTLE_ENDIAN && (buf.byteOffset + dataOff) % 4 === 0) {
    data = new Float32Array(buf.buffer, buf.byteOffset + dataOff, n);
  } else {
    data = new Float32Array(n);
    const dv = new DataView(buf.buffer, buf.byteOffset + dataOff, n * 4);
    for (let i = 0; i < n; i++) data[i] = dv.getFloat32(i * 4, true);
  }
  return { vectors: new WordVectors(words, header.dim, data), meta: header.meta ?? {} };
}
