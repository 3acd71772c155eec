/**
 * The Learner's event names and its cancel exceptions (private; re-exported by `callbacks.ts`). They sit below
 * both `learner.ts` and `callbacks.ts` so that neither imports the other's runtime code: the `Callback` type,
 * which refers to the `Learner`, is declared in `learner.ts` beside it.
 *
 * @module
 */

/** Names of the events, in the order a fit fires them. */
export const EVENTS = [
  "beforeFit",
  "beforeEpoch",
  "beforeTrain",
  "beforeBatch",
  "afterPred",
  "afterLoss",
  "afterBackward",
  "afterStep",
  "afterBatch",
  "afterTrain",
  "beforeValidate",
  "afterValidate",
  "afterEpoch",
  "afterFit",
] as const;

/** One event name. */
export type EventName = typeof EVENTS[number];

/** Events fired inside a training step: their handlers must be synchronous. */
export type SyncEvent = "afterPred" | "afterLoss" | "afterBackward" | "afterStep";

/** Stop the whole fit (after `afterFit` handlers run). */
export class CancelFitError extends Error {
  /**
   * Create a CancelFitError.
   * @param reason why
   */
  constructor(reason = "fit cancelled") {
    super(reason);
    this.name = "CancelFitError";
  }
}

/** Skip the rest of the current epoch's training (validation still runs). */
export class CancelEpochError extends Error {
  /**
   * Create a CancelEpochError.
   * @param reason why
   */
  constructor(reason = "epoch cancelled") {
    super(reason);
    this.name = "CancelEpochError";
  }
}

/** Skip the rest of the current batch. */
export class CancelBatchError extends Error {
  /**
   * Create a CancelBatchError.
   * @param reason why
   */
  constructor(reason = "batch cancelled") {
    super(reason);
    this.name = "CancelBatchError";
  }
}
