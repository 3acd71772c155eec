/**
 * {@linkcode Linear} (`y = x @ W^T + b`, PyTorch's layout and initialisation) and {@linkcode Embedding}
 * (row lookup with an optional padding row that stays zero and gets no gradient).
 *
 * @example A linear layer on a batch
 * ```ts
 * import { Linear } from "./linear.ts";
 * import { ones } from "../tensor.ts";
 * const lin = new Linear(3, 2);
 * const y = lin.forward(ones([4, 3]));
 * if (y.shape.join() !== "4,2") throw new Error("shape");
 * ```
 *
 * @module
 */

import { add, cast, eq, mul, sub } from "../ops_elementwise.ts";
import { embedding } from "../ops_index.ts";
import { matmul } from "../ops_linalg.ts";
import { reshape, transpose } from "../ops_shape.ts";
import { rand, randn, type Tensor } from "../tensor.ts";
import { Module } from "./module.ts";
import { fmt } from "../_shape.ts";

/** Options of {@linkcode Linear}. */
export interface LinearOptions {
  /** Add a bias. @default true */
  bias?: boolean;
}

/** A fully connected layer over the last axis. Weights `(out, in)` uniform in `±1/sqrt(in)` like PyTorch. */
export class Linear extends Module {
  /** `(outFeatures, inFeatures)`. */
  weight: Tensor;
  /** `(outFeatures)` or null. */
  bias: Tensor | null;
  /** Input size. */
  readonly inFeatures: number;
  /** Output size. */
  readonly outFeatures: number;

  /**
   * Create a Linear.
   * @param inFeatures input size
   * @param outFeatures output size
   */
  constructor(inFeatures: number, outFeatures: number, { bias = true }: LinearOptions = {}) {
    super();
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.registerParameter(
      "weight",
      rand([outFeatures, inFeatures], { low: -bound, high: bound }),
    );
    this.bias = bias
      ? this.registerParameter("bias", rand([outFeatures], { low: -bound, high: bound }))
      : null;
  }

  /** Use another tensor as the weight (weight tying: the same storage, so updates are shared). */
  tieWeight(weight: Tensor): void {
    if (fmt(weight.shape) !== fmt([this.outFeatures, this.inFeatures])) {
      throw new Error(
        `Linear.tieWeight: weight ${fmt(weight.shape)}, expected (${this.outFeatures}, ${this.inFeatures})`,
      );
    }
    this.weight.dispose();
    this.weight = weight;
    this.setParameter("weight", weight);
  }

  /** `(..., in)` -> `(..., out)`. */
  forward(x: Tensor): Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures) {
      throw new Error(`Linear.forward: input ${fmt(x.shape)} does not end in ${this.inFeatures} features`);
    }
    const lead = x.shape.slice(0, -1);
    const x2 = x.rank === 2 ? x : reshape(x, [lead.reduce((a, b) => a * b, 1), this.inFeatures]);
    let y = matmul(x2, transpose(this.weight));
    if (this.bias) y = add(y, this.bias);
    return x.rank === 2 ? y : reshape(y, [...lead, this.outFeatures]);
  }
}

/** Options of {@linkcode Embedding}. */
export interface EmbeddingOptions {
  /** Row whose vector is zero and never updated (the padding token). */
  paddingIdx?: number;
  /** Initialise uniform in `[-initRange, initRange]` (AWD-LSTM: 0.1) instead of standard normal. */
  initRange?: number;
}

/** A lookup table of `numEmbeddings` vectors of size `dim`. */
export class Embedding extends Module {
  /** `(numEmbeddings, dim)`. */
  weight: Tensor;
  /** Padding row, if any. */
  readonly paddingIdx: number | undefined;
  /** Number of rows. */
  readonly numEmbeddings: number;
  /** Vector size. */
  readonly dim: number;

  /**
   * Create an Embedding.
   * @param numEmbeddings vocabulary size
   * @param dim vector size
   */
  constructor(numEmbeddings: number, dim: number, { paddingIdx, initRange }: EmbeddingOptions = {}) {
    super();
    if (
      paddingIdx !== undefined &&
      !(Number.isInteger(paddingIdx) && paddingIdx >= 0 && paddingIdx < numEmbeddings)
    ) {
      throw new RangeError(`Embedding: paddingIdx ${paddingIdx} outside [0, ${numEmbeddings})`);
    }
    this.numEmbeddings = numEmbeddings;
    this.dim = dim;
    this.paddingIdx = paddingIdx;
    const w = initRange === undefined
      ? randn([numEmbeddings, dim])
      : rand([numEmbeddings, dim], { low: -initRange, high: initRange });
    // PyTorch zeroes the padding row of its N(0, 1) init; fastai's AWD-LSTM re-initialises every row uniformly
    if (paddingIdx !== undefined && initRange === undefined) {
      w.backend.write(w.view.storage, new Float32Array(dim), paddingIdx * dim);
    }
    this.weight = this.registerParameter("weight", w);
  }

  /**
   * Look up `ids` (i32, any shape) -> `(...ids.shape, dim)`. As in PyTorch, padding positions read the padding
   * row but send no gradient to it.
   * @param weight use these rows instead of `this.weight` (embedding dropout passes a masked table)
   */
  forward(ids: Tensor, weight: Tensor = this.weight): Tensor {
    const e = embedding(weight, ids);
    if (this.paddingIdx === undefined || !e.requiresGrad) return e;
    const isPad = reshape(cast(eq(ids, this.paddingIdx), e.dtype), [...ids.shape, 1]);
    return add(mul(e, sub(1, isPad)), mul(e.detach(), isPad));
  }
}
