/**
 * WebGPU row kernels over the last axis of a strided `(R, C)` view, one workgroup of 64 invocations per row with
 * a tree reduction in workgroup memory: `softmax` / log-softmax and `crossEntropy`; `crossEntropyBackward` is
 * per element. Rows past 65,535 use a 2-D grid. Inputs are `(offset, row stride, column stride)` in the uniform,
 * vectors `(offset, stride)`; on CPU-like adapters large f32 inputs are read through textures
 * (`GpuContext.rowSource`). The row WGSL helpers here serve `reduce.ts` too.
 *
 * @module
 */

import type { KernelAttrs, View } from "../../backend.ts";
import type { GpuContext, GpuKernels } from "../_context.ts";
import { UniformWriter } from "../_exec.ts";
import { TEX_W } from "../_textures.ts";
import { MATH_WGSL } from "./elementwise.ts";

/** Invocations per row workgroup. */
export const ROW_WG = 64;

/** Entry point of a row kernel: `row`, `C`, the row's base `xb` and column stride `xcs`. */
export const ROW_HEAD = `@compute @workgroup_size(${ROW_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = flat_wg(wid, nwg);
  if (row >= uu(0u)) { return; }
  let C = uu(1u);
  let xb = ui(2u) + i32(row) * ui(3u); let xcs = ui(4u);`;

/**
 * `ldx(i)`: element `i` of the input, from the storage buffer, or (`tex`) from an `rgba32f` texture in the flat
 * layout (element `i` is component `i % 4` of texel `i / 4`), which llvmpipe fetches several times faster.
 */
export function rowLoader(tex: boolean, inT: "f32" | "i32"): string {
  if (!tex) return `fn ldx(i: i32) -> f32 { return ${inT === "i32" ? "f32($0[i])" : "$0[i]"}; }`;
  return `fn ldx(i: i32) -> f32 {
  let t = u32(i) >> 2u;
  return textureLoad($0, vec2<u32>(t & ${TEX_W - 1}u, t >> ${Math.log2(TEX_W)}u), 0)[u32(i) & 3u];
}`;
}

/** Tree reduction of `sv` (and `si`) in workgroup memory with combine statements over `a`/`b` slots. */
export function rowTree(combine: string): string {
  return `
  for (var s = ${ROW_WG / 2}u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (lid < s) { let ia = lid; let ib = lid + s; ${combine} }
  }
  workgroupBarrier();`;
}

/** Sum of `sv` into `sv[0]`. */
export const SUM_TREE = rowTree("sv[ia] = sv[ia] + sv[ib];");
/** NaN-propagating max of `sv` into `sv[0]`. */
export const MAX_TREE = rowTree("sv[ia] = fmax(sv[ia], sv[ib]);");
/** Row max `mx` and log-sum-exp `lse` of the row (`-inf` rows give `-inf`). */
export const LSE = /* wgsl */ `
  // max ignoring NaN (as the CPU reference: NaN never compares greater), then the sum of exp
  var m = neg_inf();
  for (var c = lid; c < C; c = c + ${ROW_WG}u) { let v = ldx(xb + i32(c) * xcs); if (v > m) { m = v; } }
  sv[lid] = m;
  ${rowTree("sv[ia] = max(sv[ia], sv[ib]);")}
  let mx = sv[0];
  workgroupBarrier();
  var acc = 0.0;
  for (var c = lid; c < C; c = c + ${ROW_WG}u) { acc = acc + exp(ldx(xb + i32(c) * xcs) - mx); }
  sv[lid] = acc;
  ${SUM_TREE}
  var lse = mx + log(sv[0]);
  if (mx == neg_inf()) { lse = mx; }
`;

/** `softmax` / log-softmax. Uniforms: R, C, xOff, xRs, xCs, yOff. Output contiguous `(R, C)`. */
export function softmaxCode(log: boolean, tex = false): { key: string; code: () => string } {
  const code = () =>
    [MATH_WGSL, rowLoader(tex, "f32"), `var<workgroup> sv: array<f32, ${ROW_WG}>;`, ROW_HEAD, LSE].join(
      "\n",
    ) + `
  let yb = ui(5u) + i32(row * C);
  for (var c = lid; c < C; c = c + ${ROW_WG}u) {
    let v = ldx(xb + i32(c) * xcs) - lse;
    $1[yb + i32(c)] = ${log ? "v" : "exp(v)"};
  }
}`;
  return { key: `softmax|${log}|${tex}`, code };
}

/**
 * `crossEntropy`. Uniforms: R, C, xOff, xRs, xCs, tOff, tS, lossOff, lossS, lseOff, lseS, ignoreIndex.
 * A target outside `[0, C)` that is not `ignoreIndex` gives a NaN loss (the CPU backend throws).
 */
export function crossEntropyCode(tex = false): { key: string; code: () => string } {
  const code = () =>
    [MATH_WGSL, rowLoader(tex, "f32"), `var<workgroup> sv: array<f32, ${ROW_WG}>;`, ROW_HEAD, LSE].join(
      "\n",
    ) + `
  if (lid == 0u) {
    let t = $1[ui(5u) + i32(row) * ui(6u)];
    var loss = 0.0;
    if (t != ui(11u)) {
      if (t >= 0 && u32(t) < C) { loss = lse - ldx(xb + t * xcs); } else { loss = qnan(); }
    }
    $2[ui(7u) + i32(row) * ui(8u)] = loss;
    $3[ui(9u) + i32(row) * ui(10u)] = lse;
  }
}`;
  return { key: `crossEntropy|${tex}`, code };
}

/**
 * `crossEntropyBackward`, one invocation per element. Uniforms: R, C, xOff, xRs, xCs, tOff, tS, lseOff, lseS,
 * gOff, gS, yOff, ignoreIndex.
 */
export function crossEntropyBackwardCode(tex = false): { key: string; code: () => string } {
  const code = () =>
    `${rowLoader(tex, "f32")}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_wg(wid, nwg) * 64u + lid;
  let C = uu(1u);
  if (i >= uu(0u) * C) { return; }
  let r = i / C; let c = i % C;
  let t = $1[ui(5u) + i32(r) * ui(6u)];
  var g = 0.0;
  if (t != ui(12u)) {
    let x = ldx(ui(2u) + i32(r) * ui(3u) + i32(c) * ui(4u));
    let lse = $2[ui(7u) + i32(r) * ui(8u)];
    let gl = $3[ui(9u) + i32(r) * ui(10u)];
    g = gl * (exp(x - lse) - select(0.0, 1.0, i32(c) == t));
  }
  $4[ui(11u) + i32(i)] = g;
}`;
  return { key: `crossEntropyBackward|${tex}`, code };
}

function softmax(
  ins: readonly View[],
  outs: readonly View[],
  attrs: KernelAttrs["softmax"],
  ctx: GpuContext,
): void {
  ctx.arity("softmax", ins, outs, 1, 1);
  const x = ins[0]!, y = outs[0]!;
  const [R, C] = ctx.rows("softmax", x);
  ctx.shape("softmax", "output", y, [R, C]);
  ctx.contiguous("softmax", "output", y);
  ctx.dtype("softmax", "input", x, "f32");
  if (R * C === 0) return;
  const src = ctx.rowSource(x, R, C);
  const u = new UniformWriter();
  u.u32(R), u.u32(C), src.m2(u), u.i32(y.offset);
  const { key, code } = softmaxCode(attrs.log, src.tex);
  ctx.launch({
    key,
    code,
    operands: [src.op, ctx.buf(y, true)],
    uniforms: u.words().slice(),
    workgroups: R,
  });
  ctx.touch(y);
}

function crossEntropy(
  ins: readonly View[],
  outs: readonly View[],
  attrs: KernelAttrs["crossEntropy"],
  ctx: GpuContext,
): void {
  const k = "crossEntropy";
  ctx.arity(k, ins, outs, 2, 2);
  const [x, t] = ins as [View, View];
  const [R, C] = ctx.rows(k, x);
  ctx.dtype(k, "targets", t, "i32");
  ctx.shape(k, "targets", t, [R]);
  ctx.shape(k, "output loss", outs[0]!, [R]);
  ctx.shape(k, "output logSumExp", outs[1]!, [R]);
  if (R === 0) return;
  const src = ctx.rowSource(x, R, C);
  const u = new UniformWriter();
  u.u32(R), u.u32(C), src.m2(u), ctx.v1(u, t), ctx.v1(u, outs[0]!), ctx.v1(u, outs[1]!);
  u.i32(attrs.ignoreIndex);
  const { key, code } = crossEntropyCode(src.tex);
  ctx.launch({
    key,
    code,
    operands: [src.op, ctx.buf(t), ctx.buf(outs[0]!, true), ctx.buf(outs[1]!, true)],
    uniforms: u.words().slice(),
    workgroups: R,
  });
  ctx.touch(outs[0]!, outs[1]!);
}

function crossEntropyBackward(
  ins: readonly View[],
  outs: readonly View[],
  attrs: KernelAttrs["crossEntropyBackward"],
  ctx: GpuContext,
): void {
  const k = "crossEntropyBackward";
  ctx.arity(k, ins, outs, 4, 1);
  const [x, t, l, g] = ins as [View, View, View, View];
  const [R, C] = ctx.rows(k, x);
  ctx.dtype(k, "targets", t, "i32");
  ctx.shape(k, "targets", t, [R]);
  ctx.shape(k, "logSumExp", l, [R]);
  ctx.shape(k, "gradLoss", g, [R]);
  const y = outs[0]!;
  ctx.shape(k, "output", y, [R, C]);
  ctx.contiguous(k, "output", y);
  if (R * C === 0) return;
  const src = ctx.rowSource(x, R, C);
  const u = new UniformWriter();
  u.u32(R), u.u32(C), src.m2(u), ctx.v1(u, t), ctx.v1(u, l), ctx.v1(u, g), u.i32(y.offset);
  u.i32(attrs.ignoreIndex);
  const { key, code } = crossEntropyBackwardCode(src.tex);
  ctx.launch({
    key,
    code,
    operands: [src.op, ctx.buf(t), ctx.buf(l), ctx.buf(g), ctx.buf(y, true)],
    uniforms: u.words().slice(),
    workgroups: Math.ceil((R * C) / 64),
  });
  ctx.touch(y);
}

/** The row family. */
export const ROWS_KERNELS: GpuKernels<"softmax" | "crossEntropy" | "crossEntropyBackward"> = {
  softmax,
  crossEntropy,
  crossEntropyBackward,
};
