/**
 * Kernel launch helpers shared by the ops and autograd (private): check inputs, allocate outputs, call
 * `Backend.run`, and the few graph-free kernels that autograd and several op files need (a contiguous copy, a
 * same-shape add, the reduce kernel and the broadcast-gradient sum `sumToRaw`). Nothing here records a graph,
 * and this file imports no op, so ops and autograd can both depend on it without a cycle.
 *
 * @module
 */

import type { Backend, DType, KernelAttrs, ReduceOp, View } from "../gpu/backend.ts";
import type { KernelName } from "../gpu/kernel_names.ts";
import { getBackend } from "./engine.ts";
import { _empty, full, Tensor } from "./_tensor_core.ts";
import { contiguousStrides, fmt, isContiguous, numel, viewStrides } from "./_shape.ts";

/** The common backend of `inputs` (the active one when there are none); throws naming `op` on a mix. */
export function backendOf(op: string, inputs: readonly Tensor[]): Backend {
  const b = inputs[0]?.backend ?? getBackend();
  for (const t of inputs) {
    t.assertAlive(op);
    if (t.backend !== b) {
      throw new Error(`${op}: inputs live on different backends ("${b.name}" and "${t.backend.name}")`);
    }
  }
  return b;
}

/** Throw naming `op` and the shapes when the dtypes of `inputs` differ. */
export function sameDtype(op: string, inputs: readonly Tensor[]): DType {
  const d = inputs[0]!.dtype;
  for (const t of inputs) {
    if (t.dtype !== d) {
      throw new TypeError(
        `${op}: dtype mismatch: ${inputs.map((x) => `${fmt(x.shape)} ${x.dtype}`).join(" vs ")}`,
      );
    }
  }
  return d;
}

/** Throw naming `op` unless `t` has a float dtype. */
export function needFloat(op: string, t: Tensor): void {
  if (t.dtype === "i32") throw new TypeError(`${op}: needs a float tensor, got ${fmt(t.shape)} i32`);
}

/** Throw naming `op` unless `t` is i32. */
export function needInt(op: string, t: Tensor, what = "indices"): void {
  if (t.dtype !== "i32") throw new TypeError(`${op}: ${what} must be i32, got ${fmt(t.shape)} ${t.dtype}`);
}

/** A view of `t` broadcast to `shape` (stride 0 on broadcast axes); `shape` must be a valid broadcast. */
export function broadcastView(t: Tensor, shape: readonly number[]): View {
  const v = t.view;
  const lead = shape.length - t.rank;
  const strides = shape.map((d, i) => {
    if (i < lead) return 0;
    const td = t.shape[i - lead]!;
    return td === 1 && d !== 1 ? 0 : t.strides[i - lead]!;
  });
  return { storage: v.storage, shape, strides, offset: v.offset };
}

/**
 * Run kernel `name` over input views and fresh contiguous outputs of the given shapes and dtypes.
 * Skips the launch when every output is empty.
 */
export function launch<K extends KernelName>(
  backend: Backend,
  name: K,
  inputs: readonly View[],
  outputs: readonly (readonly [readonly number[], DType])[],
  attrs: KernelAttrs[K],
): Tensor[] {
  const outs = outputs.map(([shape, dtype]) => _empty(shape, dtype, backend));
  if (outs.some((o) => o.size > 0)) backend.run(name, inputs, outs.map((o) => o.view), attrs);
  return outs;
}

/** A tensor for `v`: the tensor itself, or a 0-d tensor of `like`'s dtype and backend (caller disposes). */
export function scalarLike(v: Tensor | number, like: Tensor, op = "op"): Tensor {
  if (v instanceof Tensor) return v;
  if (like.dtype === "i32" && !Number.isInteger(v)) {
    throw new TypeError(
      `${op}: number ${v} is not an integer but the tensor ${fmt(like.shape)} is i32; cast it first`,
    );
  }
  return full([], v, { dtype: like.dtype, backend: like.backend });
}

/** @internal A contiguous copy of `t` (no graph), or `t` itself when already contiguous. */
export function _contig(t: Tensor): Tensor {
  if (t.isContiguous) return t;
  return launch(backendOf("contiguous", [t]), "copy", [t.view], [[t.shape, t.dtype]], {})[0]!;
}

/** `a + b` for two tensors of the same shape and dtype (no graph); used to sum gradients. */
export function addRaw(a: Tensor, b: Tensor): Tensor {
  const backend = backendOf("add", [a, b]);
  const dtype = sameDtype("add", [a, b]);
  if (fmt(a.shape) !== fmt(b.shape)) {
    throw new RangeError(`add: shapes ${fmt(a.shape)} and ${fmt(b.shape)} differ`);
  }
  return launch(backend, "binary", [a.view, b.view], [[a.shape, dtype]], { op: "add" })[0]!;
}

/** A `(rows, cols)` view of `x` with `axes` moved last (a contiguous copy, `owned`, when they do not collapse). */
export function rowsView(
  x: Tensor,
  axes: readonly number[],
): { view: View; rows: number; cols: number; owned?: Tensor } {
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const perm = [...kept, ...axes];
  const shape = perm.map((a) => x.shape[a]!);
  const strides = perm.map((a) => x.strides[a]!);
  const rows = numel(kept.map((a) => x.shape[a]!));
  const cols = numel(axes.map((a) => x.shape[a]!));
  const v = x.view;
  if (isContiguous(shape, strides)) {
    return {
      view: { storage: v.storage, shape: [rows, cols], strides: [cols, 1], offset: v.offset },
      rows,
      cols,
    };
  }
  // Axes that collapse to one stride each (e.g. a sum over the first axis of a matrix) need no copy: the reduce
  // kernel walks any (R, C) strides.
  const two = viewStrides(shape, strides, [rows, cols]);
  if (two && two[0]! >= 0 && two[1]! >= 0) {
    return { view: { storage: v.storage, shape: [rows, cols], strides: two, offset: v.offset }, rows, cols };
  }
  const tmp = _empty(shape, x.dtype, x.backend);
  x.backend.run("copy", [{ storage: v.storage, shape, strides, offset: v.offset }], [tmp.view], {});
  return {
    view: { storage: tmp.view.storage, shape: [rows, cols], strides: [cols, 1], offset: 0 },
    rows,
    cols,
    owned: tmp,
  };
}

/** The shape of `x` reduced over `axes` (kept as size 1 when `keepdim`). */
export function reducedShape(x: Tensor, axes: readonly number[], keepdim: boolean): number[] {
  return keepdim
    ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !axes.includes(i));
}

/** Run the reduce kernel `op` over `axes` of `x` (no graph); `name` is the op named in errors. */
export function reduceRaw(
  op: ReduceOp,
  name: string,
  x: Tensor,
  axes: readonly number[],
  keepdim: boolean,
): Tensor {
  const backend = backendOf(name, [x]);
  const outShape = reducedShape(x, axes, keepdim);
  const dtype: DType = op === "argmax" || op === "argmin" ? "i32" : x.dtype;
  const cols = numel(axes.map((a) => x.shape[a]!));
  if (cols === 0 && x.size === 0 && numel(outShape) > 0) {
    if (op === "sum" || op === "sumSquares") return full(outShape, 0, { dtype, backend });
    if (op === "mean") return full(outShape, NaN, { dtype, backend });
    throw new RangeError(`${name}: cannot reduce tensor ${fmt(x.shape)} over an empty axis`);
  }
  const out = _empty(outShape, dtype, backend);
  if (out.size === 0) return out;
  const { view, rows, owned } = rowsView(x, axes);
  backend.run("reduce", [view], [{ storage: out.view.storage, shape: [rows], strides: [1], offset: 0 }], {
    op,
  });
  owned?.dispose();
  return out;
}

/**
 * Sum `g` over broadcast axes so it has `shape` (the gradient of a broadcast), without a graph: what
 * `sumTo` of `ops_reduce.ts` computes, for the backward functions of the ops below it.
 * @returns `g` itself when it already has `shape`
 */
export function sumToRaw(g: Tensor, shape: readonly number[]): Tensor {
  if (fmt(g.shape) === fmt(shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  const s = reduceRaw("sum", "sum", g, axes, true);
  if (lead === 0) return s;
  const out = s._viewAs(shape, contiguousStrides(shape), s.offset);
  s.dispose();
  return out;
}

/** Element count helper re-exported for ops. */
export { numel };
