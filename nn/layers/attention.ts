/**
 * Additive attention in the form of the 2018 lesson 11 (Bahdanau et al., https://arxiv.org/abs/1409.0473):
 * `u = tanh(enc @ W1 + l2(h))`, `a = softmax(u @ V)` over the source time steps, `context = sum_t a_t * enc_t`.
 * Padding positions of the source can be masked out so they get zero weight.
 *
 * @example Weights sum to one over the source steps
 * ```ts
 * import { Attention } from "./attention.ts";
 * import { ones, randn } from "../tensor.ts";
 * const attn = new Attention(6, 4, 5);
 * const { context, weights } = attn.forward(randn([2, 3, 6]), ones([2, 4]));
 * const w = weights.dataSync();
 * if (context.shape.join() !== "2,6" || Math.abs(w[0]! + w[1]! + w[2]! - 1) > 1e-5) throw new Error("attention");
 * ```
 *
 * @module
 */

import { add, mul, tanh, where } from "../ops_elementwise.ts";
import { matmul } from "../ops_linalg.ts";
import { softmax, sum } from "../ops_reduce.ts";
import { reshape, unsqueeze } from "../ops_shape.ts";
import { randn, type Tensor } from "../tensor.ts";
import { fmt } from "../_shape.ts";
import { Linear } from "./linear.ts";
import { Module } from "./module.ts";

/** Lesson-11 attention over `(B, T, encDim)` encoder outputs given a `(B, decDim)` decoder state. */
export class Attention extends Module {
  /** `(encDim, attnDim)`, N(0, 1/encDim) like the lesson's `rand_p`. */
  readonly w1: Tensor;
  /** Projects the decoder state. */
  readonly l2: Linear;
  /** `(attnDim)` scoring vector. */
  readonly v: Tensor;
  /** Encoder output size. */
  readonly encDim: number;

  /**
   * Create an Attention layer.
   * @param encDim size of each encoder output
   * @param decDim size of the decoder state
   * @param attnDim size of the hidden scoring space (the lesson uses the decoder embedding size)
   */
  constructor(encDim: number, decDim: number, attnDim: number) {
    super();
    this.encDim = encDim;
    this.w1 = this.registerParameter("W1", randn([encDim, attnDim], { std: 1 / Math.sqrt(encDim) }));
    this.l2 = this.registerModule("l2", new Linear(decDim, attnDim));
    this.v = this.registerParameter("V", randn([attnDim], { std: 1 / Math.sqrt(attnDim) }));
  }

  /**
   * Attend.
   * @param enc `(B, T, encDim)` encoder outputs
   * @param h `(B, decDim)` decoder state
   * @param mask optional `(B, T)` tensor, non-zero at padding positions (they get weight 0)
   * @returns `context (B, encDim)` and the attention `weights (B, T)`
   */
  forward(enc: Tensor, h: Tensor, mask?: Tensor): { context: Tensor; weights: Tensor } {
    if (enc.rank !== 3 || enc.shape[2] !== this.encDim || h.rank !== 2 || h.shape[0] !== enc.shape[0]) {
      throw new Error(
        `Attention: need enc (B, T, ${this.encDim}) and h (B, D), got ${fmt(enc.shape)} and ${fmt(h.shape)}`,
      );
    }
    const u = tanh(add(matmul(enc, this.w1), unsqueeze(this.l2.forward(h), 1))); // (B, T, A)
    let scores = reshape(matmul(u, reshape(this.v, [this.v.shape[0]!, 1])), enc.shape.slice(0, 2)); // (B, T)
    if (mask) scores = where(mask, { then: -1e30, else: scores });
    const weights = softmax(scores, 1);
    const context = sum(mul(unsqueeze(weights, 2), enc), { axis: 1 }); // (B, E)
    return { context, weights };
  }
}
