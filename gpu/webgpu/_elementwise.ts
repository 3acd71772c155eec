/**
 * WGSL for the strided elementwise kernels (`unary`, `binary`, `where`, `copy`, `dropout`): views are coalesced
 * as on the CPU backend (size-1 axes dropped, axes every operand walks as one merged), the rank goes into the
 * pipeline key and the shape, offsets and strides into the uniform, so one pipeline serves every shape of that
 * rank. Each invocation computes one element; launches past 65,535 workgroups use a 2-D grid.
 *
 * @module
 */

import type { BinaryOp, DType, UnaryOp } from "../backend.ts";
import { RNG_WGSL } from "../rng.ts";
import { UniformWriter } from "./_exec.ts";
import type { Plan } from "../_layout.ts";
export { type Layout, makePlan, type Plan } from "../_layout.ts";

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

/** `dropout`: keep element i when the 24-bit uniform at `(seed, counter + i)` is below `threshold`. */
export function dropoutOp(p: number, counter: number, streamKey: number): EwOp {
  const keep = 1 - p;
  const threshold = Math.min(16777216, Math.max(0, Math.ceil(keep * 16777216)));
  const scale = p === 1 ? 0 : 1 / keep;
  return {
    name: "dropout",
    expr: "x0",
    ct: "f32",
    params: (u) => {
      u.f32(scale), u.u32(threshold), u.u32(streamKey), u.u32(counter >>> 0);
    },
    post: "r = select(0.0, r * uf(P), (pcg_hash(i + uu(P + 3u) + uu(P + 2u)) >> 8u) < uu(P + 1u));",
    extra: RNG_WGSL,
  };
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
