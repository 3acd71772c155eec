/**
 * Losses and regularizers: cross-entropy flattened over time (language models), the seq2seq loss, the AWD-LSTM
 * activation regularizers AR and TAR (Merity et al., https://arxiv.org/abs/1708.02182, section 4.6), MSE, L1
 * and the cosine loss of DeViSE.
 *
 * @example Cross-entropy of a (batch, time, vocab) prediction
 * ```ts
 * import { crossEntropyFlat } from "./losses.ts";
 * import { fromArray, zeros } from "./tensor.ts";
 * const loss = crossEntropyFlat(zeros([2, 3, 4]), fromArray([0, 1, 2, 3, 0, 1], [2, 3], { dtype: "i32" }));
 * if (Math.abs(loss.dataSync()[0]! - Math.log(4)) > 1e-6) throw new Error("uniform logits give log(V)");
 * ```
 *
 * @module
 */

import { abs, add, mul, square, sub } from "./ops_elementwise.ts";
import { cosineSimilarity, crossEntropy } from "./ops_nn.ts";
import { mean } from "./ops_reduce.ts";
import { concat, reshape, slice } from "./ops_shape.ts";
import { type Tensor, zeros } from "./tensor.ts";
import { fmt } from "./_shape.ts";

/** Options of {@linkcode crossEntropyFlat}. */
export interface CrossEntropyFlatOptions {
  /** Targets with this id (padding) add no loss. @default -100 */
  ignoreIndex?: number;
}

/**
 * Mean cross-entropy of `logits (..., V)` against `targets (...)`, every position one sample (fastai
 * `CrossEntropyLossFlat`).
 *
 * @param logits scores, last axis the classes
 * @param targets i32 class ids with the leading shape of `logits`
 * @returns a 0-d loss
 */
export function crossEntropyFlat(
  logits: Tensor,
  targets: Tensor,
  { ignoreIndex = -100 }: CrossEntropyFlatOptions = {},
): Tensor {
  const V = logits.shape[logits.rank - 1]!;
  if (logits.size / V !== targets.size) {
    throw new Error(
      `crossEntropyFlat: logits ${fmt(logits.shape)} do not match targets ${fmt(targets.shape)}`,
    );
  }
  return crossEntropy(reshape(logits, [targets.size, V]), reshape(targets, [targets.size]), { ignoreIndex });
}

/**
 * Activation regularization: `alpha * mean(out^2)` of the last layer's dropped-out output `(B, T, H)`.
 * @param out dropped-out activations of the last RNN layer
 * @param alpha weight (AWD-LSTM: 2)
 */
export function arLoss(out: Tensor, alpha: number): Tensor {
  return mul(mean(square(out)), alpha);
}

/**
 * Temporal activation regularization: `beta * mean((h[:, t+1] - h[:, t])^2)` of the last layer's raw output
 * `(B, T, H)`; zero for sequences of one step.
 * @param rawOut activations of the last RNN layer before dropout
 * @param beta weight (AWD-LSTM: 1)
 */
export function tarLoss(rawOut: Tensor, beta: number): Tensor {
  if (rawOut.rank !== 3) throw new Error(`tarLoss: expected (B, T, H), got ${fmt(rawOut.shape)}`);
  if (rawOut.shape[1]! < 2) return zeros([], { dtype: rawOut.dtype, backend: rawOut.backend });
  const diff = sub(slice(rawOut, [null, [1]]), slice(rawOut, [null, [0, -1]]));
  return mul(mean(square(diff)), beta);
}

/**
 * fastai v0.7 `seq2seq_loss`: predictions `(B, Tp, V)` are padded with zero logits (or cut) to the target
 * length `Tt`, then mean cross-entropy over `(B, Tt)` ignoring `ignoreIndex`.
 */
export function seq2seqLoss(
  pred: Tensor,
  target: Tensor,
  { ignoreIndex = -100 }: CrossEntropyFlatOptions = {},
): Tensor {
  if (pred.rank !== 3 || target.rank !== 2 || pred.shape[0] !== target.shape[0]) {
    throw new Error(
      `seq2seqLoss: need pred (B, Tp, V) and target (B, Tt), got ${fmt(pred.shape)}, ${fmt(target.shape)}`,
    );
  }
  const [B, Tp, V] = pred.shape as [number, number, number];
  const Tt = target.shape[1]!;
  let p = pred;
  if (Tp < Tt) p = concat([pred, zeros([B, Tt - Tp, V], { dtype: pred.dtype, backend: pred.backend })], 1);
  else if (Tp > Tt) p = slice(pred, [null, [0, Tt]]);
  return crossEntropyFlat(p, target, { ignoreIndex });
}

/** Mean squared error. */
export function mseLoss(pred: Tensor, target: Tensor): Tensor {
  return mean(square(sub(pred, target)));
}

/** Mean absolute error. */
export function l1Loss(pred: Tensor, target: Tensor): Tensor {
  return mean(abs(sub(pred, target)));
}

/** DeViSE's cosine loss: `mean(1 - cos(pred, target))` over rows (vectors on the last axis). */
export function cosineLoss(pred: Tensor, target: Tensor): Tensor {
  return add(mul(mean(cosineSimilarity(pred, target)), -1), 1);
}
