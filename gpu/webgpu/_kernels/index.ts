/**
 * WebGPU index kernels: `gather` rows of a table by i32 ids (ids outside the table give zeros) and `scatterAdd`
 * rows back into a table (one invocation per column walks the ids in order, so duplicates add deterministically).
 *
 * @module
 */

import type { View } from "../../backend.ts";
import type { GpuContext, GpuKernels } from "../_context.ts";
import { UniformWriter } from "../_exec.ts";
import { fail, shapeStr } from "../_storage.ts";
import { flatMain } from "./elementwise.ts";

/** `gather`. Uniforms: N, D, V, tOff, tRs, tCs, idOff, idS, yOff. Ids outside `[0, V)` give zeros. */
export function gatherCode(dtype: string): { key: string; code: () => string } {
  const zero = dtype === "i32" ? "0" : "0.0";
  const code = () =>
    `${flatMain("uu(0u) * uu(1u)")}
  let D = uu(1u); let n = i / D; let d = i % D;
  let id = $1[ui(6u) + i32(n) * ui(7u)];
  var v = ${zero};
  if (id >= 0 && u32(id) < uu(2u)) { v = $0[ui(3u) + id * ui(4u) + i32(d) * ui(5u)]; }
  $2[ui(8u) + i32(i)] = v;
}`;
  return { key: `gather|${dtype}`, code };
}

/**
 * `scatterAdd`: one invocation per column walks the ids in order, so sums are deterministic and equal the CPU
 * order. Uniforms: N, D, V, sOff, sRs, sCs, idOff, idS, tOff, tRs, tCs. Ids outside `[0, V)` are skipped.
 */
export function scatterAddCode(): { key: string; code: () => string } {
  const code = () =>
    `${flatMain("uu(1u)")}
  let d = i32(i);
  for (var n = 0u; n < uu(0u); n = n + 1u) {
    let id = $1[ui(6u) + i32(n) * ui(7u)];
    if (id < 0 || u32(id) >= uu(2u)) { continue; }
    let q = ui(8u) + id * ui(9u) + d * ui(10u);
    $2[q] = $2[q] + $0[ui(3u) + i32(n) * ui(4u) + d * ui(5u)];
  }
}`;
  return { key: "scatterAdd", code };
}

function gather(ins: readonly View[], outs: readonly View[], _attrs: unknown, ctx: GpuContext): void {
  ctx.arity("gather", ins, outs, 2, 1);
  const [table, ids] = ins as [View, View];
  const [V, D] = ctx.rows("gather", table);
  if (ids.shape.length !== 1) fail("gather", `ids must be 1-D, got shape ${shapeStr(ids.shape)}`);
  ctx.dtype("gather", "ids", ids, "i32");
  const N = ids.shape[0]!, y = outs[0]!;
  ctx.shape("gather", "output", y, [N, D]);
  ctx.contiguous("gather", "output", y);
  if (table.storage.dtype !== y.storage.dtype) {
    fail("gather", `table is ${table.storage.dtype} but output is ${y.storage.dtype}`);
  }
  if (N * D === 0) return;
  const u = new UniformWriter();
  u.u32(N), u.u32(D), u.u32(V), ctx.m2(u, table), ctx.v1(u, ids), u.i32(y.offset);
  const { key, code } = gatherCode(y.storage.dtype);
  ctx.launch({
    key,
    code,
    operands: [ctx.buf(table), ctx.buf(ids), ctx.buf(y, true)],
    uniforms: u.words().slice(),
    workgroups: Math.ceil((N * D) / 64),
  });
  ctx.touch(y);
}

function scatterAdd(ins: readonly View[], outs: readonly View[], _attrs: unknown, ctx: GpuContext): void {
  ctx.arity("scatterAdd", ins, outs, 2, 1);
  const [src, ids] = ins as [View, View];
  const [N, D] = ctx.rows("scatterAdd", src);
  ctx.dtype("scatterAdd", "ids", ids, "i32");
  ctx.dtype("scatterAdd", "src", src, "f32");
  ctx.shape("scatterAdd", "ids", ids, [N]);
  const t = outs[0]!;
  const [V, D2] = ctx.rows("scatterAdd", t);
  ctx.dtype("scatterAdd", "table", t, "f32");
  if (D2 !== D) {
    fail("scatterAdd", `src ${shapeStr(src.shape)} and table ${shapeStr(t.shape)} differ in the last axis`);
  }
  if (N * D === 0) return;
  const u = new UniformWriter();
  u.u32(N), u.u32(D), u.u32(V), ctx.m2(u, src), ctx.v1(u, ids), ctx.m2(u, t);
  const { key, code } = scatterAddCode();
  ctx.launch({
    key,
    code,
    operands: [ctx.buf(src), ctx.buf(ids), ctx.buf(t, true)],
    uniforms: u.words().slice(),
    workgroups: Math.ceil(D / 64),
  });
  ctx.touch(t);
}

/** The index family. */
export const INDEX_KERNELS: GpuKernels<"gather" | "scatterAdd"> = { gather, scatterAdd };
