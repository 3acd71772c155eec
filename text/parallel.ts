/**
 * Parallel streaming tokenization: a pool of Workers (one per core by default) fed chunks of documents from a
 * reader. At most `maxInFlight` chunks are held at once (being tokenized or waiting to be consumed), so memory
 * stays flat whatever the corpus size; results come back in input order; a progress callback reports
 * documents and tokens done. Tokens come back in a compact form (each chunk's distinct terms plus Int32
 * indices) to keep the copying between threads small.
 *
 * Memory: each Worker is a V8 isolate whose young generation dominates its footprint; running the process with
 * `--v8-flags=--max-semi-space-size=4` cut peak RSS from ~440 MB to ~260 MB for 2 workers on SpamAssassin at
 * the same CPU time (bench/RESULTS.md, "Text: corpus store").
 *
 * @module
 */
import type { TextRecord } from "./readers/types.ts";
import {
  loadTokenizer,
  tokenizeChunk,
  type TokenizedChunk,
  type TokenizeFn,
  type TokenizerSpec,
} from "./_tokenizers.ts";

export type { TokenizedChunk, TokenizeFn, TokenizerSpec };
export { whitespaceTokenize } from "./_tokenizers.ts";

/** Progress of a tokenization run. */
export interface TokenizeProgress {
  /** Chunks finished. */
  chunks: number;
  /** Documents finished. */
  docs: number;
  /** Tokens produced. */
  tokens: number;
  /** Seconds since the start. */
  seconds: number;
}

/** Options of {@linkcode TokenizerPool}. */
export interface TokenizerPoolOptions {
  /** Worker count; 0 tokenizes on the calling thread. @default {navigator.hardwareConcurrency} */
  workers?: number;
  /** Chunks tokenized or waiting at once (bounds memory). @default {2 * workers, at least 2} */
  maxInFlight?: number;
}

interface Pending {
  resolve: (c: TokenizedChunk) => void;
  reject: (e: Error) => void;
}

/** The tokens of document `d` of a chunk, as strings. */
export function chunkDocTokens(chunk: TokenizedChunk, d: number): string[] {
  const out: string[] = [];
  for (let i = chunk.offsets[d]!; i < chunk.offsets[d + 1]!; i++) out.push(chunk.terms[chunk.ids[i]!]!);
  return out;
}

/**
 * A pool of tokenizer Workers. Give it a {@linkcode TokenizerSpec} (workers build the tokenizer by name) or a
 * function (tokenized on the calling thread — functions cannot be sent to Workers). Call
 * {@linkcode TokenizerPool.close} when done.
 *
 * @example Tokenize chunks in order on two workers
 * ```ts
 * import { chunkDocTokens, TokenizerPool } from "./parallel.ts";
 * const pool = new TokenizerPool({ name: "whitespace" }, { workers: 2 });
 * async function* chunks() { for (let i = 0; i < 5; i++) yield [`doc ${i} a`, `doc ${i} b`]; }
 * const out = [];
 * for await (const c of pool.map(chunks())) out.push(chunkDocTokens(c, 1).join(" "));
 * pool.close();
 * if (out.join("|") !== "doc 0 b|doc 1 b|doc 2 b|doc 3 b|doc 4 b") throw new Error("bad order");
 * ```
 */
export class TokenizerPool {
  /** Number of workers (0: inline). */
  readonly workers: number;
  /** Bound on chunks in flight. */
  readonly maxInFlight: number;
  #spec: TokenizerSpec | TokenizeFn;
  #inline?: Promise<TokenizeFn>;
  #ws: Worker[] = [];
  #load: number[] = [];
  #pending = new Map<number, Pending & { worker: number }>();
  #nextId = 0;
  #failed?: Error;

  /**
   * Start the workers (none for a function tokenizer).
   *
   * @param tokenizer A named tokenizer, or a function to run on the calling thread.
   * @param options Worker count and the in-flight bound.
   */
  constructor(tokenizer: TokenizerSpec | TokenizeFn, options: TokenizerPoolOptions = {}) {
    this.#spec = tokenizer;
    const cores = navigator.hardwareConcurrency || 1;
    this.workers = typeof tokenizer === "function" ? 0 : Math.max(0, Math.floor(options.workers ?? cores));
    this.maxInFlight = Math.max(1, options.maxInFlight ?? Math.max(2, 2 * this.workers));
    for (let w = 0; w < this.workers; w++) this.#ws.push(this.#spawn(w));
  }

  #spawn(w: number): Worker {
    const worker = new Worker(new URL("./_tokenize_worker.ts", import.meta.url).href, { type: "module" });
    worker.onmessage = (ev: MessageEvent) => {
      const m = ev.data as { id: number; chunk?: TokenizedChunk; error?: string };
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      this.#load[p.worker]!--;
      if (m.error !== undefined) p.reject(new Error(`tokenizer worker failed: ${m.error}`));
      else p.resolve(m.chunk!);
    };
    worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      this.#failed = new Error(`tokenizer worker crashed: ${ev.message}`);
      for (const [id, p] of this.#pending) {
        if (p.worker === w) {
          this.#pending.delete(id);
          p.reject(this.#failed);
        }
      }
    };
    worker.postMessage({ type: "init", spec: this.#spec });
    this.#load.push(0);
    return worker;
  }

  /** Tokenize one chunk of texts (on the least-loaded worker). */
  tokenize(texts: string[]): Promise<TokenizedChunk> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.workers === 0) {
      const spec = this.#spec;
      this.#inline ??= typeof spec === "function" ? Promise.resolve(spec) : loadTokenizer(spec);
      return this.#inline.then((fn) => tokenizeChunk(texts, fn));
    }
    let w = 0;
    for (let i = 1; i < this.workers; i++) if (this.#load[i]! < this.#load[w]!) w = i;
    const id = this.#nextId++;
    this.#load[w]!++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, worker: w });
      this.#ws[w]!.postMessage({ type: "chunk", id, texts });
    });
  }

  /**
   * Tokenize a stream of chunks, in order, with at most `maxInFlight` chunks held at once.
   *
   * @param chunks Chunks of texts (or of records, whose `text` is used), e.g. from `chunked(reader)`.
   * @param options `onProgress` is called after each chunk.
   * @returns The tokenized chunks, in input order.
   */
  async *map(
    chunks: AsyncIterable<readonly (string | TextRecord)[]> | Iterable<readonly (string | TextRecord)[]>,
    options: { onProgress?: (p: TokenizeProgress) => void } = {},
  ): AsyncGenerator<TokenizedChunk> {
    for await (const { tokens } of this.mapWith(chunks, options)) yield tokens;
  }

  /** Like {@linkcode TokenizerPool.map}, also handing back each input chunk beside its tokens. */
  async *mapWith<T extends string | TextRecord>(
    chunks: AsyncIterable<readonly T[]> | Iterable<readonly T[]>,
    options: { onProgress?: (p: TokenizeProgress) => void } = {},
  ): AsyncGenerator<{ input: readonly T[]; tokens: TokenizedChunk }> {
    const t0 = performance.now();
    const progress: TokenizeProgress = { chunks: 0, docs: 0, tokens: 0, seconds: 0 };
    const queue: { input: readonly T[]; result: Promise<TokenizedChunk> }[] = [];
    const it =
      (Symbol.asyncIterator in chunks
        ? (chunks as AsyncIterable<readonly T[]>)[Symbol.asyncIterator]()
        : (chunks as Iterable<readonly T[]>)[Symbol.iterator]()) as
          | AsyncIterator<readonly T[]>
          | Iterator<readonly T[]>;
    let done = false;
    try {
      for (;;) {
        while (!done && queue.length < this.maxInFlight) {
          const r = await it.next();
          if (r.done) {
            done = true;
            break;
          }
          const input = r.value;
          const texts = input.map((x) => typeof x === "string" ? x : x.text);
          const result = this.tokenize(texts);
          result.catch(() => {}); // surfaced when awaited in order below
          queue.push({ input, result });
        }
        const head = queue.shift();
        if (!head) return;
        const tokens = await head.result;
        progress.chunks++;
        progress.docs += head.input.length;
        progress.tokens += tokens.ids.length;
        progress.seconds = (performance.now() - t0) / 1000;
        options.onProgress?.({ ...progress });
        yield { input: head.input, tokens };
      }
    } finally {
      if (!done) await it.return?.();
    }
  }

  /** Stop the workers. */
  close(): void {
    for (const w of this.#ws) w.terminate();
    this.#ws = [];
    for (const p of this.#pending.values()) p.reject(new Error("TokenizerPool closed"));
    this.#pending.clear();
  }

  /** `using pool = new TokenizerPool(...)` closes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.close();
  }
}
