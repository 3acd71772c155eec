/**
 * WebGPU fused LSTM and GRU cells, forward and backward (PyTorch gate orders), one invocation per
 * `(batch, unit)`. 2-D inputs are `(offset, row stride, column stride)` in the uniform; outputs are contiguous.
 *
 * @module
 */

import type { View } from "../../backend.ts";
import type { GpuContext, GpuKernels } from "../_context.ts";
import { UniformWriter } from "../_exec.ts";
import { fail, shapeStr } from "../_storage.ts";
import { flatMain, MATH_WGSL } from "./elementwise.ts";

/** Loads of 2-D strided operands: `ld(k, b, j)` reads operand `$k` whose layout starts at uniform word `w`. */
function m2(k: number, w: number, b: string, j: string): string {
  return `$${k}[ui(${w}u) + i32(${b}) * ui(${w + 1}u) + i32(${j}) * ui(${w + 2}u)]`;
}

/** `lstmCell`. Uniforms: B, H, gates(3), cPrev(3), hOff, cOff, actOff. */
export function lstmCellCode(): { key: string; code: () => string } {
  const code = () =>
    `${MATH_WGSL}${flatMain("uu(0u) * uu(1u)")}
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
    `${MATH_WGSL}${flatMain("uu(0u) * uu(1u)")}
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
    `${MATH_WGSL}${flatMain("uu(0u) * uu(1u)")}
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
    `${MATH_WGSL}${flatMain("uu(0u) * uu(1u)")}
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

/** Check and launch one of the four cell kernels. */
function cell(
  ctx: GpuContext,
  name: "lstmCell" | "lstmCellBackward" | "gruCell" | "gruCellBackward",
  ins: readonly View[],
  outs: readonly View[],
): void {
  const spec = {
    lstmCell: { nIn: 2, nOut: 2 + 1, gates: 4, code: lstmCellCode },
    lstmCellBackward: { nIn: 5, nOut: 2, gates: 4, code: lstmCellBackwardCode },
    gruCell: { nIn: 3, nOut: 2, gates: 3, code: gruCellCode },
    gruCellBackward: { nIn: 4, nOut: 3, gates: 3, code: gruCellBackwardCode },
  }[name];
  ctx.arity(name, ins, outs, spec.nIn, spec.nOut);
  const first = ins[0]!;
  if (first.shape.length !== 2 || first.shape[1]! % spec.gates !== 0) {
    fail(name, `input 0 shape ${shapeStr(first.shape)}: must be (batch, ${spec.gates} * hidden)`);
  }
  const B = first.shape[0]!, H = first.shape[1]! / spec.gates, G = spec.gates * H;
  const inShapes: Record<string, number[][]> = {
    lstmCell: [[B, G], [B, H]],
    lstmCellBackward: [[B, G], [B, H], [B, H], [B, H], [B, H]],
    gruCell: [[B, G], [B, G], [B, H]],
    gruCellBackward: [[B, G], [B, G], [B, H], [B, H]],
  };
  const outShapes: Record<string, number[][]> = {
    lstmCell: [[B, H], [B, H], [B, G]],
    lstmCellBackward: [[B, G], [B, H]],
    gruCell: [[B, H], [B, G]],
    gruCellBackward: [[B, G], [B, G], [B, H]],
  };
  ins.forEach((v, i) => {
    ctx.shape(name, `input ${i}`, v, inShapes[name]![i]!);
    ctx.dtype(name, `input ${i}`, v, "f32");
  });
  outs.forEach((v, i) => {
    ctx.shape(name, `output ${i}`, v, outShapes[name]![i]!);
    ctx.contiguous(name, `output ${i}`, v);
    ctx.dtype(name, `output ${i}`, v, "f32");
  });
  if (B * H === 0) return;
  const u = new UniformWriter();
  u.u32(B), u.u32(H);
  for (const v of ins) ctx.m2(u, v);
  for (const v of outs) u.i32(v.offset);
  const { key, code } = spec.code();
  ctx.launch({
    key,
    code,
    operands: [...ins.map((v) => ctx.buf(v)), ...outs.map((v) => ctx.buf(v, true))],
    uniforms: u.words().slice(),
    workgroups: Math.ceil((B * H) / 64),
  });
  ctx.touch(...outs);
}

type CellName = "lstmCell" | "lstmCellBackward" | "gruCell" | "gruCellBackward";
const cellKernel =
  (name: CellName) => (ins: readonly View[], outs: readonly View[], _: unknown, ctx: GpuContext) =>
    cell(ctx, name, ins, outs);

/** The recurrent-cell family. */
export const RNN_KERNELS: GpuKernels<CellName> = {
  lstmCell: cellKernel("lstmCell"),
  lstmCellBackward: cellKernel("lstmCellBackward"),
  gruCell: cellKernel("gruCell"),
  gruCellBackward: cellKernel("gruCellBackward"),
};
