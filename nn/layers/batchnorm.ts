/**
 * {@linkcode BatchNorm1d} over `(N, C)` inputs (Ioffe & Szegedy, https://arxiv.org/abs/1502.03167): batch
 * statistics in training (biased variance to normalise, unbiased to update the running variance, momentum 0.1
 * like PyTorch), running statistics in evaluation mode.
 *
 * @example Normalised columns have mean 0
 * ```ts
 * import { BatchNorm1d } from "./batchnorm.ts";
 * import { fromArray } from "../tensor.ts";
 * const y = new BatchNorm1d(1).forward(fromArray([1, 2, 3], [3, 1])).dataSync();
 * if (Math.abs(y[0]! + y[1]! + y[2]!) > 1e-5) throw new Error("not centred");
 * ```
 *
 * @module
 */

import { noGrad } from "../engine.ts";
import { add, div, mul, sqrt, square, sub } from "../ops_elementwise.ts";
import { mean } from "../ops_reduce.ts";
import { assign, reshape } from "../ops_shape.ts";
import { ones, type Tensor, zeros } from "../tensor.ts";
import { fmt } from "../_shape.ts";
import { Module } from "./module.ts";

/** Options of {@linkcode BatchNorm1d}. */
export interface BatchNormOptions {
  /** Added to the variance. @default 1e-5 */
  eps?: number;
  /** Weight of the new batch in the running statistics. @default 0.1 */
  momentum?: number;
}

/**
 * The state and arithmetic BatchNorm1d and BatchNorm2d share: a learnt `(C)` scale and shift, running statistics
 * updated in place with momentum (unbiased variance, as PyTorch), and normalisation over the given axes.
 */
export abstract class BatchNormBase extends Module {
  /** `(C)` scale, starts at 1. */
  readonly weight: Tensor;
  /** `(C)` shift, starts at 0. */
  readonly bias: Tensor;
  /** `(C)` running mean. */
  readonly runningMean: Tensor;
  /** `(C)` running (unbiased) variance. */
  readonly runningVar: Tensor;
  /** Epsilon. */
  readonly eps: number;
  /** Momentum of the running statistics. */
  readonly momentum: number;
  /** Batch norm is a normalisation layer. */
  override get isNorm(): boolean {
    return true;
  }

  /**
   * Create the parameters and buffers.
   * @param numFeatures channels C
   */
  constructor(numFeatures: number, { eps = 1e-5, momentum = 0.1 }: BatchNormOptions = {}) {
    super();
    this.eps = eps;
    this.momentum = momentum;
    this.weight = this.registerParameter("weight", ones([numFeatures]));
    this.bias = this.registerParameter("bias", zeros([numFeatures]));
    this.runningMean = this.registerBuffer("running_mean", zeros([numFeatures]));
    this.runningVar = this.registerBuffer("running_var", ones([numFeatures]));
  }

  /** Normalise `x` with statistics over `axes`; `(C)` tensors broadcast as `statShape`. */
  protected normalize(name: string, x: Tensor, axes: number[], statShape: number[]): Tensor {
    const C = this.weight.shape[0]!;
    const view = (t: Tensor) => reshape(t, statShape);
    let mu: Tensor, variance: Tensor;
    if (this.training) {
      const n = x.size / C;
      if (n < 2) {
        throw new Error(`${name}: training needs more than 1 value per channel, got ${fmt(x.shape)}`);
      }
      mu = mean(x, { axis: axes, keepdim: true });
      variance = mean(square(sub(x, mu)), { axis: axes, keepdim: true });
      noGrad(() => {
        // update in place so the buffer tensors (and any map holding them) stay the same objects
        const m = this.momentum;
        const newMean = add(mul(this.runningMean, 1 - m), mul(reshape(mu, [C]), m));
        const newVar = add(mul(this.runningVar, 1 - m), mul(reshape(variance, [C]), (m * n) / (n - 1)));
        assign(this.runningMean, newMean);
        assign(this.runningVar, newVar);
        newMean.dispose();
        newVar.dispose();
      });
    } else {
      mu = view(this.runningMean);
      variance = view(this.runningVar);
    }
    const xhat = div(sub(x, mu), sqrt(add(variance, this.eps)));
    return add(mul(xhat, view(this.weight)), view(this.bias));
  }
}

/** Batch normalisation of `(N, C)` features with a learnt scale and shift. */
export class BatchNorm1d extends BatchNormBase {
  /** Normalise `(N, C)`. */
  forward(x: Tensor): Tensor {
    const C = this.weight.shape[0]!;
    if (x.rank !== 2 || x.shape[1] !== C) {
      throw new Error(`BatchNorm1d: input ${fmt(x.shape)}, expected (N, ${C})`);
    }
    return this.normalize("BatchNorm1d", x, [0], [1, C]);
  }
}

/** Batch normalisation per channel of `(B, C, H, W)` (statistics over batch and pixels). */
export class BatchNorm2d extends BatchNormBase {
  /** Normalise `(B, C, H, W)`. */
  forward(x: Tensor): Tensor {
    const C = this.weight.shape[0]!;
    if (x.rank !== 4 || x.shape[1] !== C) {
      throw new Error(`BatchNorm2d: input ${fmt(x.shape)}, expected (B, ${C}, H, W)`);
    }
    return this.normalize("BatchNorm2d", x, [0, 2, 3], [1, C, 1, 1]);
  }
}
