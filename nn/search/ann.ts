/**
 * Approximate nearest-neighbour search (HNSW) through npm `usearch@2.26.2`, behind the same
 * {@linkcode VectorIndex} interface as the exact engine: inner product on L2-normalised vectors (= cosine), ids
 * are insertion positions, scores are cosine similarities. Indexes save to usearch's own file format and open
 * either loaded into memory or as a memory-mapped read-only view (`{ view: true }`), which starts instantly and
 * shares pages between processes.
 *
 * usearch is a native addon with prebuilt binaries (Linux x64/arm64, macOS, Windows). It is imported on first
 * use and needs `--allow-read --allow-env --allow-ffi`; {@linkcode annAvailable} says whether it loads here and,
 * if not, why.
 *
 * @example Build, search, save and view
 * ```ts
 * import { annAvailable, UsearchIndex } from "./ann.ts";
 * const why = await annAvailable();
 * if (why === true) {
 *   const index = await UsearchIndex.create(2);
 *   index.add(Float32Array.of(1, 0, 0, 1, 1, 1));
 *   const r = await index.search(Float32Array.of(1, 0.05), 1);
 *   if (r.ids[0] !== 0) throw new Error(`got ${r.ids[0]}`);
 *   index.dispose();
 * }
 * ```
 *
 * @module
 */
import { importUsearch, type UsearchModule } from "./_deps.ts";
import { emptyResult, rowCount } from "./_rows.ts";
import { normalizeRows, type SearchOptions, type SearchResult, type VectorIndex } from "./types.ts";

/** HNSW parameters of {@linkcode UsearchIndex}. */
export interface UsearchOptions {
  /** Graph degree M (links per node). @default 16 */
  connectivity?: number;
  /** Candidate list size while building (efConstruction). @default 200 */
  expansionAdd?: number;
  /** Candidate list size while searching (ef); more is slower and more exact. @default 100 */
  expansionSearch?: number;
  /** Threads used by `add` (0: all cores). @default 0 */
  addThreads?: number;
}

/** Options of {@linkcode UsearchIndex.open}. */
export interface UsearchOpenOptions extends UsearchOptions {
  /** Memory-map the file read-only instead of loading it (no `add` afterwards). @default false */
  view?: boolean;
}

type NativeIndex = InstanceType<UsearchModule["Index"]>;

/**
 * Whether usearch loads on this machine.
 * @returns `true`, or the reason it does not (missing permission, no prebuilt binary for this platform...)
 */
export async function annAvailable(): Promise<true | string> {
  try {
    await importUsearch();
    return true;
  } catch (e) {
    return `usearch (npm usearch@2.26.2) does not load here: ${e instanceof Error ? e.message : String(e)}`;
  }
}

async function usearch(): Promise<UsearchModule> {
  try {
    return await importUsearch();
  } catch (e) {
    throw new Error(
      `approximate search needs npm usearch@2.26.2, which does not load here (run with --allow-read ` +
        `--allow-env --allow-ffi; prebuilt binaries exist for linux x64/arm64, macOS and Windows): ` +
        (e instanceof Error ? e.message : String(e)),
    );
  }
}

/** Approximate cosine-similarity search with usearch's HNSW graph (see the module doc). */
export class UsearchIndex implements VectorIndex {
  readonly engine = "usearch";
  readonly dim: number;
  /** Whether the index is a read-only memory-mapped view. */
  readonly readOnly: boolean;
  #native: NativeIndex | null;
  #addThreads: number;

  private constructor(native: NativeIndex, dim: number, readOnly: boolean, addThreads: number) {
    this.#native = native;
    this.dim = dim;
    this.readOnly = readOnly;
    this.#addThreads = addThreads;
  }

  /**
   * An empty index of `dim`-sized vectors.
   * @param dim vector size
   * @param options HNSW parameters
   */
  static async create(dim: number, options: UsearchOptions = {}): Promise<UsearchIndex> {
    if (!Number.isInteger(dim) || dim <= 0) {
      throw new RangeError(`UsearchIndex: dim must be a positive integer, got ${dim}`);
    }
    return new UsearchIndex(newNative(await usearch(), dim, options), dim, false, options.addThreads ?? 0);
  }

  /**
   * Open an index written by {@linkcode UsearchIndex.save}: loaded into memory, or memory-mapped with
   * `{ view: true }`. `expansionSearch` applies to the opened index.
   * @param path the file
   * @param options `view` and search parameters
   */
  static async open(path: string, options: UsearchOpenOptions = {}): Promise<UsearchIndex> {
    const mod = await usearch();
    try {
      await Deno.stat(path);
    } catch {
      throw new Error(`UsearchIndex.open: no index file at ${path}`);
    }
    const native = newNative(mod, 1, options);
    try {
      if (options.view) native.view(path);
      else native.load(path);
    } catch (e) {
      throw new Error(
        `UsearchIndex.open: ${path} is not a readable usearch index: ${e instanceof Error ? e.message : e}`,
      );
    }
    return new UsearchIndex(native, native.dimensions(), options.view ?? false, options.addThreads ?? 0);
  }

  /** Number of vectors held. */
  get size(): number {
    return this.#index("size").size();
  }

  /**
   * Add vectors (row-major, `dim` numbers each); they are normalised (a copy) and get the next ids.
   * @returns the id of the first one
   */
  add(vectors: Float32Array): number {
    const native = this.#index("add");
    if (this.readOnly) throw new Error("UsearchIndex.add: this index is a read-only memory-mapped view");
    const n = rowCount(vectors, this.dim, "UsearchIndex.add");
    const first = native.size();
    if (n === 0) return first;
    const keys = new BigUint64Array(n);
    for (let i = 0; i < n; i++) keys[i] = BigInt(first + i);
    native.add(keys, normalizeRows(Float32Array.from(vectors), this.dim), this.#addThreads);
    return first;
  }

  /**
   * The (approximately) `k` most similar vectors of each query, best first.
   * @param queries row-major query vectors (normalised here; the caller's array is not changed)
   * @param k matches per query; rows are padded with id -1 when fewer are found
   * @param options `threads` for a batch of queries (default 1)
   */
  search(queries: Float32Array, k: number, { threads = 1 }: SearchOptions = {}): Promise<SearchResult> {
    const native = this.#index("search");
    const nq = rowCount(queries, this.dim, "UsearchIndex.search");
    if (!Number.isInteger(k) || k < 1) {
      throw new RangeError(`UsearchIndex.search: k must be a positive integer, got ${k}`);
    }
    const out = emptyResult(nq, k);
    if (nq === 0 || native.size() === 0) return Promise.resolve(out);
    const q = normalizeRows(Float32Array.from(queries), this.dim);
    const r = native.search(q, k, threads) as unknown as {
      keys: BigUint64Array;
      distances: Float32Array;
      counts?: BigUint64Array;
    };
    for (let i = 0; i < nq; i++) {
      const found = r.counts ? Number(r.counts[i]!) : Math.min(k, r.keys.length);
      for (let j = 0; j < found; j++) {
        out.ids[i * k + j] = Number(r.keys[i * k + j]!);
        out.scores[i * k + j] = 1 - r.distances[i * k + j]!;
      }
    }
    return Promise.resolve(out);
  }

  /** Write the index in usearch's format, atomically (a temporary file renamed over `path`). */
  async save(path: string): Promise<void> {
    const native = this.#index("save");
    const tmp = `${path}.tmp-${Deno.pid}`;
    try {
      native.save(tmp);
      await Deno.rename(tmp, path);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw e;
    }
  }

  /** Drop the native index (its memory is freed when the garbage collector runs). */
  dispose(): void {
    this.#native = null;
  }

  #index(op: string): NativeIndex {
    if (this.#native === null) throw new Error(`UsearchIndex.${op}: the index was disposed`);
    return this.#native;
  }
}

function newNative(mod: UsearchModule, dim: number, o: UsearchOptions): NativeIndex {
  return new mod.Index({
    dimensions: dim,
    metric: mod.MetricKind.IP,
    quantization: mod.ScalarKind.F32,
    multi: false,
    connectivity: o.connectivity ?? 16,
    expansion_add: o.expansionAdd ?? 200,
    expansion_search: o.expansionSearch ?? 100,
  });
}
