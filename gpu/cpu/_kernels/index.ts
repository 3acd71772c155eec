/**
 * CPU index kernels: `gather` rows of a table by i32 ids and `scatterAdd` rows back (the embedding forward and
 * backward). Ids outside the table are errors naming the id, its position and the shapes.
 *
 * @module
 */

import {
  type Arg,
  type CpuKernels,
  expectArity,
  expectContiguous,
  expectDtype,
  expectRank,
  expectShape,
  KernelError,
  mat,
  rowsCols,
  shapeStr,
  vec,
} from "../_args.ts";

function checkId(kernel: string, id: number, i: number, V: number, shapes: string): void {
  if (!(id >= 0 && id < V)) {
    throw new KernelError(kernel, `id ${id} at position ${i} is outside [0, ${V}) (shapes ${shapes})`);
  }
}

/** `gather` kernel: rows of a `(V, D)` table by i32 ids. */
export function gather(ins: readonly Arg[], outs: readonly Arg[]): void {
  expectArity("gather", ins, outs, 2, 1);
  const [V, D] = rowsCols("gather", ins[0]!);
  const ids = ins[1]!, y = outs[0]!;
  expectRank("gather", "ids", ids, 1);
  expectDtype("gather", "ids", ids, "i32");
  const N = ids.shape[0]!;
  expectShape("gather", "output", y, [N, D]);
  expectContiguous("gather", "output", y);
  const t = mat(ins[0]!), iv = vec(ids), out = y.data;
  const shapes = `table ${shapeStr(ins[0]!.shape)}, ids ${shapeStr(ids.shape)}`;
  // Rows with unit stride in a table of the output's dtype are copied with `set` (a memcpy each).
  const rows = t.cs === 1 && t.data.constructor === out.constructor;
  for (let i = 0; i < N; i++) {
    const id = iv.data[iv.off + i * iv.s]!;
    checkId("gather", id, i, V, shapes);
    let p = t.off + id * t.rs, q = y.offset + i * D;
    if (rows) out.set(t.data.subarray(p, p + D), q);
    else for (let d = 0; d < D; d++, p += t.cs) out[q++] = t.data[p]!;
  }
}

/** `scatterAdd` kernel: `table[ids[i]] += src[i]`. */
export function scatterAdd(ins: readonly Arg[], outs: readonly Arg[]): void {
  expectArity("scatterAdd", ins, outs, 2, 1);
  const [N, D] = rowsCols("scatterAdd", ins[0]!);
  const ids = ins[1]!, table = outs[0]!;
  expectDtype("scatterAdd", "ids", ids, "i32");
  expectShape("scatterAdd", "ids", ids, [N]);
  const tshape = expectRank("scatterAdd", "output table", table, 2);
  const V = tshape[0]!;
  if (tshape[1] !== D) {
    throw new KernelError(
      "scatterAdd",
      `src ${shapeStr(ins[0]!.shape)} and table ${shapeStr(tshape)} differ in the last axis`,
    );
  }
  const s = mat(ins[0]!), iv = vec(ids), t = mat(table);
  const shapes = `src ${shapeStr(ins[0]!.shape)}, ids ${shapeStr(ids.shape)}, table ${shapeStr(tshape)}`;
  for (let i = 0; i < N; i++) checkId("scatterAdd", iv.data[iv.off + i * iv.s]!, i, V, shapes);
  for (let i = 0; i < N; i++) {
    const id = iv.data[iv.off + i * iv.s]!;
    let p = s.off + i * s.rs, q = t.off + id * t.rs;
    for (let d = 0; d < D; d++, p += s.cs, q += t.cs) t.data[q] = t.data[q]! + s.data[p]!;
  }
}

/** The index family. */
export const INDEX_KERNELS: CpuKernels<"gather" | "scatterAdd"> = { gather, scatterAdd };
