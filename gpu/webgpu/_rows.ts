/**
 * WGSL for the row kernels (one workgroup of 64 invocations per row, tree reduction in workgroup memory):
 * `reduce`, `softmax`, `crossEntropy`; and the per-element `crossEntropyBackward`. Rows past 65,535 use a 2-D
 * grid. Inputs are 2-D strided views `(offset, row stride, column stride)`; vectors are `(offset, stride)`.
 *
 * @module
 */

import type { ReduceOp } from "../backend.ts";
import { MATH_WGSL } from "./_elementwise.ts";
import { TEX_W } from "./_matmul.ts";

/** Invocations per row workgroup. */
export const ROW_WG = 64;

const HEAD = `@compute @workgroup_size(${ROW_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = flat_wg(wid, nwg);
  if (row >= uu(0u)) { return; }
  let C = uu(1u);
  let xb = ui(2u) + i32(row) * ui(3u); let xcs = ui(4u);`;

/**
 * `ldx(i)`: element `i` of the input, from the storage buffer, or (`tex`) from an `rgba32f` texture in the flat
 * layout (element `i` is component `i % 4` of texel `i / 4`), which llvmpipe fetches several times faster.
 */
function loader(tex: boolean, inT: "f32" | "i32"): string {
  if (!tex) return `fn ldx(i: i32) -> f32 { return ${inT === "i32" ? "f32($0[i])" : "$0[i]"}; }`;
  return `fn ldx(i: i32) -> f32 {
  let t = u32(i) >> 2u;
  return textureLoad($0, vec2<u32>(t & ${TEX_W - 1}u, t >> ${Math.log2(TEX_W)}u), 0)[u32(i) & 3u];
}`;
}

/** Tree reduction of `sv` (and `si`) in workgroup memory with combine statements over `a`/`b` slots. */
function tree(combine: string): string {
  return `
  for (var s = ${ROW_WG / 2}u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (lid < s) { let ia = lid; let ib = lid + s; ${combine} }
  }
  workgroupBarrier();`;
}

const SUM_TREE = tree("sv[ia] = sv[ia] + sv[ib];");
const MAX_TREE = tree("sv[ia] = fmax(sv[ia], sv[ib]);");
const LSE = /* wgsl */ `
  // max ignoring NaN (as the CPU reference: NaN never compares greater), then the sum of exp
  var m = neg_inf();
  for (var c = lid; c < C; c = c + ${ROW_WG}u) { let v = ldx(xb + i32(c) * xcs); if (v > m) { m = v; } }
  sv[lid] = m;
  ${tree("sv[ia] = max(sv[ia], sv[ib]);")}
  let mx = sv[0];
  workgroupBarrier();
  var acc = 0.0;
  for (var c = lid; c < C; c = c + ${ROW_WG}u) { acc = acc + exp(ldx(xb + i32(c) * xcs) - mx); }
  sv[lid] = acc;
  ${SUM_TREE}
  var lse = mx + log(sv[0]);
  if (mx == neg_inf()) { lse = mx; }
`;

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
      loader(tex, inT),
      arg ? "" : `fn sto(i: i32, v: f32) { $1[i] = ${outT === "i32" ? "f2i(v)" : "v"}; }`,
      `var<workgroup> sv: array<f32, ${ROW_WG}>;`,
      `var<workgroup> si: array<u32, ${ROW_WG}>;`,
    ];
    L.push(HEAD);
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
      L.push("  sv[lid] = acc;", op === "max" ? MAX_TREE : tree("sv[ia] = fmin(sv[ia], sv[ib]);"));
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
      L.push(tree(`
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

/** `softmax` / log-softmax. Uniforms: R, C, xOff, xRs, xCs, yOff. Output contiguous `(R, C)`. */
export function softmaxCode(log: boolean, tex = false): { key: string; code: () => string } {
  const code = () =>
    [MATH_WGSL, loader(tex, "f32"), `var<workgroup> sv: array<f32, ${ROW_WG}>;`, HEAD, LSE].join("\n") + `
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
    [MATH_WGSL, loader(tex, "f32"), `var<workgroup> sv: array<f32, ${ROW_WG}>;`, HEAD, LSE].join("\n") + `
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
    `${loader(tex, "f32")}
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
