/**
 * WGSL for the per-element kernels that are not plain elementwise maps: `random` (the shared counter-based
 * generator `RNG_WGSL`, so draws equal the CPU backend's), `gather`, `scatterAdd`, the fused LSTM and GRU cells
 * forward and backward (PyTorch gate orders, one invocation per `(batch, unit)`), and the in-place Adam/AdamW and
 * SGD steps. 2-D inputs are `(offset, row stride, column stride)` in the uniform.
 *
 * @module
 */

import type { RandomDist } from "../backend.ts";
import { RNG_WGSL } from "../rng.ts";
import { MATH_WGSL } from "./_elementwise.ts";

const MAIN = (n: string) =>
  `@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_wg(wid, nwg) * 64u + lid;
  if (i >= ${n}) { return; }`;

/** `random`. Uniforms: n, yOff, key0, key1, seed, counter, a, b, threshold. */
export function randomCode(dist: RandomDist, outIsInt: boolean): { key: string; code: () => string } {
  const expr = dist === "uniform"
    ? "uf(6u) + uf(7u) * uniform_from_key(uu(2u), uu(5u) + i)"
    : dist === "normal"
    ? "uf(6u) + uf(7u) * normal_at(uu(4u), uu(5u) + i)"
    : dist === "bernoulli"
    ? "select(0.0, 1.0, (pcg_hash(uu(5u) + i + uu(2u)) >> 8u) < uu(8u))"
    : undefined;
  if (expr === undefined) throw new Error(`webgpu random: unknown dist "${dist}"`);
  const code = () =>
    `${MATH_WGSL}${RNG_WGSL}${MAIN("uu(0u)")}
  let v = ${expr};
  $0[ui(1u) + i32(i)] = ${outIsInt ? "f2i(v)" : "v"};
}`;
  return { key: `random|${dist}|${outIsInt}`, code };
}

/** `gather`. Uniforms: N, D, V, tOff, tRs, tCs, idOff, idS, yOff. Ids outside `[0, V)` give zeros. */
export function gatherCode(dtype: string): { key: string; code: () => string } {
  const zero = dtype === "i32" ? "0" : "0.0";
  const code = () =>
    `${MAIN("uu(0u) * uu(1u)")}
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
    `${MAIN("uu(1u)")}
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

/** Loads of 2-D strided operands: `ld(k, b, j)` reads operand `$k` whose layout starts at uniform word `w`. */
function m2(k: number, w: number, b: string, j: string): string {
  return `$${k}[ui(${w}u) + i32(${b}) * ui(${w + 1}u) + i32(${j}) * ui(${w + 2}u)]`;
}

/** `lstmCell`. Uniforms: B, H, gates(3), cPrev(3), hOff, cOff, actOff. */
export function lstmCellCode(): { key: string; code: () => string } {
  const code = () =>
    `${MATH_WGSL}${MAIN("uu(0u) * uu(1u)")}
  let H = uu(1u); let b = i / H; let j = i % H;
  let ig = sigm(${m2(0, 2, "b", "j")});
  let fg = sigm(${m2(0, 2, "b", "H + j")});
  let gg = safe_tanh(${m2(0, 2, "b", "2u * H + j")});
  let og = sigm(${m2(0, 2, "b", "3u * H + j")});
  let c = fg * ${m2(1, 5, "b", "j")} + ig * gg;
  $2[ui(8u) + i32(i)] = og * safe_tanh(c);
  $3[ui(9u) + i32(i)] = c;
  let a = ui(10u) + i32(b * 4u * H + j);
  $4[a] = ig; $4[a + i32(H)] = fg; $4[a + 2 * i32(H)] = gg; $4[a + 3 * i32(H)] = og;
}`;
  return { key: "lstmCell", code };
}

/** `lstmCellBackward`. Uniforms: B, H, act(3), cPrev(3), c(3), dh(3), dc(3), dGatesOff, dcPrevOff. */
export function lstmCellBackwardCode(): { key: string; code: () => string } {
  const code = () =>
    `${MATH_WGSL}${MAIN("uu(0u) * uu(1u)")}
  let H = uu(1u); let b = i / H; let j = i % H;
  let ig = ${m2(0, 2, "b", "j")}; let fg = ${m2(0, 2, "b", "H + j")};
  let gg = ${m2(0, 2, "b", "2u * H + j")}; let og = ${m2(0, 2, "b", "3u * H + j")};
  let cp = ${m2(1, 5, "b", "j")}; let c = ${m2(2, 8, "b", "j")};
  let dh = ${m2(3, 11, "b", "j")}; let dc = ${m2(4, 14, "b", "j")};
  let tc = safe_tanh(c);
  let dct = dc + dh * og * (1.0 - tc * tc);
  let a = ui(17u) + i32(b * 4u * H + j);
  $5[a] = dct * gg * ig * (1.0 - ig);
  $5[a + i32(H)] = dct * cp * fg * (1.0 - fg);
  $5[a + 2 * i32(H)] = dct * ig * (1.0 - gg * gg);
  $5[a + 3 * i32(H)] = dh * tc * og * (1.0 - og);
  $6[ui(18u) + i32(i)] = dct * fg;
}`;
  return { key: "lstmCellBackward", code };
}

/** `gruCell`. Uniforms: B, H, gi(3), gh(3), hPrev(3), hOff, actOff. */
export function gruCellCode(): { key: string; code: () => string } {
  const code = () =>
    `${MATH_WGSL}${MAIN("uu(0u) * uu(1u)")}
  let H = uu(1u); let b = i / H; let j = i % H;
  let r = sigm(${m2(0, 2, "b", "j")} + ${m2(1, 5, "b", "j")});
  let z = sigm(${m2(0, 2, "b", "H + j")} + ${m2(1, 5, "b", "H + j")});
  let n = safe_tanh(${m2(0, 2, "b", "2u * H + j")} + r * ${m2(1, 5, "b", "2u * H + j")});
  let hp = ${m2(2, 8, "b", "j")};
  $3[ui(11u) + i32(i)] = (1.0 - z) * n + z * hp;
  let a = ui(12u) + i32(b * 3u * H + j);
  $4[a] = r; $4[a + i32(H)] = z; $4[a + 2 * i32(H)] = n;
}`;
  return { key: "gruCell", code };
}

/** `gruCellBackward`. Uniforms: B, H, act(3), gh(3), hPrev(3), dh(3), dgiOff, dghOff, dhPrevOff. */
export function gruCellBackwardCode(): { key: string; code: () => string } {
  const code = () =>
    `${MATH_WGSL}${MAIN("uu(0u) * uu(1u)")}
  let H = uu(1u); let b = i / H; let j = i % H;
  let r = ${m2(0, 2, "b", "j")}; let z = ${m2(0, 2, "b", "H + j")}; let n = ${m2(0, 2, "b", "2u * H + j")};
  let ghn = ${m2(1, 5, "b", "2u * H + j")};
  let hp = ${m2(2, 8, "b", "j")}; let dh = ${m2(3, 11, "b", "j")};
  let dnp = dh * (1.0 - z) * (1.0 - n * n);
  let dzp = dh * (hp - n) * z * (1.0 - z);
  let drp = dnp * ghn * r * (1.0 - r);
  let a = i32(b * 3u * H + j);
  $4[ui(14u) + a] = drp; $4[ui(14u) + a + i32(H)] = dzp; $4[ui(14u) + a + 2 * i32(H)] = dnp;
  $5[ui(15u) + a] = drp; $5[ui(15u) + a + i32(H)] = dzp; $5[ui(15u) + a + 2 * i32(H)] = dnp * r;
  $6[ui(16u) + i32(i)] = dh * z;
}`;
  return { key: "gruCellBackward", code };
}

/**
 * `adam` in place. Operands: $0 param, $1 grad, $2 expAvg, $3 expAvgSq, $4 paramOut, $5 expAvgOut,
 * $6 expAvgSqOut. Uniforms: n, 7 offsets, beta1, beta2, eps, stepSize, decay, l2, sqrtBc2.
 */
export function adamCode(): { key: string; code: () => string } {
  const code = () =>
    `${MAIN("uu(0u)")}
  let k = i32(i);
  var p = $0[ui(1u) + k];
  let g = $1[ui(2u) + k] + uf(13u) * p;
  p = p * uf(12u);
  let m = uf(8u) * $2[ui(3u) + k] + (1.0 - uf(8u)) * g;
  let v = uf(9u) * $3[ui(4u) + k] + (1.0 - uf(9u)) * g * g;
  $5[ui(6u) + k] = m;
  $6[ui(7u) + k] = v;
  $4[ui(5u) + k] = p - uf(11u) * m / (sqrt(v) / uf(14u) + uf(10u));
}`;
  return { key: "adam", code };
}

/**
 * `sgd` in place. Operands: $0 param, $1 grad, $2 buf, $3 paramOut, $4 bufOut. Uniforms: n, 5 offsets, lr,
 * momentum, wd, dampening, nesterov.
 */
export function sgdCode(): { key: string; code: () => string } {
  const code = () =>
    `${MAIN("uu(0u)")}
  let k = i32(i);
  let p = $0[ui(1u) + k];
  var g = $1[ui(2u) + k] + uf(8u) * p;
  let mom = uf(7u);
  if (mom != 0.0) {
    let bb = mom * $2[ui(3u) + k] + (1.0 - uf(9u)) * g;
    $4[ui(5u) + k] = bb;
    if (uu(10u) != 0u) { g = g + mom * bb; } else { g = bb; }
  }
  $3[ui(4u) + k] = p - uf(6u) * g;
}`;
  return { key: "sgd", code };
}
