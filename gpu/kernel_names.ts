/**
 * Names of every backend kernel, in one place (as tfjs `kernel_names.ts`). Attributes and shapes of each are
 * documented on {@linkcode KernelAttrs} in `backend.ts`.
 *
 * @module
 */

import type { KernelAttrs } from "./backend.ts";

/** Every kernel a backend implements. */
export const KERNEL_NAMES = [
  "unary",
  "binary",
  "where",
  "copy",
  "reduce",
  "softmax",
  "matmul",
  "gather",
  "scatterAdd",
  "crossEntropy",
  "crossEntropyBackward",
  "random",
  "dropout",
  "lstmCell",
  "lstmCellBackward",
  "gruCell",
  "gruCellBackward",
  "adam",
  "sgd",
  "conv2d",
  "conv2dBackwardInput",
  "conv2dBackwardWeight",
  "maxPool2d",
  "maxPool2dBackward",
  "avgPool2d",
  "avgPool2dBackward",
  "adaptiveAvgPool2d",
  "adaptiveAvgPool2dBackward",
] as const satisfies readonly (keyof KernelAttrs)[];

/** A kernel name. */
export type KernelName = (typeof KERNEL_NAMES)[number];
