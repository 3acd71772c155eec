/**
 * Fused LSTM and GRU cell kernels (PyTorch gate orders), forward and backward, one pass over the batch.
 * Inputs may be any 2-D strided views (a zero `dc` can be a stride-0 broadcast); outputs are contiguous.
 *
 * @module
 */

import {
  type Arg,
  type CpuKernels,
  expectArity,
  expectContiguous,
  expectRank,
  expectShape,
  KernelError,
  mat,
  shapeStr,
} from "../_args.ts";
import {
  type F32Mat,
  wasmLstmCell,
  wasmLstmCellBackward,
  wasmTanhRows,
  wasmTanhRowsMax,
} from "../_wasm_exp.ts";

/** True when no output shares a storage with an input. */
function distinct(ins: readonly Arg[], outs: readonly Arg[]): boolean {
  return outs.every((o) => ins.every((i) => i.id !== o.id));
}

function sig(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Batch size and hidden size from a `(B, gates * H)` input. */
function dims(kernel: string, x: Arg, gates: number, what: string): [number, number] {
  const s = expectRank(kernel, what, x, 2);
  if (s[1]! % gates !== 0) {
    throw new KernelError(kernel, `${what} shape ${shapeStr(s)}: last axis must be ${gates} * hidden size`);
  }
  return [s[0]!, s[1]! / gates];
}

function outputs(kernel: string, outs: readonly Arg[], shapes: number[][]): void {
  outs.forEach((o, i) => {
    expectShape(kernel, `output ${i}`, o, shapes[i]!);
    expectContiguous(kernel, `output ${i}`, o);
  });
}

/** `lstmCell`: in [gates (B, 4H), cPrev (B, H)] -> out [h, c, act (B, 4H)]. */
export function lstmCell(ins: readonly Arg[], outs: readonly Arg[]): void {
  const k = "lstmCell";
  expectArity(k, ins, outs, 2, 3);
  const [B, H] = dims(k, ins[0]!, 4, "gates");
  expectShape(k, "cPrev", ins[1]!, [B, H]);
  outputs(k, outs, [[B, H], [B, H], [B, 4 * H]]);
  const g = mat(ins[0]!), cp = mat(ins[1]!);
  const h = outs[0]!.data, ho = outs[0]!.offset, c = outs[1]!.data, co = outs[1]!.offset;
  const act = outs[2]!.data, ao = outs[2]!.offset;
  if (
    g.data instanceof Float32Array && cp.data instanceof Float32Array && h instanceof Float32Array &&
    c instanceof Float32Array && act instanceof Float32Array &&
    wasmLstmCell(g as F32Mat, cp as F32Mat, B, H, { h, ho, c, co, act, ao }, !distinct(ins, outs))
  ) return;
  for (let b = 0; b < B; b++) {
    const gr = g.off + b * g.rs, cr = cp.off + b * cp.rs, ar = ao + b * 4 * H, hr = b * H;
    for (let j = 0; j < H; j++) {
      const i = sig(g.data[gr + j * g.cs]!);
      const f = sig(g.data[gr + (H + j) * g.cs]!);
      const gg = Math.tanh(g.data[gr + (2 * H + j) * g.cs]!);
      const o = sig(g.data[gr + (3 * H + j) * g.cs]!);
      const cn = f * cp.data[cr + j * cp.cs]! + i * gg;
      act[ar + j] = i, act[ar + H + j] = f, act[ar + 2 * H + j] = gg, act[ar + 3 * H + j] = o;
      c[co + hr + j] = cn;
      h[ho + hr + j] = o * Math.tanh(cn);
    }
  }
}

/** `lstmCellBackward`: in [act (B, 4H), cPrev, c, dh, dc (B, H)] -> out [dGates (B, 4H), dcPrev (B, H)]. */
export function lstmCellBackward(ins: readonly Arg[], outs: readonly Arg[]): void {
  const k = "lstmCellBackward";
  expectArity(k, ins, outs, 5, 2);
  const [B, H] = dims(k, ins[0]!, 4, "act");
  ["cPrev", "c", "dh", "dc"].forEach((w, i) => expectShape(k, w, ins[i + 1]!, [B, H]));
  outputs(k, outs, [[B, 4 * H], [B, H]]);
  const act = mat(ins[0]!), cp = mat(ins[1]!), cm = mat(ins[2]!), dhm = mat(ins[3]!), dcm = mat(ins[4]!);
  const dg = outs[0]!.data, dgo = outs[0]!.offset, dcp = outs[1]!.data, dcpo = outs[1]!.offset;
  if (
    [act, cp, cm, dhm, dcm].every((m) => m.data instanceof Float32Array) && dg instanceof Float32Array &&
    dcp instanceof Float32Array &&
    wasmLstmCellBackward(
      { act: act as F32Mat, cPrev: cp as F32Mat, c: cm as F32Mat, dh: dhm as F32Mat, dc: dcm as F32Mat },
      B,
      H,
      { dg, dgo, dcp, dcpo },
      !distinct(ins, outs),
    )
  ) return;
  // tanh(c) in f64 by the WebAssembly kernel for f32 data, a block of rows at a time; else Math.tanh.
  const wasm = cm.data instanceof Float32Array && H > 0 ? Math.floor(wasmTanhRowsMax() / H) : 0;
  let th: Float64Array | null = null, t0 = 0, tEnd = 0;
  for (let b = 0; b < B; b++) {
    const ar = act.off + b * act.rs, dr = dgo + b * 4 * H;
    if (wasm > 0 && b >= tEnd) {
      const n = Math.min(wasm, B - b), got = wasmTanhRows(cm as F32Mat, H, b, n);
      if (got) [th, t0, tEnd] = [got[0], got[1] - b * H, b + n];
      else [th, tEnd] = [null, B];
    }
    for (let j = 0; j < H; j++) {
      const i = act.data[ar + j * act.cs]!, f = act.data[ar + (H + j) * act.cs]!;
      const g = act.data[ar + (2 * H + j) * act.cs]!, o = act.data[ar + (3 * H + j) * act.cs]!;
      const cPrev = cp.data[cp.off + b * cp.rs + j * cp.cs]!, c = cm.data[cm.off + b * cm.rs + j * cm.cs]!;
      const dh = dhm.data[dhm.off + b * dhm.rs + j * dhm.cs]!,
        dc = dcm.data[dcm.off + b * dcm.rs + j * dcm.cs]!;
      const tc = th !== null ? th[t0 + b * H + j]! : Math.tanh(c);
      const dct = dc + dh * o * (1 - tc * tc);
      dg[dr + j] = dct * g * i * (1 - i);
      dg[dr + H + j] = dct * cPrev * f * (1 - f);
      dg[dr + 2 * H + j] = dct * i * (1 - g * g);
      dg[dr + 3 * H + j] = dh * tc * o * (1 - o);
      dcp[dcpo + b * H + j] = dct * f;
    }
  }
}

/** `gruCell`: in [gi (B, 3H), gh (B, 3H), hPrev (B, H)] -> out [h (B, H), act (B, 3H) = (r, z, n)]. */
export function gruCell(ins: readonly Arg[], outs: readonly Arg[]): void {
  const k = "gruCell";
  expectArity(k, ins, outs, 3, 2);
  const [B, H] = dims(k, ins[0]!, 3, "gi");
  expectShape(k, "gh", ins[1]!, [B, 3 * H]);
  expectShape(k, "hPrev", ins[2]!, [B, H]);
  outputs(k, outs, [[B, H], [B, 3 * H]]);
  const gi = mat(ins[0]!), gh = mat(ins[1]!), hp = mat(ins[2]!);
  const h = outs[0]!.data, ho = outs[0]!.offset, act = outs[1]!.data, ao = outs[1]!.offset;
  for (let b = 0; b < B; b++) {
    const ir = gi.off + b * gi.rs, hr = gh.off + b * gh.rs, ar = ao + b * 3 * H;
    for (let j = 0; j < H; j++) {
      const r = sig(gi.data[ir + j * gi.cs]! + gh.data[hr + j * gh.cs]!);
      const z = sig(gi.data[ir + (H + j) * gi.cs]! + gh.data[hr + (H + j) * gh.cs]!);
      const n = Math.tanh(gi.data[ir + (2 * H + j) * gi.cs]! + r * gh.data[hr + (2 * H + j) * gh.cs]!);
      act[ar + j] = r, act[ar + H + j] = z, act[ar + 2 * H + j] = n;
      h[ho + b * H + j] = (1 - z) * n + z * hp.data[hp.off + b * hp.rs + j * hp.cs]!;
    }
  }
}

/**
 * `gruCellBackward`: in [act (B, 3H), gh (B, 3H), hPrev (B, H), dh (B, H)] -> out [dgi, dgh (B, 3H), dhPrev (B, H)].
 * `dhPrev` is the direct path `dh * z` only; the path through `gh = hPrev @ W_hh^T` is the caller's matmul of `dgh`.
 */
export function gruCellBackward(ins: readonly Arg[], outs: readonly Arg[]): void {
  const k = "gruCellBackward";
  expectArity(k, ins, outs, 4, 3);
  const [B, H] = dims(k, ins[0]!, 3, "act");
  expectShape(k, "gh", ins[1]!, [B, 3 * H]);
  expectShape(k, "hPrev", ins[2]!, [B, H]);
  expectShape(k, "dh", ins[3]!, [B, H]);
  outputs(k, outs, [[B, 3 * H], [B, 3 * H], [B, H]]);
  const act = mat(ins[0]!), gh = mat(ins[1]!), hp = mat(ins[2]!), dhm = mat(ins[3]!);
  const dgi = outs[0]!.data, io = outs[0]!.offset, dgh = outs[1]!.data, go = outs[1]!.offset;
  const dhp = outs[2]!.data, po = outs[2]!.offset;
  for (let b = 0; b < B; b++) {
    const ar = act.off + b * act.rs, hr = gh.off + b * gh.rs, ir = io + b * 3 * H, gr = go + b * 3 * H;
    for (let j = 0; j < H; j++) {
      const r = act.data[ar + j * act.cs]!, z = act.data[ar + (H + j) * act.cs]!;
      const n = act.data[ar + (2 * H + j) * act.cs]!;
      const hPrev = hp.data[hp.off + b * hp.rs + j * hp.cs]!,
        dh = dhm.data[dhm.off + b * dhm.rs + j * dhm.cs]!;
      const ghn = gh.data[hr + (2 * H + j) * gh.cs]!;
      const dnPre = dh * (1 - z) * (1 - n * n);
      const drPre = dnPre * ghn * r * (1 - r);
      const dzPre = dh * (hPrev - n) * z * (1 - z);
      dgi[ir + j] = drPre, dgi[ir + H + j] = dzPre, dgi[ir + 2 * H + j] = dnPre;
      dgh[gr + j] = drPre, dgh[gr + H + j] = dzPre, dgh[gr + 2 * H + j] = dnPre * r;
      dhp[po + b * H + j] = dh * z;
    }
  }
}

/** The recurrent-cell family. */
export const RNN_KERNELS: CpuKernels<"lstmCell" | "lstmCellBackward" | "gruCell" | "gruCellBackward"> = {
  lstmCell,
  lstmCellBackward,
  gruCell,
  gruCellBackward,
};
