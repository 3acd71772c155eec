/**
 * Tensors, autograd, layers, losses, optimizers, schedules, the Learner (with training resume and Ctrl-C
 * checkpoints), file formats (`formats/`) and model I/O (`checkpoint/`).
 *
 * @module
 */
export {};
export * from "./version.ts";
export * from "./tensor.ts";
export * from "./autograd.ts";
export * from "./engine.ts";
export * from "./ops_elementwise.ts";
export * from "./ops_shape.ts";
export * from "./ops_reduce.ts";
export * from "./ops_linalg.ts";
export * from "./ops_index.ts";
export * from "./ops_nn.ts";
export * from "./ops_rnn.ts";
export * from "./ops_conv.ts";
export * from "./schedule.ts";
export * from "./metrics.ts";
export * from "./formats/mod.ts";
export * from "./checkpoint/mod.ts";
export * from "./train_state.ts";
export * from "./resume.ts";
export * from "./interrupt.ts";
export * from "./lr_finder.ts";
export * from "./plot.ts";
export * from "./progress.ts";
export * from "./optim.ts";
export * from "./layers/mod.ts";
export * from "./losses.ts";
export * from "./callbacks.ts";
export * from "./data_loader.ts";
export * from "./search/mod.ts";
export * from "./learner.ts";
export * from "./run_outputs.ts";
export * from "./non_finite.ts";
export * from "./training_run.ts";
