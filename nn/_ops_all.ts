/**
 * Every op, in one namespace for the Tensor convenience methods and autograd (private).
 *
 * @module
 */
export * from "./ops_elementwise.ts";
export * from "./ops_shape.ts";
export * from "./ops_reduce.ts";
export * from "./ops_linalg.ts";
export * from "./ops_index.ts";
export * from "./ops_nn.ts";
