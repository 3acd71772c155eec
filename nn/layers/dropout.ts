/**
 * The dropouts of AWD-LSTM (Merity et al., https://arxiv.org/abs/1708.02182), masks drawn on the device from
 * the counter-based generator and scaled by `1/(1-p)`:
 * - {@linkcode Dropout}: an independent mask per element.
 * - {@linkcode RNNDropout} (locked / variational dropout): one mask `(B, 1, F)` per sequence, the same at every
 *   time step.
 * - {@linkcode EmbeddingDropout}: drops whole words — a mask `(V, 1)` over the rows of the embedding matrix.
 * - {@linkcode WeightDropout} (DropConnect, https://proceedings.mlr.press/v28/wan13.html): drops weights of a
 *   layer's hidden-to-hidden matrix, a new mask every forward pass.
 *
 * All are identities in evaluation mode or with `p = 0`.
 *
 * @example Locked dropout reuses the mask over time
 * ```ts
 * import { RNNDropout } from "./dropout.ts";
 * import { ones } from "../tensor.ts";
 * const y = new RNNDropout(0.5).forward(ones([2, 5, 3])).dataSync();
 * for (let t = 1; t < 5; t++) if (y[t * 3] !== y[0]) throw new Error("mask changed over time");
 * ```
 *
 * @module
 */

import { mul } from "../ops_elementwise.ts";
import { dropout } from "../ops_nn.ts";
import { ones, type Tensor } from "../tensor.ts";
import { fmt } from "../_shape.ts";
import { Module } from "./module.ts";

function checkP(layer: string, p: number): number {
  if (!(p >= 0 && p < 1)) throw new RangeError(`${layer}: p must be in [0, 1), got ${p}`);
  return p;
}

/** A scaled keep-mask of `shape`: entries are 0 or `1/(1-p)`. */
export function dropoutMask(shape: readonly number[], p: number, like: Tensor): Tensor {
  const base = ones(shape, { dtype: like.dtype, backend: like.backend });
  const mask = dropout(base, p);
  base.dispose();
  return mask;
}

/** Element-wise dropout. */
export class Dropout extends Module {
  /** Drop probability. */
  p: number;
  /**
   * Create a Dropout.
   * @param p drop probability
   */
  constructor(p: number) {
    super();
    this.p = checkP("Dropout", p);
  }
  /** Apply (identity in evaluation mode). */
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training });
  }
}

/** Locked dropout over `(B, T, F)` activations: one mask `(B, 1, F)` shared by all time steps. */
export class RNNDropout extends Module {
  /** Drop probability. */
  p: number;
  /**
   * Create a RNNDropout.
   * @param p drop probability
   */
  constructor(p: number) {
    super();
    this.p = checkP("RNNDropout", p);
  }
  /** The mask shape for input `x`: `(B, 1, F)`. */
  static maskShape(x: Tensor): number[] {
    if (x.rank !== 3) throw new Error(`RNNDropout: input must be (B, T, F), got ${fmt(x.shape)}`);
    return [x.shape[0]!, 1, x.shape[2]!];
  }
  /** Apply to `(B, T, F)`. */
  forward(x: Tensor): Tensor {
    const shape = RNNDropout.maskShape(x);
    if (!this.training || this.p === 0) return x;
    return mul(x, dropoutMask(shape, this.p, x));
  }
}

/** Drops whole rows of an embedding matrix: returns the masked `(V, D)` table to look words up in. */
export class EmbeddingDropout extends Module {
  /** Drop probability of a word. */
  p: number;
  /**
   * Create an EmbeddingDropout.
   * @param p drop probability
   */
  constructor(p: number) {
    super();
    this.p = checkP("EmbeddingDropout", p);
  }
  /** The masked table `weight * mask (V, 1)` (the table itself in evaluation mode). */
  forward(weight: Tensor): Tensor {
    if (!this.training || this.p === 0) return weight;
    return mul(weight, dropoutMask([weight.shape[0]!, 1], this.p, weight));
  }
}

/** DropConnect on a weight: a fresh element mask each forward pass (the raw weight is what the optimizer updates). */
export class WeightDropout extends Module {
  /** Drop probability. */
  p: number;
  /**
   * Create a WeightDropout.
   * @param p drop probability
   */
  constructor(p: number) {
    super();
    this.p = checkP("WeightDropout", p);
  }
  /** The dropped-out weight to use for this forward pass. */
  forward(rawWeight: Tensor): Tensor {
    return dropout(rawWeight, this.p, { training: this.training });
  }
}
