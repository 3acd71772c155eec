/**
 * Whole-sequence recurrent ops (private): one autograd node for a full LSTM/GRU time loop of one layer and one
 * direction. The input projection `x @ W_ih^T + b` for ALL time steps is computed by the caller as one GEMM;
 * here each step is `gates = xp[t] + h @ W_hh^T` (a copy and an accumulating matmul) then the fused cell
 * kernel, writing straight into slices of the `(T, B, H)` output. Backward runs the loop in reverse with the
 * fused cell-backward kernel and computes `dW_hh` for all steps in one GEMM after the loop.
 *
 * Recording one node per sequence (instead of a node per step and per slice) keeps the graph small and avoids
 * the full-size zero gradients that per-step slicing would allocate.
 *
 * @module
 */

import type { Backend, View } from "../../gpu/backend.ts";
import { needsGrad, record } from "../autograd.ts";
import { _empty, full, type Tensor } from "../tensor.ts";
import { fmt } from "../_shape.ts";

/** A 2-D view of step `t` of a `(T, B, X)` tensor. */
function step(x: Tensor, t: number): View {
  const v = x.view;
  return {
    storage: v.storage,
    shape: [x.shape[1]!, x.shape[2]!],
    strides: [x.strides[1]!, x.strides[2]!],
    offset: v.offset + t * x.strides[0]!,
  };
}

function as3(v: View): View {
  return { storage: v.storage, shape: [1, ...v.shape], strides: [0, ...v.strides], offset: v.offset };
}

function transposed(v: View): View {
  return {
    storage: v.storage,
    shape: [v.shape[1]!, v.shape[0]!],
    strides: [v.strides[1]!, v.strides[0]!],
    offset: v.offset,
  };
}

/** `out (+)= a @ b` on 2-D views. */
function mm(backend: Backend, a: View, b: View, out: View, accumulate: boolean): void {
  backend.run("matmul", [as3(a), as3(b)], [as3(out)], { accumulate });
}

/** A 2-D view `(rows, cols)` of a contiguous tensor. */
function flat2(x: Tensor, rows: number, cols: number): View {
  return { storage: x.view.storage, shape: [rows, cols], strides: [cols, 1], offset: x.offset };
}

function checkRnnArgs(
  op: string,
  xp: Tensor,
  h0: Tensor,
  whh: Tensor,
  gates: number,
): [number, number, number] {
  if (xp.rank !== 3) {
    throw new Error(`${op}: projected input must be (T, B, ${gates}H), got ${fmt(xp.shape)}`);
  }
  const [T, B, G] = xp.shape as [number, number, number];
  const H = G / gates;
  if (!Number.isInteger(H) || fmt(h0.shape) !== fmt([B, H]) || fmt(whh.shape) !== fmt([G, H])) {
    throw new Error(
      `${op}: shapes do not agree: input ${fmt(xp.shape)}, hidden ${fmt(h0.shape)}, W_hh ${fmt(whh.shape)} ` +
        `(expected (T, B, ${gates}H), (B, H), (${gates}H, H))`,
    );
  }
  if (!xp.isContiguous) throw new Error(`${op}: projected input must be contiguous`);
  return [T, B, H];
}

/** Order of time steps and the time index of the previous hidden state. */
function timeOrder(T: number, reverse: boolean): number[] {
  return Array.from({ length: T }, (_, s) => reverse ? T - 1 - s : s);
}

/** `(T, B, H)` buffer of the hidden state each step started from: h0 then hs shifted by one step. */
function previousStates(backend: Backend, hs: Tensor, h0: Tensor, reverse: boolean): Tensor {
  const [T, B, H] = hs.shape as [number, number, number];
  const prev = _empty([T, B, H], hs.dtype, backend);
  const first = reverse ? T - 1 : 0;
  backend.run("copy", [h0.view], [step(prev, first)], {});
  if (T > 1) {
    const n = (T - 1) * B * H;
    const src = reverse ? hs.offset + B * H : hs.offset, dst = reverse ? 0 : B * H;
    backend.run("copy", [{ storage: hs.view.storage, shape: [n], strides: [1], offset: src }], [
      { storage: prev.view.storage, shape: [n], strides: [1], offset: dst },
    ], {});
  }
  return prev;
}

/** Outputs of {@linkcode lstmSequence}. */
export interface LstmSeqOut {
  /** `(T, B, H)` hidden states. */
  hs: Tensor;
  /** `(B, H)` last hidden state (of the last step processed). */
  hT: Tensor;
  /** `(B, H)` last cell state. */
  cT: Tensor;
}

/**
 * Run an LSTM layer over a sequence.
 * @param xp `(T, B, 4H)` contiguous `x @ W_ih^T + b_ih + b_hh`
 * @param h0 `(B, H)` initial hidden state
 * @param c0 `(B, H)` initial cell state
 * @param whh `(4H, H)` hidden-to-hidden weights (gate order i, f, g, o)
 * @param reverse process time steps last to first (backward direction of a bidirectional LSTM)
 */
export function lstmSequence(xp: Tensor, h0: Tensor, c0: Tensor, whh: Tensor, reverse = false): LstmSeqOut {
  const [T, B, H] = checkRnnArgs("lstmSequence", xp, h0, whh, 4);
  const backend = xp.backend, dt = xp.dtype;
  const hs = _empty([T, B, H], dt, backend), cs = _empty([T, B, H], dt, backend);
  const acts = _empty([T, B, 4 * H], dt, backend), gates = _empty([B, 4 * H], dt, backend);
  const order = timeOrder(T, reverse);
  const whhT = transposed(whh.view);
  order.forEach((t, s) => {
    const hPrev = s === 0 ? h0.view : step(hs, order[s - 1]!),
      cPrev = s === 0 ? c0.view : step(cs, order[s - 1]!);
    backend.run("copy", [step(xp, t)], [gates.view], {});
    mm(backend, hPrev, whhT, gates.view, true);
    backend.run("lstmCell", [gates.view, cPrev], [step(hs, t), step(cs, t), step(acts, t)], {});
  });
  gates.dispose();
  const last = order[T - 1]!;
  const hT = hs._viewAs([B, H], [H, 1], hs.offset + last * B * H);
  const cT = cs._viewAs([B, H], [H, 1], cs.offset + last * B * H);
  if (!needsGrad(xp, h0, c0, whh)) {
    acts.dispose();
    cs.dispose(); // cT keeps the storage alive
    return { hs, hT, cT };
  }
  record("lstmSequence", [xp, h0, c0, whh], [hs, hT, cT], ([dhs, dhT, dcT]) => {
    const dGates = _empty([T, B, 4 * H], dt, backend);
    let dh = dhT ?? full([B, H], 0, { dtype: dt, backend });
    let dc = dcT ?? full([B, H], 0, { dtype: dt, backend });
    const dhSum = _empty([B, H], dt, backend);
    for (let s = T - 1; s >= 0; s--) {
      const t = order[s]!;
      const cPrev = s === 0 ? c0.view : step(cs, order[s - 1]!);
      let dhIn = dh.view;
      if (dhs) {
        backend.run("binary", [step(dhs, t), dh.view], [dhSum.view], { op: "add" });
        dhIn = dhSum.view;
      }
      const dcPrev = _empty([B, H], dt, backend), dhPrev = _empty([B, H], dt, backend);
      backend.run("lstmCellBackward", [step(acts, t), cPrev, step(cs, t), dhIn, dc.view], [
        step(dGates, t),
        dcPrev.view,
      ], {});
      mm(backend, step(dGates, t), whh.view, dhPrev.view, false);
      if (dh !== dhT) dh.dispose();
      if (dc !== dcT) dc.dispose();
      dh = dhPrev;
      dc = dcPrev;
    }
    dhSum.dispose();
    let dwhh: Tensor | null = null;
    if (whh.requiresGrad) {
      const prev = previousStates(backend, hs, h0, reverse);
      dwhh = _empty([4 * H, H], dt, backend);
      mm(backend, transposed(flat2(dGates, T * B, 4 * H)), flat2(prev, T * B, H), dwhh.view, false);
      prev.dispose();
    }
    return [dGates, dh, dc, dwhh];
  });
  return { hs, hT, cT };
}

/** Outputs of {@linkcode gruSequence}. */
export interface GruSeqOut {
  /** `(T, B, H)` hidden states. */
  hs: Tensor;
  /** `(B, H)` last hidden state. */
  hT: Tensor;
}

/**
 * Run a GRU layer over a sequence.
 * @param gi `(T, B, 3H)` contiguous `x @ W_ih^T + b_ih`
 * @param h0 `(B, H)` initial hidden state
 * @param whh `(3H, H)` hidden-to-hidden weights (gate order r, z, n)
 * @param bhh `(3H)` hidden-to-hidden bias (inside the reset gate's product, so it cannot be folded into `gi`)
 * @param reverse process time steps last to first
 */
export function gruSequence(gi: Tensor, h0: Tensor, whh: Tensor, bhh: Tensor, reverse = false): GruSeqOut {
  const [T, B, H] = checkRnnArgs("gruSequence", gi, h0, whh, 3);
  if (fmt(bhh.shape) !== fmt([3 * H])) {
    throw new Error(`gruSequence: b_hh ${fmt(bhh.shape)}, expected (${3 * H})`);
  }
  const backend = gi.backend, dt = gi.dtype;
  const hs = _empty([T, B, H], dt, backend), ghs = _empty([T, B, 3 * H], dt, backend);
  const acts = _empty([T, B, 3 * H], dt, backend);
  const order = timeOrder(T, reverse);
  const bias: View = {
    storage: bhh.view.storage,
    shape: [B, 3 * H],
    strides: [0, bhh.strides[0]!],
    offset: bhh.offset,
  };
  order.forEach((t, s) => {
    const hPrev = s === 0 ? h0.view : step(hs, order[s - 1]!);
    backend.run("copy", [bias], [step(ghs, t)], {});
    mm(backend, hPrev, transposed(whh.view), step(ghs, t), true);
    backend.run("gruCell", [step(gi, t), step(ghs, t), hPrev], [step(hs, t), step(acts, t)], {});
  });
  const last = order[T - 1]!;
  const hT = hs._viewAs([B, H], [H, 1], hs.offset + last * B * H);
  if (!needsGrad(gi, h0, whh, bhh)) {
    acts.dispose();
    ghs.dispose();
    return { hs, hT };
  }
  record("gruSequence", [gi, h0, whh, bhh], [hs, hT], ([dhs, dhT]) => {
    const dgi = _empty([T, B, 3 * H], dt, backend), dgh = _empty([T, B, 3 * H], dt, backend);
    let dh = dhT ?? full([B, H], 0, { dtype: dt, backend });
    const dhSum = _empty([B, H], dt, backend);
    for (let s = T - 1; s >= 0; s--) {
      const t = order[s]!;
      const hPrev = s === 0 ? h0.view : step(hs, order[s - 1]!);
      let dhIn = dh.view;
      if (dhs) {
        backend.run("binary", [step(dhs, t), dh.view], [dhSum.view], { op: "add" });
        dhIn = dhSum.view;
      }
      const dhPrev = _empty([B, H], dt, backend);
      backend.run("gruCellBackward", [step(acts, t), step(ghs, t), hPrev, dhIn], [
        step(dgi, t),
        step(dgh, t),
        dhPrev.view,
      ], {});
      mm(backend, step(dgh, t), whh.view, dhPrev.view, true);
      if (dh !== dhT) dh.dispose();
      dh = dhPrev;
    }
    dhSum.dispose();
    let dwhh: Tensor | null = null, dbhh: Tensor | null = null;
    if (whh.requiresGrad) {
      const prev = previousStates(backend, hs, h0, reverse);
      dwhh = _empty([3 * H, H], dt, backend);
      mm(backend, transposed(flat2(dgh, T * B, 3 * H)), flat2(prev, T * B, H), dwhh.view, false);
      prev.dispose();
    }
    if (bhh.requiresGrad) {
      const ones = full([1, T * B], 1, { dtype: dt, backend });
      dbhh = _empty([3 * H], dt, backend);
      mm(backend, ones.view, flat2(dgh, T * B, 3 * H), flat2(dbhh, 1, 3 * H), false);
      ones.dispose();
    }
    return [dgi, dh, dwhh, dbhh];
  });
  return { hs, hT };
}
