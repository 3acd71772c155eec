/**
 * Indexing ops: {@linkcode embedding} (row lookup), {@linkcode indexSelect}, PyTorch-style {@linkcode gather},
 * {@linkcode scatterAdd} and {@linkcode topk}. Indices are i32 tensors; an index out of range is an error that
 * names the op (checked on the host on backends that read synchronously).
 *
 * @example Look up embedding rows
 * ```ts
 * import { embedding, tensor } from "./mod.ts";
 * const table = tensor([[0, 0], [1, 1], [2, 2]]);
 * const ids = tensor([[2, 0]], { dtype: "i32" });
 * const y = embedding(table, ids); // (1, 2, 2)
 * if (Array.from(y.dataSync()).join() !== "2,2,0,0") throw new Error("bad lookup");
 * for (const t of [table, ids, y]) t.dispose();
 * ```
 *
 * @module
 */

import type { View } from "../gpu/backend.ts";
import { _composite, record } from "./autograd.ts";
import { _contig, backendOf, launch, needFloat, needInt } from "./_kernel.ts";
import { fmt, normAxis, numel } from "./_shape.ts";
import { arange, type Tensor, tidy, zeros } from "./_tensor_core.ts";
import { concat, permute, reshape } from "./ops_shape.ts";
import { add, eq, mul, neg, where } from "./ops_elementwise.ts";
import { argmax } from "./ops_reduce.ts";

function flatIds(op: string, ids: Tensor, rows: number): { view: View; owned?: Tensor } {
  needInt(op, ids);
  const c = _contig(ids);
  if (c.backend.readSync && c.size > 0) {
    const v = c.view;
    const data = c.backend.readSync(v.storage);
    for (let i = 0; i < c.size; i++) {
      const id = data[v.offset + i]!;
      if (!(id >= 0 && id < rows)) {
        if (c !== ids) c.dispose();
        throw new RangeError(
          `${op}: index ${id} at position ${i} is out of range [0, ${rows}) (ids ${fmt(ids.shape)})`,
        );
      }
    }
  }
  const v = c.view;
  const view = { storage: v.storage, shape: [c.size], strides: [1], offset: v.offset };
  return c === ids ? { view } : { view, owned: c };
}

/** Rows `ids` of a `(V, D)` table (no graph). */
function gatherRaw(op: string, table: Tensor, ids: Tensor): Tensor {
  const backend = backendOf(op, [table, ids]);
  if (table.rank !== 2) throw new RangeError(`${op}: table must be (V, D), got ${fmt(table.shape)}`);
  const [V, D] = table.shape as [number, number];
  const iv = flatIds(op, ids, V);
  const t = _contig(table);
  const out = launch(backend, "gather", [t.view, iv.view], [[[ids.size, D], table.dtype]], {})[0]!;
  if (t !== table) t.dispose();
  iv.owned?.dispose();
  return out;
}

/** Sum rows of `src (N, D)` into a zero `(rows, D)` table at `ids` (no graph). */
function scatterRaw(op: string, src: Tensor, ids: Tensor, rows: number): Tensor {
  const backend = backendOf(op, [src, ids]);
  const D = src.shape[1]!;
  const table = zeros([rows, D], { dtype: src.dtype, backend });
  if (src.size === 0) return table;
  const iv = flatIds(op, ids, rows);
  const s = _contig(src);
  backend.run("scatterAdd", [s.view, iv.view], [table.view], {});
  if (s !== src) s.dispose();
  iv.owned?.dispose();
  return table;
}

/**
 * Look up rows of `table (V, D)` for i32 `ids` of any shape.
 * @returns `(...ids.shape, D)`; the gradient scatters back into the table rows
 */
export function embedding(table: Tensor, ids: Tensor): Tensor {
  const flat = gatherRaw("embedding", table, ids);
  const D = table.shape[1]!;
  const out = reshape(flat, [...ids.shape, D]);
  flat.dispose();
  return record("embedding", [table], [out], ([g]) => {
    const g2 = reshape(g!, [ids.size, D]);
    return [scatterRaw("embedding backward", g2, ids, table.shape[0]!)];
  });
}

/** Options of {@linkcode scatterAdd}. */
export interface ScatterAddOptions {
  /** Number of rows of the result. */
  rows: number;
}

/**
 * A `(rows, D)` tensor of zeros with row `ids[i]` += `src[i]` (the adjoint of {@linkcode embedding}).
 * @param src `(N, D)`
 * @param ids i32 `(N)`
 */
export function scatterAdd(src: Tensor, ids: Tensor, options: ScatterAddOptions): Tensor {
  if (src.rank !== 2 || ids.rank !== 1 || ids.shape[0] !== src.shape[0]) {
    throw new RangeError(
      `scatterAdd: needs src (N, D) and ids (N), got ${fmt(src.shape)} and ${fmt(ids.shape)}`,
    );
  }
  const out = scatterRaw("scatterAdd", src, ids, options.rows);
  return record("scatterAdd", [src], [out], ([g]) => [gatherRaw("scatterAdd backward", g!, ids)]);
}

/** Options of the axis-wise index ops. */
export interface AxisOptions {
  /** Axis to index. @default 0 for indexSelect, -1 for gather */
  axis?: number;
}

function moveLast(x: Tensor, a: number): Tensor {
  return permute(x, [...x.shape.map((_, i) => i).filter((i) => i !== a), a]);
}
function moveBack(y: Tensor, a: number): Tensor {
  const order = y.shape.map((_, i) => i);
  const last = order.pop()!;
  order.splice(a, 0, last);
  return permute(y, order);
}

/** Select entries along `axis` by a 1-D i32 `ids` (PyTorch `index_select`). */
export function indexSelect(x: Tensor, ids: Tensor, options: AxisOptions = {}): Tensor {
  const a = normAxis(options.axis ?? 0, x.rank, "indexSelect");
  if (ids.rank !== 1) throw new RangeError(`indexSelect: ids must be 1-D, got ${fmt(ids.shape)}`);
  return _composite([x], () => {
    const front = a === 0 ? x : permute(x, [a, ...x.shape.map((_, i) => i).filter((i) => i !== a)]);
    const rest = front.shape.slice(1);
    const rows = embedding(reshape(front, [x.shape[a]!, numel(rest)]), ids);
    const y = reshape(rows, [ids.shape[0]!, ...rest]);
    if (a === 0) return y;
    const order = rest.map((_, i) => i + 1);
    order.splice(a, 0, 0);
    return permute(y, order);
  });
}

/**
 * PyTorch-style gather: `out[..., j, ...] = x[..., index[..., j, ...], ...]` along `axis`; `index` has the
 * shape of `x` except along `axis`.
 */
export function gather(x: Tensor, index: Tensor, options: AxisOptions = {}): Tensor {
  const a = normAxis(options.axis ?? -1, x.rank, "gather");
  needInt("gather", index);
  if (index.rank !== x.rank || index.shape.some((d, i) => i !== a && d !== x.shape[i])) {
    throw new RangeError(
      `gather: index ${fmt(index.shape)} must match x ${fmt(x.shape)} on every axis but ${a}`,
    );
  }
  const C = x.shape[a]!, k = index.shape[a]!;
  flatIds("gather", index, C).owned?.dispose();
  return _composite([x], () => {
    const xl = moveLast(x, a);
    const R = xl.size / Math.max(C, 1);
    const table = reshape(xl, [xl.size, 1]);
    const il = reshape(moveLast(index, a), [R, k]);
    const base = mul(reshape(arange(R, { backend: x.backend }), [R, 1]), C);
    const flat = add(il, base);
    const y = reshape(embedding(table, flat), [...xl.shape.slice(0, -1), k]);
    return moveBack(y, a);
  });
}

/** Options of {@linkcode topk}. */
export interface TopkOptions {
  /** Axis to search. @default -1 */
  axis?: number;
  /** Largest (true) or smallest (false) values. @default true */
  largest?: boolean;
}

/**
 * The `k` largest (or smallest) entries along an axis, sorted, with their i32 indices; computed on the device
 * by `k` rounds of argmax-and-mask (ties resolve to the lower index). Values carry gradients.
 */
export function topk(x: Tensor, k: number, options: TopkOptions = {}): { values: Tensor; indices: Tensor } {
  needFloat("topk", x);
  const a = normAxis(options.axis ?? -1, x.rank, "topk");
  const C = x.shape[a]!;
  if (!Number.isInteger(k) || k < 0 || k > C) {
    throw new RangeError(`topk: k = ${k} is out of range [0, ${C}] for axis ${a} of ${fmt(x.shape)}`);
  }
  const indices = tidy(() => {
    let work = _contig(moveLast(x.detach(), a));
    if (options.largest === false) work = neg(work);
    const cols = arange(C, { backend: x.backend });
    const picks: Tensor[] = [];
    for (let i = 0; i < k; i++) {
      const idx = argmax(work, { axis: -1, keepdim: true });
      picks.push(idx);
      if (i + 1 < k) work = where(eq(cols, idx), { then: -Infinity, else: work });
    }
    const last = k === 0
      ? zeros([...work.shape.slice(0, -1), 0], { dtype: "i32", backend: x.backend })
      : concat(picks, -1);
    return _contig(moveBack(last, a));
  });
  return { values: gather(x, indices, { axis: a }), indices };
}
