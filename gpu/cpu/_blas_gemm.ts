/**
 * A {@linkcode Problem} of `_gemm.ts` computed by the machine's BLAS (`_blas.ts`): one `cblas_sgemm` per batch,
 * straight on the operands' arrays when their layout is one BLAS reads (row-major or transposed, with a leading
 * dimension), else on a gathered copy; the image hooks of a convolution run per batch on this thread (im2col into
 * a reused patch matrix the size of one image, so it stays in cache between its write and the product).
 *
 * Products run on the calling thread only; the library parallelises each call over `threads` of its own threads
 * (one below `BLAS_THREAD_MIN_FLOPS`).
 *
 * @module
 */

import type { TypedArray } from "../backend.ts";
import type { Blas } from "./_blas.ts";
import type { Operand, Problem } from "./_gemm.ts";
import { addRowBias, col2im, im2col } from "./_im2col.ts";

/** The BLAS a backend uses and how many threads it gives it. */
export interface BlasGemm {
  /** The library. */
  readonly lib: Blas;
  /** Threads per call. */
  readonly threads: number;
}

/**
 * Products smaller than this many flops run on one BLAS thread: OpenBLAS's second thread made the demo LM's
 * per-time-step product (64 x 96 @ 96 x 384, 4.7 MFLOP, ~0.1 ms) cost 1.2-3.6x the CPU time for no gain in wall
 * time, while a convolution's per-image product (32 x 288 @ 288 x 784, 14 MFLOP) splits at no extra CPU cost.
 */
const BLAS_THREAD_MIN_FLOPS = 1e7;

/** Reused arrays: the patch matrix of one image and gathered operands. */
const scratch = { col: new Float32Array(0), a: new Float32Array(0), b: new Float32Array(0) };

function grow(slot: keyof typeof scratch, n: number): Float32Array {
  if (scratch[slot].length < n) scratch[slot] = new Float32Array(Math.max(n, 2 * scratch[slot].length));
  return scratch[slot];
}

/** How BLAS reads a `rows x cols` operand: transposed or not, the array, offset and leading dimension. */
interface BlasOperand {
  trans: boolean;
  data: Float32Array;
  off: number;
  ld: number;
}

/**
 * `x` (`rows x cols`) as BLAS reads it: in place when its rows (or columns) are contiguous and evenly spaced,
 * else gathered into the reused `slot` array (row-major).
 */
function operand(x: Operand, rows: number, cols: number, slot: "a" | "b"): BlasOperand {
  const data = x.data as Float32Array;
  if (x.cs === 1 && (rows === 1 || x.rs >= cols)) {
    return { trans: false, data, off: x.off, ld: rows === 1 ? Math.max(1, cols) : x.rs };
  }
  if (x.rs === 1 && (cols === 1 || x.cs >= rows)) {
    return { trans: true, data, off: x.off, ld: cols === 1 ? Math.max(1, rows) : x.cs };
  }
  const out = grow(slot, rows * cols);
  for (let i = 0, d = 0; i < rows; i++) {
    for (let j = 0, s = x.off + i * x.rs; j < cols; j++, s += x.cs) out[d++] = data[s]!;
  }
  return { trans: false, data: out, off: 0, ld: Math.max(1, cols) };
}

/**
 * Compute `p`, a `batch x (m, n)` product of f32 operands, into `c` with `blas`: per batch, im2col (if any)
 * into the reused patch matrix, the row bias (if any) written into C, one sgemm adding to it, then col2im (if
 * any).
 */
export function blasRunProblem(p: Problem, c: TypedArray, batch: number, blas: BlasGemm): void {
  const { m, n, k, accumulate } = p;
  if (m === 0 || n === 0) return;
  const cf = c as Float32Array;
  for (let i = 0; i < batch; i++) {
    const cOff = p.cOff + i * m * n;
    if (k > 0) product(p, i, cf, cOff, blas);
    else if (!accumulate) cf.fill(0, cOff, cOff + m * n);
    const q = p.col2im;
    if (q) col2im(c, cOff, q.g, q.data, q.off + i * q.bs);
    if (p.rowBias && (accumulate || k === 0)) addRowBias(c, cOff, m, n, n, p.rowBias, 0);
  }
}

/** Batch `i` of `p` (k > 0) into `c[cOff..]`: im2col, the row bias (unless accumulating), one sgemm. */
function product(p: Problem, i: number, c: Float32Array, cOff: number, blas: BlasGemm): void {
  const { m, n, k, accumulate } = p;
  let b: Operand = { data: p.b.data, off: p.b.off + i * p.bBs, rs: p.b.rs, cs: p.b.cs };
  const h = p.im2col;
  if (h) {
    // The patch matrix is (k, n) or (n, k) row-major as p.b's strides say; written at offset 0.
    const col = grow("col", k * n);
    im2col(h.data, h.off + i * h.bs, h.g, col, 0);
    b = { data: col, off: 0, rs: p.b.rs, cs: p.b.cs };
  }
  // A row bias is written first and the product added to it (one pass over C instead of two).
  const bias = p.rowBias !== undefined && !accumulate;
  if (bias) {
    const { data, off, s } = p.rowBias!;
    for (let r = 0, q = cOff; r < m; r++, q += n) c.fill(data[off + r * s]!, q, q + n);
  }
  const a = operand({ ...p.a, off: p.a.off + i * p.aBs }, m, k, "a"), bo = operand(b, k, n, "b");
  const beta = accumulate || bias ? 1 : 0;
  const threads = 2 * m * n * k < BLAS_THREAD_MIN_FLOPS ? 1 : blas.threads;
  blas.lib.sgemm(
    a.trans,
    bo.trans,
    { m, n, k },
    a.data,
    a.off,
    a.ld,
    bo.data,
    bo.off,
    bo.ld,
    beta,
    c,
    cOff,
    n,
    threads,
  );
}
