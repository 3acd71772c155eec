/**
 * Matrix products: {@linkcode matmul} with NumPy/PyTorch semantics (1-D operands, batched operands with
 * broadcast batch axes). Transposed operands are passed to the backend as strided views, never copied.
 *
 * @example A batched product with a shared right operand
 * ```ts
 * import { matmul, ones, transpose } from "./mod.ts";
 * const a = ones([4, 2, 3]), w = ones([5, 3]);
 * const y = matmul(a, transpose(w)); // (4, 2, 5); w^T is a view
 * if (y.shape.join() !== "4,2,5" || y.dataSync()[0] !== 3) throw new Error("bad matmul");
 * for (const t of [a, w, y]) t.dispose();
 * ```
 *
 * @module
 */

import type { View } from "../gpu/backend.ts";
import { _composite, record } from "./autograd.ts";
import { backendOf, needFloat, sameDtype, sumToRaw } from "./_kernel.ts";
import { broadcastShapes, contiguousStrides, fmt, numel, viewStrides } from "./_shape.ts";
import { _empty, type Tensor } from "./_tensor_core.ts";
import { reshape, transpose } from "./ops_shape.ts";

/** One matmul operand: storage, offset, per-batch-axis strides and inner strides (one of them unit). */
interface Operand {
  view: View;
  bStrides: number[];
  rs: number;
  cs: number;
  owned?: Tensor;
}

/** Most outer batch combinations launched separately before a broadcast operand is copied instead. */
const MAX_LAUNCHES = 16;

/** `t` broadcast to `batch` as an operand with a unit-stride inner axis (a contiguous copy when needed). */
function operand(t: Tensor, batch: readonly number[], copy: boolean): Operand {
  const r = t.shape[t.rank - 2]!, c = t.shape[t.rank - 1]!;
  const tb = t.shape.slice(0, -2), tbs = t.strides.slice(0, -2);
  const lead = batch.length - tb.length;
  const bStrides = batch.map((d, i) => (i < lead || (tb[i - lead] === 1 && d !== 1) ? 0 : tbs[i - lead]!));
  let rs = t.strides[t.rank - 2]!, cs = t.strides[t.rank - 1]!;
  if (c === 1) cs = 1;
  else if (r === 1) rs = 1;
  const v = t.view;
  if (!copy && (rs === 1 || cs === 1)) return { view: v, bStrides, rs, cs };
  const full = [...batch, r, c];
  const tmp = _empty(full, t.dtype, t.backend);
  t.backend.run("copy", [{
    storage: v.storage,
    shape: full,
    strides: [...bStrides, rs, cs],
    offset: v.offset,
  }], [
    tmp.view,
  ], {});
  const strides = contiguousStrides(full);
  return { view: tmp.view, bStrides: strides.slice(0, -2), rs: c, cs: 1, owned: tmp };
}

/** The single stride that walks `shape` with `strides`, or null when the axes do not collapse. */
function collapse(shape: readonly number[], strides: readonly number[]): number | null {
  if (shape.length === 0) return 0;
  return viewStrides(shape, strides, [numel(shape)])?.[0] ?? null;
}

/** First batch axis from which both operands index the remaining batch axes with one stride each. */
function splitAxis(batch: readonly number[], a: Operand, b: Operand): number {
  let p = 0;
  while (p < batch.length) {
    const sh = batch.slice(p);
    if (collapse(sh, a.bStrides.slice(p)) !== null && collapse(sh, b.bStrides.slice(p)) !== null) break;
    p++;
  }
  return p;
}

function matmulRaw(a: Tensor, b: Tensor): Tensor {
  const backend = backendOf("matmul", [a, b]);
  const dtype = sameDtype("matmul", [a, b]);
  needFloat("matmul", a);
  const m = a.shape[a.rank - 2]!, k = a.shape[a.rank - 1]!, n = b.shape[b.rank - 1]!;
  if (b.shape[b.rank - 2] !== k) {
    throw new RangeError(`matmul: inner dimensions differ: ${fmt(a.shape)} @ ${fmt(b.shape)}`);
  }
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), "matmul (batch axes)");
  const outShape = [...batch, m, n];
  if (numel(outShape) === 0) return _empty(outShape, dtype, backend);
  if (k === 0) {
    const z = _empty(outShape, dtype, backend);
    backend.write(z.view.storage, new (dtype === "f64" ? Float64Array : Float32Array)(z.size));
    return z;
  }
  let A = operand(a, batch, false), B = operand(b, batch, false);
  let p = splitAxis(batch, A, B);
  if (numel(batch.slice(0, p)) > MAX_LAUNCHES) {
    // Too many separate launches: materialise the operands whose batch axes do not collapse.
    if (collapse(batch, A.bStrides) === null) A = operand(a, batch, true);
    if (collapse(batch, B.bStrides) === null) B = operand(b, batch, true);
    p = 0;
  }
  const outer = batch.slice(0, p), inner = numel(batch.slice(p));
  const sa = collapse(batch.slice(p), A.bStrides.slice(p))!,
    sb = collapse(batch.slice(p), B.bStrides.slice(p))!;
  const out = _empty(outShape, dtype, backend);
  const cStrides = contiguousStrides([inner, m, n]);
  for (let o = 0; o < numel(outer); o++) {
    let rem = o, offA = A.view.offset, offB = B.view.offset;
    for (let d = p - 1; d >= 0; d--) {
      const i = rem % outer[d]!;
      rem = (rem - i) / outer[d]!;
      offA += i * A.bStrides[d]!;
      offB += i * B.bStrides[d]!;
    }
    backend.run(
      "matmul",
      [
        { storage: A.view.storage, shape: [inner, m, k], strides: [sa, A.rs, A.cs], offset: offA },
        { storage: B.view.storage, shape: [inner, k, n], strides: [sb, B.rs, B.cs], offset: offB },
      ],
      [{ storage: out.view.storage, shape: [inner, m, n], strides: cStrides, offset: o * inner * m * n }],
      {},
    );
  }
  A.owned?.dispose();
  B.owned?.dispose();
  return out;
}

/**
 * Matrix product `a @ b` as `torch.matmul`: 1-D operands are vectors, leading axes are batch axes that
 * broadcast. Gradients flow to both operands.
 * @param a `(..., M, K)` or `(K)`
 * @param b `(..., K, N)` or `(K)`
 * @returns `(..., M, N)` with 1-D operand axes removed
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  backendOf("matmul", [a, b]);
  if (a.rank === 0 || b.rank === 0) {
    throw new RangeError(`matmul: operands must have at least 1 axis, got ${fmt(a.shape)} @ ${fmt(b.shape)}`);
  }
  if (a.rank === 1 || b.rank === 1) {
    const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]!]) : a;
    const b2 = b.rank === 1 ? reshape(b, [b.shape[0]!, 1]) : b;
    const y = matmul(a2, b2);
    const shape = y.shape.filter((_, i) =>
      !(a.rank === 1 && i === y.rank - 2) && !(b.rank === 1 && i === y.rank - 1)
    );
    const out = reshape(y, shape);
    if (!y.requiresGrad) {
      y.dispose();
      if (a2 !== a) a2.dispose();
      if (b2 !== b) b2.dispose();
    }
    return out;
  }
  if (b.rank === 2 && a.rank > 2 && a.size > 0) {
    // (..., M, K) @ (K, N): one (prod(...) * M, K) @ (K, N) GEMM, so the weight gradient is one GEMM too.
    const K = a.shape[a.rank - 1]!;
    if (b.shape[0] !== K) {
      throw new RangeError(`matmul: inner dimensions differ: ${fmt(a.shape)} @ ${fmt(b.shape)}`);
    }
    return _composite(
      [a, b],
      () => reshape(matmul(reshape(a, [-1, K]), b), [...a.shape.slice(0, -1), b.shape[1]!]),
    );
  }
  const out = matmulRaw(a, b);
  return record("matmul", [a, b], [out], ([g]) => [
    a.requiresGrad ? sumToRaw(matmul(g!, transpose(b)), a.shape) : null,
    b.requiresGrad ? sumToRaw(matmul(transpose(a), g!), b.shape) : null,
  ]);
}
