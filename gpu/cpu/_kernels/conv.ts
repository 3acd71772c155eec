/**
 * CPU 2-D convolution kernels (NCHW, one group), forward and backward, as im2col + the GEMM of `../_gemm.ts`
 * (the WebAssembly SIMD kernel for f32, worker threads for large products):
 *
 * - forward, per image: `y[b] (O, OH*OW) = W (O, C*KH*KW) @ col[b] (C*KH*KW, OH*OW)`. W is read in place (row
 *   major) and `col` is laid out `(c, kh, kw)` rows by `(oh, ow)` columns, so both feed the packing routines'
 *   contiguous paths and the product lands in `y` already in NCHW order: no transposes anywhere;
 * - input gradient: `dcol[b] = W^T @ dy[b]`, then col2im adds `dcol` back into `dx`;
 * - weight gradient: `dW = sum_b dy[b] @ col[b]^T`, the images of a chunk as one batched product into
 *   per-image partial sums (split across threads by image) that are then added in image order.
 *
 * Images go through in chunks whose patch matrices fit `COL_BUDGET` elements, held in one scratch buffer per
 * dtype that is reused by every call (shared memory on a threaded backend), so memory stays bounded whatever the
 * batch. A 1x1 convolution with stride 1 and no padding skips im2col: its patch matrix is the input itself.
 *
 * With the machine's BLAS (`ctx.matmul === "blas"`, f32) each image is one `sgemm` on the calling thread,
 * threaded by the library: im2col writes one image's patch matrix into a reused buffer just before its product
 * (`../_blas_gemm.ts`), and the weight gradient accumulates straight into `dw` image after image.
 *
 * @module
 */

import type { Conv2dAttrs, TypedArray } from "../../backend.ts";
import { windowOutputSize } from "../../conv_geometry.ts";
import {
  type Arg,
  type CpuContext,
  type CpuKernels,
  expectArity,
  expectContiguous,
  expectRank,
  KernelError,
  shapeStr,
  vec,
} from "../_args.ts";
import type { BlasGemm } from "../_blas_gemm.ts";
import { packsPatches, type Problem, runProblem } from "../_gemm.ts";
import type { ConvGeometry, RowBias } from "../_im2col.ts";

/** Elements of the patch-matrix chunk (16 MB of f32): the images of a chunk share one GEMM launch. */
const COL_BUDGET = 1 << 22;

function positive(kernel: string, what: string, v: readonly number[], min: number): void {
  if (v.length !== 2 || !v.every((n) => Number.isInteger(n) && n >= min)) {
    throw new KernelError(kernel, `${what} must be two integers >= ${min}, got ${JSON.stringify(v)}`);
  }
}

/** Check the shapes of x `(B, C, H, W)`, w `(O, C, KH, KW)` and y `(B, O, OH, OW)` against `attrs`. */
export function convGeometry(kernel: string, x: Arg, w: Arg, y: Arg, attrs: Conv2dAttrs): ConvGeometry {
  positive(kernel, "stride", attrs.stride, 1);
  positive(kernel, "dilation", attrs.dilation, 1);
  positive(kernel, "padding", attrs.padding, 0);
  const [B, C, H, W] = expectRank(kernel, "input (B, C, H, W)", x, 4) as [number, number, number, number];
  const [O, C2, KH, KW] = expectRank(kernel, "weight (O, C, KH, KW)", w, 4) as [
    number,
    number,
    number,
    number,
  ];
  const [sh, sw] = attrs.stride, [ph, pw] = attrs.padding, [dh, dw] = attrs.dilation;
  const OH = windowOutputSize(H, { kernel: KH, stride: sh, padding: ph, dilation: dh });
  const OW = windowOutputSize(W, { kernel: KW, stride: sw, padding: pw, dilation: dw });
  const want = [B, O, OH, OW];
  const shapes = `x ${shapeStr(x.shape)}, w ${shapeStr(w.shape)}, y ${shapeStr(y.shape)}`;
  if (C2 !== C || KH < 1 || KW < 1 || OH < 1 || OW < 1 || y.shape.some((n, i) => n !== want[i])) {
    throw new KernelError(
      kernel,
      `shapes do not convolve (${shapes}; stride ${attrs.stride}, padding ${attrs.padding}, dilation ${attrs.dilation})`,
    );
  }
  for (const [a, what] of [[x, "x"], [w, "weight"], [y, "y"]] as const) expectContiguous(kernel, what, a);
  if (x.dtype !== w.dtype || x.dtype !== y.dtype || x.dtype === "i32") {
    throw new KernelError(
      kernel,
      `needs f32 or f64 operands of one dtype, got ${x.dtype}, ${w.dtype}, ${y.dtype}`,
    );
  }
  return { B, C, H, W, O, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw };
}

/** True when the patch matrix of an image is the image itself (1x1 kernel, stride 1, no padding). */
function pointwise(g: ConvGeometry): boolean {
  return g.KH === 1 && g.KW === 1 && g.sh === 1 && g.sw === 1 && g.ph === 0 && g.pw === 0;
}

/** Reused scratch arrays by slot and dtype (`col`: patch matrices, `w`: a flipped kernel). */
const scratches = new Map<string, TypedArray>();

/** A scratch array of at least `n` elements of `like`'s type in slot `slot` (shared memory when `shared`). */
function scratch(slot: string, like: TypedArray, n: number, shared: boolean): TypedArray {
  const f64 = like instanceof Float64Array, key = `${slot}|${f64}`;
  const have = scratches.get(key);
  if (have && have.length >= n && (have.buffer instanceof SharedArrayBuffer || !shared)) return have;
  const Ctor = f64 ? Float64Array : Float32Array;
  const bytes = Math.max(n, have?.length ?? 0) * Ctor.BYTES_PER_ELEMENT;
  const arr = new Ctor((shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes)) as ArrayBuffer);
  scratches.set(key, arr);
  return arr;
}

/** Images per chunk (`extra` more scratch elements per image after its patch matrix). */
/** Images per chunk when each needs `perImage` scratch elements (all of them when it needs none). */
function chunkOf(g: ConvGeometry, perImage: number): number {
  return perImage === 0 ? g.B : Math.max(1, Math.min(g.B, Math.floor(COL_BUDGET / perImage)));
}

/** The BLAS to use for an f32 product of `x`'s dtype, as a spreadable field of a {@linkcode Problem}. */
function blasOf(ctx: CpuContext, x: TypedArray): { blas?: BlasGemm } {
  return ctx.matmul === "blas" && ctx.blas && x instanceof Float32Array ? { blas: ctx.blas } : {};
}

/** Whether a product runs on a kernel that needs no patch matrix from the caller (BLAS or WebAssembly). */
function noColMatrix(p: { wasm: boolean; m: number; blas?: BlasGemm }): boolean {
  return p.blas !== undefined || packsPatches(p);
}

function isShared(ctx: CpuContext, ...xs: TypedArray[]): boolean {
  return ctx.runner !== undefined && ctx.runner.threads > 1 &&
    xs.every((x) => x.buffer instanceof SharedArrayBuffer && x.byteOffset === 0);
}

/** A region of an array. */
interface At {
  data: TypedArray;
  off: number;
}

/**
 * `y = conv(x, w) (+ bias)` for contiguous NCHW `x` and `y` and a row-major `(O, C*KH*KW)` weight: per chunk of
 * images one batched product whose im2col (and bias) run per image inside the product, on the worker threads.
 */
function forward(g: ConvGeometry, x: At, w: At, y: At, bias: RowBias | undefined, ctx: CpuContext): void {
  const K = g.C * g.KH * g.KW, P = g.OH * g.OW, CHW = g.C * g.H * g.W;
  const base = {
    a: { data: w.data, off: w.off, rs: K, cs: 1 },
    aBs: 0,
    m: g.O,
    n: P,
    k: K,
    accumulate: false,
    wasm: ctx.matmul === "wasm" && x.data instanceof Float32Array,
    ...blasOf(ctx, x.data),
    ...(bias ? { rowBias: bias } : {}),
  };
  if (pointwise(g)) {
    const b = { data: x.data, off: x.off, rs: P, cs: 1 };
    runProblem({ ...base, b, bBs: CHW, cOff: y.off }, y.data, g.B, ctx.runner);
    return;
  }
  // The WebAssembly GEMM packs patches from the image and BLAS writes one image's at a time: a patch matrix of
  // the chunk is only written for the JavaScript kernel.
  const direct = noColMatrix(base), chunk = chunkOf(g, direct ? 0 : K * P);
  const col = direct ? x.data : scratch("col", x.data, chunk * K * P, isShared(ctx, x.data, y.data, w.data));
  for (let b0 = 0; b0 < g.B; b0 += chunk) {
    const p: Problem = {
      ...base,
      b: { data: col, off: 0, rs: P, cs: 1 },
      bBs: K * P,
      cOff: y.off + b0 * g.O * P,
      im2col: { data: x.data, off: x.off + b0 * CHW, bs: CHW, g },
    };
    runProblem(p, y.data, Math.min(chunk, g.B - b0), ctx.runner);
  }
}

/** `conv2d` kernel: y = conv(x, w) (+ bias). */
function conv2d(ins: readonly Arg[], outs: readonly Arg[], attrs: Conv2dAttrs, ctx: CpuContext): void {
  if (ins.length !== 2) expectArity("conv2d", ins, outs, 3, 1);
  else expectArity("conv2d", ins, outs, 2, 1);
  const [x, w, bias] = ins as [Arg, Arg, Arg | undefined];
  const y = outs[0]!;
  const g = convGeometry("conv2d", x, w, y, attrs);
  let rowBias: RowBias | undefined;
  if (bias !== undefined) {
    const s = expectRank("conv2d", "bias (O)", bias, 1);
    if (s[0] !== g.O || bias.dtype !== x.dtype) {
      throw new KernelError(
        "conv2d",
        `bias ${shapeStr(s)} ${bias.dtype} does not match ${g.O} ${x.dtype} channels`,
      );
    }
    const v = vec(bias);
    rowBias = { data: v.data, off: v.off, s: v.s };
  }
  forward(
    g,
    { data: x.data, off: x.offset },
    { data: w.data, off: w.offset },
    { data: y.data, off: y.offset },
    rowBias,
    ctx,
  );
}

/**
 * `conv2dBackwardInput` kernel: dx = conv^T(dy, w). Stride 1 (the common case) is the forward convolution of dy
 * with the flipped, transposed kernel and padding `d (k - 1) - p`, so it needs no col2im; other strides compute
 * the patch-matrix gradient `W^T @ dy` and add it back with col2im.
 */
function conv2dBackwardInput(
  ins: readonly Arg[],
  outs: readonly Arg[],
  attrs: Conv2dAttrs,
  ctx: CpuContext,
): void {
  expectArity("conv2dBackwardInput", ins, outs, 2, 1);
  const [dy, w] = ins as [Arg, Arg];
  const dx = outs[0]!;
  const g = convGeometry("conv2dBackwardInput", dx, w, dy, attrs);
  const { B, C, O, KH, KW, dh, dw } = g;
  const K = C * KH * KW, P = g.OH * g.OW, CHW = C * g.H * g.W, KK = KH * KW;
  const shared = isShared(ctx, dy.data, dx.data, w.data);
  if (g.sh === 1 && g.sw === 1 && g.ph <= dh * (KH - 1) && g.pw <= dw * (KW - 1) && !pointwise(g)) {
    const flipped = scratch("w", w.data, C * O * KK, shared);
    for (let o = 0; o < O; o++) {
      for (let c = 0; c < C; c++) {
        const s = w.offset + (o * C + c) * KK, d = (c * O + o) * KK + KK - 1;
        for (let t = 0; t < KK; t++) flipped[d - t] = w.data[s + t]!;
      }
    }
    const g2: ConvGeometry = {
      ...g,
      C: O,
      H: g.OH,
      W: g.OW,
      O: C,
      OH: g.H,
      OW: g.W,
      ph: dh * (KH - 1) - g.ph,
      pw: dw * (KW - 1) - g.pw,
    };
    forward(
      g2,
      { data: dy.data, off: dy.offset },
      { data: flipped, off: 0 },
      { data: dx.data, off: dx.offset },
      undefined,
      ctx,
    );
    return;
  }
  const base = {
    // A = W^T (K, O): element (k, o) is w[o * K + k].
    a: { data: w.data, off: w.offset, rs: 1, cs: K },
    aBs: 0,
    m: K,
    n: P,
    k: O,
    accumulate: false,
    wasm: ctx.matmul === "wasm" && dy.data instanceof Float32Array,
    ...blasOf(ctx, dy.data),
  };
  const dyAt = (b0: number) => ({ data: dy.data, off: dy.offset + b0 * O * P, rs: P, cs: 1 });
  if (pointwise(g)) {
    runProblem({ ...base, b: dyAt(0), bBs: O * P, cOff: dx.offset }, dx.data, B, ctx.runner);
    return;
  }
  const chunk = chunkOf(g, K * P);
  const dcol = scratch("col", dy.data, chunk * K * P, shared);
  for (let b0 = 0; b0 < B; b0 += chunk) {
    const col2im = { data: dx.data, off: dx.offset + b0 * CHW, bs: CHW, g };
    runProblem(
      { ...base, b: dyAt(b0), bBs: O * P, cOff: 0, col2im },
      dcol,
      Math.min(chunk, B - b0),
      ctx.runner,
    );
  }
}

/**
 * `conv2dBackwardWeight` kernel: dw = sum over images of dy[b] @ col[b]^T, one batched product per chunk into
 * per-image partial sums (so threads split it by image) that are then added in image order; db = sum of dy.
 */
function conv2dBackwardWeight(
  ins: readonly Arg[],
  outs: readonly Arg[],
  attrs: Conv2dAttrs,
  ctx: CpuContext,
): void {
  if (outs.length !== 1) expectArity("conv2dBackwardWeight", ins, outs, 2, 2);
  else expectArity("conv2dBackwardWeight", ins, outs, 2, 1);
  const [x, dy] = ins as [Arg, Arg];
  const [dw, db] = outs as [Arg, Arg | undefined];
  const g = convGeometry("conv2dBackwardWeight", x, dw, dy, attrs);
  const K = g.C * g.KH * g.KW, P = g.OH * g.OW, CHW = g.C * g.H * g.W, OK = g.O * K;
  const wasm = ctx.matmul === "wasm" && x.data instanceof Float32Array, blas = blasOf(ctx, x.data);
  if (blas.blas) {
    weightGradBlas(g, x, dy, dw, blas.blas);
    if (db !== undefined) biasGrad(dy, g, db);
    return;
  }
  const pw = pointwise(g), col = !pw && !packsPatches({ wasm, m: g.O });
  const chunk = chunkOf(g, (col ? K * P : 0) + OK);
  const buf = scratch("col", x.data, chunk * ((col ? K * P : 0) + OK), isShared(ctx, x.data, dy.data));
  const part0 = col ? chunk * K * P : 0; // per-image partial dW follow the patch matrices
  const out = dw.data, wo = dw.offset;
  out.fill(0, wo, wo + OK);
  for (let b0 = 0; b0 < g.B; b0 += chunk) {
    const n = Math.min(chunk, g.B - b0);
    const p: Problem = {
      a: { data: dy.data, off: dy.offset + b0 * g.O * P, rs: P, cs: 1 },
      aBs: g.O * P,
      // B = col^T (P, K): element (p, k) is col[k * P + p].
      b: pw ? { data: x.data, off: x.offset + b0 * CHW, rs: 1, cs: P } : { data: buf, off: 0, rs: 1, cs: P },
      bBs: pw ? CHW : K * P,
      cOff: part0,
      m: g.O,
      n: K,
      k: P,
      accumulate: false,
      wasm,
    };
    if (!pw) p.im2col = { data: x.data, off: x.offset + b0 * CHW, bs: CHW, g };
    runProblem(p, buf, n, ctx.runner);
    for (let i = 0; i < n; i++) {
      const s = part0 + i * OK;
      for (let j = 0; j < OK; j++) out[wo + j] = out[wo + j]! + buf[s + j]!;
    }
  }
  if (db !== undefined) biasGrad(dy, g, db);
}

/** dw = sum over images of dy[b] @ col[b]^T with BLAS: each image's product accumulates into dw in order. */
function weightGradBlas(g: ConvGeometry, x: Arg, dy: Arg, dw: Arg, blas: BlasGemm): void {
  const K = g.C * g.KH * g.KW, P = g.OH * g.OW, CHW = g.C * g.H * g.W;
  const pw = pointwise(g);
  for (let i = 0; i < g.B; i++) {
    const p: Problem = {
      a: { data: dy.data, off: dy.offset + i * g.O * P, rs: P, cs: 1 },
      aBs: 0,
      // B = col^T (P, K): element (p, k) is col[k * P + p] (the image itself when pointwise).
      b: { data: x.data, off: pw ? x.offset + i * CHW : 0, rs: 1, cs: P },
      bBs: 0,
      cOff: dw.offset,
      m: g.O,
      n: K,
      k: P,
      accumulate: i > 0,
      wasm: false,
      blas,
    };
    if (!pw) p.im2col = { data: x.data, off: x.offset + i * CHW, bs: CHW, g };
    runProblem(p, dw.data, 1);
  }
  if (g.B === 0) dw.data.fill(0, dw.offset, dw.offset + g.O * K);
}

function biasGrad(dy: Arg, g: ConvGeometry, db: Arg): void {
  const s = expectRank("conv2dBackwardWeight", "bias gradient (O)", db, 1);
  if (s[0] !== g.O) {
    throw new KernelError("conv2dBackwardWeight", `bias gradient ${shapeStr(s)} for ${g.O} channels`);
  }
  const P = g.OH * g.OW, v = vec(db);
  for (let o = 0; o < g.O; o++) {
    let acc = 0;
    for (let b = 0; b < g.B; b++) {
      const q = dy.offset + (b * g.O + o) * P;
      for (let i = q; i < q + P; i++) acc += dy.data[i]!;
    }
    v.data[v.off + o * v.s] = acc;
  }
}

/** The convolution family. */
export const CONV_KERNELS: CpuKernels<"conv2d" | "conv2dBackwardInput" | "conv2dBackwardWeight"> = {
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardWeight,
};
