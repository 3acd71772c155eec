/**
 * Patch matrices for the CPU convolution kernels (`_kernels/conv.ts`): the patch matrix of an NCHW image has rows
 * `(c, kh, kw)` and columns `(oh, ow)`, so `W (O, C*KH*KW) @ col` is the convolution in NCHW order. The
 * WebAssembly GEMM packs rows of it straight from the image ({@linkcode patchRow}); the JavaScript GEMM (f64) has
 * {@linkcode im2col} write it first; {@linkcode col2im} adds a patch-matrix gradient back into an image. The GEMM of
 * `_gemm.ts` runs them per image inside a product (on the worker threads too), so these functions refer only to
 * each other (their source is sent to the workers).
 *
 * @module
 */

import type { TypedArray } from "../backend.ts";

/** Sizes of one convolution. */
export interface ConvGeometry {
  /** Batch, input channels, input height and width. */
  B: number;
  C: number;
  H: number;
  W: number;
  /** Output channels, kernel height and width. */
  O: number;
  KH: number;
  KW: number;
  /** Output height and width. */
  OH: number;
  OW: number;
  /** Stride, padding, dilation per axis. */
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
}

/** A per-image step of a batched product: image `i` of `data` starts at `off + i * bs`. */
export interface ImageHook {
  /** The images (input of im2col, gradient written by col2im). */
  data: TypedArray;
  /** First element of image 0. */
  off: number;
  /** Elements between images. */
  bs: number;
  /** The convolution. */
  g: ConvGeometry;
}

/** A per-row term: row `r` of each batch of a product gets `data[off + r * s]` added to every element. */
export interface RowBias {
  /** The values. */
  data: TypedArray;
  /** First value. */
  off: number;
  /** Stride between values. */
  s: number;
}

/** Add `bias[r0 + r]` to the `cols` elements of row `r < rows` of `c` (rows `ldc` apart from `c[co]`). */
export function addRowBias(
  c: TypedArray,
  co: number,
  rows: number,
  cols: number,
  ldc: number,
  bias: RowBias,
  r0: number,
): void {
  for (let r = 0, q = co; r < rows; r++, q += ldc) {
    const v = bias.data[bias.off + (r0 + r) * bias.s]!;
    for (let i = q, e = q + cols; i < e; i++) c[i] = c[i]! + v;
  }
}

/**
 * Elements `[j0, j1)` of row `k = (c, kh, kw)` of the patch matrix of the image at `X[xo..]` into `dst[d0..]`
 * (zeros where the tap falls in the padding): how the WebAssembly GEMM packs a convolution's operand straight
 * from the image, with no patch matrix in memory.
 */
export function patchRow(
  X: TypedArray,
  xo: number,
  g: ConvGeometry,
  k: number,
  j0: number,
  j1: number,
  dst: TypedArray,
  d0: number,
): void {
  const { C, H, W, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw } = g;
  const kw = k % KW, kh = Math.floor(k / KW) % KH, c = Math.floor(k / (KW * KH));
  const plane = xo + c * H * W, off = kw * dw - pw;
  const [lo, hi] = validRange(W, OW, sw, pw, kw, dw);
  if (sh === 1 && sw === 1 && OW === W) {
    // "Same" stride-1: the row is the image shifted by the tap's offset; copy the in-image rows as one block
    // (read within this image only), then zero the padding rows and columns.
    const [oh0, oh1] = validRange(H, OH, sh, ph, kh, dh);
    const base = plane + (kh * dh - ph) * W + off;
    const a = Math.min(j1, Math.max(j0, oh0 * W, xo - base)),
      b = Math.max(a, Math.min(j1, oh1 * W, xo + C * H * W - base));
    for (let j = j0; j < a; j++) dst[d0 + j - j0] = 0;
    if (b > a) dst.set(X.subarray(base + a, base + b), d0 + a - j0);
    for (let j = b; j < j1; j++) dst[d0 + j - j0] = 0;
    if (lo === 0 && hi === OW) return;
    for (let oh = Math.floor(a / W); oh * W < b; oh++) {
      const r0 = oh * W;
      for (let j = Math.max(a, r0); j < Math.min(b, r0 + lo); j++) dst[d0 + j - j0] = 0;
      for (let j = Math.max(a, r0 + hi); j < Math.min(b, r0 + W); j++) dst[d0 + j - j0] = 0;
    }
    return;
  }
  let j = j0, d = d0;
  while (j < j1) {
    const oh = Math.floor(j / OW), rowEnd = Math.min(j1, (oh + 1) * OW);
    const ih = oh * sh - ph + kh * dh;
    const ow1 = rowEnd - oh * OW;
    let ow = j - oh * OW;
    if (ih < 0 || ih >= H) {
      for (; ow < ow1; ow++) dst[d++] = 0;
    } else {
      const a = Math.min(Math.max(ow, lo), ow1), b = Math.min(ow1, hi);
      for (; ow < a; ow++) dst[d++] = 0;
      for (let s = plane + ih * W + off + ow * sw; ow < b; ow++, s += sw) dst[d++] = X[s]!;
      for (; ow < ow1; ow++) dst[d++] = 0;
    }
    j = rowEnd;
  }
}

/** Output positions `[lo, hi)` along an axis whose tap `t` reads inside `[0, n)`: `o * s - p + t * d`. */
export function validRange(
  n: number,
  out: number,
  s: number,
  p: number,
  t: number,
  d: number,
): [number, number] {
  const off = t * d - p;
  const lo = Math.max(0, Math.ceil(-off / s));
  const hi = Math.min(out, Math.floor((n - 1 - off) / s) + 1);
  return [lo, Math.max(lo, hi)];
}

/**
 * Write the patch matrix of the image at `X[xo..]` into `col[co..]`: rows `(c, kh, kw)`, columns `(oh, ow)`.
 * With stride 1 and an output as wide as the input ("same" padding), a patch row is the image shifted by the
 * tap's offset, so the valid rows are copied as one block and the columns that fall in the padding are zeroed
 * afterwards; otherwise row by row. Plain loops rather than fill/subarray/set for short runs: at 28 pixels
 * those calls cost more than the copy.
 */
export function im2col(X: TypedArray, xo: number, g: ConvGeometry, col: TypedArray, co: number): void {
  const { C, H, W, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw } = g;
  const P = OH * OW,
    HW = H * W,
    flat = sh === 1 && sw === 1 && OW === W,
    same = X.constructor === col.constructor;
  let r = co;
  for (let c = 0; c < C; c++) {
    const plane = xo + c * HW;
    for (let kh = 0; kh < KH; kh++) {
      const [oh0, oh1] = validRange(H, OH, sh, ph, kh, dh);
      for (let kw = 0; kw < KW; kw++, r += P) {
        const off = kw * dw - pw;
        const [lo, hi] = validRange(W, OW, sw, pw, kw, dw);
        for (let i = r, e = r + oh0 * OW; i < e; i++) col[i] = 0;
        for (let i = r + oh1 * OW, e = r + P; i < e; i++) col[i] = 0;
        if (flat) {
          // col[r + oh * W + ow] = X[base + oh * W + ow] for the valid rows, read within this image only.
          const base = plane + (kh * dh - ph) * W + off;
          const t0 = Math.max(oh0 * W, xo - base), t1 = Math.min(oh1 * W, xo + C * HW - base);
          if (t1 > t0) {
            if (same && t1 - t0 >= 64) col.set(X.subarray(base + t0, base + t1), r + t0);
            else for (let t = t0; t < t1; t++) col[r + t] = X[base + t]!;
          }
          for (let oh = oh0, q = r + oh0 * OW; oh < oh1; oh++, q += OW) {
            for (let i = q; i < q + lo; i++) col[i] = 0;
            for (let i = q + hi; i < q + OW; i++) col[i] = 0;
          }
          continue;
        }
        for (let oh = oh0, q = r + oh0 * OW; oh < oh1; oh++, q += OW) {
          const end = q + OW;
          let i = q;
          for (const e = q + lo; i < e; i++) col[i] = 0;
          let src = plane + (oh * sh - ph + kh * dh) * W + off + lo * sw;
          if (sw === 1) { for (const e = q + hi; i < e; i++, src++) col[i] = X[src]!; }
          else for (const e = q + hi; i < e; i++, src += sw) col[i] = X[src]!;
          for (; i < end; i++) col[i] = 0;
        }
      }
    }
  }
}

/**
 * Add the patch-matrix gradient `dcol[co..]` back into the image gradient at `dX[xo..]` (which it overwrites).
 * The "same"-padding stride-1 case adds whole blocks after zeroing the padding columns of `dcol` (scratch).
 */
export function col2im(dcol: TypedArray, co: number, g: ConvGeometry, dX: TypedArray, xo: number): void {
  const { C, H, W, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw } = g;
  const P = OH * OW, HW = H * W, flat = sh === 1 && sw === 1 && OW === W;
  dX.fill(0, xo, xo + C * HW);
  let r = co;
  for (let c = 0; c < C; c++) {
    const plane = xo + c * HW;
    for (let kh = 0; kh < KH; kh++) {
      const [oh0, oh1] = validRange(H, OH, sh, ph, kh, dh);
      for (let kw = 0; kw < KW; kw++, r += P) {
        const off = kw * dw - pw;
        const [lo, hi] = validRange(W, OW, sw, pw, kw, dw);
        if (flat) {
          for (let oh = oh0, q = r + oh0 * OW; oh < oh1; oh++, q += OW) {
            for (let i = q; i < q + lo; i++) dcol[i] = 0;
            for (let i = q + hi; i < q + OW; i++) dcol[i] = 0;
          }
          const base = plane + (kh * dh - ph) * W + off;
          const t0 = Math.max(oh0 * W, xo - base), t1 = Math.min(oh1 * W, xo + C * HW - base);
          for (let t = t0; t < t1; t++) dX[base + t] = dX[base + t]! + dcol[r + t]!;
          continue;
        }
        for (let oh = oh0; oh < oh1; oh++) {
          const ih = oh * sh - ph + kh * dh;
          const q = r + oh * OW, dst = plane + ih * W + off;
          for (let ow = lo, d = dst + lo * sw; ow < hi; ow++, d += sw) dX[d] = dX[d]! + dcol[q + ow]!;
        }
      }
    }
  }
}
