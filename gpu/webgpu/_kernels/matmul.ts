/**
 * WebGPU `matmul` kernel: three WGSL variants and the per-adapter rule table that picks one, and the launch code.
 *
 * - `naive`: one output per invocation over any strided views; for tiny products where setup dominates.
 * - `texture`: for CPU-like adapters (llvmpipe). Storage-buffer loads there cost ~30x a texel fetch (each lane
 *   is loaded in a scalar loop with bounds checks), so both operands are read from `rgba32f` textures in a flat
 *   layout (texel `t` at `(t % TEX_W, t / TEX_W)`), each invocation keeps a `TM x 8` block of outputs in registers
 *   and no workgroup memory is used. A row-major operand with 4-aligned rows is copied into its texture as is;
 *   anything else (transposed A, odd K or N, broadcast batch) is packed first. Textures are cached per storage and
 *   version, so weights are copied once per update. B is read either as `(K, N)` rows (NN) or, for `x @ W^T` with
 *   `W` row-major, as `(N, K)` rows (NT), without a transpose.
 * - `tiled`: for discrete GPUs: 64x64 output tiles, 16x16 invocations with 4x4 outputs each, 16-deep K slices
 *   staged in workgroup memory; reads any strided view.
 *
 * Operand textures come from the texture cache of `../_textures.ts` (cached per storage version).
 *
 * @module
 */

import type { KernelAttrs, View } from "../../backend.ts";
import type { GpuContext, GpuKernels, MatmulVariant } from "../_context.ts";
import { UniformWriter } from "../_exec.ts";
import { fail, type GpuStorage, shapeStr } from "../_storage.ts";
import { TEX_SHIFT, TEX_W } from "../_textures.ts";
import { fillZero } from "./elementwise.ts";

export type { MatmulVariant } from "../_context.ts";

/** A strided matrix description in elements. */
interface Mat3 {
  off: number;
  s: [number, number, number];
}

/** Problem description the rule table looks at. */
export interface MatmulShape {
  /** Batch count. */
  B: number;
  /** Rows of the output. */
  M: number;
  /** Columns of the output. */
  N: number;
  /** Inner dimension. */
  K: number;
}

/** One rule: the first whose `when` holds picks the variant. */
export interface MatmulRule {
  /** Why this rule exists. */
  note: string;
  /** Predicate over the shape and whether the adapter is a CPU/fallback adapter. */
  when: (s: MatmulShape, fallback: boolean) => boolean;
  /** Variant to use. */
  variant: MatmulVariant;
}

/** The rule table (measured on llvmpipe; the discrete-GPU branch follows the DESIGN.md measurements). */
export const MATMUL_RULES: readonly MatmulRule[] = [
  {
    note: "tiny products: texture setup costs more than the arithmetic",
    when: (s) => s.B * s.M * s.N * s.K <= 32768,
    variant: "naive",
  },
  {
    note: "CPU adapters: texel fetches + register blocking, no workgroup memory",
    when: (_, f) => f,
    variant: "texture",
  },
  { note: "GPUs: workgroup-memory tiling", when: () => true, variant: "tiled" },
];

/** Pick the variant for `shape` on an adapter. */
export function chooseMatmul(shape: MatmulShape, fallback: boolean): MatmulVariant {
  for (const r of MATMUL_RULES) if (r.when(shape, fallback)) return r.variant;
  return "naive";
}

const MAIN2 = `fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(local_invocation_index) lid: u32) {`;

/**
 * Naive strided matmul. Operands $0 a, $1 b, $2 c. Uniforms: B, M, N, K, aOff, aBs, aRs, aCs, bOff, bBs, bRs,
 * bCs, cOff.
 */
export function naiveCode(accumulate: boolean): { key: string; code: () => string } {
  const code = () => `
@compute @workgroup_size(64)
${MAIN2}
  let i = flat_wg(wid, nwg) * 64u + lid;
  let M = uu(1u); let N = uu(2u); let K = uu(3u);
  if (i >= uu(0u) * M * N) { return; }
  let n = i % N; let t = i / N; let m = t % M; let b = t / M;
  var pa = ui(4u) + i32(b) * ui(5u) + i32(m) * ui(6u);
  var pb = ui(8u) + i32(b) * ui(9u) + i32(n) * ui(11u);
  let ac = ui(7u); let br = ui(10u);
  var acc = 0.0;
  for (var k = 0u; k < K; k = k + 1u) { acc = fma($0[pa], $1[pb], acc); pa += ac; pb += br; }
  let q = ui(12u) + i32(i);
  $2[q] = ${accumulate ? "$2[q] + acc" : "acc"};
}`;
  return { key: `mm-naive|${accumulate}`, code };
}

/**
 * Workgroup-memory tiled matmul for GPUs. Operands and uniforms as {@linkcode naiveCode}, plus word 13 =
 * row tiles per batch. Launch `[ceil(N/64), B * ceil(M/64)]`.
 */
export function tiledCode(accumulate: boolean): { key: string; code: () => string } {
  const code = () => `
var<workgroup> As: array<f32, 1024>;
var<workgroup> Bs: array<f32, 1024>;
@compute @workgroup_size(16, 16)
${MAIN2}
  let M = uu(1u); let N = uu(2u); let K = uu(3u); let mt = uu(13u);
  let b = wid.y / mt; let m0 = (wid.y % mt) * 64u; let n0 = wid.x * 64u;
  let tx = lid3.x; let ty = lid3.y;
  let aB = ui(4u) + i32(b) * ui(5u); let aR = ui(6u); let aC = ui(7u);
  let bB = ui(8u) + i32(b) * ui(9u); let bR = ui(10u); let bC = ui(11u);
  var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0); var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < K; k0 = k0 + 16u) {
    for (var e = 0u; e < 4u; e = e + 1u) {
      let idx = lid + e * 256u;
      let am = idx / 16u; let ak = idx % 16u;
      var av = 0.0;
      if (m0 + am < M && k0 + ak < K) { av = $0[aB + i32(m0 + am) * aR + i32(k0 + ak) * aC]; }
      As[ak * 64u + am] = av;
      let bk = idx / 64u; let bn = idx % 64u;
      var bv = 0.0;
      if (k0 + bk < K && n0 + bn < N) { bv = $1[bB + i32(k0 + bk) * bR + i32(n0 + bn) * bC]; }
      Bs[bk * 64u + bn] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk = kk + 1u) {
      let bv = vec4<f32>(Bs[kk * 64u + tx * 4u], Bs[kk * 64u + tx * 4u + 1u], Bs[kk * 64u + tx * 4u + 2u], Bs[kk * 64u + tx * 4u + 3u]);
      acc0 = fma(vec4<f32>(As[kk * 64u + ty * 4u]), bv, acc0);
      acc1 = fma(vec4<f32>(As[kk * 64u + ty * 4u + 1u]), bv, acc1);
      acc2 = fma(vec4<f32>(As[kk * 64u + ty * 4u + 2u]), bv, acc2);
      acc3 = fma(vec4<f32>(As[kk * 64u + ty * 4u + 3u]), bv, acc3);
    }
    workgroupBarrier();
  }
  let accs = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < 4u; i = i + 1u) {
    let m = m0 + ty * 4u + i;
    if (m >= M) { break; }
    for (var j = 0u; j < 4u; j = j + 1u) {
      let n = n0 + tx * 4u + j;
      if (n < N) {
        let q = ui(12u) + i32(b * M * N + m * N + n);
        $2[q] = ${accumulate ? "$2[q] + accs[i][j]" : "accs[i][j]"};
      }
    }
  }
}`;
  return { key: `mm-tiled|${accumulate}`, code };
}

/** Rows per invocation and invocation rows per workgroup of the texture kernel for `M` rows. */
export function textureBlocking(M: number): { TM: number; WGY: number } {
  const TM = M >= 8 ? 8 : M >= 4 ? 4 : 1;
  return { TM, WGY: Math.min(8, Math.ceil(M / TM)) };
}

/**
 * Texture matmul. Operands $0 A texture, $1 B texture, $2 C buffer. Uniforms: 0 M, 1 N, 2 K4, 3 row blocks per
 * batch, 4 aBase, 5 aBs, 6 aRs, 7 bBase, 8 bBs, 9 bRs, 10 cOff, 11 K (texel units for A and B; see module doc),
 * 12 and 13 the output's row and column strides (`(N, 1)`, or `(1, M)` when computing `C^T = B^T A^T`).
 * Launch `[ceil(N / 64), B * rowBlocks]` with workgroup `(8, WGY)`; each invocation computes `TM x 8` outputs.
 */
export function textureCode(
  TM: number,
  WGY: number,
  nt: boolean,
  accumulate: boolean,
): { key: string; code: () => string } {
  const code = () => {
    const L: string[] = [];
    L.push(
      `fn ld(t: texture_2d<f32>, i: u32) -> vec4<f32> { return textureLoad(t, vec2<u32>(i & ${
        TEX_W - 1
      }u, i >> ${TEX_SHIFT}u), 0); }`,
    );
    L.push(`@compute @workgroup_size(8, ${WGY})`, MAIN2);
    L.push("  let M = uu(0u); let N = uu(1u); let K4 = uu(2u); let K = uu(11u);");
    L.push("  let b = wid.y / uu(3u); let row0 = ((wid.y % uu(3u)) * " + WGY + "u + lid3.y) * " + TM + "u;");
    L.push("  let n0 = (wid.x * 8u + lid3.x) * 8u;");
    L.push("  if (row0 >= M || n0 >= N) { return; }");
    L.push("  let aB = uu(4u) + b * uu(5u); let aR = uu(6u); let bB = uu(7u) + b * uu(8u); let bR = uu(9u);");
    for (let i = 0; i < TM; i++) L.push(`  var c${i}_0 = vec4<f32>(0.0); var c${i}_1 = vec4<f32>(0.0);`);
    for (let i = 0; i < TM; i++) L.push(`  let ar${i} = aB + min(row0 + ${i}u, M - 1u) * aR;`);
    if (nt) { for (let j = 0; j < 8; j++) L.push(`  let br${j} = bB + min(n0 + ${j}u, N - 1u) * bR;`); }
    L.push("  for (var k4 = 0u; k4 < K4; k4 = k4 + 1u) {");
    for (let i = 0; i < TM; i++) L.push(`    let a${i} = ld($0, ar${i} + k4);`);
    if (nt) {
      for (let j = 0; j < 8; j++) L.push(`    let b${j} = ld($1, br${j} + k4);`);
      for (let i = 0; i < TM; i++) {
        L.push(`    c${i}_0 += vec4<f32>(dot(a${i}, b0), dot(a${i}, b1), dot(a${i}, b2), dot(a${i}, b3));`);
        L.push(`    c${i}_1 += vec4<f32>(dot(a${i}, b4), dot(a${i}, b5), dot(a${i}, b6), dot(a${i}, b7));`);
      }
    } else {
      for (let kk = 0; kk < 4; kk++) {
        L.push(`    let kr${kk} = bB + min(k4 * 4u + ${kk}u, K - 1u) * bR + n0 / 4u;`);
        L.push(`    let b${kk}_0 = ld($1, kr${kk}); let b${kk}_1 = ld($1, kr${kk} + 1u);`);
        for (let i = 0; i < TM; i++) {
          L.push(`    c${i}_0 = fma(vec4<f32>(a${i}[${kk}]), b${kk}_0, c${i}_0);`);
          L.push(`    c${i}_1 = fma(vec4<f32>(a${i}[${kk}]), b${kk}_1, c${i}_1);`);
        }
      }
    }
    L.push("  }");
    L.push("  let cb = uu(10u) + b * M * N; let crs = uu(12u); let ccs = uu(13u);");
    for (let i = 0; i < TM; i++) {
      L.push(`  if (row0 + ${i}u < M) {`);
      L.push(`    let q = cb + (row0 + ${i}u) * crs + n0 * ccs;`);
      for (let j = 0; j < 8; j++) {
        const v = `c${i}_${j >> 2}[${j & 3}]`;
        const q = `q + ${j}u * ccs`;
        L.push(`    if (n0 + ${j}u < N) { $2[${q}] = ${accumulate ? `$2[${q}] + ${v}` : v}; }`);
      }
      L.push("  }");
    }
    L.push("}");
    return L.join("\n");
  };
  return { key: `mm-tex|${TM}|${WGY}|${nt}|${accumulate}`, code };
}

function matmul(
  ins: readonly View[],
  outs: readonly View[],
  attrs: KernelAttrs["matmul"],
  ctx: GpuContext,
): void {
  ctx.arity("matmul", ins, outs, 2, 1);
  const [a, b] = ins as [View, View];
  const c = outs[0]!;
  const a3 = as3("matmul", "a", a), b3 = as3("matmul", "b", b);
  const [Ba, M, K] = a3.shape, [Bb, K2, N] = b3.shape;
  if (K !== K2 || Ba !== Bb) {
    fail("matmul", `a ${shapeStr(a.shape)} and b ${shapeStr(b.shape)} do not multiply`);
  }
  const B = Ba;
  ctx.shape("matmul", "output", c, c.shape.length === 2 ? [M, N] : [B, M, N]);
  if (c.shape.length === 2 && B !== 1) fail("matmul", "a 2-D output needs batch 1");
  ctx.contiguous("matmul", "output", c);
  for (const [v, w] of [[a, "a"], [b, "b"], [c, "output"]] as const) ctx.dtype("matmul", w, v, "f32");
  if (B * M * N === 0) return;
  const acc = attrs.accumulate ?? false;
  if (K === 0) {
    if (!acc) fillZero(ctx, c, B * M * N);
    return;
  }
  let variant = ctx.matmulVariant ?? chooseMatmul({ B, M, N, K }, ctx.isFallback);
  if (variant === "texture" && !textureFits(ctx, B, M, N, K)) variant = "tiled";
  if (variant === "texture") {
    if (N < 8 && M >= 16) {
      // Thin N (matrix-vector, small heads): each invocation covers 8 columns, so compute C^T = B^T A^T
      // instead, writing the transposed result straight into C.
      const sw = (m: Mat3 & { storage: GpuStorage }) => ({
        ...m,
        s: [m.s[0], m.s[2], m.s[1]] as Mat3["s"],
      });
      return matmulTexture(ctx, sw(b3.m), sw(a3.m), c, { B, M: N, N: M, K }, acc, true);
    }
    return matmulTexture(ctx, a3.m, b3.m, c, { B, M, N, K }, acc);
  }
  const u = new UniformWriter();
  u.u32(B), u.u32(M), u.u32(N), u.u32(K);
  for (const m of [a3.m, b3.m]) u.i32(m.off), u.i32(m.s[0]), u.i32(m.s[1]), u.i32(m.s[2]);
  u.i32(c.offset);
  const { key, code } = variant === "tiled" ? tiledCode(acc) : naiveCode(acc);
  if (variant === "tiled") u.u32(Math.ceil(M / 64));
  const wg: number | [number, number] = variant === "tiled"
    ? [Math.ceil(N / 64), B * Math.ceil(M / 64)]
    : Math.ceil((B * M * N) / 64);
  ctx.launch({
    key,
    code,
    operands: [ctx.buf(a), ctx.buf(b), ctx.buf(c, true)],
    uniforms: u.words().slice(),
    workgroups: wg,
  });
  ctx.touch(c);
}

function as3(
  kernel: string,
  what: string,
  v: View,
): { shape: [number, number, number]; m: Mat3 & { storage: GpuStorage } } {
  const st = v.storage as GpuStorage;
  if (v.shape.length === 2) {
    return {
      shape: [1, v.shape[0]!, v.shape[1]!],
      m: { off: v.offset, s: [0, v.strides[0]!, v.strides[1]!], storage: st },
    };
  }
  if (v.shape.length !== 3) {
    fail(kernel, `${what} must be (batch, rows, cols) or (rows, cols), got ${shapeStr(v.shape)}`);
  }
  return {
    shape: [v.shape[0]!, v.shape[1]!, v.shape[2]!],
    m: {
      off: v.offset,
      s: [v.shape[0] === 1 ? 0 : v.strides[0]!, v.strides[1]!, v.strides[2]!],
      storage: st,
    },
  };
}

function textureFits(ctx: GpuContext, B: number, M: number, N: number, K: number): boolean {
  const maxRows = ctx.device.limits.maxTextureDimension2D;
  const texels = (n: number) => Math.ceil(n / 4 / TEX_W);
  const k4 = Math.ceil(K / 4) * 4, n4 = Math.ceil(N / 4) * 4;
  return texels(B * M * k4) <= maxRows && texels(B * Math.max(K * n4, N * k4)) <= maxRows;
}

function matmulTexture(
  ctx: GpuContext,
  a: Mat3 & { storage: GpuStorage },
  b: Mat3 & { storage: GpuStorage },
  c: View,
  { B, M, N, K }: { B: number; M: number; N: number; K: number },
  acc: boolean,
  transposedOut = false,
): void {
  const al = (x: number) => x % 4 === 0;
  const K4 = Math.ceil(K / 4);
  const aBatch = a.s[0] === 0 ? 1 : B, bBatch = b.s[0] === 0 ? 1 : B;
  // A: (B, M, K) row-major with 4-aligned rows goes in as is; anything else is packed to (B, M, K4*4).
  let ta: GPUTexture, aBase: number, aBs: number, aRs: number;
  const pos = (m: Mat3) => m.s.every((x) => x >= 0);
  if (a.s[2] === 1 && al(K) && al(a.s[1]) && al(a.s[0]) && al(a.off) && pos(a)) {
    aBs = a.s[0] / 4, aRs = a.s[1] / 4, aBase = 0;
    ta = ctx.textures.raw(a.storage, a.off / 4, (aBatch - 1) * aBs + (M - 1) * aRs + K / 4);
  } else {
    ta = ctx.textures.packed(a.storage, a.off, [aBatch, M, K], a.s);
    aBase = 0, aBs = aBatch === 1 ? 0 : M * K4, aRs = K4;
  }
  // B: NN when rows of (K, N) are 4-aligned, NT when B is a transposed row-major (N, K) matrix.
  let tb: GPUTexture, bBase: number, bBs: number, bRs: number, nt: boolean;
  const N4 = Math.ceil(N / 4);
  if (b.s[2] === 1 && al(N) && al(b.s[1]) && al(b.s[0]) && al(b.off) && pos(b)) {
    nt = false, bBase = 0, bBs = b.s[0] / 4, bRs = b.s[1] / 4;
    tb = ctx.textures.raw(b.storage, b.off / 4, (bBatch - 1) * bBs + (K - 1) * bRs + N / 4);
  } else if (b.s[1] === 1 && al(K) && al(b.s[2]) && al(b.s[0]) && al(b.off) && pos(b)) {
    nt = true, bBase = 0, bBs = b.s[0] / 4, bRs = b.s[2] / 4;
    tb = ctx.textures.raw(b.storage, b.off / 4, (bBatch - 1) * bBs + (N - 1) * bRs + K / 4);
  } else if (b.s[1] === 1 || Math.abs(b.s[1]) < Math.abs(b.s[2])) {
    tb = ctx.textures.packed(b.storage, b.off, [bBatch, N, K], [b.s[0], b.s[2], b.s[1]]);
    nt = true, bBase = 0, bBs = bBatch === 1 ? 0 : N * K4, bRs = K4;
  } else {
    tb = ctx.textures.packed(b.storage, b.off, [bBatch, K, N], b.s);
    nt = false, bBase = 0, bBs = bBatch === 1 ? 0 : K * N4, bRs = N4;
  }
  const { TM, WGY } = textureBlocking(M);
  const rowBlocks = Math.ceil(M / (TM * WGY));
  const u = new UniformWriter();
  u.u32(M), u.u32(N), u.u32(K4), u.u32(rowBlocks), u.u32(aBase), u.u32(aBs), u.u32(aRs);
  u.u32(bBase), u.u32(bBs), u.u32(bRs), u.u32(c.offset), u.u32(K);
  if (transposedOut) u.u32(1), u.u32(M);
  else u.u32(N), u.u32(1);
  const { key, code } = textureCode(TM, WGY, nt, acc);
  const gx = Math.ceil(N / 64), gy = B * rowBlocks;
  const maxDim = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  if (gx > maxDim || gy > maxDim) {
    fail("matmul", `launch ${gx}x${gy} workgroups exceeds the per-dimension limit ${maxDim}`);
  }
  ctx.launch({
    key,
    code,
    operands: [{ texture: ta }, { texture: tb }, ctx.buf(c, true)],
    uniforms: u.words().slice(),
    workgroups: [gx, gy],
  });
  ctx.touch(c);
}

/** The matmul family. */
export const MATMUL_KERNELS: GpuKernels<"matmul"> = { matmul };
