/**
 * Convolution and pooling over `(B, C, H, W)` images, built from the engine's gather (`embedding`) and matmul
 * kernels by im2col: the patch indices are computed once per input shape on the host, every patch is gathered
 * in one launch (out-of-image positions read a zero row), and the convolution is one GEMM. Gradients flow
 * through the gather's scatter-add. {@linkcode Conv2d}, {@linkcode MaxPool2d}, {@linkcode AvgPool2d},
 * {@linkcode AdaptiveAvgPool2d} / {@linkcode AdaptiveMaxPool2d} (to 1x1); BatchNorm2d lives in `batchnorm.ts`.
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

import { noGrad } from "../engine.ts";
import { add } from "../ops_elementwise.ts";
import { embedding } from "../ops_index.ts";
import { matmul } from "../ops_linalg.ts";
import { max, mean } from "../ops_reduce.ts";
import { concat, contiguous, permute, reshape, transpose } from "../ops_shape.ts";
import { fromArray, ones, rand, type Tensor, zeros } from "../tensor.ts";
import { fmt } from "../_shape.ts";
import { Module } from "./module.ts";

/** Geometry of a sliding window. */
interface Window {
  k: number;
  stride: number;
  padding: number;
}

function outSize(n: number, w: Window, what: string): number {
  const o = Math.floor((n + 2 * w.padding - w.k) / w.stride) + 1;
  if (o < 1) {
    throw new Error(`${what}: input size ${n} is smaller than the kernel ${w.k} (padding ${w.padding})`);
  }
  return o;
}

const cache = new Map<string, Int32Array>();

/**
 * Patch indices into `x` flattened to `(B*C*H*W)` (+1 zero row at index `B*C*H*W`), one row per output position.
 * `perChannel`: rows are `(B, C, OH, OW)` and columns `(K, K)` (pooling); otherwise rows `(B, OH, OW)` and
 * columns `(C, K, K)` (convolution, PyTorch's weight layout).
 */
function patchIds(shape: readonly number[], w: Window, perChannel: boolean): Int32Array {
  const key = `${shape.join(",")}|${w.k},${w.stride},${w.padding}|${perChannel}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const [B, C, H, W] = shape as [number, number, number, number];
  const OH = outSize(H, w, "patch"), OW = outSize(W, w, "patch"), K = w.k, zero = B * C * H * W;
  const ids = new Int32Array(B * C * OH * OW * K * K);
  let o = 0;
  const at = (b: number, c: number, i: number, j: number, di: number, dj: number) => {
    const y = i * w.stride - w.padding + di, x = j * w.stride - w.padding + dj;
    return y < 0 || y >= H || x < 0 || x >= W ? zero : ((b * C + c) * H + y) * W + x;
  };
  if (perChannel) {
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        for (let i = 0; i < OH; i++) {
          for (let j = 0; j < OW; j++) {
            for (let di = 0; di < K; di++) for (let dj = 0; dj < K; dj++) ids[o++] = at(b, c, i, j, di, dj);
          }
        }
      }
    }
  } else {
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < OH; i++) {
        for (let j = 0; j < OW; j++) {
          for (let c = 0; c < C; c++) {
            for (let di = 0; di < K; di++) for (let dj = 0; dj < K; dj++) ids[o++] = at(b, c, i, j, di, dj);
          }
        }
      }
    }
  }
  if (cache.size > 64) cache.clear();
  cache.set(key, ids);
  return ids;
}

/** Gather patches: `(rows, cols)` where out-of-image positions are `fill`. */
function im2col(x: Tensor, w: Window, perChannel: boolean, fill: number): Tensor {
  const [B, C, H, W] = x.shape as [number, number, number, number];
  const OH = outSize(H, w, "im2col"), OW = outSize(W, w, "im2col");
  const rows = perChannel ? B * C * OH * OW : B * OH * OW, cols = perChannel ? w.k * w.k : C * w.k * w.k;
  const pad = noGrad(
    () => (fill === 0
      ? zeros([1, 1], { dtype: x.dtype, backend: x.backend })
      : ones([1, 1], { dtype: x.dtype, backend: x.backend }).mul(fill)),
  );
  const table = concat([reshape(contiguous(x), [x.size, 1]), pad], 0); // (N + 1, 1)
  const ids = fromArray(patchIds(x.shape, w, perChannel), [rows, cols], { dtype: "i32", backend: x.backend });
  return reshape(embedding(table, ids), [rows, cols]);
}

function check4d(layer: string, x: Tensor, channels?: number): void {
  if (x.rank !== 4 || (channels !== undefined && x.shape[1] !== channels)) {
    throw new Error(`${layer}: input must be (B, ${channels ?? "C"}, H, W), got ${fmt(x.shape)}`);
  }
}

/** Options of {@linkcode Conv2d}. */
export interface Conv2dOptions {
  /** Step between windows. @default 1 */
  stride?: number;
  /** Zero padding on every side. @default 0 */
  padding?: number;
  /** Add a bias. @default true */
  bias?: boolean;
}

/** 2-D convolution, weights `(out, in, k, k)` uniform in `±1/sqrt(in*k*k)` like PyTorch. */
export class Conv2d extends Module {
  /** `(outChannels, inChannels, k, k)`. */
  readonly weight: Tensor;
  /** `(outChannels)` or null. */
  readonly bias: Tensor | null;
  /** Window geometry. */
  readonly window: Readonly<Window>;
  /** Input channels. */
  readonly inChannels: number;
  /** Output channels. */
  readonly outChannels: number;

  /**
   * Create a Conv2d.
   * @param inChannels input channels
   * @param outChannels output channels
   * @param kernelSize square kernel size
   */
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number,
    { stride = 1, padding = 0, bias = true }: Conv2dOptions = {},
  ) {
    super();
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.window = { k: kernelSize, stride, padding };
    const bound = 1 / Math.sqrt(inChannels * kernelSize * kernelSize);
    this.weight = this.registerParameter(
      "weight",
      rand([outChannels, inChannels, kernelSize, kernelSize], { low: -bound, high: bound }),
    );
    this.bias = bias
      ? this.registerParameter("bias", rand([outChannels], { low: -bound, high: bound }))
      : null;
  }

  /** `(B, in, H, W)` -> `(B, out, OH, OW)`. */
  forward(x: Tensor): Tensor {
    check4d("Conv2d", x, this.inChannels);
    const [B, , H, W] = x.shape as [number, number, number, number];
    const OH = outSize(H, this.window, "Conv2d"), OW = outSize(W, this.window, "Conv2d");
    const cols = im2col(x, this.window, false, 0); // (B*OH*OW, C*k*k)
    const w2 = reshape(this.weight, [this.outChannels, this.weight.size / this.outChannels]);
    let y = matmul(cols, transpose(w2)); // (B*OH*OW, out)
    if (this.bias) y = add(y, this.bias);
    return contiguous(permute(reshape(y, [B, OH, OW, this.outChannels]), [0, 3, 1, 2]));
  }
}

/** Options of the pooling layers. */
export interface PoolOptions {
  /** Step between windows. @default kernelSize */
  stride?: number;
  /** Padding on every side (ignored positions: -inf for max, 0 for average like PyTorch's count_include_pad). @default 0 */
  padding?: number;
}

/** Max pooling over `k x k` windows. */
export class MaxPool2d extends Module {
  /** Window geometry. */
  readonly window: Readonly<Window>;
  /**
   * Create a MaxPool2d.
   * @param kernelSize window size
   */
  constructor(kernelSize: number, { stride = kernelSize, padding = 0 }: PoolOptions = {}) {
    super();
    this.window = { k: kernelSize, stride, padding };
  }
  /** `(B, C, H, W)` -> `(B, C, OH, OW)`. */
  forward(x: Tensor): Tensor {
    check4d("MaxPool2d", x);
    const [B, C, H, W] = x.shape as [number, number, number, number];
    const cols = im2col(x, this.window, true, -Infinity);
    return reshape(max(cols, { axis: 1 }), [
      B,
      C,
      outSize(H, this.window, "MaxPool2d"),
      outSize(W, this.window, "MaxPool2d"),
    ]);
  }
}

/** Average pooling over `k x k` windows. */
export class AvgPool2d extends Module {
  /** Window geometry. */
  readonly window: Readonly<Window>;
  /**
   * Create an AvgPool2d.
   * @param kernelSize window size
   */
  constructor(kernelSize: number, { stride = kernelSize, padding = 0 }: PoolOptions = {}) {
    super();
    this.window = { k: kernelSize, stride, padding };
  }
  /** `(B, C, H, W)` -> `(B, C, OH, OW)`. */
  forward(x: Tensor): Tensor {
    check4d("AvgPool2d", x);
    const [B, C, H, W] = x.shape as [number, number, number, number];
    const cols = im2col(x, this.window, true, 0);
    return reshape(mean(cols, { axis: 1 }), [
      B,
      C,
      outSize(H, this.window, "AvgPool2d"),
      outSize(W, this.window, "AvgPool2d"),
    ]);
  }
}

/** Global average pooling to `(B, C, 1, 1)` (PyTorch `AdaptiveAvgPool2d(1)`). */
export class AdaptiveAvgPool2d extends Module {
  /** `(B, C, H, W)` -> `(B, C, 1, 1)`. */
  forward(x: Tensor): Tensor {
    check4d("AdaptiveAvgPool2d", x);
    return mean(x, { axis: [2, 3], keepdim: true });
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
