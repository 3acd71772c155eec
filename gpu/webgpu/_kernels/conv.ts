/**
 * WebGPU 2-D convolution kernels (NCHW, one group), direct convolution in WGSL:
 *
 * - `conv2d`: one invocation per output pixel and block of 4 output channels (64 consecutive pixels per
 *   workgroup, so neighbouring invocations read neighbouring input pixels), accumulating a `vec4` over
 *   `(c, kh, kw)`; one input load serves 4 outputs;
 * - `conv2dBackwardInput`: the transposed convolution gathered per input pixel and block of 4 input channels (an
 *   output position contributes only where `ih + ph - kh dh` is a multiple of the stride);
 * - `conv2dBackwardWeight`: one workgroup of 64 invocations per weight element (and per bias element), each
 *   summing a stride of the `B * OH * OW` products and reducing in workgroup memory.
 *
 * Uniforms (every kernel): 0 B, 1 C, 2 H, 3 W, 4 O, 5 KH, 6 KW, 7 OH, 8 OW, 9 sh, 10 sw, 11 ph, 12 pw, 13 dh,
 * 14 dw, then the offsets of the operands (and the bias stride).
 *
 * @module
 */

import type { Conv2dAttrs, View } from "../../backend.ts";
import { windowOutputSize } from "../../conv_geometry.ts";
import type { GpuContext, GpuKernels } from "../_context.ts";
import { UniformWriter } from "../_exec.ts";
import { fail, shapeStr } from "../_storage.ts";
import { flatMain } from "./elementwise.ts";
import { ROW_WG, rowTree } from "./rows.ts";

/** Sizes of one convolution, in uniform order. */
type Geometry = [number, number, number, number, number, number, number, number, number];

/** Check x `(B, C, H, W)`, w `(O, C, KH, KW)`, y `(B, O, OH, OW)` against `attrs`; returns the sizes. */
export function convCheck(
  ctx: GpuContext,
  kernel: string,
  x: View,
  w: View,
  y: View,
  attrs: Conv2dAttrs,
): Geometry {
  const ok = (v: readonly number[], min: number) =>
    v.length === 2 && v.every((n) => Number.isInteger(n) && n >= min);
  if (!ok(attrs.stride, 1) || !ok(attrs.dilation, 1) || !ok(attrs.padding, 0)) {
    fail(kernel, `stride and dilation must be integers >= 1 and padding >= 0, got ${JSON.stringify(attrs)}`);
  }
  if (x.shape.length !== 4 || w.shape.length !== 4 || y.shape.length !== 4) {
    fail(
      kernel,
      `x, w and y must be 4-D, got ${shapeStr(x.shape)}, ${shapeStr(w.shape)}, ${shapeStr(y.shape)}`,
    );
  }
  const [B, C, H, W] = x.shape as [number, number, number, number];
  const [O, C2, KH, KW] = w.shape as [number, number, number, number];
  const OH = windowOutputSize(H, {
    kernel: KH,
    stride: attrs.stride[0],
    padding: attrs.padding[0],
    dilation: attrs.dilation[0],
  });
  const OW = windowOutputSize(W, {
    kernel: KW,
    stride: attrs.stride[1],
    padding: attrs.padding[1],
    dilation: attrs.dilation[1],
  });
  const want = [B, O, OH, OW];
  if (C2 !== C || OH < 1 || OW < 1 || y.shape.some((n, i) => n !== want[i])) {
    fail(
      kernel,
      `shapes do not convolve (x ${shapeStr(x.shape)}, w ${shapeStr(w.shape)}, y ${shapeStr(y.shape)})`,
    );
  }
  for (const [v, what] of [[x, "x"], [w, "weight"], [y, "y"]] as const) {
    ctx.contiguous(kernel, what, v);
    ctx.dtype(kernel, what, v, "f32");
  }
  return [B, C, H, W, O, KH, KW, OH, OW];
}

function geometryUniforms(u: UniformWriter, g: Geometry, attrs: Conv2dAttrs): void {
  for (const n of g) u.u32(n);
  u.i32(attrs.stride[0]), u.i32(attrs.stride[1]), u.i32(attrs.padding[0]), u.i32(attrs.padding[1]);
  u.i32(attrs.dilation[0]), u.i32(attrs.dilation[1]);
}

const SIZES = /* wgsl */ `
  let B = uu(0u); let C = uu(1u); let H = i32(uu(2u)); let W = i32(uu(3u)); let O = uu(4u);
  let KH = i32(uu(5u)); let KW = i32(uu(6u)); let OH = i32(uu(7u)); let OW = i32(uu(8u));
  let sh = ui(9u); let sw = ui(10u); let ph = ui(11u); let pw = ui(12u); let dh = ui(13u); let dw = ui(14u);`;

/** Forward. Operands $0 x, $1 w, [$2 bias], $2|$3 y. Uniforms after the sizes: xOff, wOff, yOff, bOff, bS. */
function forwardCode(bias: boolean): { key: string; code: () => string } {
  const y = bias ? "$3" : "$2";
  const code = () =>
    `${flatMain("uu(0u) * ((uu(4u) + 3u) / 4u) * uu(7u) * uu(8u)")}
${SIZES}
  let P = u32(OH * OW); let OG = (O + 3u) / 4u;
  let p = i % P; let og = (i / P) % OG; let b = i / (P * OG);
  let oh = i32(p) / OW; let ow = i32(p) % OW;
  let o0 = og * 4u;
  let KK = KH * KW; let wo = i32(C) * KK;
  let w0 = ui(16u) + i32(o0) * wo; let w1 = ui(16u) + i32(min(o0 + 1u, O - 1u)) * wo;
  let w2 = ui(16u) + i32(min(o0 + 2u, O - 1u)) * wo; let w3 = ui(16u) + i32(min(o0 + 3u, O - 1u)) * wo;
  var acc = vec4<f32>(0.0);
  for (var c = 0; c < i32(C); c = c + 1) {
    let xb = ui(15u) + (i32(b) * i32(C) + c) * H * W;
    let wc = c * KK;
    for (var kh = 0; kh < KH; kh = kh + 1) {
      let ih = oh * sh - ph + kh * dh;
      if (ih < 0 || ih >= H) { continue; }
      for (var kw = 0; kw < KW; kw = kw + 1) {
        let iw = ow * sw - pw + kw * dw;
        if (iw < 0 || iw >= W) { continue; }
        let v = $0[xb + ih * W + iw];
        let t = wc + kh * KW + kw;
        acc = fma(vec4<f32>(v), vec4<f32>($1[w0 + t], $1[w1 + t], $1[w2 + t], $1[w3 + t]), acc);
      }
    }
  }
  for (var j = 0u; j < 4u; j = j + 1u) {
    let o = o0 + j;
    if (o >= O) { break; }
    var r = acc[j];
    ${bias ? "r = r + $2[ui(18u) + i32(o) * ui(19u)];" : ""}
    ${y}[ui(17u) + i32((b * O + o) * P + p)] = r;
  }
}`;
  return { key: `conv2d|${bias}`, code };
}

/** Input gradient. Operands $0 dy, $1 w, $2 dx. Uniforms after the sizes: dyOff, wOff, dxOff. */
function backwardInputCode(): { key: string; code: () => string } {
  const code = () =>
    `${flatMain("uu(0u) * ((uu(1u) + 3u) / 4u) * uu(2u) * uu(3u)")}
${SIZES}
  let HW = u32(H * W); let CG = (C + 3u) / 4u;
  let p = i % HW; let cg = (i / HW) % CG; let b = i / (HW * CG);
  let ih = i32(p) / W; let iw = i32(p) % W;
  let c0 = cg * 4u;
  let KK = KH * KW; let wo = i32(C) * KK;
  let c1 = min(c0 + 1u, C - 1u); let c2 = min(c0 + 2u, C - 1u); let c3 = min(c0 + 3u, C - 1u);
  var acc = vec4<f32>(0.0);
  for (var kh = 0; kh < KH; kh = kh + 1) {
    let th = ih + ph - kh * dh;
    if (th < 0 || th % sh != 0 || th / sh >= OH) { continue; }
    let oh = th / sh;
    for (var kw = 0; kw < KW; kw = kw + 1) {
      let tw = iw + pw - kw * dw;
      if (tw < 0 || tw % sw != 0 || tw / sw >= OW) { continue; }
      let ow = tw / sw;
      let t = kh * KW + kw;
      for (var o = 0; o < i32(O); o = o + 1) {
        let g = $0[ui(15u) + ((i32(b) * i32(O) + o) * OH + oh) * OW + ow];
        let wb = ui(16u) + o * wo + t;
        acc = fma(vec4<f32>(g), vec4<f32>($1[wb + i32(c0) * KK], $1[wb + i32(c1) * KK], $1[wb + i32(c2) * KK],
          $1[wb + i32(c3) * KK]), acc);
      }
    }
  }
  for (var j = 0u; j < 4u; j = j + 1u) {
    let c = c0 + j;
    if (c >= C) { break; }
    $2[ui(17u) + i32((b * C + c) * HW + p)] = acc[j];
  }
}`;
  return { key: "conv2dBackwardInput", code };
}

const WG_HEAD = `var<workgroup> sv: array<f32, ${ROW_WG}>;
@compute @workgroup_size(${ROW_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = flat_wg(wid, nwg);`;

/**
 * Weight gradient, one workgroup per weight element `(o, c, kh, kw)`. Operands $0 x, $1 dy, $2 dw. Uniforms after
 * the sizes: xOff, dyOff, dwOff.
 */
function backwardWeightCode(): { key: string; code: () => string } {
  const code = () =>
    `${WG_HEAD}
${SIZES}
  let KK = u32(KH * KW);
  if (row >= O * C * KK) { return; }
  let t = i32(row % KK); let c = (row / KK) % C; let o = row / (KK * C);
  let kh = t / KW; let kw = t % KW;
  let P = u32(OH * OW);
  var acc = 0.0;
  for (var q = lid; q < B * P; q = q + ${ROW_WG}u) {
    let b = q / P; let p = i32(q % P);
    let ih = (p / OW) * sh - ph + kh * dh; let iw = (p % OW) * sw - pw + kw * dw;
    if (ih < 0 || ih >= H || iw < 0 || iw >= W) { continue; }
    acc = fma($0[ui(15u) + (i32(b * C + c) * H + ih) * W + iw], $1[ui(16u) + i32((b * O + o) * P) + p], acc);
  }
  sv[lid] = acc;
  ${rowTree("sv[ia] = sv[ia] + sv[ib];")}
  if (lid == 0u) { $2[ui(17u) + i32(row)] = sv[0]; }
}`;
  return { key: "conv2dBackwardWeight", code };
}

/** Bias gradient, one workgroup per channel. Operands $0 dy, $1 db. Uniforms after the sizes: dyOff, dbOff, dbS. */
function biasGradCode(): { key: string; code: () => string } {
  const code = () =>
    `${WG_HEAD}
${SIZES}
  if (row >= O) { return; }
  let P = u32(OH * OW);
  var acc = 0.0;
  for (var q = lid; q < B * P; q = q + ${ROW_WG}u) {
    acc = acc + $0[ui(15u) + i32(((q / P) * O + row) * P + q % P)];
  }
  sv[lid] = acc;
  ${rowTree("sv[ia] = sv[ia] + sv[ib];")}
  if (lid == 0u) { $1[ui(16u) + i32(row) * ui(17u)] = sv[0]; }
}`;
  return { key: "conv2dBias", code };
}

/** `conv2d` kernel. */
function conv2d(ins: readonly View[], outs: readonly View[], attrs: Conv2dAttrs, ctx: GpuContext): void {
  ctx.arity("conv2d", ins, outs, ins.length === 3 ? 3 : 2, 1);
  const [x, w, bias] = ins as [View, View, View | undefined];
  const y = outs[0]!;
  const g = convCheck(ctx, "conv2d", x, w, y, attrs);
  if (bias) {
    ctx.shape("conv2d", "bias", bias, [g[4]]);
    ctx.dtype("conv2d", "bias", bias, "f32");
  }
  const [B, , , , O, , , OH, OW] = g;
  if (B === 0) return;
  const u = new UniformWriter();
  geometryUniforms(u, g, attrs);
  u.i32(x.offset), u.i32(w.offset), u.i32(y.offset), u.i32(bias?.offset ?? 0), u.i32(bias?.strides[0] ?? 0);
  const { key, code } = forwardCode(bias !== undefined);
  ctx.launch({
    key,
    code,
    operands: [ctx.buf(x), ctx.buf(w), ...(bias ? [ctx.buf(bias)] : []), ctx.buf(y, true)],
    uniforms: u.words().slice(),
    workgroups: Math.ceil((B * Math.ceil(O / 4) * OH * OW) / 64),
  });
  ctx.touch(y);
}

/** `conv2dBackwardInput` kernel. */
function conv2dBackwardInput(
  ins: readonly View[],
  outs: readonly View[],
  attrs: Conv2dAttrs,
  ctx: GpuContext,
): void {
  ctx.arity("conv2dBackwardInput", ins, outs, 2, 1);
  const [dy, w] = ins as [View, View];
  const dx = outs[0]!;
  const g = convCheck(ctx, "conv2dBackwardInput", dx, w, dy, attrs);
  const [B, C, H, W] = g;
  if (B * C * H * W === 0) return;
  const u = new UniformWriter();
  geometryUniforms(u, g, attrs);
  u.i32(dy.offset), u.i32(w.offset), u.i32(dx.offset);
  const { key, code } = backwardInputCode();
  ctx.launch({
    key,
    code,
    operands: [ctx.buf(dy), ctx.buf(w), ctx.buf(dx, true)],
    uniforms: u.words().slice(),
    workgroups: Math.ceil((B * Math.ceil(C / 4) * H * W) / 64),
  });
  ctx.touch(dx);
}

/** `conv2dBackwardWeight` kernel. */
function conv2dBackwardWeight(
  ins: readonly View[],
  outs: readonly View[],
  attrs: Conv2dAttrs,
  ctx: GpuContext,
): void {
  ctx.arity("conv2dBackwardWeight", ins, outs, 2, outs.length === 2 ? 2 : 1);
  const [x, dy] = ins as [View, View];
  const [dw, db] = outs as [View, View | undefined];
  const g = convCheck(ctx, "conv2dBackwardWeight", x, dw, dy, attrs);
  const [, C, , , O, KH, KW] = g;
  if (db) {
    ctx.shape("conv2dBackwardWeight", "bias gradient", db, [O]);
    ctx.dtype("conv2dBackwardWeight", "bias gradient", db, "f32");
  }
  const launch = (
    spec: { key: string; code: () => string },
    offsets: number[],
    operands: View[],
    rows: number,
  ) => {
    const u = new UniformWriter();
    geometryUniforms(u, g, attrs);
    for (const o of offsets) u.i32(o);
    const bufs = operands.map((v, i) => ctx.buf(v, i === operands.length - 1));
    ctx.launch({ ...spec, operands: bufs, uniforms: u.words().slice(), workgroups: rows });
  };
  if (O * C * KH * KW > 0) {
    launch(backwardWeightCode(), [x.offset, dy.offset, dw.offset], [x, dy, dw], O * C * KH * KW);
  }
  if (db && O > 0) launch(biasGradCode(), [dy.offset, db.offset, db.strides[0]!], [dy, db], O);
  ctx.touch(...outs);
}

/** The convolution family. */
export const CONV_KERNELS: GpuKernels<"conv2d" | "conv2dBackwardInput" | "conv2dBackwardWeight"> = {
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardWeight,
};
