/**
 * Tensors, autograd, layers, losses, optimizers, schedules and the Learner.
 *
 * @module
 */
export {};
export * from "./schedule.ts";
export * from "./metrics.ts";
export * from "./checkpoint/mod.ts";
export * from "./lr_finder.ts";
export * from "./plot.ts";
export * from "./progress.ts";
