/**
 * The {@linkcode Tensor}: a strided view onto backend storage, with the autograd fields (`requiresGrad`,
 * `grad`, `gradFn`), plus creation functions and the memory scopes (`tidy`, `keep`, `liveTensors`).
 *
 * The class itself lives in the private `_tensor_core.ts`, which imports no op; this module is the one place
 * where its op methods (`x.add(y)`, `x.sum()`, `x.backward()`, ...) are attached, each calling the op function
 * of the same name. Ops import the core; nothing below this module imports it, so there is no import cycle.
 *
 * Memory rule: device memory is not reclaimed by the JS garbage collector. Free tensors with `dispose()` or
 * create them inside `tidy(fn)`, which frees everything made inside that `fn` does not return. Run `backward()`
 * inside the same `tidy` as the forward pass that built the graph: the graph reads the intermediates.
 *
 * @example Build, compute, read back
 * ```ts
 * import { tensor, tidy } from "./tensor.ts";
 * const y = tidy(() => tensor([[1, 2], [3, 4]]).mul(2).sum());
 * if ((await y.item()) !== 20) throw new Error("wrong sum");
 * y.dispose();
 * ```
 *
 * @module
 */

import { Tensor } from "./_tensor_core.ts";
import { backward } from "./autograd.ts";
import { add, cast, div, exp, log, mul, neg, pow, relu, sigmoid, sub, tanh } from "./ops_elementwise.ts";
import { contiguous, expand, permute, reshape, transpose } from "./ops_shape.ts";
import { logSoftmax, mean, softmax, sum } from "./ops_reduce.ts";
import { matmul } from "./ops_linalg.ts";

export {
  _empty,
  _fromStorage,
  arange,
  type ArangeOptions,
  bernoulli,
  type CreateOptions,
  finalizedTensors,
  fromArray,
  full,
  keep,
  liveTensors,
  type NestedArray,
  ones,
  onesLike,
  rand,
  randn,
  type RandnOptions,
  type RandOptions,
  Tensor,
  tensor,
  tidy,
  zeros,
  zerosLike,
} from "./_tensor_core.ts";

/** The op methods of {@linkcode Tensor}, each the op function of the same name with `this` first. */
type OpMethods = Pick<
  Tensor,
  | "backward"
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "neg"
  | "pow"
  | "exp"
  | "log"
  | "tanh"
  | "sigmoid"
  | "relu"
  | "matmul"
  | "sum"
  | "mean"
  | "reshape"
  | "transpose"
  | "permute"
  | "expand"
  | "contiguous"
  | "softmax"
  | "logSoftmax"
  | "cast"
>;

const METHODS: OpMethods & ThisType<Tensor> = {
  backward(grad) {
    backward(this, grad);
  },
  add(b) {
    return add(this, b);
  },
  sub(b) {
    return sub(this, b);
  },
  mul(b) {
    return mul(this, b);
  },
  div(b) {
    return div(this, b);
  },
  neg() {
    return neg(this);
  },
  pow(b) {
    return pow(this, b);
  },
  exp() {
    return exp(this);
  },
  log() {
    return log(this);
  },
  tanh() {
    return tanh(this);
  },
  sigmoid() {
    return sigmoid(this);
  },
  relu() {
    return relu(this);
  },
  matmul(b) {
    return matmul(this, b);
  },
  sum(options = {}) {
    return sum(this, options);
  },
  mean(options = {}) {
    return mean(this, options);
  },
  reshape(shape) {
    return reshape(this, shape);
  },
  transpose(axes) {
    return transpose(this, axes);
  },
  permute(axes) {
    return permute(this, axes);
  },
  expand(shape) {
    return expand(this, shape);
  },
  contiguous() {
    return contiguous(this);
  },
  softmax(axis = -1) {
    return softmax(this, axis);
  },
  logSoftmax(axis = -1) {
    return logSoftmax(this, axis);
  },
  cast(dtype) {
    return cast(this, dtype);
  },
};

// Attached like class methods: on the prototype, not enumerable.
for (const [name, fn] of Object.entries(METHODS)) {
  Object.defineProperty(Tensor.prototype, name, { value: fn, writable: true, configurable: true });
}
