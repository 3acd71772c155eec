/**
 * WebGPU `reduce` kernel: sum, mean, sum of squares, max, min, argmax, argmin over the last axis of a strided
 * `(R, C)` view, one workgroup per row (the row helpers of `rows.ts`). i32 inputs are reduced in f32.
 *
 * @module
 */

import type { KernelAttrs, ReduceOp, View } from "../../backend.ts";
import type { GpuContext, GpuKernels } from "../_context.ts";
import { UniformWriter } from "../_exec.ts";
import { fail, shapeStr } from "../_storage.ts";
import { MATH_WGSL } from "./elementwise.ts";
import { MAX_TREE, ROW_HEAD, ROW_WG, rowLoader, rowTree, SUM_TREE } from "./rows.ts";

/** `reduce` over the last axis. Uniforms: R, C, xOff, xRs, xCs, yOff, yS. */
export function reduceCode(
  op: ReduceOp,
  inT: "f32" | "i32" = "f32",
  outT: "f32" | "i32" = "f32",
  tex = false,
): { key: string; code: () => string } {
  if (!["sum", "mean", "max", "min", "argmax", "argmin", "sumSquares"].includes(op)) {
    throw new Error(`webgpu reduce: unknown op "${op}"`);
  }
  const code = () => {
    const arg = op === "argmax" || op === "argmin";
    const L = [
      MATH_WGSL,
      rowLoader(tex, inT),
      arg ? "" : `fn sto(i: i32, v: f32) { $1[i] = ${outT === "i32" ? "f2i(v)" : "v"}; }`,
      `var<workgroup> sv: array<f32, ${ROW_WG}>;`,
      `var<workgroup> si: array<u32, ${ROW_WG}>;`,
    ];
    L.push(ROW_HEAD);
    if (op === "sum" || op === "mean" || op === "sumSquares") {
      L.push("  var acc = 0.0;");
      L.push(
        `  for (var c = lid; c < C; c = c + ${ROW_WG}u) { let v = ldx(xb + i32(c) * xcs); acc = acc + ${
          op === "sumSquares" ? "v * v" : "v"
        }; }`,
      );
      L.push("  sv[lid] = acc;", SUM_TREE);
      L.push(
        `  if (lid == 0u) { sto(ui(5u) + i32(row) * ui(6u), ${
          op === "mean" ? "sv[0] / f32(C)" : "sv[0]"
        }); }`,
      );
    } else if (!arg) {
      const better = op === "max" ? "v > acc" : "v < acc";
      L.push(`  var acc = ${op === "max" ? "neg_inf()" : "-neg_inf()"};`);
      L.push(
        `  for (var c = lid; c < C; c = c + ${ROW_WG}u) { let v = ldx(xb + i32(c) * xcs); if (${better} || is_nan(v)) { acc = v; } if (is_nan(v)) { break; } }`,
      );
      L.push("  sv[lid] = acc;", op === "max" ? MAX_TREE : rowTree("sv[ia] = fmin(sv[ia], sv[ib]);"));
      L.push("  if (lid == 0u) { sto(ui(5u) + i32(row) * ui(6u), sv[0]); }");
    } else {
      const sign = op === "argmax" ? "1.0" : "-1.0";
      L.push("  var best = neg_inf(); var bi = 0xffffffffu; var nan = false;");
      L.push(`  for (var c = lid; c < C; c = c + ${ROW_WG}u) {
    let v = ldx(xb + i32(c) * xcs) * ${sign};
    if (is_nan(v)) { best = v; bi = c; nan = true; break; }
    if (v > best) { best = v; bi = c; }
  }`);
      L.push("  sv[lid] = best; si[lid] = bi;");
      L.push(rowTree(`
      let na = is_nan(sv[ia]); let nb = is_nan(sv[ib]);
      var takeB = false;
      if (nb) { takeB = !na || si[ib] < si[ia]; }
      else if (!na) { takeB = si[ib] != 0xffffffffu && (si[ia] == 0xffffffffu || sv[ib] > sv[ia] || (sv[ib] == sv[ia] && si[ib] < si[ia])); }
      if (takeB) { sv[ia] = sv[ib]; si[ia] = si[ib]; }`));
      L.push(
        "  if (lid == 0u) { var r = si[0]; if (r == 0xffffffffu) { r = 0u; } $1[ui(5u) + i32(row) * ui(6u)] = i32(r); }",
      );
      L.push("  _ = nan;");
    }
    L.push("}");
    return L.join("\n");
  };
  return { key: `reduce|${op}|${inT}|${outT}|${tex}`, code };
}

function reduce(
  ins: readonly View[],
  outs: readonly View[],
  attrs: KernelAttrs["reduce"],
  ctx: GpuContext,
): void {
  const k = `reduce ${attrs.op}`;
  ctx.arity(k, ins, outs, 1, 1);
  const x = ins[0]!, y = outs[0]!;
  const [R, C] = ctx.rows(k, x);
  ctx.shape(k, "output", y, [R]);
  // i32 inputs are reduced in f32 (exact up to 2^24); argmax/argmin write i32, the others the output's dtype
  const arg = attrs.op === "argmax" || attrs.op === "argmin";
  if (arg) ctx.dtype(k, "output", y, "i32");
  if (C === 0 && R > 0 && !["sum", "mean", "sumSquares"].includes(attrs.op)) {
    fail(k, `cannot take ${attrs.op} of empty rows: input shape ${shapeStr(x.shape)}`);
  }
  if (R === 0) return;
  const src = ctx.rowSource(x, R, C);
  const u = new UniformWriter();
  u.u32(R), u.u32(C), src.m2(u), ctx.v1(u, y);
  const inT = x.storage.dtype === "i32" ? "i32" : "f32", outT = y.storage.dtype === "i32" ? "i32" : "f32";
  const { key, code } = reduceCode(attrs.op, inT, outT, src.tex);
  ctx.launch({
    key,
    code,
    operands: [src.op, ctx.buf(y, true)],
    uniforms: u.words().slice(),
    workgroups: R,
  });
  ctx.touch(y);
}

/** The reduce family. */
export const REDUCE_KERNELS: GpuKernels<"reduce"> = { reduce };
