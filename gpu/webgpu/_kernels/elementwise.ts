/**
 * WebGPU elementwise kernels (`unary`, `binary`, `where`, `copy`; `dropout` in `random.ts` uses the same launch):
 * views are coalesced as on the CPU backend (size-1 axes dropped, axes every operand walks as one merged), the
 * rank goes into the pipeline key and the shape, offsets and strides into the uniform, so one pipeline serves
 * every shape of that rank. Each invocation computes one element; launches past 65,535 workgroups use a 2-D grid.
 * On CPU-like adapters large contiguous f32 launches read and write textures instead (`elementwiseTextureCode`),
 * and contiguous same-dtype copies are buffer copies.
 *
 * @module
 */

import type { BinaryOp, DType, KernelAttrs, UnaryOp, View } from "../../backend.ts";
import { makePlan, type Plan } from "../../_layout.ts";
import type { GpuContext, GpuKernels } from "../_context.ts";
import { UniformWriter } from "../_exec.ts";
import { fail, type GpuStorage } from "../_storage.ts";
import { TEX_W } from "../_textures.ts";

/** Highest rank after coalescing that one kernel handles. */
export const MAX_RANK = 6;
/** Invocations per workgroup of the elementwise kernels. */
export const EW_WG = 64;

/** WGSL helpers shared by elementwise-style kernels. */
export const MATH_WGSL = /* wgsl */ `
fn neg_inf() -> f32 { var b = 0xff800000u; return bitcast<f32>(b); }
fn qnan() -> f32 { var b = 0x7fc00000u; return bitcast<f32>(b); }
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn f2i(v: f32) -> i32 { if (abs(v) < 2147483648.0) { return i32(v); } return 0; }
fn safe_tanh(x: f32) -> f32 { let e = exp(-2.0 * abs(x)); return sign(x) * (1.0 - e) / (1.0 + e); }
fn sigm(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
fn fmax(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return a + b; } return max(a, b); }
fn fmin(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return a + b; } return min(a, b); }
fn fpow(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (y == 1.0) { return x; }
  if (y == 2.0) { return x * x; }
  if (y == 0.5) { return sqrt(x); }
  if (x == 0.0) { if (y > 0.0) { return 0.0; } return 1.0 / x; }
  if (x > 0.0) { return exp2(y * log2(x)); }
  if (floor(y) != y) { return qnan(); }
  let r = exp2(y * log2(-x));
  if (fract(y * 0.5) != 0.0) { return -r; }
  return r;
}
`;

/** Entry point of a one-invocation-per-element kernel over `n` elements (`i` is the flat index). */
export const flatMain = (n: string): string =>
  `@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_wg(wid, nwg) * 64u + lid;
  if (i >= ${n}) { return; }`;

const UNARY_F32: Record<UnaryOp, string> = {
  neg: "-x0",
  exp: "exp(x0)",
  log: "log(x0)",
  sqrt: "sqrt(x0)",
  rsqrt: "1.0 / sqrt(x0)",
  tanh: "safe_tanh(x0)",
  sigmoid: "sigm(x0)",
  relu: "select(x0, 0.0, x0 < 0.0)",
  abs: "abs(x0)",
  sign: "sign(x0)",
  square: "x0 * x0",
  recip: "1.0 / x0",
  sin: "sin(x0)",
  cos: "cos(x0)",
  clamp: "select(select(x0, B, x0 > B), A, x0 < A)",
  powScalar: "fpow(x0, A)",
  mulScalar: "x0 * A",
  addScalar: "x0 + A",
  reluGrad: "select(0.0, 1.0, x0 > 0.0)",
  cast: "x0",
};

const UNARY_I32: Partial<Record<UnaryOp, string>> = {
  neg: "-x0",
  abs: "abs(x0)",
  sign: "sign(x0)",
  square: "x0 * x0",
  relu: "select(x0, 0, x0 < 0)",
  reluGrad: "select(0, 1, x0 > 0)",
  clamp: "select(select(x0, B, x0 > B), A, x0 < A)",
  mulScalar: "x0 * A",
  addScalar: "x0 + A",
  cast: "x0",
};

const BINARY_F32: Record<BinaryOp, string> = {
  add: "x0 + x1",
  sub: "x0 - x1",
  mul: "x0 * x1",
  div: "x0 / x1",
  pow: "fpow(x0, x1)",
  max: "fmax(x0, x1)",
  min: "fmin(x0, x1)",
  eq: "select(0.0, 1.0, x0 == x1)",
  ne: "select(0.0, 1.0, x0 != x1)",
  lt: "select(0.0, 1.0, x0 < x1)",
  le: "select(0.0, 1.0, x0 <= x1)",
  gt: "select(0.0, 1.0, x0 > x1)",
  ge: "select(0.0, 1.0, x0 >= x1)",
};

const BINARY_I32: Partial<Record<BinaryOp, string>> = {
  add: "x0 + x1",
  sub: "x0 - x1",
  mul: "x0 * x1",
  div: "select(x0 / x1, 0, x1 == 0)",
  max: "max(x0, x1)",
  min: "min(x0, x1)",
  eq: "select(0, 1, x0 == x1)",
  ne: "select(0, 1, x0 != x1)",
  lt: "select(0, 1, x0 < x1)",
  le: "select(0, 1, x0 <= x1)",
  gt: "select(0, 1, x0 > x1)",
  ge: "select(0, 1, x0 >= x1)",
};

/** What an elementwise launch computes. */
export interface EwOp {
  /** Key part naming the operation. */
  name: string;
  /** WGSL expression over `x0..` (compute type) and `A`, `B`; for `where`, `c0` is the condition. */
  expr: string;
  /** Compute type. */
  ct: "f32" | "i32";
  /** Extra uniform parameters after the layout words (`A`, `B`, then RNG words). */
  params: (u: UniformWriter) => void;
  /** Extra WGSL statements before the store, which may rebind `r` (the result); `i` is the flat index. */
  post?: string;
  /** Extra module-scope WGSL. */
  extra?: string;
  /** Input 0 is a condition (`where`): loaded as `c0 = x != 0`, inputs shift by one. */
  cond?: boolean;
}

/** The unary op as an {@linkcode EwOp}, choosing integer arithmetic when every operand is i32. */
export function unaryOp(op: UnaryOp, inT: DType, outT: DType, alpha?: number, beta?: number): EwOp {
  const f = UNARY_F32[op];
  if (f === undefined) throw new Error(`webgpu unary: unknown op "${op}"`);
  const isInt = (v: number | undefined) => v === undefined || (Number.isInteger(v) && Math.abs(v) < 2 ** 31);
  const intExpr = UNARY_I32[op];
  const useInt = inT === "i32" && outT === "i32" && intExpr !== undefined && isInt(alpha) && isInt(beta);
  let A = alpha ?? 0, B = beta ?? 0;
  if (op === "clamp") {
    A = alpha ?? (useInt ? -(2 ** 31) : -Infinity);
    B = beta ?? (useInt ? 2 ** 31 - 1 : Infinity);
  }
  return {
    name: `unary:${op}`,
    expr: useInt ? intExpr! : f,
    ct: useInt ? "i32" : "f32",
    params: (u) => useInt ? (u.i32(A), u.i32(B)) : (u.f32(A), u.f32(B)),
  };
}

/** The binary op as an {@linkcode EwOp}. */
export function binaryOp(op: BinaryOp, aT: DType, bT: DType, outT: DType): EwOp {
  const f = BINARY_F32[op];
  if (f === undefined) throw new Error(`webgpu binary: unknown op "${op}"`);
  const isCmp = ["eq", "ne", "lt", "le", "gt", "ge"].includes(op);
  const intExpr = BINARY_I32[op];
  const useInt = aT === "i32" && bT === "i32" && (outT === "i32" || isCmp) && intExpr !== undefined;
  return { name: `binary:${op}`, expr: useInt ? intExpr! : f, ct: useInt ? "i32" : "f32", params: () => {} };
}

/** `where` as an {@linkcode EwOp}. */
export function whereOp(aT: DType, bT: DType, outT: DType): EwOp {
  const ct = aT === "i32" && bT === "i32" && outT === "i32" ? "i32" : "f32";
  return { name: "where", expr: "select(x1, x0, c0)", ct, params: () => {}, cond: true };
}

/** `copy` (with conversion when the dtypes differ). */
export function copyOp(inT: DType, outT: DType): EwOp {
  return { name: "copy", expr: "x0", ct: inT === "i32" && outT === "i32" ? "i32" : "f32", params: () => {} };
}

function loadAs(ct: "f32" | "i32", t: DType, e: string): string {
  if (t === ct) return e;
  return ct === "f32" ? `f32(${e})` : `f2i(${e})`;
}

/** Kernel key and WGSL of an elementwise launch over a plan of `rank` axes. */
export function elementwiseCode(
  op: EwOp,
  rank: number,
  types: readonly DType[],
): { key: string; code: () => string } {
  const nOps = types.length; // output first
  const key = `ew|${op.name}|${op.ct}|r${rank}|${types.join(",")}|${op.expr}|${op.post ?? ""}`;
  const code = () => {
    const L: string[] = [];
    const P = 1 + rank + nOps * (rank + 1);
    L.push(`const P = ${P}u;`);
    L.push(MATH_WGSL, op.extra ?? "");
    L.push(`@compute @workgroup_size(${EW_WG})`);
    L.push(
      "fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {",
    );
    L.push(`  let i = flat_wg(wid, nwg) * ${EW_WG}u + lid;`);
    L.push("  if (i >= uu(0u)) { return; }");
    L.push(
      `  let A = ${op.ct === "i32" ? "ui" : "uf"}(P); let B = ${op.ct === "i32" ? "ui" : "uf"}(P + 1u);`,
    );
    const base = (k: number) => 1 + rank + k * (rank + 1);
    for (let k = 0; k < nOps; k++) L.push(`  var o${k} = ui(${base(k)}u);`);
    L.push("  var rem = i;");
    for (let d = rank - 1; d >= 0; d--) {
      const c = d === 0 ? "i32(rem)" : `i32(rem % uu(${1 + d}u))`;
      L.push(`  { let c = ${c};${d === 0 ? "" : ` rem = rem / uu(${1 + d}u);`}`);
      for (let k = 0; k < nOps; k++) L.push(`    o${k} += c * ui(${base(k) + 1 + d}u);`);
      L.push("  }");
    }
    let xi = 0;
    for (let k = 1; k < nOps; k++) {
      if (op.cond && k === 1) {
        L.push(`  let c0 = $1[o1] != ${types[1] === "i32" ? "0" : "0.0"};`);
        continue;
      }
      L.push(`  let x${xi++} = ${loadAs(op.ct, types[k]!, `$${k}[o${k}]`)};`);
    }
    L.push(`  var r = ${op.expr};`);
    if (op.post) L.push(`  ${op.post}`);
    const outT = types[0]!;
    const store = outT === op.ct ? "r" : outT === "f32" ? "f32(r)" : "f2i(r)";
    L.push(`  $0[o0] = ${store};`);
    L.push("}");
    return L.join("\n");
  };
  return { key, code };
}

/** Uniform words of an elementwise launch: size, shape, then offset and strides of each operand, then params. */
export function elementwiseUniforms(plan: Plan, op: EwOp): Uint32Array {
  const u = new UniformWriter();
  u.u32(plan.size);
  for (const s of plan.shape) u.u32(s);
  for (let k = 0; k < plan.offsets.length; k++) {
    u.i32(plan.offsets[k]!);
    for (const s of plan.strides[k]!) u.i32(s);
  }
  op.params(u);
  return u.words().slice();
}

/**
 * Texture form of an elementwise launch for CPU-like adapters (llvmpipe), where a texel fetch costs a fraction of
 * a storage-buffer load: contiguous f32 operands with 4-aligned offsets and a size divisible by 4 are read as
 * `rgba32f` texels (flat layout, texel `t` at `(t % texW, t / texW)`) and the result is written to a storage
 * texture that is then copied into the output buffer. Operand `$0` is the output storage texture, `$1..` the
 * inputs. Uniforms: texel count, then the op's parameters (so `P` = 1).
 */
export function elementwiseTextureCode(
  op: EwOp,
  nIn: number,
  texW: number,
): { key: string; code: () => string } {
  const key = `ewtex|${op.name}|${nIn}|${op.expr}|${op.post ?? ""}|${texW}`;
  const shift = Math.log2(texW);
  const code = () => {
    const L: string[] = ["const P = 1u;", MATH_WGSL, op.extra ?? ""];
    L.push("@compute @workgroup_size(64)");
    L.push(
      "fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {",
    );
    L.push("  let t = flat_wg(wid, nwg) * 64u + lid;");
    L.push("  if (t >= uu(0u)) { return; }");
    L.push(`  let p = vec2<u32>(t & ${texW - 1}u, t >> ${shift}u);`);
    L.push("  let A = uf(P); let B = uf(P + 1u);");
    for (let k = 1; k <= nIn; k++) L.push(`  let v${k} = textureLoad($${k}, p, 0);`);
    L.push("  var o = vec4<f32>(0.0);");
    for (let c = 0; c < 4; c++) {
      L.push(`  { let i = t * 4u + ${c}u;`);
      let xi = 0;
      for (let k = 1; k <= nIn; k++) {
        if (op.cond && k === 1) L.push(`    let c0 = v1[${c}] != 0.0;`);
        else L.push(`    let x${xi++} = v${k}[${c}];`);
      }
      L.push(`    var r = ${op.expr};`);
      if (op.post) L.push(`    ${op.post}`);
      L.push(`    o[${c}] = r; _ = i; }`);
    }
    L.push("  textureStore($0, p, o);");
    L.push("}");
    return L.join("\n");
  };
  return { key, code };
}

function unary(
  ins: readonly View[],
  outs: readonly View[],
  attrs: KernelAttrs["unary"],
  ctx: GpuContext,
): void {
  ctx.arity("unary", ins, outs, 1, 1);
  const op = unaryOp(attrs.op, ins[0]!.storage.dtype, outs[0]!.storage.dtype, attrs.alpha, attrs.beta);
  ctx.contiguous(`unary ${attrs.op}`, "output", outs[0]!);
  elementwise(ctx, `unary ${attrs.op}`, op, ins, outs[0]!);
}

/** `binary` kernel. */
function binary(
  ins: readonly View[],
  outs: readonly View[],
  attrs: KernelAttrs["binary"],
  ctx: GpuContext,
): void {
  ctx.arity("binary", ins, outs, 2, 1);
  const [x, y] = ins as [View, View];
  const op = binaryOp(attrs.op, x.storage.dtype, y.storage.dtype, outs[0]!.storage.dtype);
  elementwise(ctx, `binary ${op.name}`, op, ins, outs[0]!);
}

/** `where` kernel. */
function where(
  ins: readonly View[],
  outs: readonly View[],
  _attrs: KernelAttrs["where"],
  ctx: GpuContext,
): void {
  ctx.arity("where", ins, outs, 3, 1);
  const op = whereOp(ins[1]!.storage.dtype, ins[2]!.storage.dtype, outs[0]!.storage.dtype);
  elementwise(ctx, "where", op, ins, outs[0]!);
}

/** `copy` kernel: any view to any view (a buffer copy for contiguous runs; overlapping views read a snapshot). */
function copy(
  ins: readonly View[],
  outs: readonly View[],
  _attrs: KernelAttrs["copy"],
  ctx: GpuContext,
): void {
  ctx.arity("copy", ins, outs, 1, 1);
  const x = ins[0]!, y = outs[0]!;
  const op = copyOp(x.storage.dtype, y.storage.dtype);
  ctx.shape("copy", "input 0", x, y.shape);
  const plan = makePlan(y.shape, [y, x]);
  if (
    x.storage !== y.storage && x.storage.dtype === y.storage.dtype && plan.size > 0 &&
    plan.shape.length === 1 &&
    plan.strides[0]![0] === 1 && plan.strides[1]![0] === 1
  ) {
    // Contiguous run to contiguous run: a plain buffer copy, ordered with the kernels around it.
    const enc = ctx.exec.encoderForCopy();
    const src = (x.storage as GpuStorage).buffer, dst = (y.storage as GpuStorage).buffer;
    enc.copyBufferToBuffer(src, plan.offsets[1]! * 4, dst, plan.offsets[0]! * 4, plan.size * 4);
    ctx.exec.markBusy(src, dst);
    ctx.touch(y);
    return;
  }
  if (x.storage === y.storage) {
    // Overlapping source and destination: read from a snapshot, as the CPU backend does.
    const s = x.storage as GpuStorage;
    const tmp = ctx.pool.acquire(s.size * 4);
    const enc = ctx.exec.encoderForCopy();
    enc.copyBufferToBuffer(s.buffer, 0, tmp, 0, Math.ceil((s.size * 4) / 4) * 4);
    ctx.exec.markBusy(s.buffer, tmp);
    elementwise(ctx, "copy", op, ins, y, tmp);
    ctx.pool.release(tmp);
    return;
  }
  elementwise(ctx, "copy", op, ins, y);
}

/**
 * Launch `op` over `ins` into `out` (shapes checked here). `srcOverride` replaces input 0's buffer (a snapshot of
 * an overlapping source).
 */
export function elementwise(
  ctx: GpuContext,
  kernel: string,
  op: EwOp,
  ins: readonly View[],
  out: View,
  srcOverride?: GPUBuffer,
): void {
  ins.forEach((x, i) => ctx.shape(kernel, `input ${i}`, x, out.shape));
  const plan = makePlan(out.shape, [out, ...ins]);
  if (plan.size === 0) return;
  if (plan.shape.length > MAX_RANK) {
    fail(
      kernel,
      `views coalesce to rank ${plan.shape.length}; at most ${MAX_RANK} is supported (make an input contiguous first)`,
    );
  }
  const types = [out, ...ins].map((v) => v.storage.dtype);
  if (
    !srcOverride && plan.size >= ctx.ewTexMin && plan.size % 4 === 0 && plan.shape.length === 1 &&
    types.every((t) => t === "f32") && plan.strides.every((st) => st[0] === 1) &&
    plan.offsets.every((o) => o % 4 === 0) && op.ct === "f32" && ctx.textures.rows(plan.size / 4) > 0
  ) {
    return elementwiseTexture(ctx, op, ins, out, plan.offsets, plan.size);
  }
  const { key, code } = elementwiseCode(op, plan.shape.length, types);
  const operands = [ctx.buf(out, true), ...ins.map((x) => ctx.buf(x))];
  if (srcOverride) operands[1] = { ...operands[1]!, buffer: srcOverride };
  ctx.launch({
    key,
    code,
    operands,
    uniforms: elementwiseUniforms(plan, op),
    workgroups: Math.ceil(plan.size / 64),
  });
  ctx.touch(out);
}

function elementwiseTexture(
  ctx: GpuContext,
  op: EwOp,
  ins: readonly View[],
  out: View,
  offsets: number[],
  n: number,
): void {
  const texels = n / 4, rows = ctx.textures.rows(texels);
  const inputs = ins.map((x, k) => ({
    texture: ctx.textures.raw(x.storage as GpuStorage, offsets[k + 1]! / 4, texels),
  }));
  const target = ctx.textures.output(rows);
  const u = new UniformWriter();
  u.u32(texels);
  op.params(u);
  const { key, code } = elementwiseTextureCode(op, ins.length, TEX_W);
  ctx.launch({
    key,
    code,
    operands: [{ texture: target, store: true }, ...inputs],
    uniforms: u.words().slice(),
    workgroups: Math.ceil(texels / 64),
  });
  const st = out.storage as GpuStorage, base = offsets[0]! * 4;
  const enc = ctx.exec.encoderForCopy();
  const full = Math.floor(texels / TEX_W), rest = texels - full * TEX_W;
  if (full > 0) {
    enc.copyTextureToBuffer({ texture: target }, {
      buffer: st.buffer,
      offset: base,
      bytesPerRow: TEX_W * 16,
    }, [
      TEX_W,
      full,
    ]);
  }
  if (rest > 0) {
    enc.copyTextureToBuffer(
      { texture: target, origin: [0, full] },
      { buffer: st.buffer, offset: base + full * TEX_W * 16, bytesPerRow: TEX_W * 16 },
      [rest, 1],
    );
  }
  ctx.exec.markBusy(st.buffer);
  ctx.textures.releaseOutput(target);
  ctx.touch(out);
}

/** Fill `n` contiguous f32 elements of `c` with zeros. */
export function fillZero(ctx: GpuContext, c: View, n: number): void {
  const op = unaryOp("mulScalar", "f32", "f32", 0, 0);
  const plan = makePlan([n], [{ offset: c.offset, strides: [1] }, { offset: c.offset, strides: [1] }]);
  const { key, code } = elementwiseCode({ ...op, name: "zero", expr: "0.0" }, plan.shape.length, [
    "f32",
    "f32",
  ]);
  const buf = ctx.buf(c, true);
  ctx.launch({
    key,
    code,
    operands: [buf, buf],
    uniforms: elementwiseUniforms(plan, op),
    workgroups: Math.ceil(n / 64),
  });
  ctx.touch(c);
}

/** The elementwise family. */
export const ELEMENTWISE_KERNELS: GpuKernels<"unary" | "binary" | "where" | "copy"> = {
  unary,
  binary,
  where,
  copy,
};
