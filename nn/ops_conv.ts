/**
 * Convolution and pooling over `(B, C, H, W)` images (PyTorch's `F.conv2d`, `F.max_pool2d`, `F.avg_pool2d`,
 * `F.adaptive_avg_pool2d`), each one backend kernel forward and one backward (`conv2d*`, `maxPool2d*`,
 * `avgPool2d*`, `adaptiveAvgPool2d*` in `gpu/backend.ts`). Sizes are a number or a `[height, width]` pair.
 *
 * @example A 3x3 convolution with padding 1 keeps the size; 2x2 max pooling halves it
 * ```ts
 * import { conv2d, maxPool2d, ones } from "./mod.ts";
 * const x = ones([1, 2, 4, 4]), w = ones([3, 2, 3, 3]);
 * const y = conv2d(x, w, { padding: 1 }); // (1, 3, 4, 4); an inner pixel sums 2 * 9 ones
 * const p = maxPool2d(y, 2); // (1, 3, 2, 2)
 * if (p.shape.join() !== "1,3,2,2" || p.dataSync()[0] !== 18) throw new Error(`${p.shape} ${p.dataSync()[0]}`);
 * for (const t of [x, w, y, p]) t.dispose();
 * ```
 *
 * @module
 */

import type { AvgPool2dAttrs, Conv2dAttrs, MaxPool2dAttrs } from "../gpu/backend.ts";
import { windowOutputSize } from "../gpu/conv_geometry.ts";
import { needsGrad, record } from "./autograd.ts";
import { backendOf, launch, needFloat, sameDtype } from "./_kernel.ts";
import { fmt } from "./_shape.ts";
import type { Tensor } from "./tensor.ts";
import { _contig } from "./ops_shape.ts";

/** A size or step for both spatial axes, or `[height, width]`. */
export type Size2d = number | readonly [number, number];

/** Options of {@linkcode conv2d}. */
export interface Conv2dOpOptions {
  /** `(O)` added to every output position of each channel. @default null */
  bias?: Tensor | null;
  /** Step between windows. @default 1 */
  stride?: Size2d;
  /** Zeros added on each side. @default 0 */
  padding?: Size2d;
  /** Spacing of the kernel taps. @default 1 */
  dilation?: Size2d;
  /** Channel groups; only 1 is implemented. @default 1 */
  groups?: number;
}

function pair(op: string, what: string, v: Size2d, min: number): [number, number] {
  const p: [number, number] = typeof v === "number" ? [v, v] : [v[0], v[1]];
  if ((typeof v !== "number" && v.length !== 2) || !p.every((n) => Number.isInteger(n) && n >= min)) {
    throw new RangeError(
      `${op}: ${what} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`,
    );
  }
  return p;
}

function image(op: string, x: Tensor): [number, number, number, number] {
  needFloat(op, x);
  if (x.rank !== 4) throw new RangeError(`${op}: input must be (B, C, H, W), got ${fmt(x.shape)}`);
  return x.shape as [number, number, number, number];
}

function outSize(op: string, x: Tensor, sizes: [number, number], what: string): void {
  if (sizes[0] < 1 || sizes[1] < 1) {
    throw new RangeError(
      `${op}: input ${fmt(x.shape)} is smaller than the ${what} (output ${sizes.join("x")})`,
    );
  }
}

/**
 * 2-D convolution (cross-correlation) of `x (B, C, H, W)` with `weight (O, C, KH, KW)`: `(B, O, OH, OW)`.
 * Gradients flow to `x`, `weight` and `bias`.
 * @param x images
 * @param weight filters
 * @param options bias, stride, padding, dilation
 * @returns the feature maps
 * @example A 7x7 stride-2 stem halves 32 pixels
 * ```ts
 * import { conv2d, ones, zeros } from "./mod.ts";
 * const y = conv2d(ones([1, 3, 32, 32]), ones([8, 3, 7, 7]), { bias: zeros([8]), stride: 2, padding: 3 });
 * if (y.shape.join() !== "1,8,16,16") throw new Error(y.shape.join());
 * y.dispose();
 * ```
 */
export function conv2d(x: Tensor, weight: Tensor, options: Conv2dOpOptions = {}): Tensor {
  const { bias = null, stride = 1, padding = 0, dilation = 1, groups = 1 } = options;
  const op = "conv2d";
  const inputs = bias ? [x, weight, bias] : [x, weight];
  const backend = backendOf(op, inputs);
  const dtype = sameDtype(op, inputs);
  const [B, C, H, W] = image(op, x);
  if (groups !== 1) throw new RangeError(`conv2d: groups = ${groups} is not implemented (only 1)`);
  if (weight.rank !== 4 || weight.shape[1] !== C) {
    throw new RangeError(
      `conv2d: weight must be (O, ${C}, KH, KW) for input ${fmt(x.shape)}, got ${fmt(weight.shape)}`,
    );
  }
  const [O, , KH, KW] = weight.shape as [number, number, number, number];
  if (bias && (bias.rank !== 1 || bias.shape[0] !== O)) {
    throw new RangeError(`conv2d: bias must be (${O}), got ${fmt(bias.shape)}`);
  }
  const attrs: Conv2dAttrs = {
    stride: pair(op, "stride", stride, 1),
    padding: pair(op, "padding", padding, 0),
    dilation: pair(op, "dilation", dilation, 1),
  };
  const axis = (i: 0 | 1, n: number, k: number) =>
    windowOutputSize(n, {
      kernel: k,
      stride: attrs.stride[i],
      padding: attrs.padding[i],
      dilation: attrs.dilation[i],
    });
  const size: [number, number] = [axis(0, H, KH), axis(1, W, KW)];
  outSize(op, x, size, `kernel ${KH}x${KW}`);
  const xc = _contig(x), wc = _contig(weight);
  const views = bias ? [xc.view, wc.view, bias.view] : [xc.view, wc.view];
  const y = launch(backend, op, views, [[[B, O, ...size], dtype]], attrs)[0]!;
  if (!needsGrad(...inputs)) {
    if (xc !== x) xc.dispose();
    if (wc !== weight) wc.dispose();
    return y;
  }
  return record(op, inputs, [y], ([g]) => {
    const gc = _contig(g!);
    const dx = x.requiresGrad
      ? launch(backend, "conv2dBackwardInput", [gc.view, wc.view], [[x.shape, dtype]], attrs)[0]!
      : null;
    let dw: Tensor | null = null, db: Tensor | null = null;
    if (weight.requiresGrad || bias?.requiresGrad) {
      const outs: [number[], typeof dtype][] = [[[...weight.shape], dtype]];
      if (bias?.requiresGrad) outs.push([[O], dtype]);
      const grads = launch(backend, "conv2dBackwardWeight", [xc.view, gc.view], outs, attrs);
      dw = grads[0]!, db = grads[1] ?? null;
      if (!weight.requiresGrad) dw = null;
    }
    return [dx, dw, db];
  });
}

/** Options of {@linkcode maxPool2d}. */
export interface MaxPool2dOpOptions {
  /** Step between windows (null: the kernel size, as PyTorch's `None`). @default kernelSize */
  stride?: Size2d | null;
  /** Ignored positions added on each side (at most half the kernel). @default 0 */
  padding?: Size2d;
  /** Spacing of the window taps. @default 1 */
  dilation?: Size2d;
  /** Round the output size up. @default false */
  ceilMode?: boolean;
}

function poolGeometry(
  op: string,
  x: Tensor,
  kernelSize: Size2d,
  o: { stride?: Size2d | null; padding?: Size2d; dilation?: Size2d; ceilMode?: boolean },
): { attrs: MaxPool2dAttrs; shape: number[] } {
  const [B, C, H, W] = image(op, x);
  const kernel = pair(op, "kernelSize", kernelSize, 1);
  const attrs: MaxPool2dAttrs = {
    kernel,
    stride: pair(op, "stride", o.stride ?? kernel, 1),
    padding: pair(op, "padding", o.padding ?? 0, 0),
    dilation: pair(op, "dilation", o.dilation ?? 1, 1),
    ceilMode: o.ceilMode ?? false,
  };
  if (2 * attrs.padding[0] > kernel[0] || 2 * attrs.padding[1] > kernel[1]) {
    throw new RangeError(`${op}: padding ${attrs.padding} must be at most half the kernel ${kernel}`);
  }
  const axis = (i: 0 | 1, n: number) =>
    windowOutputSize(n, {
      kernel: kernel[i],
      stride: attrs.stride[i],
      padding: attrs.padding[i],
      dilation: attrs.dilation[i],
      ceilMode: attrs.ceilMode,
    });
  const size: [number, number] = [axis(0, H), axis(1, W)];
  outSize(op, x, size, `window ${kernel.join("x")}`);
  return { attrs, shape: [B, C, ...size] };
}

/**
 * Max pooling over windows of `kernelSize`: `(B, C, H, W) -> (B, C, OH, OW)`. The gradient goes to the first
 * maximum of each window (a NaN wins, as PyTorch).
 * @param x images
 * @param kernelSize window size
 * @param options stride, padding, dilation, ceil mode
 * @returns the pooled maps
 * @example ResNet's 3x3 stride-2 pooling
 * ```ts
 * import { maxPool2d, tensor } from "./mod.ts";
 * const y = maxPool2d(tensor([[[[1, 5], [3, 2]]]]), 3, { stride: 2, padding: 1 });
 * if (y.dataSync()[0] !== 5) throw new Error(String(y.dataSync()));
 * ```
 */
export function maxPool2d(x: Tensor, kernelSize: Size2d, options: MaxPool2dOpOptions = {}): Tensor {
  const op = "maxPool2d";
  const backend = backendOf(op, [x]);
  const { attrs, shape } = poolGeometry(op, x, kernelSize, options);
  const xc = _contig(x);
  const [y, idx] = launch(backend, op, [xc.view], [[shape, x.dtype], [shape, "i32"]], attrs) as [
    Tensor,
    Tensor,
  ];
  if (xc !== x) xc.dispose();
  if (!needsGrad(x)) {
    idx.dispose();
    return y;
  }
  return record(op, [x], [y], ([g]) => {
    const gc = _contig(g!);
    return [launch(backend, "maxPool2dBackward", [gc.view, idx.view], [[x.shape, x.dtype]], attrs)[0]!];
  });
}

/** Options of {@linkcode avgPool2d}. */
export interface AvgPool2dOpOptions {
  /** Step between windows (null: the kernel size, as PyTorch's `None`). @default kernelSize */
  stride?: Size2d | null;
  /** Zeros added on each side (at most half the kernel). @default 0 */
  padding?: Size2d;
  /** Round the output size up. @default false */
  ceilMode?: boolean;
  /** Divide by the window including its padding (else by the taps inside the image). @default true */
  countIncludePad?: boolean;
  /** Divide every window by this instead. @default null */
  divisorOverride?: number | null;
}

/**
 * Average pooling over windows of `kernelSize`: `(B, C, H, W) -> (B, C, OH, OW)`.
 * @param x images
 * @param kernelSize window size
 * @param options stride, padding, ceil mode, divisor
 * @returns the pooled maps
 * @example Padding counted or not
 * ```ts
 * import { avgPool2d, ones } from "./mod.ts";
 * const x = ones([1, 1, 2, 2]);
 * const counted = avgPool2d(x, 2, { padding: 1 }).dataSync()[0]; // 1 one of 4 taps
 * const inside = avgPool2d(x, 2, { padding: 1, countIncludePad: false }).dataSync()[0];
 * if (counted !== 0.25 || inside !== 1) throw new Error(`${counted} ${inside}`);
 * ```
 */
export function avgPool2d(x: Tensor, kernelSize: Size2d, options: AvgPool2dOpOptions = {}): Tensor {
  const op = "avgPool2d";
  const backend = backendOf(op, [x]);
  const { countIncludePad = true, divisorOverride = null, ...rest } = options;
  const { attrs: g, shape } = poolGeometry(op, x, kernelSize, { ...rest, dilation: 1 });
  if (divisorOverride !== null && !(Number.isInteger(divisorOverride) && divisorOverride > 0)) {
    throw new RangeError(`avgPool2d: divisorOverride must be a positive integer, got ${divisorOverride}`);
  }
  const attrs: AvgPool2dAttrs = {
    kernel: g.kernel,
    stride: g.stride,
    padding: g.padding,
    ceilMode: g.ceilMode,
    countIncludePad,
    divisorOverride: divisorOverride ?? 0,
  };
  const xc = _contig(x);
  const y = launch(backend, op, [xc.view], [[shape, x.dtype]], attrs)[0]!;
  if (xc !== x) xc.dispose();
  return record(op, [x], [y], ([gr]) => {
    const gc = _contig(gr!);
    return [launch(backend, "avgPool2dBackward", [gc.view], [[x.shape, x.dtype]], attrs)[0]!];
  });
}

/**
 * Adaptive average pooling to `outputSize` (`(B, C, H, W) -> (B, C, OH, OW)`): output position `i` of an axis
 * averages inputs `[floor(i n / m), ceil((i + 1) n / m))`; `1` is global average pooling.
 * @param x images
 * @param outputSize output height and width
 * @returns the pooled maps
 * @example Global average pooling
 * ```ts
 * import { adaptiveAvgPool2d, tensor } from "./mod.ts";
 * const y = adaptiveAvgPool2d(tensor([[[[1, 2], [3, 6]]]]), 1);
 * if (y.dataSync()[0] !== 3) throw new Error(String(y.dataSync()));
 * ```
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Size2d): Tensor {
  const op = "adaptiveAvgPool2d";
  const backend = backendOf(op, [x]);
  const [B, C] = image(op, x);
  const [OH, OW] = pair(op, "outputSize", outputSize, 1);
  const xc = _contig(x);
  const y = launch(backend, op, [xc.view], [[[B, C, OH, OW], x.dtype]], {})[0]!;
  if (xc !== x) xc.dispose();
  return record(op, [x], [y], ([g]) => {
    const gc = _contig(g!);
    return [launch(backend, "adaptiveAvgPool2dBackward", [gc.view], [[x.shape, x.dtype]], {})[0]!];
  });
}
