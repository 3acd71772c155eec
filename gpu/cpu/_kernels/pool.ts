/**
 * CPU 2-D pooling kernels (NCHW), forward and backward: max pooling with argmax indices (PyTorch's flat
 * `h * W + w` per plane; the first maximum, or the last NaN), average pooling (padding counted or not, ceil mode, divisor override) and
 * adaptive average pooling to any output size. One pass per `(batch, channel)` plane.
 *
 * @module
 */

import type { AvgPool2dAttrs, MaxPool2dAttrs } from "../../backend.ts";
import { adaptiveWindow, windowOutputSize } from "../../conv_geometry.ts";
import {
  type Arg,
  type CpuKernels,
  expectArity,
  expectContiguous,
  expectDtype,
  expectRank,
  KernelError,
  shapeStr,
} from "../_args.ts";

/** Planes, input and output sizes of a pooling launch. */
interface PoolShape {
  planes: number;
  H: number;
  W: number;
  OH: number;
  OW: number;
}

/** Check `x (B, C, H, W)` and `y (B, C, OH, OW)` (contiguous, one float dtype); `want` the expected OH, OW. */
function poolShape(
  kernel: string,
  x: Arg,
  y: Arg,
  want?: (H: number, W: number) => [number, number],
): PoolShape {
  const [B, C, H, W] = expectRank(kernel, "input (B, C, H, W)", x, 4) as [number, number, number, number];
  const [B2, C2, OH, OW] = expectRank(kernel, "output (B, C, OH, OW)", y, 4) as [
    number,
    number,
    number,
    number,
  ];
  const [eh, ew] = want ? want(H, W) : [OH, OW];
  if (B2 !== B || C2 !== C || OH !== eh || OW !== ew || OH < 1 || OW < 1) {
    throw new KernelError(
      kernel,
      `input ${shapeStr(x.shape)} pools to [${B}, ${C}, ${eh}, ${ew}], but the output is ${
        shapeStr(y.shape)
      }`,
    );
  }
  expectContiguous(kernel, "input", x);
  expectContiguous(kernel, "output", y);
  return { planes: B * C, H, W, OH, OW };
}

function pairs(
  kernel: string,
  attrs: { kernel: readonly number[]; stride: readonly number[]; padding: readonly number[] },
) {
  const ok = (v: readonly number[], min: number) =>
    v.length === 2 && v.every((n) => Number.isInteger(n) && n >= min);
  if (!ok(attrs.kernel, 1) || !ok(attrs.stride, 1) || !ok(attrs.padding, 0)) {
    throw new KernelError(
      kernel,
      `kernel, stride must be two integers >= 1 and padding >= 0, got ${JSON.stringify(attrs)}`,
    );
  }
  if (2 * attrs.padding[0]! > attrs.kernel[0]! || 2 * attrs.padding[1]! > attrs.kernel[1]!) {
    throw new KernelError(kernel, `padding ${attrs.padding} must be at most half the kernel ${attrs.kernel}`);
  }
}

function outSizes(attrs: MaxPool2dAttrs | AvgPool2dAttrs, dilation: readonly number[]) {
  return (H: number, W: number): [number, number] => [
    windowOutputSize(H, {
      kernel: attrs.kernel[0],
      stride: attrs.stride[0],
      padding: attrs.padding[0],
      dilation: dilation[0]!,
      ceilMode: attrs.ceilMode,
    }),
    windowOutputSize(W, {
      kernel: attrs.kernel[1],
      stride: attrs.stride[1],
      padding: attrs.padding[1],
      dilation: dilation[1]!,
      ceilMode: attrs.ceilMode,
    }),
  ];
}

/** `maxPool2d` kernel: window maxima and their flat positions. */
function maxPool2d(ins: readonly Arg[], outs: readonly Arg[], attrs: MaxPool2dAttrs): void {
  const k = "maxPool2d";
  expectArity(k, ins, outs, 1, 2);
  pairs(k, attrs);
  if (attrs.dilation.length !== 2 || !attrs.dilation.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new KernelError(k, `dilation must be two integers >= 1, got ${JSON.stringify(attrs.dilation)}`);
  }
  const x = ins[0]!, [y, idx] = outs as [Arg, Arg];
  const s = poolShape(k, x, y, outSizes(attrs, attrs.dilation));
  expectDtype(k, "indices", idx, "i32");
  if (idx.shape.join() !== y.shape.join()) {
    throw new KernelError(k, `indices ${shapeStr(idx.shape)} != output ${shapeStr(y.shape)}`);
  }
  expectContiguous(k, "indices", idx);
  const [KH, KW] = attrs.kernel, [sh, sw] = attrs.stride, [ph, pw] = attrs.padding, [dh, dw] = attrs.dilation;
  const X = x.data, Y = y.data, I = idx.data, HW = s.H * s.W;
  for (let pl = 0, q = 0; pl < s.planes; pl++) {
    const xo = x.offset + pl * HW;
    for (let oh = 0; oh < s.OH; oh++) {
      for (let ow = 0; ow < s.OW; ow++, q++) {
        let best = -Infinity, at = -1;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh - ph + kh * dh;
          if (ih < 0 || ih >= s.H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw - pw + kw * dw;
            if (iw < 0 || iw >= s.W) continue;
            const v = X[xo + ih * s.W + iw]!;
            // As PyTorch: the first maximum, but any NaN wins (the last one scanned).
            if (v > best || v !== v || at < 0) best = v, at = ih * s.W + iw;
          }
        }
        Y[y.offset + q] = best;
        I[idx.offset + q] = at;
      }
    }
  }
}

/** `maxPool2dBackward` kernel: dx[plane][indices] += dy. */
function maxPool2dBackward(ins: readonly Arg[], outs: readonly Arg[], attrs: MaxPool2dAttrs): void {
  const k = "maxPool2dBackward";
  expectArity(k, ins, outs, 2, 1);
  pairs(k, attrs);
  const [dy, idx] = ins as [Arg, Arg], dx = outs[0]!;
  const s = poolShape(k, dx, dy, outSizes(attrs, attrs.dilation));
  expectDtype(k, "indices", idx, "i32");
  if (idx.shape.join() !== dy.shape.join()) {
    throw new KernelError(k, `indices ${shapeStr(idx.shape)} != dy ${shapeStr(dy.shape)}`);
  }
  expectContiguous(k, "indices", idx);
  const HW = s.H * s.W, P = s.OH * s.OW, D = dx.data;
  D.fill(0, dx.offset, dx.offset + s.planes * HW);
  for (let pl = 0; pl < s.planes; pl++) {
    const xo = dx.offset + pl * HW;
    for (let p = 0; p < P; p++) {
      const at = idx.data[idx.offset + pl * P + p]!;
      if (!(at >= 0 && at < HW)) {
        throw new KernelError(k, `index ${at} at plane ${pl}, position ${p} is outside [0, ${HW})`);
      }
      D[xo + at] = D[xo + at]! + dy.data[dy.offset + pl * P + p]!;
    }
  }
}

/** The window of output `(oh, ow)`: clipped bounds and the divisor (PyTorch `avg_pool2d`). */
function avgWindow(
  attrs: AvgPool2dAttrs,
  s: PoolShape,
  oh: number,
  ow: number,
): [number, number, number, number, number] {
  const [KH, KW] = attrs.kernel, [sh, sw] = attrs.stride, [ph, pw] = attrs.padding;
  let h0 = oh * sh - ph, w0 = ow * sw - pw;
  let h1 = Math.min(h0 + KH, s.H + ph), w1 = Math.min(w0 + KW, s.W + pw);
  const padded = (h1 - h0) * (w1 - w0);
  h0 = Math.max(h0, 0), w0 = Math.max(w0, 0), h1 = Math.min(h1, s.H), w1 = Math.min(w1, s.W);
  const div = attrs.divisorOverride > 0
    ? attrs.divisorOverride
    : attrs.countIncludePad
    ? padded
    : (h1 - h0) * (w1 - w0);
  return [h0, h1, w0, w1, div];
}

function avgCheck(k: string, attrs: AvgPool2dAttrs): void {
  pairs(k, attrs);
  if (!(attrs.divisorOverride >= 0)) {
    throw new KernelError(k, `divisorOverride must be >= 0, got ${attrs.divisorOverride}`);
  }
}

/** `avgPool2d` kernel. */
function avgPool2d(ins: readonly Arg[], outs: readonly Arg[], attrs: AvgPool2dAttrs): void {
  const k = "avgPool2d";
  expectArity(k, ins, outs, 1, 1);
  avgCheck(k, attrs);
  const x = ins[0]!, y = outs[0]!;
  const s = poolShape(k, x, y, outSizes(attrs, [1, 1]));
  const X = x.data, HW = s.H * s.W;
  for (let pl = 0, q = y.offset; pl < s.planes; pl++) {
    const xo = x.offset + pl * HW;
    for (let oh = 0; oh < s.OH; oh++) {
      for (let ow = 0; ow < s.OW; ow++, q++) {
        const [h0, h1, w0, w1, div] = avgWindow(attrs, s, oh, ow);
        let acc = 0;
        for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) acc += X[xo + ih * s.W + iw]!;
        y.data[q] = acc / div;
      }
    }
  }
}

/** `avgPool2dBackward` kernel. */
function avgPool2dBackward(ins: readonly Arg[], outs: readonly Arg[], attrs: AvgPool2dAttrs): void {
  const k = "avgPool2dBackward";
  expectArity(k, ins, outs, 1, 1);
  avgCheck(k, attrs);
  const dy = ins[0]!, dx = outs[0]!;
  const s = poolShape(k, dx, dy, outSizes(attrs, [1, 1]));
  const D = dx.data, HW = s.H * s.W;
  D.fill(0, dx.offset, dx.offset + s.planes * HW);
  for (let pl = 0, q = dy.offset; pl < s.planes; pl++) {
    const xo = dx.offset + pl * HW;
    for (let oh = 0; oh < s.OH; oh++) {
      for (let ow = 0; ow < s.OW; ow++, q++) {
        const [h0, h1, w0, w1, div] = avgWindow(attrs, s, oh, ow);
        const g = dy.data[q]! / div;
        for (let ih = h0; ih < h1; ih++) {
          for (let iw = w0; iw < w1; iw++) D[xo + ih * s.W + iw] = D[xo + ih * s.W + iw]! + g;
        }
      }
    }
  }
}

/** `adaptiveAvgPool2d` kernel. */
function adaptiveAvgPool2d(ins: readonly Arg[], outs: readonly Arg[]): void {
  const k = "adaptiveAvgPool2d";
  expectArity(k, ins, outs, 1, 1);
  const x = ins[0]!, y = outs[0]!;
  const s = poolShape(k, x, y);
  const HW = s.H * s.W;
  for (let pl = 0, q = y.offset; pl < s.planes; pl++) {
    const xo = x.offset + pl * HW;
    for (let oh = 0; oh < s.OH; oh++) {
      const [h0, h1] = adaptiveWindow(oh, s.H, s.OH);
      for (let ow = 0; ow < s.OW; ow++, q++) {
        const [w0, w1] = adaptiveWindow(ow, s.W, s.OW);
        let acc = 0;
        for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) acc += x.data[xo + ih * s.W + iw]!;
        y.data[q] = acc / ((h1 - h0) * (w1 - w0));
      }
    }
  }
}

/** `adaptiveAvgPool2dBackward` kernel. */
function adaptiveAvgPool2dBackward(ins: readonly Arg[], outs: readonly Arg[]): void {
  const k = "adaptiveAvgPool2dBackward";
  expectArity(k, ins, outs, 1, 1);
  const dy = ins[0]!, dx = outs[0]!;
  const s = poolShape(k, dx, dy);
  const D = dx.data, HW = s.H * s.W;
  D.fill(0, dx.offset, dx.offset + s.planes * HW);
  for (let pl = 0, q = dy.offset; pl < s.planes; pl++) {
    const xo = dx.offset + pl * HW;
    for (let oh = 0; oh < s.OH; oh++) {
      const [h0, h1] = adaptiveWindow(oh, s.H, s.OH);
      for (let ow = 0; ow < s.OW; ow++, q++) {
        const [w0, w1] = adaptiveWindow(ow, s.W, s.OW);
        const g = dy.data[q]! / ((h1 - h0) * (w1 - w0));
        for (let ih = h0; ih < h1; ih++) {
          for (let iw = w0; iw < w1; iw++) D[xo + ih * s.W + iw] = D[xo + ih * s.W + iw]! + g;
        }
      }
    }
  }
}

/** The pooling family. */
export const POOL_KERNELS: CpuKernels<
  | "maxPool2d"
  | "maxPool2dBackward"
  | "avgPool2d"
  | "avgPool2dBackward"
  | "adaptiveAvgPool2d"
  | "adaptiveAvgPool2dBackward"
> = {
  maxPool2d,
  maxPool2dBackward,
  avgPool2d,
  avgPool2dBackward,
  adaptiveAvgPool2d,
  adaptiveAvgPool2dBackward,
};
