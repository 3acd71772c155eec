/**
 * The learning-rate finder (Smith 2015, https://arxiv.org/abs/1506.01186; fastai `lr_find`): train for up to
 * `numIt` mini-batches with the learning rate growing exponentially from `startLr` to `endLr`, record the
 * smoothed loss, stop once it exceeds 4x the best seen, and suggest a learning rate.
 *
 * It drives a `step(lr)` callback (one training step at that learning rate, returning the loss), so it works
 * with any model; the Learner saves and restores the weights around it.
 *
 * @example A loss that falls until lr = 0.1, then explodes
 * ```ts
 * import { lrFind } from "./lr_finder.ts";
 * const r = await lrFind((lr) => Promise.resolve(lr < 0.1 ? 2 - lr : 100 * lr));
 * if (!r.diverged || r.lrs.length === 100) throw new Error("should stop early");
 * if (!(r.suggestion.lrMin < 0.1)) throw new Error("suggestion");
 * ```
 *
 * @module
 */

import { SmoothedLoss } from "./metrics.ts";
import { schedExp, schedLin } from "./schedule.ts";

/** Options of {@linkcode lrFind}. */
export interface LrFindOptions {
  /** First learning rate. @default 1e-7 */
  startLr?: number;
  /** Last learning rate. @default 10 */
  endLr?: number;
  /** Number of iterations (at least 6). @default 100 */
  numIt?: number;
  /** Stop when the smoothed loss exceeds 4x the best one. @default true */
  stopDiv?: boolean;
  /** Sweep linearly instead of exponentially (fastai v0.7 `linear=True`). @default false */
  linear?: boolean;
  /** Smoothing of the recorded loss. @default 0.98 */
  beta?: number;
}

/** Suggested learning rates. */
export interface LrSuggestion {
  /** The learning rate of the minimum smoothed loss, divided by 10. */
  lrMin: number;
  /** The learning rate where the smoothed loss falls fastest (steepest negative slope in log lr). */
  lrSteep: number;
}

/** What {@linkcode lrFind} recorded. */
export interface LrFindResult {
  /** Learning rate of each step. */
  lrs: number[];
  /** Smoothed loss after each step. */
  losses: number[];
  /** Raw loss of each step. */
  rawLosses: number[];
  /** Suggested learning rates. */
  suggestion: LrSuggestion;
  /** Whether the sweep stopped early because the loss diverged. */
  diverged: boolean;
}

/**
 * Run the sweep.
 *
 * @param step runs one training step at learning rate `lr` and resolves to its loss
 * @returns the recorded learning rates and losses, and the suggestion
 */
export async function lrFind(
  step: (lr: number) => Promise<number>,
  { startLr = 1e-7, endLr = 10, numIt = 100, stopDiv = true, linear = false, beta = 0.98 }: LrFindOptions =
    {},
): Promise<LrFindResult> {
  if (!(startLr > 0 && endLr > startLr)) {
    throw new Error(`lrFind: need 0 < startLr < endLr, got ${startLr}, ${endLr}`);
  }
  numIt = Math.max(6, numIt);
  const shape = linear ? schedLin : schedExp;
  const smooth = new SmoothedLoss(beta);
  const lrs: number[] = [], losses: number[] = [], rawLosses: number[] = [];
  let best = Infinity, diverged = false;
  for (let it = 0; it < numIt; it++) {
    const lr = shape(startLr, endLr, it / numIt);
    const loss = await step(lr);
    const s = smooth.update(loss);
    lrs.push(lr);
    rawLosses.push(loss);
    losses.push(s);
    if (s < best) best = s;
    if (stopDiv && (s > 4 * best || !Number.isFinite(s))) {
      diverged = true;
      break;
    }
  }
  return { lrs, losses, rawLosses, suggestion: suggestLr(lrs, losses, numIt), diverged };
}

/**
 * fastai's suggestion from a recorded sweep: skip the first `numIt/10` and the last 5 points, then take the
 * minimum loss's learning rate / 10 and the learning rate of the steepest descent
 * `min((loss[i+1] - loss[i]) / (log lr[i+1] - log lr[i]))`.
 *
 * @param lrs learning rates
 * @param losses smoothed losses
 * @param numIt the planned number of iterations (for the skip at the start)
 * @returns the suggestion (NaN when too few points remain)
 */
export function suggestLr(
  lrs: readonly number[],
  losses: readonly number[],
  numIt = lrs.length,
): LrSuggestion {
  const from = Math.floor(numIt / 10), to = lrs.length - 5;
  if (to - from < 1) return { lrMin: NaN, lrSteep: NaN };
  let argMin = from;
  for (let i = from; i < to; i++) if (losses[i]! < losses[argMin]!) argMin = i;
  let steep = from, bestGrad = Infinity;
  for (let i = from; i + 1 < to; i++) {
    const g = (losses[i + 1]! - losses[i]!) / (Math.log(lrs[i + 1]!) - Math.log(lrs[i]!));
    if (g < bestGrad) [bestGrad, steep] = [g, i];
  }
  return { lrMin: lrs[argMin]! / 10, lrSteep: lrs[steep]! };
}
