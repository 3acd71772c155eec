/**
 * Convolution and pooling layers over `(B, C, H, W)` images with torchvision's option names, each forward one
 * op of `../ops_conv.ts` (real conv and pooling kernels on both backends): {@linkcode Conv2d},
 * {@linkcode MaxPool2d}, {@linkcode AvgPool2d}, {@linkcode AdaptiveAvgPool2d}, and the global
 * {@linkcode AdaptiveMaxPool2d}. BatchNorm2d lives in `batchnorm.ts`.
 *
 * @example A 3x3 convolution keeps the size with padding 1
 * ```ts
 * import { Conv2d } from "./conv.ts";
 * import { ones } from "../tensor.ts";
 * const y = new Conv2d(3, 8, 3, { padding: 1 }).forward(ones([2, 3, 5, 5]));
 * if (y.shape.join() !== "2,8,5,5") throw new Error(y.shape.join());
 * ```
 *
 * @module
 */

import { adaptiveAvgPool2d, avgPool2d, conv2d, maxPool2d, type Size2d } from "../ops_conv.ts";
import { max } from "../ops_reduce.ts";
import { rand, type Tensor } from "../tensor.ts";
import { fmt } from "../_shape.ts";
import { Module } from "./module.ts";

function check4d(layer: string, x: Tensor, channels?: number): void {
  if (x.rank !== 4 || (channels !== undefined && x.shape[1] !== channels)) {
    throw new Error(`${layer}: input must be (B, ${channels ?? "C"}, H, W), got ${fmt(x.shape)}`);
  }
}

const pairOf = (v: Size2d): [number, number] => (typeof v === "number" ? [v, v] : [v[0], v[1]]);

/** Options of {@linkcode Conv2d} (PyTorch's `nn.Conv2d` keywords). */
export interface Conv2dOptions {
  /** Step between windows. @default 1 */
  stride?: Size2d;
  /** Zeros added on each side. @default 0 */
  padding?: Size2d;
  /** Spacing of the kernel taps. @default 1 */
  dilation?: Size2d;
  /** Channel groups (only 1 is implemented). @default 1 */
  groups?: number;
  /** Add a learned bias per output channel. @default true */
  bias?: boolean;
}

/**
 * 2-D convolution with weights `(out, in, KH, KW)` and an optional bias, initialised as PyTorch does
 * (`kaiming_uniform_(a = sqrt(5))`, i.e. uniform in `±1 / sqrt(in * KH * KW)`, and the bias in the same range).
 */
export class Conv2d extends Module {
  /** `(outChannels, inChannels, KH, KW)`. */
  readonly weight: Tensor;
  /** `(outChannels)` or null. */
  readonly bias: Tensor | null;
  /** Input channels. */
  readonly inChannels: number;
  /** Output channels. */
  readonly outChannels: number;
  /** Kernel height and width. */
  readonly kernelSize: [number, number];
  /** Step, padding and dilation as `[height, width]`. */
  readonly stride: [number, number];
  /** Zeros added on each side. */
  readonly padding: [number, number];
  /** Spacing of the kernel taps. */
  readonly dilation: [number, number];

  /**
   * Create a Conv2d.
   * @param inChannels input channels
   * @param outChannels output channels
   * @param kernelSize kernel size, square or `[height, width]`
   * @param options stride, padding, dilation, groups, bias
   */
  constructor(inChannels: number, outChannels: number, kernelSize: Size2d, options: Conv2dOptions = {}) {
    super();
    const { stride = 1, padding = 0, dilation = 1, groups = 1, bias = true } = options;
    if (groups !== 1) throw new RangeError(`Conv2d: groups = ${groups} is not implemented (only 1)`);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pairOf(kernelSize);
    this.stride = pairOf(stride);
    this.padding = pairOf(padding);
    this.dilation = pairOf(dilation);
    const [kh, kw] = this.kernelSize;
    const bound = 1 / Math.sqrt(inChannels * kh * kw);
    this.weight = this.registerParameter(
      "weight",
      rand([outChannels, inChannels, kh, kw], { low: -bound, high: bound }),
    );
    this.bias = bias
      ? this.registerParameter("bias", rand([outChannels], { low: -bound, high: bound }))
      : null;
  }

  /** `(B, in, H, W)` -> `(B, out, OH, OW)`. */
  forward(x: Tensor): Tensor {
    check4d("Conv2d", x, this.inChannels);
    return conv2d(x, this.weight, {
      bias: this.bias,
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
    });
  }
}

/** Options of {@linkcode MaxPool2d}. */
export interface MaxPool2dOptions {
  /** Step between windows. @default kernelSize */
  stride?: Size2d;
  /** Ignored positions added on each side (at most half the kernel). @default 0 */
  padding?: Size2d;
  /** Spacing of the window taps. @default 1 */
  dilation?: Size2d;
  /** Round the output size up. @default false */
  ceilMode?: boolean;
}

/** Max pooling over `kernelSize` windows (PyTorch `nn.MaxPool2d`). */
export class MaxPool2d extends Module {
  /** Window size. */
  readonly kernelSize: Size2d;
  /** Window options. */
  readonly options: Readonly<MaxPool2dOptions>;
  /**
   * Create a MaxPool2d.
   * @param kernelSize window size, square or `[height, width]`
   * @param options stride, padding, dilation, ceil mode
   */
  constructor(kernelSize: Size2d, options: MaxPool2dOptions = {}) {
    super();
    this.kernelSize = kernelSize;
    this.options = { ...options };
  }
  /** `(B, C, H, W)` -> `(B, C, OH, OW)`. */
  forward(x: Tensor): Tensor {
    check4d("MaxPool2d", x);
    return maxPool2d(x, this.kernelSize, this.options);
  }
}

/** Options of {@linkcode AvgPool2d}. */
export interface AvgPool2dOptions {
  /** Step between windows. @default kernelSize */
  stride?: Size2d;
  /** Zeros added on each side (at most half the kernel). @default 0 */
  padding?: Size2d;
  /** Round the output size up. @default false */
  ceilMode?: boolean;
  /** Divide by the window including its padding. @default true */
  countIncludePad?: boolean;
  /** Divide every window by this instead. @default null */
  divisorOverride?: number | null;
}

/** Average pooling over `kernelSize` windows (PyTorch `nn.AvgPool2d`). */
export class AvgPool2d extends Module {
  /** Window size. */
  readonly kernelSize: Size2d;
  /** Window options. */
  readonly options: Readonly<AvgPool2dOptions>;
  /**
   * Create an AvgPool2d.
   * @param kernelSize window size, square or `[height, width]`
   * @param options stride, padding, ceil mode, divisor
   */
  constructor(kernelSize: Size2d, options: AvgPool2dOptions = {}) {
    super();
    this.kernelSize = kernelSize;
    this.options = { ...options };
  }
  /** `(B, C, H, W)` -> `(B, C, OH, OW)`. */
  forward(x: Tensor): Tensor {
    check4d("AvgPool2d", x);
    return avgPool2d(x, this.kernelSize, this.options);
  }
}

/** Adaptive average pooling to a fixed output size (PyTorch `nn.AdaptiveAvgPool2d`; 1 = global average). */
export class AdaptiveAvgPool2d extends Module {
  /** Output height and width. */
  readonly outputSize: Size2d;
  /**
   * Create an AdaptiveAvgPool2d.
   * @param outputSize output size, square or `[height, width]` (default 1)
   */
  constructor(outputSize: Size2d = 1) {
    super();
    this.outputSize = outputSize;
  }
  /** `(B, C, H, W)` -> `(B, C, OH, OW)`. */
  forward(x: Tensor): Tensor {
    check4d("AdaptiveAvgPool2d", x);
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}

/** Global max pooling to `(B, C, 1, 1)` (PyTorch `AdaptiveMaxPool2d(1)`). */
export class AdaptiveMaxPool2d extends Module {
  /** `(B, C, H, W)` -> `(B, C, 1, 1)`. */
  forward(x: Tensor): Tensor {
    check4d("AdaptiveMaxPool2d", x);
    return max(x, { axis: [2, 3], keepdim: true });
  }
}
