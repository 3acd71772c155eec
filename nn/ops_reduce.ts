/**
 * Reductions over any set of axes (sum, mean, max, min, argmax, argmin) and softmax / log-softmax over any
 * axis. Each permutes the reduced axes last and runs the backend's `(rows, cols)` kernel.
 *
 * @example Sum over rows, keeping the axis
 * ```ts
 * import { sum, tensor } from "./mod.ts";
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);
 * const s = sum(x, { axis: 1, keepdim: true });
 * if (s.shape.join() !== "2,1" || Array.from(s.dataSync()).join() !== "6,15") throw new Error("bad sum");
 * x.dispose();
 * s.dispose();
 * ```
 *
 * @module
 */

import { _composite, record } from "./autograd.ts";
import { backendOf, needFloat, reducedShape, reduceRaw, rowsView } from "./_kernel.ts";
import { contiguousStrides, fmt, normAxes, normAxis, numel, type ReduceOptions } from "./_shape.ts";
import { _empty, type Tensor } from "./_tensor_core.ts";
import { expand, reshape } from "./ops_shape.ts";
import { add, div, eq, exp, log, mul, sub } from "./ops_elementwise.ts";

export type { ReduceOptions } from "./_shape.ts";

/** `g` (reduced shape) broadcast back to `x.shape` as a view. */
function spread(g: Tensor, x: Tensor, axes: readonly number[]): Tensor {
  return expand(reshape(g, reducedShape(x, axes, true)), x.shape);
}

/** Sum over axes. */
export function sum(x: Tensor, options: ReduceOptions = {}): Tensor {
  const axes = normAxes(options.axis, x.rank, "sum");
  const out = reduceRaw("sum", "sum", x, axes, options.keepdim ?? false);
  return record("sum", [x], [out], ([g]) => [spread(g!, x, axes)]);
}

/** Mean over axes. */
export function mean(x: Tensor, options: ReduceOptions = {}): Tensor {
  needFloat("mean", x);
  const axes = normAxes(options.axis, x.rank, "mean");
  const out = reduceRaw("mean", "mean", x, axes, options.keepdim ?? false);
  const n = numel(axes.map((a) => x.shape[a]!));
  return record("mean", [x], [out], ([g]) => [mul(spread(g!, x, axes), 1 / n)]);
}

function extreme(op: "max" | "min", x: Tensor, options: ReduceOptions): Tensor {
  const axes = normAxes(options.axis, x.rank, op);
  const out = reduceRaw(op, op, x, axes, options.keepdim ?? false);
  // Ties share the gradient equally (as PyTorch's amax/amin).
  return record(op, [x], [out], ([g]) => {
    const mask = eq(x, spread(out, x, axes));
    const count = spread(sum(mask, { axis: axes, keepdim: true }), x, axes);
    return [div(mul(mask, spread(g!, x, axes)), count)];
  });
}

/** Maximum over axes (gradient split equally between tied maxima). */
export function max(x: Tensor, options: ReduceOptions = {}): Tensor {
  return extreme("max", x, options);
}

/** Minimum over axes (gradient split equally between tied minima). */
export function min(x: Tensor, options: ReduceOptions = {}): Tensor {
  return extreme("min", x, options);
}

/** Options of {@linkcode argmax} / {@linkcode argmin}. */
export interface ArgOptions {
  /** Axis to search; omitted = over the flattened tensor. */
  axis?: number;
  /** Keep the axis as size 1. @default false */
  keepdim?: boolean;
}

function argExtreme(op: "argmax" | "argmin", x: Tensor, options: ArgOptions): Tensor {
  if (options.axis === undefined) {
    return reduceRaw(
      op,
      op,
      x,
      x.shape.map((_, i) => i),
      options.keepdim ?? false,
    );
  }
  const a = normAxis(options.axis, x.rank, op);
  return reduceRaw(op, op, x, [a], options.keepdim ?? false);
}

/** Index (i32) of the first maximum along an axis, or of the flattened tensor. */
export function argmax(x: Tensor, options: ArgOptions = {}): Tensor {
  return argExtreme("argmax", x, options);
}

/** Index (i32) of the first minimum along an axis, or of the flattened tensor. */
export function argmin(x: Tensor, options: ArgOptions = {}): Tensor {
  return argExtreme("argmin", x, options);
}

/** Sum `g` over broadcast axes so it has `shape` (the gradient of a broadcast). */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (fmt(g.shape) === fmt(shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  const s = sum(g, { axis: axes, keepdim: true });
  return lead === 0 ? s : reshape(s, shape);
}

function softmaxRaw(x: Tensor, axis: number, log: boolean, name: string): Tensor {
  const backend = backendOf(name, [x]);
  needFloat(name, x);
  if (x.rank === 0) throw new RangeError(`${name}: needs at least one axis, got a 0-d tensor`);
  const a = normAxis(axis, x.rank, name);
  const perm = x.shape.map((_, i) => i).filter((i) => i !== a).concat([a]);
  const permShape = perm.map((i) => x.shape[i]!);
  const out = _empty(permShape, x.dtype, backend);
  if (out.size > 0) {
    const { view, rows, cols, owned } = rowsView(x, [a]);
    backend.run("softmax", [view], [{ ...out.view, shape: [rows, cols], strides: [cols, 1] }], { log });
    owned?.dispose();
  }
  if (a === x.rank - 1) return out;
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  const back = out._viewAs(
    inverse.map((i) => permShape[i]!),
    inverse.map((i) => contiguousStrides(permShape)[i]!),
    0,
  );
  out.dispose();
  return back;
}

/** Softmax along `axis` (default last). */
export function softmax(x: Tensor, axis = -1): Tensor {
  const y = softmaxRaw(x, axis, false, "softmax");
  return record("softmax", [x], [y], ([g]) => [mul(y, sub(g!, sum(mul(g!, y), { axis, keepdim: true })))]);
}

/** Log-softmax along `axis` (default last), computed stably in one kernel. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const y = softmaxRaw(x, axis, true, "logSoftmax");
  return record("logSoftmax", [x], [y], ([g]) => [sub(g!, mul(exp(y), sum(g!, { axis, keepdim: true })))]);
}

/**
 * `log(sum(exp(x)))` over axes, computed stably (the maximum is subtracted first); its gradient is the softmax.
 */
export function logSumExp(x: Tensor, options: ReduceOptions = {}): Tensor {
  needFloat("logSumExp", x);
  const axes = normAxes(options.axis, x.rank, "logSumExp");
  const keepdim = options.keepdim ?? false;
  return _composite([x], () => {
    const m = reduceRaw("max", "logSumExp", x, axes, true); // (kept, 1...) constant shift, no graph
    const shifted = log(sum(exp(sub(x, m)), { axis: axes, keepdim: true }));
    const out = add(shifted, m);
    return keepdim ? out : reshape(out, reducedShape(x, axes, false));
  });
}
