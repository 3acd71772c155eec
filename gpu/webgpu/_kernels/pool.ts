/**
 * WebGPU 2-D pooling kernels (NCHW), one invocation per output element forward and one per input element
 * backward (no float atomics in WGSL, so a backward invocation gathers from the windows that contain its pixel):
 * max pooling with PyTorch's indices (the first maximum, or the last NaN), average pooling and adaptive average
 * pooling, matching the CPU kernels of `../../cpu/_kernels/pool.ts`.
 *
 * Uniforms: 0 planes (B * C), 1 H, 2 W, 3 OH, 4 OW, 5 KH, 6 KW, 7 sh, 8 sw, 9 ph, 10 pw, 11 dh, 12 dw, 13 input
 * offset, 14 output offset, 15 indices offset, 16 count padding (0/1), 17 divisor override (0 = none).
 *
 * @module
 */

import type { AvgPool2dAttrs, MaxPool2dAttrs, View } from "../../backend.ts";
import { windowOutputSize } from "../../conv_geometry.ts";
import type { GpuContext, GpuKernels } from "../_context.ts";
import { UniformWriter } from "../_exec.ts";
import { fail, shapeStr } from "../_storage.ts";
import { flatMain, MATH_WGSL } from "./elementwise.ts";

/** Window geometry of a launch: kernel, stride, padding, dilation pairs (adaptive pooling has none). */
interface Geo {
  kernel: readonly number[];
  stride: readonly number[];
  padding: readonly number[];
  dilation: readonly number[];
}

const NO_WINDOW: Geo = { kernel: [1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1] };

/** Check `x (B, C, H, W)` against `y (B, C, OH, OW)` (f32, contiguous); `ceil` set: OH, OW from the window. */
function check(
  ctx: GpuContext,
  k: string,
  x: View,
  y: View,
  geo: Geo,
  ceil?: boolean,
): [number, number, number, number, number] {
  if (x.shape.length !== 4 || y.shape.length !== 4) {
    fail(k, `input ${shapeStr(x.shape)} and output ${shapeStr(y.shape)} must be 4-D`);
  }
  const [B, C, H, W] = x.shape as [number, number, number, number];
  let [OH, OW] = [y.shape[2]!, y.shape[3]!];
  if (ceil !== undefined) {
    const ok = (v: readonly number[], min: number) =>
      v.length === 2 && v.every((n) => Number.isInteger(n) && n >= min);
    if (!ok(geo.kernel, 1) || !ok(geo.stride, 1) || !ok(geo.padding, 0) || !ok(geo.dilation, 1)) {
      fail(k, `bad window ${JSON.stringify(geo)}`);
    }
    if (2 * geo.padding[0]! > geo.kernel[0]! || 2 * geo.padding[1]! > geo.kernel[1]!) {
      fail(k, `padding ${geo.padding} must be at most half the kernel ${geo.kernel}`);
    }
    const size = (i: number, n: number) =>
      windowOutputSize(n, {
        kernel: geo.kernel[i]!,
        stride: geo.stride[i]!,
        padding: geo.padding[i]!,
        dilation: geo.dilation[i]!,
        ceilMode: ceil,
      });
    [OH, OW] = [size(0, H), size(1, W)];
  }
  if (y.shape[0] !== B || y.shape[1] !== C || y.shape[2] !== OH || y.shape[3] !== OW || OH < 1 || OW < 1) {
    fail(
      k,
      `input ${shapeStr(x.shape)} pools to [${B}, ${C}, ${OH}, ${OW}], but the output is ${
        shapeStr(y.shape)
      }`,
    );
  }
  for (const [v, what] of [[x, "input"], [y, "output"]] as const) {
    ctx.contiguous(k, what, v);
    ctx.dtype(k, what, v, "f32");
  }
  return [B * C, H, W, OH, OW];
}

function uniforms(dims: number[], geo: Geo, offsets: number[], extra: number[] = []): Uint32Array {
  const u = new UniformWriter();
  for (const n of dims) u.u32(n);
  for (const v of [geo.kernel, geo.stride, geo.padding, geo.dilation]) u.i32(v[0]!), u.i32(v[1]!);
  for (const o of offsets) u.i32(o);
  for (const e of extra) u.i32(e);
  return u.words().slice();
}

const SIZES = /* wgsl */ `
  let H = ui(1u); let W = ui(2u); let OH = ui(3u); let OW = ui(4u); let KH = ui(5u); let KW = ui(6u);
  let sh = ui(7u); let sw = ui(8u); let ph = ui(9u); let pw = ui(10u); let dh = ui(11u); let dw = ui(12u);`;

/** Max pooling forward. Operands $0 x, $1 y, $2 indices (i32). */
function maxCode(): { key: string; code: () => string } {
  const code = () =>
    `${MATH_WGSL}${flatMain("uu(0u) * uu(3u) * uu(4u)")}
${SIZES}
  let P = u32(OH * OW); let pl = i / P; let oh = i32(i % P) / OW; let ow = i32(i % P) % OW;
  let xb = ui(13u) + i32(pl) * H * W;
  var best = neg_inf(); var at = -1;
  for (var kh = 0; kh < KH; kh = kh + 1) {
    let ih = oh * sh - ph + kh * dh;
    if (ih < 0 || ih >= H) { continue; }
    for (var kw = 0; kw < KW; kw = kw + 1) {
      let iw = ow * sw - pw + kw * dw;
      if (iw < 0 || iw >= W) { continue; }
      let v = $0[xb + ih * W + iw];
      if (v > best || is_nan(v) || at < 0) { best = v; at = ih * W + iw; }
    }
  }
  $1[ui(14u) + i32(i)] = best;
  $2[ui(15u) + i32(i)] = at;
}`;
  return { key: "maxPool2d", code };
}

/** Loops over the output windows `(oh, ow)` that hold input pixel `(ih, iw)`; `body` sees `oh`, `ow`, `q`. */
function windowsOf(body: string): string {
  return `
  for (var kh = 0; kh < KH; kh = kh + 1) {
    let th = ih + ph - kh * dh;
    if (th < 0 || th % sh != 0 || th / sh >= OH) { continue; }
    let oh = th / sh;
    for (var kw = 0; kw < KW; kw = kw + 1) {
      let tw = iw + pw - kw * dw;
      if (tw < 0 || tw % sw != 0 || tw / sw >= OW) { continue; }
      let ow = tw / sw;
      let q = i32(pl) * OH * OW + oh * OW + ow;
      ${body}
    }
  }`;
}

const INPUT_PIXEL = /* wgsl */ `
  let HW = u32(H * W); let pl = i / HW; let ih = i32(i % HW) / W; let iw = i32(i % HW) % W;`;

/** Max pooling backward. Operands $0 dy, $1 indices, $2 dx. */
function maxBackwardCode(): { key: string; code: () => string } {
  const code = () =>
    `${flatMain("uu(0u) * uu(1u) * uu(2u)")}
${SIZES}${INPUT_PIXEL}
  var acc = 0.0;
  ${windowsOf("if ($1[ui(15u) + q] == ih * W + iw) { acc = acc + $0[ui(14u) + q]; }")}
  $2[ui(13u) + i32(i)] = acc;
}`;
  return { key: "maxPool2dBackward", code };
}

/** `fn divisor(oh, ow)` of average pooling (PyTorch's window clipping and `count_include_pad`). */
const AVG_WINDOW = /* wgsl */ `
fn window(oh: i32, ow: i32) -> vec4<i32> {
  let H = ui(1u); let W = ui(2u);
  var h0 = oh * ui(7u) - ui(9u); var w0 = ow * ui(8u) - ui(10u);
  var h1 = min(h0 + ui(5u), H + ui(9u)); var w1 = min(w0 + ui(6u), W + ui(10u));
  return vec4<i32>(max(h0, 0), min(h1, H), max(w0, 0), min(w1, W));
}
fn divisor(oh: i32, ow: i32) -> f32 {
  if (ui(17u) > 0) { return f32(ui(17u)); }
  let r = window(oh, ow);
  if (ui(16u) != 0) {
    let h0 = oh * ui(7u) - ui(9u); let w0 = ow * ui(8u) - ui(10u);
    let h1 = min(h0 + ui(5u), ui(1u) + ui(9u)); let w1 = min(w0 + ui(6u), ui(2u) + ui(10u));
    return f32((h1 - h0) * (w1 - w0));
  }
  return f32((r.y - r.x) * (r.w - r.z));
}`;

/** Average pooling forward. Operands $0 x, $1 y. */
function avgCode(): { key: string; code: () => string } {
  const code = () =>
    `${AVG_WINDOW}
${flatMain("uu(0u) * uu(3u) * uu(4u)")}
${SIZES}
  let P = u32(OH * OW); let pl = i / P; let oh = i32(i % P) / OW; let ow = i32(i % P) % OW;
  let xb = ui(13u) + i32(pl) * H * W;
  let r = window(oh, ow);
  var acc = 0.0;
  for (var ih = r.x; ih < r.y; ih = ih + 1) {
    for (var iw = r.z; iw < r.w; iw = iw + 1) { acc = acc + $0[xb + ih * W + iw]; }
  }
  $1[ui(14u) + i32(i)] = acc / divisor(oh, ow);
}`;
  return { key: "avgPool2d", code };
}

/** Average pooling backward. Operands $0 dy, $1 dx. */
function avgBackwardCode(): { key: string; code: () => string } {
  const code = () =>
    `${AVG_WINDOW}
${flatMain("uu(0u) * uu(1u) * uu(2u)")}
${SIZES}${INPUT_PIXEL}
  var acc = 0.0;
  ${windowsOf("acc = acc + $0[ui(14u) + q] / divisor(oh, ow);")}
  $1[ui(13u) + i32(i)] = acc;
}`;
  return { key: "avgPool2dBackward", code };
}

const ADAPTIVE = /* wgsl */ `
fn lo(i: i32, n: i32, m: i32) -> i32 { return (i * n) / m; }
fn hi(i: i32, n: i32, m: i32) -> i32 { return ((i + 1) * n + m - 1) / m; }`;

/** Adaptive average pooling forward. Operands $0 x, $1 y. */
function adaptiveCode(): { key: string; code: () => string } {
  const code = () =>
    `${ADAPTIVE}
${flatMain("uu(0u) * uu(3u) * uu(4u)")}
${SIZES}
  let P = u32(OH * OW); let pl = i / P; let oh = i32(i % P) / OW; let ow = i32(i % P) % OW;
  let xb = ui(13u) + i32(pl) * H * W;
  let h0 = lo(oh, H, OH); let h1 = hi(oh, H, OH); let w0 = lo(ow, W, OW); let w1 = hi(ow, W, OW);
  var acc = 0.0;
  for (var ih = h0; ih < h1; ih = ih + 1) {
    for (var iw = w0; iw < w1; iw = iw + 1) { acc = acc + $0[xb + ih * W + iw]; }
  }
  $1[ui(14u) + i32(i)] = acc / f32((h1 - h0) * (w1 - w0));
}`;
  return { key: "adaptiveAvgPool2d", code };
}

/** Adaptive average pooling backward. Operands $0 dy, $1 dx. Windows grow with the output index. */
function adaptiveBackwardCode(): { key: string; code: () => string } {
  const code = () =>
    `${ADAPTIVE}
${flatMain("uu(0u) * uu(1u) * uu(2u)")}
${SIZES}${INPUT_PIXEL}
  var acc = 0.0;
  for (var oh = 0; oh < OH; oh = oh + 1) {
    let h0 = lo(oh, H, OH); let h1 = hi(oh, H, OH);
    if (h0 > ih) { break; }
    if (h1 <= ih) { continue; }
    for (var ow = 0; ow < OW; ow = ow + 1) {
      let w0 = lo(ow, W, OW); let w1 = hi(ow, W, OW);
      if (w0 > iw) { break; }
      if (w1 <= iw) { continue; }
      acc = acc + $0[ui(14u) + (i32(pl) * OH + oh) * OW + ow] / f32((h1 - h0) * (w1 - w0));
    }
  }
  $1[ui(13u) + i32(i)] = acc;
}`;
  return { key: "adaptiveAvgPool2dBackward", code };
}

/** Launch `spec` over `n` invocations. */
function run(
  ctx: GpuContext,
  spec: { key: string; code: () => string },
  ops: [View, boolean][],
  u: Uint32Array,
  n: number,
): void {
  if (n === 0) return;
  ctx.launch({
    ...spec,
    operands: ops.map(([v, w]) => ctx.buf(v, w)),
    uniforms: u,
    workgroups: Math.ceil(n / 64),
  });
  ctx.touch(...ops.filter(([, w]) => w).map(([v]) => v));
}

function maxPool2d(
  ins: readonly View[],
  outs: readonly View[],
  attrs: MaxPool2dAttrs,
  ctx: GpuContext,
): void {
  ctx.arity("maxPool2d", ins, outs, 1, 2);
  const x = ins[0]!, [y, idx] = outs as [View, View];
  const d = check(ctx, "maxPool2d", x, y, attrs, attrs.ceilMode);
  ctx.shape("maxPool2d", "indices", idx, y.shape);
  ctx.contiguous("maxPool2d", "indices", idx);
  ctx.dtype("maxPool2d", "indices", idx, "i32");
  run(
    ctx,
    maxCode(),
    [[x, false], [y, true], [idx, true]],
    uniforms(d, attrs, [x.offset, y.offset, idx.offset]),
    d[0] * d[3] * d[4],
  );
}

function maxPool2dBackward(
  ins: readonly View[],
  outs: readonly View[],
  attrs: MaxPool2dAttrs,
  ctx: GpuContext,
): void {
  ctx.arity("maxPool2dBackward", ins, outs, 2, 1);
  const [dy, idx] = ins as [View, View], dx = outs[0]!;
  const d = check(ctx, "maxPool2dBackward", dx, dy, attrs, attrs.ceilMode);
  ctx.shape("maxPool2dBackward", "indices", idx, dy.shape);
  ctx.contiguous("maxPool2dBackward", "indices", idx);
  ctx.dtype("maxPool2dBackward", "indices", idx, "i32");
  const u = uniforms(d, attrs, [dx.offset, dy.offset, idx.offset]);
  run(ctx, maxBackwardCode(), [[dy, false], [idx, false], [dx, true]], u, d[0] * d[1] * d[2]);
}

function avgGeo(attrs: AvgPool2dAttrs): Geo {
  return { kernel: attrs.kernel, stride: attrs.stride, padding: attrs.padding, dilation: [1, 1] };
}

function avgExtra(k: string, attrs: AvgPool2dAttrs): number[] {
  if (!(attrs.divisorOverride >= 0)) fail(k, `divisorOverride must be >= 0, got ${attrs.divisorOverride}`);
  return [attrs.countIncludePad ? 1 : 0, attrs.divisorOverride];
}

function avgPool2d(
  ins: readonly View[],
  outs: readonly View[],
  attrs: AvgPool2dAttrs,
  ctx: GpuContext,
): void {
  ctx.arity("avgPool2d", ins, outs, 1, 1);
  const x = ins[0]!, y = outs[0]!;
  const d = check(ctx, "avgPool2d", x, y, avgGeo(attrs), attrs.ceilMode);
  const u = uniforms(d, avgGeo(attrs), [x.offset, y.offset, 0], avgExtra("avgPool2d", attrs));
  run(ctx, avgCode(), [[x, false], [y, true]], u, d[0] * d[3] * d[4]);
}

function avgPool2dBackward(
  ins: readonly View[],
  outs: readonly View[],
  attrs: AvgPool2dAttrs,
  ctx: GpuContext,
): void {
  ctx.arity("avgPool2dBackward", ins, outs, 1, 1);
  const dy = ins[0]!, dx = outs[0]!;
  const d = check(ctx, "avgPool2dBackward", dx, dy, avgGeo(attrs), attrs.ceilMode);
  const u = uniforms(d, avgGeo(attrs), [dx.offset, dy.offset, 0], avgExtra("avgPool2dBackward", attrs));
  run(ctx, avgBackwardCode(), [[dy, false], [dx, true]], u, d[0] * d[1] * d[2]);
}

function adaptiveAvgPool2d(
  ins: readonly View[],
  outs: readonly View[],
  _attrs: unknown,
  ctx: GpuContext,
): void {
  ctx.arity("adaptiveAvgPool2d", ins, outs, 1, 1);
  const x = ins[0]!, y = outs[0]!;
  const d = check(ctx, "adaptiveAvgPool2d", x, y, NO_WINDOW);
  run(
    ctx,
    adaptiveCode(),
    [[x, false], [y, true]],
    uniforms(d, NO_WINDOW, [x.offset, y.offset, 0]),
    d[0] * d[3] * d[4],
  );
}

function adaptiveAvgPool2dBackward(
  ins: readonly View[],
  outs: readonly View[],
  _attrs: unknown,
  ctx: GpuContext,
): void {
  ctx.arity("adaptiveAvgPool2dBackward", ins, outs, 1, 1);
  const dy = ins[0]!, dx = outs[0]!;
  const d = check(ctx, "adaptiveAvgPool2dBackward", dx, dy, NO_WINDOW);
  const u = uniforms(d, NO_WINDOW, [dx.offset, dy.offset, 0]);
  run(ctx, adaptiveBackwardCode(), [[dy, false], [dx, true]], u, d[0] * d[1] * d[2]);
}

/** The pooling family. */
export const POOL_KERNELS: GpuKernels<
  | "maxPool2d"
  | "maxPool2dBackward"
  | "avgPool2d"
  | "avgPool2dBackward"
  | "adaptiveAvgPool2d"
  | "adaptiveAvgPool2dBackward"
> = {
  maxPool2d,
  maxPool2dBackward,
  avgPool2d,
  avgPool2dBackward,
  adaptiveAvgPool2d,
  adaptiveAvgPool2dBackward,
};
