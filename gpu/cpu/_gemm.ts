/**
 * Cache-blocked matrix multiply for the CPU backend, after GotoBLAS ("Anatomy of High-Performance Matrix
 * Multiplication", Goto & van de Geijn 2008, https://doi.org/10.1145/1356052.1356053):
 *
 * - loop over `NC`-wide column blocks of B and `KC`-deep slices of K; pack that B panel into 4-column slivers
 *   (`Float64Array`, k-major), so the micro-kernel reads it with unit stride whatever B's layout (transposed or not);
 * - loop over `MC`-tall row blocks of A; pack them into 4-row slivers the same way;
 * - a 4x4 register-blocked micro-kernel keeps 16 accumulators in locals and walks both slivers contiguously.
 *
 * Packing converts f32/i32 to f64 once, so the inner loop does no conversions and accumulates in double precision.
 *
 * f32 products go to the machine's BLAS when the backend found one (`_blas.ts`, `_blas_gemm.ts`: a problem with
 * `blas` set runs there, on the caller, threaded by the library), else to the WebAssembly SIMD kernel of
 * `_wasm_matmul.ts` (same blocking, f32 accumulation, ~10x faster); this JavaScript kernel serves f64 and i32
 * data, `CpuBackend({ matmul: "js" })` and products of fewer than `SMALL_M` rows (row-times-matrix loops, any
 * dtype). {@linkcode runProblem} splits a product across worker threads; the `matmul` and `conv2d*` kernels
 * (`_kernels/`) describe their products as a {@linkcode Problem} and call it.
 *
 * @module
 */

import type { TypedArray } from "../backend.ts";
import {
  addRowBias,
  col2im,
  type ConvGeometry,
  im2col,
  type ImageHook,
  patchRow,
  type RowBias,
  validRange,
} from "./_im2col.ts";
import { type BlasGemm, blasRunProblem } from "./_blas_gemm.ts";
import { wasmGemm, wasmMatmulSource } from "./_wasm_matmul.ts";

const MR = 4;
const NR = 4;
const KC = 256;
const MC = 64;
const NC = 1024;

let packA = new Float64Array(MC * KC);
let packB = new Float64Array(NC * KC);

/** Operand of a 2-D product: `x[off + i * rs + j * cs]`. */
export interface Operand {
  /** Backing array. */
  data: TypedArray;
  /** First element. */
  off: number;
  /** Row stride. */
  rs: number;
  /** Column stride. */
  cs: number;
  /**
   * The WebAssembly kernel's right operand only: the operand is the patch matrix (`cs === 1`) or its transpose
   * (`rs === 1`) of the image at `patches.data[patches.off]`, packed straight from the image; `off` is then the
   * position in the patch matrix (`data` unused).
   */
  patches?: { data: TypedArray; off: number; g: ConvGeometry };
}

function packPanelB(b: Operand, pc: number, kc: number, jc: number, nc: number, out: Float64Array): void {
  const { data, rs, cs } = b;
  const base = b.off + pc * rs;
  for (let jr = 0; jr < nc; jr += NR) {
    const w = Math.min(NR, nc - jr);
    const dst = jr * kc;
    for (let c = 0; c < NR; c++) {
      if (c >= w) {
        for (let k = 0; k < kc; k++) out[dst + k * NR + c] = 0;
        continue;
      }
      let src = base + (jc + jr + c) * cs;
      for (let k = 0; k < kc; k++, src += rs) out[dst + k * NR + c] = data[src]!;
    }
  }
}

function packBlockA(a: Operand, ic: number, mc: number, pc: number, kc: number, out: Float64Array): void {
  const { data, rs, cs } = a;
  const base = a.off + pc * cs;
  for (let ir = 0; ir < mc; ir += MR) {
    const h = Math.min(MR, mc - ir);
    const dst = ir * kc;
    for (let r = 0; r < MR; r++) {
      if (r >= h) {
        for (let k = 0; k < kc; k++) out[dst + k * MR + r] = 0;
        continue;
      }
      let src = base + (ic + ir + r) * rs;
      for (let k = 0; k < kc; k++, src += cs) out[dst + k * MR + r] = data[src]!;
    }
  }
}

/** C[ci.., cj..] += Ap sliver (4 x kc) @ Bp sliver (kc x 4), writing only the `h x w` valid corner. */
function micro(
  kc: number,
  ap: Float64Array,
  pa: number,
  bp: Float64Array,
  pb: number,
  c: TypedArray,
  pc: number,
  ldc: number,
  h: number,
  w: number,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  const end = pa + kc * MR;
  for (; pa < end; pa += MR, pb += NR) {
    const b0 = bp[pb]!, b1 = bp[pb + 1]!, b2 = bp[pb + 2]!, b3 = bp[pb + 3]!;
    // One A value live at a time keeps register pressure down (16 accumulators + 4 B values).
    let a = ap[pa]!;
    c00 += a * b0, c01 += a * b1, c02 += a * b2, c03 += a * b3;
    a = ap[pa + 1]!;
    c10 += a * b0, c11 += a * b1, c12 += a * b2, c13 += a * b3;
    a = ap[pa + 2]!;
    c20 += a * b0, c21 += a * b1, c22 += a * b2, c23 += a * b3;
    a = ap[pa + 3]!;
    c30 += a * b0, c31 += a * b1, c32 += a * b2, c33 += a * b3;
  }
  if (h === MR && w === NR) {
    c[pc] = c[pc]! + c00;
    c[pc + 1] = c[pc + 1]! + c01;
    c[pc + 2] = c[pc + 2]! + c02;
    c[pc + 3] = c[pc + 3]! + c03;
    pc += ldc;
    c[pc] = c[pc]! + c10;
    c[pc + 1] = c[pc + 1]! + c11;
    c[pc + 2] = c[pc + 2]! + c12;
    c[pc + 3] = c[pc + 3]! + c13;
    pc += ldc;
    c[pc] = c[pc]! + c20;
    c[pc + 1] = c[pc + 1]! + c21;
    c[pc + 2] = c[pc + 2]! + c22;
    c[pc + 3] = c[pc + 3]! + c23;
    pc += ldc;
    c[pc] = c[pc]! + c30;
    c[pc + 1] = c[pc + 1]! + c31;
    c[pc + 2] = c[pc + 2]! + c32;
    c[pc + 3] = c[pc + 3]! + c33;
    return;
  }
  const rows = [[c00, c01, c02, c03], [c10, c11, c12, c13], [c20, c21, c22, c23], [c30, c31, c32, c33]];
  for (let i = 0; i < h; i++) {
    const row = rows[i]!;
    for (let j = 0; j < w; j++) c[pc + i * ldc + j] = c[pc + i * ldc + j]! + row[j]!;
  }
}

/** Below this many rows of A, packing B costs more than it saves: use row-times-matrix loops instead. */
const SMALL_M = 4;
let rowAcc = new Float64Array(1024);

/**
 * One row: `c[0..n) += a[0..k) @ B`, reading B in place. Row-major B: four scaled rows of B summed per pass into a
 * double accumulator; transposed B (unit stride down k): four dot products at a time.
 */
function gemvRow(a: Operand, b: Operand, c: TypedArray, cOff: number, n: number, k: number): void {
  const A = a.data, B = b.data, as = a.cs;
  if (b.cs === 1) {
    if (rowAcc.length < n) rowAcc = new Float64Array(n);
    const acc = rowAcc;
    acc.fill(0, 0, n);
    let p = 0;
    for (; p + 4 <= k; p += 4) {
      const a0 = A[a.off + p * as]!, a1 = A[a.off + (p + 1) * as]!;
      const a2 = A[a.off + (p + 2) * as]!, a3 = A[a.off + (p + 3) * as]!;
      const r0 = b.off + p * b.rs, r1 = r0 + b.rs, r2 = r1 + b.rs, r3 = r2 + b.rs;
      for (let j = 0; j < n; j++) {
        acc[j] = acc[j]! + a0 * B[r0 + j]! + a1 * B[r1 + j]! + a2 * B[r2 + j]! + a3 * B[r3 + j]!;
      }
    }
    for (; p < k; p++) {
      const a0 = A[a.off + p * as]!, r0 = b.off + p * b.rs;
      for (let j = 0; j < n; j++) acc[j] = acc[j]! + a0 * B[r0 + j]!;
    }
    for (let j = 0; j < n; j++) c[cOff + j] = c[cOff + j]! + acc[j]!;
    return;
  }
  const cs = b.cs;
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const q0 = b.off + j * cs, q1 = q0 + cs, q2 = q1 + cs, q3 = q2 + cs;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let p = 0, pa = a.off; p < k; p++, pa += as) {
      const x = A[pa]!;
      s0 += x * B[q0 + p]!;
      s1 += x * B[q1 + p]!;
      s2 += x * B[q2 + p]!;
      s3 += x * B[q3 + p]!;
    }
    c[cOff + j] = c[cOff + j]! + s0;
    c[cOff + j + 1] = c[cOff + j + 1]! + s1;
    c[cOff + j + 2] = c[cOff + j + 2]! + s2;
    c[cOff + j + 3] = c[cOff + j + 3]! + s3;
  }
  for (; j < n; j++) {
    const q = b.off + j * cs;
    let s = 0;
    for (let p = 0, pa = a.off; p < k; p++, pa += as) s += A[pa]! * B[q + p]!;
    c[cOff + j] = c[cOff + j]! + s;
  }
}

/**
 * `C (M, N) (+)= A (M, K) @ B (K, N)` for strided A and B and a row-major C with leading dimension `ldc`
 * starting at `cOff`.
 */
export function gemm(
  a: Operand,
  b: Operand,
  c: TypedArray,
  cOff: number,
  dims: { m: number; n: number; k: number; ldc: number; accumulate: boolean },
): void {
  const { m, n, k, ldc, accumulate } = dims;
  if (!accumulate) {
    for (let i = 0; i < m; i++) c.fill(0, cOff + i * ldc, cOff + i * ldc + n);
  }
  if (m === 0 || n === 0 || k === 0) return;
  if (m < SMALL_M && (b.cs === 1 || b.rs === 1)) {
    for (let i = 0; i < m; i++) gemvRow({ ...a, off: a.off + i * a.rs }, b, c, cOff + i * ldc, n, k);
    return;
  }
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      const needB = Math.ceil(nc / NR) * NR * kc;
      if (packB.length < needB) packB = new Float64Array(needB);
      packPanelB(b, pc, kc, jc, nc, packB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        const needA = Math.ceil(mc / MR) * MR * kc;
        if (packA.length < needA) packA = new Float64Array(needA);
        packBlockA(a, ic, mc, pc, kc, packA);
        for (let jr = 0; jr < nc; jr += NR) {
          const w = Math.min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const h = Math.min(MR, mc - ir);
            micro(kc, packA, ir * kc, packB, jr * kc, c, cOff + (ic + ir) * ldc + jc + jr, ldc, h, w);
          }
        }
      }
    }
  }
}

/** One matmul problem: operand layouts, batch strides, output offset and sizes. */
export interface Problem {
  /** Left operand (batch 0). */
  a: Operand;
  /** Right operand (batch 0). */
  b: Operand;
  /** Batch stride of a (0 = shared). */
  aBs: number;
  /** Batch stride of b (0 = shared). */
  bBs: number;
  /** Offset of c. */
  cOff: number;
  /** Rows. */
  m: number;
  /** Columns. */
  n: number;
  /** Inner size. */
  k: number;
  /** Add into c instead of overwriting. */
  accumulate: boolean;
  /** f32 operands and output, computed by the WebAssembly kernel (`_wasm_matmul.ts`) when `m >= SMALL_M`. */
  wasm: boolean;
  /**
   * f32 operands and output, computed by the machine's BLAS on the calling thread (`_blas_gemm.ts`); takes
   * precedence over `wasm`. Never sent to a worker thread.
   */
  blas?: BlasGemm;
  /**
   * b's batch `i` is the patch matrix (or its transpose) of image `i` of the hook's data: the WebAssembly kernel
   * packs it straight from the image ({@linkcode packsPatches}); the JavaScript one has im2col write it into b's
   * batch `i` first.
   */
  im2col?: ImageHook;
  /** After each batch's product: add c's batch `i` (a patch-matrix gradient) into image `i` of the hook's data. */
  col2im?: ImageHook;
  /** After each batch's product: add a value per row (the bias of a convolution's output channels). */
  rowBias?: RowBias;
}

/** The share of a problem one thread computes: batches `[b0, b1)`, output rows `[m0, m1)`, columns `[n0, n1)`. */
export interface Part {
  /** First batch. */
  b0: number;
  /** End batch. */
  b1: number;
  /** First row. */
  m0: number;
  /** End row. */
  m1: number;
  /** First column. */
  n0: number;
  /** End column. */
  n1: number;
}

/**
 * Compute `part` of `p` into `c`. Every element's sum runs over k in the same order whatever the split. Image
 * hooks run per batch, so a problem with hooks is only ever split by batch.
 */
export function runPart(p: Problem, c: TypedArray, part: Part): void {
  const dims = { m: part.m1 - part.m0, n: part.n1 - part.n0, k: p.k, ldc: p.n, accumulate: p.accumulate };
  // The kernel follows the whole product's row count, so every part of a split uses the same one.
  const kernel = packsPatches(p) ? wasmGemm : gemm;
  for (let i = part.b0; i < part.b1; i++) {
    const h = p.im2col;
    // The WebAssembly kernel packs patches straight from the image (the same values im2col would write).
    const direct = h !== undefined && kernel === wasmGemm;
    if (h && !direct) im2col(h.data, h.off + i * h.bs, h.g, p.b.data, p.b.off + i * p.bBs);
    const b: Operand = direct
      ? { ...p.b, off: part.n0 * p.b.cs, patches: { data: h.data, off: h.off + i * h.bs, g: h.g } }
      : { data: p.b.data, off: p.b.off + i * p.bBs + part.n0 * p.b.cs, rs: p.b.rs, cs: p.b.cs };
    kernel(
      { data: p.a.data, off: p.a.off + i * p.aBs + part.m0 * p.a.rs, rs: p.a.rs, cs: p.a.cs },
      b,
      c,
      p.cOff + i * p.m * p.n + part.m0 * p.n + part.n0,
      dims,
    );
    const q = p.col2im;
    if (q) col2im(c, p.cOff + i * p.m * p.n, q.g, q.data, q.off + i * q.bs);
    const cp = p.cOff + i * p.m * p.n + part.m0 * p.n + part.n0;
    if (p.rowBias) addRowBias(c, cp, dims.m, dims.n, p.n, p.rowBias, part.m0);
  }
}

/**
 * Whether `p` runs on the WebAssembly kernel, which packs a convolution's patches straight from the image (so an
 * `im2col` hook needs no patch matrix in memory and allows any split).
 */
export function packsPatches(p: { wasm: boolean; m: number }): boolean {
  return p.wasm && p.m >= SMALL_M;
}

/** JavaScript source of the kernel functions above, for worker threads (see `_threads.ts`). */
export function matmulSource(): string {
  return [
    `const MR = ${MR}, NR = ${NR}, KC = ${KC}, MC = ${MC}, NC = ${NC}, SMALL_M = ${SMALL_M};`,
    "let packA = new Float64Array(MC * KC), packB = new Float64Array(NC * KC), rowAcc = new Float64Array(1024);",
    ...[packPanelB, packBlockA, micro, gemvRow, gemm, runPart, packsPatches].map(String),
    ...[validRange, im2col, col2im, addRowBias, patchRow].map(String),
    wasmMatmulSource(),
  ].join("\n");
}

/**
 * Products smaller than this many flops run on the calling thread only: 4 MFLOP (~1 ms) for the JavaScript
 * kernel; 30 MFLOP (~1 ms) for the WebAssembly one, where handing half of a 5 MFLOP LSTM step to a worker
 * (~0.1 ms of messaging) made it slower (0.16 -> 0.29 ms, `bench/matmul_wasm.ts`).
 */
const THREAD_MIN_FLOPS = 4e6, WASM_THREAD_MIN_FLOPS = 3e7;

/**
 * Split a `batch x (m, n)` product into at most `threads` parts: by batch when there are enough; else by rows when
 * the output is tall and narrow (each thread then packs only its rows of A, the large operand, instead of all of
 * A for a few columns: the decoder's gradient products, 2624 x 96 and 3000 x 96); else by columns.
 */
function split(batch: number, m: number, n: number, threads: number): Part[] {
  const parts: Part[] = [];
  if (batch >= threads) {
    for (let t = 0; t < threads; t++) {
      const b0 = Math.floor((t * batch) / threads), b1 = Math.floor(((t + 1) * batch) / threads);
      if (b1 > b0) parts.push({ b0, b1, m0: 0, m1: m, n0: 0, n1: n });
    }
    return parts;
  }
  if (m >= 4 * n && m >= 64 * threads) {
    // Row splits on multiples of 4 (the register tile height of both kernels), at least 60 rows per part, so
    // no part falls to the row-times-matrix path.
    const quads = Math.ceil(m / 4);
    for (let t = 0; t < threads; t++) {
      const m0 = Math.min(m, 4 * Math.floor((t * quads) / threads));
      const m1 = Math.min(m, 4 * Math.floor(((t + 1) * quads) / threads));
      if (m1 > m0) parts.push({ b0: 0, b1: batch, m0, m1, n0: 0, n1: n });
    }
    return parts;
  }
  // Column splits on multiples of 8, the sliver width of both kernels (4 for JavaScript, 8 for WebAssembly).
  const octs = Math.ceil(n / 8);
  for (let t = 0; t < threads; t++) {
    const n0 = Math.min(n, 8 * Math.floor((t * octs) / threads));
    const n1 = Math.min(n, 8 * Math.floor(((t + 1) * octs) / threads));
    if (n1 > n0) parts.push({ b0: 0, b1: batch, m0: 0, m1: m, n0, n1 });
  }
  return parts;
}

/** Runs parts of a product on worker threads; part 0 runs on the caller. */
export interface PartRunner {
  /** Threads including the caller. */
  readonly threads: number;
  /** Run every part, blocking until all are done. */
  run(p: Problem, c: TypedArray, parts: Part[]): void;
}

/**
 * Which matmul kernel f32 products use: the machine's BLAS through FFI, the WebAssembly SIMD one or the
 * JavaScript f64-accumulating one.
 */
export type MatmulKernel = "blas" | "wasm" | "js";

/**
 * Compute `p` (a `batch x (m, n)` product) into `c`: with BLAS when `p.blas` is set, else split across
 * `runner`'s threads when the product is large enough and every operand lives in shared memory, else on the
 * caller. Results are bitwise the same either way (for a given kernel).
 */
export function runProblem(p: Problem, c: TypedArray, batch: number, runner?: PartRunner): void {
  if (p.blas) return blasRunProblem(p, c, batch, p.blas);
  const { m, n, k } = p;
  const whole: Part = { b0: 0, b1: batch, m0: 0, m1: m, n0: 0, n1: n };
  const shared = (x: TypedArray) => x.buffer instanceof SharedArrayBuffer && x.byteOffset === 0;
  const hooks = [p.im2col, p.col2im, p.rowBias].filter((h) => h !== undefined);
  if (
    !runner || runner.threads < 2 ||
    2 * batch * m * n * k < (packsPatches(p) ? WASM_THREAD_MIN_FLOPS : THREAD_MIN_FLOPS) ||
    ![p.a.data, p.b.data, c, ...hooks.map((h) => h.data)].every(shared)
  ) {
    return runPart(p, c, whole);
  }
  // col2im, and an im2col that writes a patch matrix, need whole images per part.
  const writesCol = p.im2col !== undefined && !packsPatches(p);
  if ((p.col2im || writesCol) && batch < runner.threads) {
    // Too few images to share out: those hooks run here, only the products are split.
    const { im2col: h, col2im: q, ...rest } = p;
    if (h && writesCol) {
      for (let i = 0; i < batch; i++) im2col(h.data, h.off + i * h.bs, h.g, p.b.data, p.b.off + i * p.bBs);
    }
    runProblem(h && !writesCol ? { ...rest, im2col: h } : rest, c, batch, runner);
    if (q) { for (let i = 0; i < batch; i++) col2im(c, p.cOff + i * m * n, q.g, q.data, q.off + i * q.bs); }
    return;
  }
  const parts = split(batch, m, n, runner.threads);
  if (parts.length > 1) return runner.run(p, c, parts);
  runPart(p, c, whole);
}
