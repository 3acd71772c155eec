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
import { type Problem, runProblem } from "../_gemm.ts";

/** Elements of the patch-matrix chunk (16 MB of f32): the images of a chunk share one GEMM launch. */
const COL_BUDGET = 1 << 22;

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

let scratch32: Float32Array | null = null, scratch64: Float64Array | null = null;

/** A reused scratch array of at least `n` elements like `like` (shared memory when `shared`). */
function scratch(like: TypedArray, n: number, shared: boolean): TypedArray {
  const f64 = like instanceof Float64Array;
  const have = f64 ? scratch64 : scratch32;
  if (have && have.length >= n && (have.buffer instanceof SharedArrayBuffer || !shared)) return have;
  const Ctor = f64 ? Float64Array : Float32Array;
  const len = Math.max(n, have?.length ?? 0);
  const buf = shared
    ? new SharedArrayBuffer(len * Ctor.BYTES_PER_ELEMENT)
    : new ArrayBuffer(len * Ctor.BYTES_PER_ELEMENT);
  const arr = new Ctor(buf as ArrayBuffer);
  if (f64) scratch64 = arr as Float64Array;
  else scratch32 = arr as Float32Array;
  return arr;
}

/** Images per chunk and the scratch it needs (`extra` more elements per image after the patch matrices). */
function chunking(g: ConvGeometry, extra = 0): { chunk: number; perImage: number } {
  const perImage = g.C * g.KH * g.KW * g.OH * g.OW + extra;
  return { chunk: Math.max(1, Math.min(g.B, Math.floor(COL_BUDGET / perImage))), perImage };
}

/** Output positions `[lo, hi)` along an axis whose tap `t` reads inside `[0, n)`: `o * s - p + t * d`. */
function validRange(n: number, out: number, s: number, p: number, t: number, d: number): [number, number] {
  const off = t * d - p;
  const lo = Math.max(0, Math.ceil(-off / s));
  const hi = Math.min(out, Math.floor((n - 1 - off) / s) + 1);
  return [lo, Math.max(lo, hi)];
}

/** Write the patch matrix of the image at `X[xo..]` into `col[co..]`: rows `(c, kh, kw)`, columns `(oh, ow)`. */
function im2col(X: TypedArray, xo: number, g: ConvGeometry, col: TypedArray, co: number): void {
  const { C, H, W, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw } = g;
  const P = OH * OW, same = X.constructor === col.constructor;
  let r = co;
  for (let c = 0; c < C; c++) {
    const plane = xo + c * H * W;
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++, r += P) {
        const off = kw * dw - pw;
        const [lo, hi] = validRange(W, OW, sw, pw, kw, dw);
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * sh - ph + kh * dh, q = r + oh * OW;
          if (ih < 0 || ih >= H || hi === lo) {
            col.fill(0, q, q + OW);
            continue;
          }
          if (lo > 0) col.fill(0, q, q + lo);
          if (hi < OW) col.fill(0, q + hi, q + OW);
          const src = plane + ih * W + off;
          if (sw === 1 && same) col.set(X.subarray(src + lo, src + hi), q + lo);
          else for (let ow = lo, s = src + lo * sw; ow < hi; ow++, s += sw) col[q + ow] = X[s]!;
        }
      }
    }
  }
}

/** Add the patch-matrix gradient `dcol[co..]` back into the image gradient at `dX[xo..]` (which it overwrites). */
function col2im(dcol: TypedArray, co: number, g: ConvGeometry, dX: TypedArray, xo: number): void {
  const { C, H, W, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw } = g;
  const P = OH * OW;
  dX.fill(0, xo, xo + C * H * W);
  let r = co;
  for (let c = 0; c < C; c++) {
    const plane = xo + c * H * W;
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++, r += P) {
        const off = kw * dw - pw;
        const [lo, hi] = validRange(W, OW, sw, pw, kw, dw);
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * sh - ph + kh * dh;
          if (ih < 0 || ih >= H) continue;
          const q = r + oh * OW, dst = plane + ih * W + off;
          for (let ow = lo, d = dst + lo * sw; ow < hi; ow++, d += sw) dX[d] = dX[d]! + dcol[q + ow]!;
        }
      }
    }
  }
}

function isShared(ctx: CpuContext, ...xs: TypedArray[]): boolean {
  return ctx.runner !== undefined && ctx.runner.threads > 1 &&
    xs.every((x) => x.buffer instanceof SharedArrayBuffer && x.byteOffset === 0);
}

/** `conv2d` kernel: y = conv(x, w) (+ bias). */
function conv2d(ins: readonly Arg[], outs: readonly Arg[], attrs: Conv2dAttrs, ctx: CpuContext): void {
  if (ins.length !== 2) expectArity("conv2d", ins, outs, 3, 1);
  else expectArity("conv2d", ins, outs, 2, 1);
  const [x, w, bias] = ins as [Arg, Arg, Arg | undefined];
  const y = outs[0]!;
  const g = convGeometry("conv2d", x, w, y, attrs);
  const K = g.C * g.KH * g.KW, P = g.OH * g.OW;
  if (bias !== undefined) {
    const s = expectRank("conv2d", "bias (O)", bias, 1);
    if (s[0] !== g.O || bias.dtype !== x.dtype) {
      throw new KernelError(
        "conv2d",
        `bias ${shapeStr(s)} ${bias.dtype} does not match ${g.O} ${x.dtype} channels`,
      );
    }
  }
  const wasm = ctx.matmul === "wasm" && x.data instanceof Float32Array;
  const base = {
    a: { data: w.data, off: w.offset, rs: K, cs: 1 },
    aBs: 0,
    m: g.O,
    n: P,
    k: K,
    accumulate: false,
    wasm,
  };
  if (pointwise(g)) {
    const p: Problem = {
      ...base,
      b: { data: x.data, off: x.offset, rs: P, cs: 1 },
      bBs: K * P,
      cOff: y.offset,
    };
    runProblem(p, y.data, g.B, ctx.runner);
  } else {
    const { chunk } = chunking(g);
    const col = scratch(x.data, chunk * K * P, isShared(ctx, x.data));
    for (let b0 = 0; b0 < g.B; b0 += chunk) {
      const n = Math.min(chunk, g.B - b0);
      for (let i = 0; i < n; i++) im2col(x.data, x.offset + (b0 + i) * g.C * g.H * g.W, g, col, i * K * P);
      const p: Problem = {
        ...base,
        b: { data: col, off: 0, rs: P, cs: 1 },
        bBs: K * P,
        cOff: y.offset + b0 * g.O * P,
      };
      runProblem(p, y.data, n, ctx.runner);
    }
  }
  if (bias !== undefined) addBias(y.data, y.offset, g, vec(bias));
}

function addBias(Y: TypedArray, yo: number, g: ConvGeometry, bias: ReturnType<typeof vec>): void {
  const P = g.OH * g.OW;
  for (let b = 0; b < g.B; b++) {
    for (let o = 0; o < g.O; o++) {
      const v = bias.data[bias.off + o * bias.s]!, q = yo + (b * g.O + o) * P;
      for (let i = q; i < q + P; i++) Y[i] = Y[i]! + v;
    }
  }
}

/** `conv2dBackwardInput` kernel: dx = conv^T(dy, w). */
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
  const K = g.C * g.KH * g.KW, P = g.OH * g.OW, HW = g.H * g.W;
  const wasm = ctx.matmul === "wasm" && dy.data instanceof Float32Array;
  // A = W^T (K, O): element (k, o) is w[o * K + k].
  const base = {
    a: { data: w.data, off: w.offset, rs: 1, cs: K },
    aBs: 0,
    m: K,
    n: P,
    k: g.O,
    accumulate: false,
    wasm,
  };
  const dyOp = (b0: number) => ({ data: dy.data, off: dy.offset + b0 * g.O * P, rs: P, cs: 1 });
  if (pointwise(g)) {
    runProblem({ ...base, b: dyOp(0), bBs: g.O * P, cOff: dx.offset }, dx.data, g.B, ctx.runner);
    return;
  }
  const { chunk } = chunking(g);
  const dcol = scratch(dy.data, chunk * K * P, isShared(ctx, dy.data));
  for (let b0 = 0; b0 < g.B; b0 += chunk) {
    const n = Math.min(chunk, g.B - b0);
    runProblem({ ...base, b: dyOp(b0), bBs: g.O * P, cOff: 0 }, dcol, n, ctx.runner);
    for (let i = 0; i < n; i++) col2im(dcol, i * K * P, g, dx.data, dx.offset + (b0 + i) * g.C * HW);
  }
}

/** `conv2dBackwardWeight` kernel: dw = sum over images of dy[b] @ col[b]^T; db = sum of dy. */
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
  const wasm = ctx.matmul === "wasm" && x.data instanceof Float32Array;
  const { chunk } = chunking(g, OK);
  const pw = pointwise(g);
  const buf = scratch(x.data, chunk * ((pw ? 0 : K * P) + OK), isShared(ctx, x.data, dy.data));
  const part0 = pw ? 0 : chunk * K * P; // per-image partial dW follow the patch matrices
  const out = dw.data, wo = dw.offset;
  out.fill(0, wo, wo + OK);
  for (let b0 = 0; b0 < g.B; b0 += chunk) {
    const n = Math.min(chunk, g.B - b0);
    if (!pw) { for (let i = 0; i < n; i++) im2col(x.data, x.offset + (b0 + i) * CHW, g, buf, i * K * P); }
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
    runProblem(p, buf, n, ctx.runner);
    for (let i = 0; i < n; i++) {
      const s = part0 + i * OK;
      for (let j = 0; j < OK; j++) out[wo + j] = out[wo + j]! + buf[s + j]!;
    }
  }
  if (db !== undefined) biasGrad(dy, g, db);
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
