/**
 * Worker threads for large CPU matmuls. Storages live in `SharedArrayBuffer`s when the backend has more than one
 * thread, so a worker reads the operands and writes its columns (or batches) of the output in place; the caller
 * computes part 0 itself and then blocks on `Atomics.wait` until every worker has flagged its part done.
 *
 * Workers are `node:worker_threads` workers built from the kernel source (no separate file, so `deno compile`
 * needs nothing extra) and `unref`'d so they never keep a process alive. That source carries the WebAssembly
 * kernel's bytes too (`_wasm_matmul.ts`): each worker instantiates its own module, with its own fixed memory,
 * on its first f32 part. Messages carry the raw
 * `SharedArrayBuffer`s, not typed-array views: Deno's `node:worker_threads` serialises views element by element
 * (seconds for a 20 MB weight), buffers in microseconds.
 *
 * @module
 */

import { Worker } from "node:worker_threads";
import type { TypedArray } from "../backend.ts";
import { matmulSource, type Part, type PartRunner, type Problem, runPart } from "./_gemm.ts";

const WORKER_MAIN = `
const { parentPort } = require("node:worker_threads");
const ARRAYS = { f32: Float32Array, i32: Int32Array, f64: Float64Array };
const view = (m) => new ARRAYS[m.dtype](m.sab, 0, m.length);
parentPort.on("message", (msg) => {
  const flags = new Int32Array(msg.flags);
  let status = 1;
  try {
    if (msg.problem) {
      const p = msg.problem;
      p.a.data = view(msg.a);
      p.b.data = view(msg.b);
      if (p.im2col) p.im2col.data = view(msg.h0);
      if (p.col2im) p.col2im.data = view(msg.h1);
      if (p.rowBias) p.rowBias.data = view(msg.h2);
      runPart(p, view(msg.c), msg.part);
    }
  } catch (e) {
    status = 2;
    console.error("cpu matmul worker:", e);
  }
  Atomics.store(flags, msg.slot, status);
  Atomics.notify(flags, msg.slot);
});`;

/**
 * The shared buffer, dtype and length behind a typed array (storages of a threaded backend start at offset 0; the
 * buffer may be longer, see the backend's buffer reuse).
 */
function shared(x: TypedArray): { sab: SharedArrayBuffer; dtype: string; length: number } {
  if (!(x.buffer instanceof SharedArrayBuffer) || x.byteOffset !== 0) {
    throw new Error("cpu matmul: threaded products need storages allocated by a threaded CpuBackend");
  }
  const dtype = x instanceof Float32Array ? "f32" : x instanceof Int32Array ? "i32" : "f64";
  return { sab: x.buffer, dtype, length: x.length };
}

/** Longest wait for a worker's part (a 4096^3 product takes about a minute single-threaded). */
const WAIT_MS = 600_000;

/** A fixed set of workers running matmul parts. */
export class MatmulPool implements PartRunner {
  /** Threads including the caller. */
  readonly threads: number;
  #workers: Worker[] = [];
  #flags: Int32Array;

  /** Start `threads - 1` workers and wait until each answers. */
  constructor(threads: number) {
    this.threads = threads;
    this.#flags = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, threads - 1)));
    const source = `${matmulSource()}\n${WORKER_MAIN}`;
    for (let w = 0; w < threads - 1; w++) {
      const worker = new Worker(source, { eval: true });
      worker.unref();
      this.#workers.push(worker);
    }
    // Handshake: a worker that cannot start (bad source, no threads) fails here, not in the middle of a product.
    this.#workers.forEach((worker, slot) => worker.postMessage({ flags: this.#flags.buffer, slot }));
    this.#workers.forEach((_, slot) => this.#wait(slot, 30_000, "start"));
  }

  /** Run `parts` of `p` into `c`: part 0 here, the rest on workers; blocks until all are done. */
  run(p: Problem, c: TypedArray, parts: Part[]): void {
    const flags = this.#flags;
    const hook = (h: Problem["im2col"]) => (h ? { ...h, data: null } : undefined);
    const problem = {
      ...p,
      a: { ...p.a, data: null },
      b: { ...p.b, data: null },
      im2col: hook(p.im2col),
      col2im: hook(p.col2im),
      rowBias: p.rowBias ? { ...p.rowBias, data: null } : undefined,
    };
    const msg = {
      problem,
      a: shared(p.a.data),
      b: shared(p.b.data),
      c: shared(c),
      h0: p.im2col && shared(p.im2col.data),
      h1: p.col2im && shared(p.col2im.data),
      h2: p.rowBias && shared(p.rowBias.data),
      flags: flags.buffer,
    };
    for (let w = 1; w < parts.length; w++) {
      Atomics.store(flags, w - 1, 0);
      this.#workers[w - 1]!.postMessage({ ...msg, part: parts[w], slot: w - 1 });
    }
    let error: unknown;
    try {
      runPart(p, c, parts[0]!);
    } catch (e) {
      error = e;
    }
    for (let w = 1; w < parts.length; w++) this.#wait(w - 1, WAIT_MS, "matmul");
    if (error) throw error;
  }

  #wait(slot: number, ms: number, what: string): void {
    const flags = this.#flags;
    if (Atomics.load(flags, slot) === 0 && Atomics.wait(flags, slot, 0, ms) === "timed-out") {
      throw new Error(`cpu ${what}: worker thread ${slot + 1} did not answer within ${ms / 1000} s`);
    }
    if (Atomics.load(flags, slot) === 2) {
      throw new Error(`cpu ${what}: worker thread ${slot + 1} failed (its error was printed to stderr)`);
    }
    Atomics.store(flags, slot, 0);
  }

  /** Stop the workers. */
  terminate(): void {
    for (const w of this.#workers) void w.terminate();
    this.#workers = [];
  }
}
