/**
 * Exact nearest-neighbour search by cosine similarity: the default engine and the ground truth the approximate
 * one is measured against. Vectors are L2-normalised on the host; a search multiplies a batch of queries by
 * the database on the active backend one block of database rows at a time (`(queries, dim) @ (dim, block)`,
 * blocks kept on the device, transposed) and folds each block of scores into a running top-k per query, so
 * the full `queries x database` score matrix never exists: memory is one `queryBatch x blockSize` block.
 *
 * @example Nearest words of a query
 * ```ts
 * import { ExactIndex } from "./exact.ts";
 * const index = new ExactIndex(2);
 * index.add(Float32Array.of(1, 0, 0, 1, 1, 1)); // ids 0, 1, 2
 * const r = await index.search(Float32Array.of(2, 1.9), 2);
 * if (r.ids.join() !== "2,0") throw new Error(`got ${r.ids.join()}`);
 * index.dispose();
 * ```
 *
 * @module
 */
import type { Backend } from "../../gpu/backend.ts";
import { getBackend, noGrad } from "../engine.ts";
import { matmul } from "../ops_linalg.ts";
import { fromArray, type Tensor } from "../tensor.ts";
import { RunningTopK } from "./_topk.ts";
import { emptyResult, rowCount } from "./_rows.ts";
import { normalizeRows, type SearchResult, type VectorIndex } from "./types.ts";

/** Options of {@linkcode ExactIndex}. */
export interface ExactIndexOptions {
  /** Database rows per block (one matmul and one top-k pass each). @default 16384 */
  blockSize?: number;
  /** Queries multiplied at once. @default 256 */
  queryBatch?: number;
}

/** First bytes of a saved exact index. */
const MAGIC = "DFVX";
const HEADER_BYTES = 16;

interface Block {
  first: number;
  cols: number;
  t: Tensor; // (dim, cols), the block transposed
}

/** Exact cosine-similarity search on the active backend (see the module doc). */
export class ExactIndex implements VectorIndex {
  readonly engine = "exact";
  readonly dim: number;
  readonly blockSize: number;
  readonly queryBatch: number;
  #data: Float32Array;
  #size = 0;
  #blocks: Block[] = [];
  #backend: Backend | null = null;

  /**
   * An empty index of `dim`-sized vectors.
   * @param dim vector size
   * @param options block sizes
   */
  constructor(dim: number, { blockSize = 16384, queryBatch = 256 }: ExactIndexOptions = {}) {
    if (!Number.isInteger(dim) || dim <= 0) {
      throw new RangeError(`ExactIndex: dim must be a positive integer, got ${dim}`);
    }
    for (const [name, v] of [["blockSize", blockSize], ["queryBatch", queryBatch]] as const) {
      if (!Number.isInteger(v) || v <= 0) {
        throw new RangeError(`ExactIndex: ${name} must be a positive integer, got ${v}`);
      }
    }
    this.dim = dim;
    this.blockSize = blockSize;
    this.queryBatch = queryBatch;
    this.#data = new Float32Array(0);
  }

  /** Number of vectors held. */
  get size(): number {
    return this.#size;
  }

  /** The normalised vectors (a copy, `size x dim`). */
  vectors(): Float32Array {
    return this.#data.slice(0, this.#size * this.dim);
  }

  /**
   * Add vectors (row-major, `dim` numbers each); they are normalised and get the next ids.
   * @returns the id of the first one
   */
  add(vectors: Float32Array): number {
    const n = rowCount(vectors, this.dim, "ExactIndex.add");
    const first = this.#size, need = (first + n) * this.dim;
    if (need > this.#data.length) {
      const grown = new Float32Array(Math.max(need, this.#data.length * 2, 1024 * this.dim));
      grown.set(this.#data.subarray(0, first * this.dim));
      this.#data = grown;
    }
    this.#data.set(vectors, first * this.dim);
    normalizeRows(this.#data.subarray(first * this.dim, need), this.dim);
    this.#size += n;
    this.#dropBlocksFrom(Math.floor(first / this.blockSize));
    return first;
  }

  /**
   * The `k` most similar vectors of each query, best first.
   * @param queries row-major query vectors (normalised here; the caller's array is not changed)
   * @param k matches per query; rows are padded with id -1 when the index holds fewer
   */
  async search(queries: Float32Array, k: number): Promise<SearchResult> {
    const nq = rowCount(queries, this.dim, "ExactIndex.search");
    if (!Number.isInteger(k) || k < 1) {
      throw new RangeError(`ExactIndex.search: k must be a positive integer, got ${k}`);
    }
    const out = emptyResult(nq, k);
    if (nq === 0 || this.#size === 0) return out;
    const q = normalizeRows(Float32Array.from(queries), this.dim);
    const blocks = this.#deviceBlocks();
    for (let q0 = 0; q0 < nq; q0 += this.queryBatch) {
      const rows = Math.min(this.queryBatch, nq - q0);
      const top = new RunningTopK(rows, k);
      const qt = fromArray(q.subarray(q0 * this.dim, (q0 + rows) * this.dim), [rows, this.dim]);
      try {
        for (const b of blocks) top.push(await scoreBlock(qt, b.t), b.cols, b.first);
      } finally {
        qt.dispose();
      }
      top.writeSorted(out, q0);
    }
    return out;
  }

  /** Write the index (a 16-byte header, then the normalised vectors as float32), atomically. */
  async save(path: string): Promise<void> {
    const body = this.#data.subarray(0, this.#size * this.dim);
    const bytes = new Uint8Array(HEADER_BYTES + body.byteLength);
    bytes.set(new TextEncoder().encode(MAGIC), 0);
    const view = new DataView(bytes.buffer);
    view.setUint32(4, 1, true); // format version
    view.setUint32(8, this.dim, true);
    view.setUint32(12, this.#size, true);
    bytes.set(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), HEADER_BYTES);
    const tmp = `${path}.tmp-${Deno.pid}`;
    try {
      await Deno.writeFile(tmp, bytes);
      await Deno.rename(tmp, path);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw e;
    }
  }

  /**
   * Read an index written by {@linkcode ExactIndex.save}.
   * @param path the file
   * @param options block sizes of the new index
   */
  static async load(path: string, options: ExactIndexOptions = {}): Promise<ExactIndex> {
    const bytes = await Deno.readFile(path);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const magic = new TextDecoder().decode(bytes.subarray(0, 4));
    if (bytes.length < HEADER_BYTES || magic !== MAGIC) {
      throw new Error(`ExactIndex.load: ${path} is not an exact index file (no ${MAGIC} header)`);
    }
    const version = view.getUint32(4, true), dim = view.getUint32(8, true), size = view.getUint32(12, true);
    if (version !== 1) {
      throw new Error(`ExactIndex.load: ${path} has format version ${version}; this reads 1`);
    }
    if (bytes.length !== HEADER_BYTES + dim * size * 4) {
      throw new Error(
        `ExactIndex.load: ${path} is truncated or corrupt: ${bytes.length} bytes for ${size} x ${dim} vectors`,
      );
    }
    const index = new ExactIndex(dim, options);
    index.#data = new Float32Array(bytes.slice(HEADER_BYTES).buffer); // stored normalised: not normalised again
    index.#size = size;
    return index;
  }

  /** Free the device copies of the database (they are rebuilt by the next search). */
  dispose(): void {
    this.#dropBlocksFrom(0);
  }

  #dropBlocksFrom(b: number): void {
    for (const blk of this.#blocks.splice(b)) blk.t.dispose();
  }

  /** The database on the active backend, in transposed blocks (built for the blocks added since). */
  #deviceBlocks(): Block[] {
    const backend = getBackend();
    if (this.#backend !== backend) this.#dropBlocksFrom(0);
    this.#backend = backend;
    for (let first = this.#blocks.length * this.blockSize; first < this.#size; first += this.blockSize) {
      const cols = Math.min(this.blockSize, this.#size - first);
      const tr = new Float32Array(this.dim * cols);
      const src = this.#data;
      for (let c = 0; c < cols; c++) {
        const o = (first + c) * this.dim;
        for (let d = 0; d < this.dim; d++) tr[d * cols + c] = src[o + d]!;
      }
      this.#blocks.push({ first, cols, t: fromArray(tr, [this.dim, cols]) });
    }
    return this.#blocks;
  }
}

/** `q @ blockT` read back to the host. */
async function scoreBlock(q: Tensor, blockT: Tensor): Promise<Float32Array> {
  const s = noGrad(() => matmul(q, blockT)); // (rows, cols)
  try {
    return (s.backend.readSync ? s.dataSync() : await s.data()) as Float32Array;
  } finally {
    s.dispose();
  }
}
