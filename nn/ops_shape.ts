/**
 * Shape ops: views that share storage (reshape, permute/transpose, expand, slice/narrow, squeeze/unsqueeze,
 * split/chunk) and copies (contiguous, concat, stack), all differentiable; and {@linkcode assign}, the in-place
 * copy into an existing tensor (no gradient).
 *
 * @example Transpose is a view, concat copies
 * ```ts
 * import { concat, tensor, transpose } from "./mod.ts";
 * const a = tensor([[1, 2, 3], [4, 5, 6]]);
 * const t = transpose(a); // (3, 2), no copy
 * const c = concat([a, a], 0); // (4, 3)
 * if (t.shape.join() !== "3,2" || t.isContiguous || c.shape.join() !== "4,3") throw new Error("bad shapes");
 * if (Array.from(t.dataSync()).join() !== "1,4,2,5,3,6") throw new Error("bad transpose");
 * for (const x of [a, t, c]) x.dispose();
 * ```
 *
 * @module
 */

import { needsGrad, record } from "./autograd.ts";
import { _contig, backendOf, broadcastView, sameDtype, scalarLike, sumToRaw } from "./_kernel.ts";
import { broadcastShapes, contiguousStrides, fmt, normAxis, numel, viewStrides } from "./_shape.ts";
import { _empty, Tensor, zeros } from "./_tensor_core.ts";

export { _contig } from "./_kernel.ts";

/**
 * A contiguous tensor with the elements of `x` (a copy when `x` is a strided view, else a new view).
 * @returns a new tensor object the caller owns
 */
export function contiguous(x: Tensor): Tensor {
  backendOf("contiguous", [x]);
  const out = x.isContiguous ? x._viewAs(x.shape, x.strides, x.offset) : _contig(x);
  return record("contiguous", [x], [out], ([g]) => [g!]);
}

/**
 * Copy `source` into `target`'s elements in place: a tensor that broadcasts to `target`'s shape, or a number.
 * `target` stays the same object on the same storage, so optimizers, tied weights, views and maps holding it
 * see the new values (loading weights, restoring a snapshot, updating batch-norm statistics). Records no
 * gradient, so `target` must be a leaf or made without grad (not an intermediate that backward reads) and
 * `source` must not need a gradient (use `noGrad` or `detach()`).
 * @param target the tensor to overwrite (may be a strided view such as a slice; not a broadcast view)
 * @param source the values: same dtype, broadcastable to `target.shape`
 * @returns `target`
 * @example Restore a parameter from a snapshot, then zero one row of it
 * ```ts
 * import { assign, slice, tensor } from "./mod.ts";
 * const w = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * const snapshot = tensor([[5, 6], [7, 8]]);
 * assign(w, snapshot);
 * const plain = w.detach(); // the same storage, outside the graph
 * const row = slice(plain, [0]); // a view of row 0
 * assign(row, 0);
 * if (Array.from(w.dataSync()).join() !== "0,0,7,8") throw new Error("bad assign");
 * for (const t of [w, snapshot, plain, row]) t.dispose();
 * ```
 */
export function assign(target: Tensor, source: Tensor | number): Tensor {
  const backend = backendOf("assign", source instanceof Tensor ? [target, source] : [target]);
  if (target.gradFn !== null) {
    throw new Error(
      `assign: target ${fmt(target.shape)} was made by ${target.gradFn.name} and is part of the autograd ` +
        "graph; assign only into leaves (parameters, buffers) or tensors made without grad (detach() it)",
    );
  }
  if (target.shape.some((d, i) => d > 1 && target.strides[i] === 0)) {
    throw new RangeError(
      `assign: target ${fmt(target.shape)} is a broadcast view; its elements share memory`,
    );
  }
  if (source instanceof Tensor && needsGrad(source)) {
    throw new Error(
      `assign: source ${
        fmt(source.shape)
      } requires grad but assign records no gradient; use noGrad() or detach()`,
    );
  }
  const src = scalarLike(source, target, "assign");
  try {
    if (src.dtype !== target.dtype) {
      throw new TypeError(
        `assign: source dtype ${src.dtype} differs from target ${target.dtype}; cast it first`,
      );
    }
    if (fmt(broadcastShapes(src.shape, target.shape, "assign")) !== fmt(target.shape)) {
      throw new RangeError(
        `assign: source ${fmt(src.shape)} does not broadcast to target ${fmt(target.shape)}`,
      );
    }
    if (src.view.storage === target.view.storage) {
      throw new Error(
        `assign: source and target share storage; pass a copy of the source (e.g. mul(source, 1))`,
      );
    }
    if (target.size > 0) backend.run("copy", [broadcastView(src, target.shape)], [target.view], {});
  } finally {
    if (src !== source) src.dispose();
  }
  return target;
}

function resolveShape(op: string, x: Tensor, shape: readonly number[]): number[] {
  const out = [...shape];
  const free = out.indexOf(-1);
  if (free !== out.lastIndexOf(-1)) throw new RangeError(`${op}: only one -1 allowed in ${fmt(shape)}`);
  if (free >= 0) {
    const rest = numel(out.filter((_, i) => i !== free));
    if (rest === 0 || x.size % rest !== 0) {
      throw new RangeError(`${op}: cannot reshape ${fmt(x.shape)} (${x.size} elements) to ${fmt(shape)}`);
    }
    out[free] = x.size / rest;
  }
  if (out.some((d) => !Number.isInteger(d) || d < 0) || numel(out) !== x.size) {
    throw new RangeError(`${op}: cannot reshape ${fmt(x.shape)} (${x.size} elements) to ${fmt(shape)}`);
  }
  return out;
}

/**
 * `x` with a new shape of the same element count (one axis may be -1). A view when the layout allows,
 * else a copy.
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  backendOf("reshape", [x]);
  const target = resolveShape("reshape", x, shape);
  const strides = viewStrides(x.shape, x.strides, target);
  let out: Tensor;
  if (strides !== null) out = x._viewAs(target, strides, x.offset);
  else {
    const c = _contig(x);
    out = c._viewAs(target, contiguousStrides(target), c.offset);
    c.dispose();
  }
  return record("reshape", [x], [out], ([g]) => [reshape(g!, x.shape)]);
}

/** Flatten axes `start..end` (inclusive; default all) into one. */
export function flatten(x: Tensor, options: { start?: number; end?: number } = {}): Tensor {
  if (x.rank === 0) return reshape(x, [1]);
  const s = normAxis(options.start ?? 0, x.rank, "flatten");
  const e = normAxis(options.end ?? -1, x.rank, "flatten");
  return reshape(x, [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

/** Insert a size-1 axis at `axis` (a view). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normAxis(axis, x.rank + 1, "unsqueeze");
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

/** Remove size-1 axes (all of them, or the one given). */
export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const a = normAxis(axis, x.rank, "squeeze");
  if (x.shape[a] !== 1) {
    throw new RangeError(`squeeze: axis ${axis} of ${fmt(x.shape)} has size ${x.shape[a]}`);
  }
  return reshape(x, x.shape.filter((_, i) => i !== a));
}

/** Reorder axes: output axis `i` is input axis `axes[i]` (a view). */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  backendOf("permute", [x]);
  const ax = axes.map((a) => normAxis(a, x.rank, "permute"));
  if (ax.length !== x.rank || new Set(ax).size !== ax.length) {
    throw new RangeError(`permute: [${axes.join(", ")}] is not a permutation of the axes of ${fmt(x.shape)}`);
  }
  const out = x._viewAs(ax.map((a) => x.shape[a]!), ax.map((a) => x.strides[a]!), x.offset);
  const inverse = new Array<number>(ax.length);
  ax.forEach((a, i) => (inverse[a] = i));
  return record("permute", [x], [out], ([g]) => [permute(g!, inverse)]);
}

/** Swap two axes (default the last two) — a view, no copy. */
export function transpose(x: Tensor, axes?: readonly [number, number]): Tensor {
  if (x.rank < 2 && axes === undefined) {
    throw new RangeError(`transpose: tensor ${fmt(x.shape)} has fewer than 2 axes`);
  }
  const [a0, a1] = axes ?? [-2, -1];
  const i = normAxis(a0, x.rank, "transpose"), j = normAxis(a1, x.rank, "transpose");
  const order = Array.from({ length: x.rank }, (_, k) => k);
  order[i] = j;
  order[j] = i;
  return permute(x, order);
}

/** Broadcast size-1 axes (and new leading axes) to `shape`; -1 keeps an axis. A view with stride 0. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  backendOf("expand", [x]);
  const lead = shape.length - x.rank;
  if (lead < 0) throw new RangeError(`expand: cannot expand ${fmt(x.shape)} to fewer axes ${fmt(shape)}`);
  const target = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead]! : d));
  const strides = target.map((d, i) => {
    if (i < lead) return 0;
    const xd = x.shape[i - lead]!;
    if (xd === d) return x.strides[i - lead]!;
    if (xd === 1) return 0;
    throw new RangeError(`expand: cannot expand ${fmt(x.shape)} to ${fmt(shape)}`);
  });
  const out = x._viewAs(target, strides, x.offset);
  return record("expand", [x], [out], ([g]) => [sumToRaw(g!, x.shape)]);
}

/** One axis of a {@linkcode slice}: an index (drops the axis), `[start, end?, step?]`, or null (all). */
export type SliceSpec = number | readonly [number, number?, number?] | null;

function sliceLayout(x: Tensor, specs: readonly SliceSpec[]) {
  if (specs.length > x.rank) {
    throw new RangeError(`slice: ${specs.length} specs for tensor ${fmt(x.shape)} of rank ${x.rank}`);
  }
  const shape: number[] = [], strides: number[] = [];
  let offset = x.offset;
  x.shape.forEach((dim, axis) => {
    const spec = specs[axis] ?? null;
    const stride = x.strides[axis]!;
    if (spec === null) {
      shape.push(dim);
      strides.push(stride);
    } else if (typeof spec === "number") {
      const i = spec < 0 ? spec + dim : spec;
      if (!Number.isInteger(i) || i < 0 || i >= dim) {
        throw new RangeError(`slice: index ${spec} out of range for axis ${axis} of ${fmt(x.shape)}`);
      }
      offset += i * stride;
    } else {
      const step = spec[2] ?? 1;
      if (!Number.isInteger(step) || step <= 0) {
        throw new RangeError(`slice: step ${step} must be a positive integer`);
      }
      const clampIdx = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
      const start = clampIdx(spec[0]), end = clampIdx(spec[1] ?? dim);
      const n = Math.max(0, Math.ceil((end - start) / step));
      shape.push(n);
      strides.push(stride * step);
      if (n > 0) offset += start * stride;
    }
  });
  return { shape, strides, offset };
}

/**
 * NumPy-style basic slicing (a view): one spec per leading axis, e.g. `slice(x, [null, [1, 3]])` is
 * `x[:, 1:3]`; negative indices count from the end; a number selects and drops the axis.
 */
export function slice(x: Tensor, specs: readonly SliceSpec[]): Tensor {
  backendOf("slice", [x]);
  const { shape, strides, offset } = sliceLayout(x, specs);
  const out = x._viewAs(shape, strides, offset);
  return record("slice", [x], [out], ([g]) => {
    const gx = zeros(x.shape, { dtype: g!.dtype, backend: g!.backend });
    const dst = sliceLayout(gx, specs);
    if (g!.size > 0) {
      g!.backend.run("copy", [g!.view], [{ storage: gx.view.storage, ...dst }], {});
    }
    return [gx];
  });
}

/** Options of {@linkcode narrow}. */
export interface NarrowOptions {
  /** Axis to narrow. */
  axis: number;
  /** First index kept. */
  start: number;
  /** Number of indices kept. */
  length: number;
}

/** Keep `length` indices of one axis from `start` (a view). */
export function narrow(x: Tensor, options: NarrowOptions): Tensor {
  const a = normAxis(options.axis, x.rank, "narrow");
  const { start, length } = options;
  if (start < 0 || length < 0 || start + length > x.shape[a]!) {
    throw new RangeError(
      `narrow: [${start}, ${start + length}) is out of range for axis ${a} of ${fmt(x.shape)}`,
    );
  }
  const specs: SliceSpec[] = x.shape.map(() => null);
  specs[a] = [start, start + length];
  return slice(x, specs);
}

function checkJoin(op: string, tensors: readonly Tensor[], axis: number, stacking: boolean): number {
  if (tensors.length === 0) throw new RangeError(`${op}: needs at least one tensor`);
  backendOf(op, tensors);
  sameDtype(op, tensors);
  const first = tensors[0]!;
  const a = normAxis(axis, first.rank + (stacking ? 1 : 0), op);
  for (const t of tensors) {
    const ok = t.rank === first.rank &&
      t.shape.every((d, i) => (i === a && !stacking) || d === first.shape[i]);
    if (!ok) {
      throw new RangeError(
        `${op}: shapes ${tensors.map((x) => fmt(x.shape)).join(", ")} differ off axis ${a}`,
      );
    }
  }
  return a;
}

/** Join tensors along an existing axis (a copy). */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  const a = checkJoin("concat", tensors, axis, false);
  const first = tensors[0]!;
  const shape = [...first.shape];
  shape[a] = tensors.reduce((s, t) => s + t.shape[a]!, 0);
  const result = _empty(shape, first.dtype, first.backend);
  let at = 0;
  for (const t of tensors) {
    const n = t.shape[a]!;
    if (t.size > 0) {
      const v = result.view;
      const strides = v.strides;
      first.backend.run("copy", [t.view], [{ ...v, shape: t.shape, offset: at * strides[a]! }], {});
    }
    at += n;
  }
  return record("concat", tensors, [result], ([g]) => {
    let start = 0;
    return tensors.map((t) => {
      const part = narrow(g!, { axis: a, start, length: t.shape[a]! });
      start += t.shape[a]!;
      return part;
    });
  });
}

/** Join same-shape tensors along a new axis (a copy). */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  const a = checkJoin("stack", tensors, axis, true);
  const first = tensors[0]!;
  const shape = [...first.shape];
  shape.splice(a, 0, tensors.length);
  const result = _empty(shape, first.dtype, first.backend);
  const v = result.view;
  const strides = v.strides.filter((_, i) => i !== a);
  tensors.forEach((t, i) => {
    if (t.size > 0) {
      first.backend.run("copy", [t.view], [{ ...v, shape: t.shape, strides, offset: i * v.strides[a]! }], {});
    }
  });
  return record("stack", tensors, [result], ([g]) =>
    tensors.map((_, i) => {
      const specs: SliceSpec[] = g!.shape.map(() => null);
      specs[a] = i;
      return slice(g!, specs);
    }));
}

/** Options of {@linkcode split} and {@linkcode chunk}. */
export interface SplitOptions {
  /** Axis to split. @default 0 */
  axis?: number;
}

/** Split into views of `size` indices each (the last may be shorter), or of the listed sizes. */
export function split(x: Tensor, sizes: number | readonly number[], options: SplitOptions = {}): Tensor[] {
  const a = normAxis(options.axis ?? 0, x.rank, "split");
  const dim = x.shape[a]!;
  let list: number[];
  if (typeof sizes === "number") {
    if (!(sizes > 0)) throw new RangeError(`split: size ${sizes} must be positive`);
    list = [];
    for (let s = 0; s < dim; s += sizes) list.push(Math.min(sizes, dim - s));
  } else {
    list = [...sizes];
    if (list.reduce((s, n) => s + n, 0) !== dim) {
      throw new RangeError(`split: sizes [${list.join(", ")}] do not add up to axis ${a} of ${fmt(x.shape)}`);
    }
  }
  let start = 0;
  return list.map((length) => {
    const part = narrow(x, { axis: a, start, length });
    start += length;
    return part;
  });
}

/** Split into `n` nearly equal views (PyTorch `chunk`: each `ceil(dim / n)` long). */
export function chunk(x: Tensor, n: number, options: SplitOptions = {}): Tensor[] {
  const a = normAxis(options.axis ?? 0, x.rank, "chunk");
  return split(x, Math.max(1, Math.ceil(x.shape[a]! / n)), { axis: a });
}
