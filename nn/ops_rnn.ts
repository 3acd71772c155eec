/**
 * Recurrent sequence ops: {@linkcode lstmSequence}, {@linkcode gruSequence} and the plain tanh
 * {@linkcode rnnSequence}, each running one layer in one direction over a time-major input `(T, B, F)` with
 * PyTorch's weight layout and gate order (LSTM i, f, g, o; GRU r, z, n). The recurrent layers in
 * `layers/rnn.ts` stack them; a decoder calls them directly.
 *
 * How they run: the input projection `x @ W_ih^T + b` of ALL time steps is one GEMM before the time loop; each
 * step is then `gates = xp[t] + h @ W_hh^T` (a copy and an accumulating matmul) and one fused cell kernel,
 * writing straight into slices of the `(T, B, H)` output. The LSTM and GRU loops are ONE autograd node each:
 * backward runs the loop in reverse with the fused cell-backward kernel and computes `dW_hh` for all steps in
 * one GEMM after the loop, so the graph stays small and no full-size zero gradients are made per step.
 *
 * One step at a time (a seq2seq decoder, with attention, feeding its output back): pass a `(1, B, F)` input
 * and the hidden state as `h0`; the result's `h` is the next step's `h0`. A step costs five kernel launches
 * (projection GEMM, bias add, bias copy, recurrent GEMM, fused cell) and one small graph node, and gradients
 * flow through `h` from step to step.
 *
 * @example A GRU decoder, one step at a time, its output fed back as the next input
 * ```ts
 * import { gruSequence, randn, reshape, tidy } from "./mod.ts";
 * const H = 4, B = 2;
 * const w = { wih: randn([3 * H, H]), whh: randn([3 * H, H]), bih: randn([3 * H]), bhh: randn([3 * H]) };
 * const out = tidy(() => {
 *   let h = randn([B, H]), x = randn([B, H]);
 *   for (let t = 0; t < 3; t++) {
 *     h = gruSequence(reshape(x, [1, B, H]), w, { h0: h }).h; // (B, H)
 *     x = h.tanh(); // the output, fed back
 *   }
 *   return h;
 * });
 * if (out.shape.join() !== "2,4") throw new Error("bad shape");
 * ```
 *
 * @module
 */

import type { Backend, View } from "../gpu/backend.ts";
import { _composite, needsGrad, record } from "./autograd.ts";
import { _contig, backendOf, needFloat } from "./_kernel.ts";
import { fmt } from "./_shape.ts";
import { _empty, full, type Tensor, zeros } from "./_tensor_core.ts";
import { add, tanh } from "./ops_elementwise.ts";
import { matmul } from "./ops_linalg.ts";
import { contiguous, reshape, slice, stack, transpose } from "./ops_shape.ts";

/** Weights of one recurrent layer and direction (PyTorch layout; `G` = 4H for LSTM, 3H for GRU, H for RNN). */
export interface RnnWeights {
  /** `(G, F)` input-to-hidden weights; omit (or null) when the input is already projected, `(T, B, G)`. */
  wih?: Tensor | null;
  /** `(G, H)` hidden-to-hidden weights. */
  whh: Tensor;
  /** `(G)` input bias. @default none */
  bih?: Tensor | null;
  /** `(G)` hidden bias (for GRU inside the reset gate's product, as PyTorch). @default none */
  bhh?: Tensor | null;
}

/** Options of the sequence ops. */
export interface RnnSequenceOptions {
  /** `(B, H)` hidden state before the first step. @default zeros */
  h0?: Tensor;
  /** `(B, H)` cell state before the first step (LSTM only). @default zeros */
  c0?: Tensor;
  /** Process the steps last to first (the backward direction of a bidirectional layer). @default false */
  reverse?: boolean;
}

/** Result of a sequence op. */
export interface RnnSequenceOutput {
  /** `(T, B, H)` hidden state after every step, in time order. */
  output: Tensor;
  /** `(B, H)` hidden state after the last step processed (the next call's `h0`). */
  h: Tensor;
}

/** Result of {@linkcode lstmSequence}. */
export interface LstmSequenceOutput extends RnnSequenceOutput {
  /** `(B, H)` cell state after the last step processed (the next call's `c0`). */
  c: Tensor;
}

/** Checked sizes and the contiguous `(T, B, G)` projected input. */
interface Prepared {
  xp: Tensor;
  h0: Tensor;
  T: number;
  B: number;
  H: number;
}

/** Check shapes, project all steps in one GEMM (`x @ W_ih^T + bias`), default `h0` to zeros. */
function prepare(
  op: string,
  x: Tensor,
  w: RnnWeights,
  gates: number,
  bias: Tensor | null,
  h0?: Tensor,
): Prepared {
  backendOf(op, [x, w.whh]);
  needFloat(op, x);
  const { whh, wih } = w;
  const H = whh.shape[1] ?? 0;
  const G = gates * H;
  if (whh.rank !== 2 || whh.shape[0] !== G) {
    throw new RangeError(`${op}: W_hh must be (${gates}H, H), got ${fmt(whh.shape)}`);
  }
  if (x.rank !== 3 || x.shape[0] === 0) {
    throw new RangeError(`${op}: input must be (T, B, F) with T >= 1, got ${fmt(x.shape)}`);
  }
  const [T, B, F] = x.shape as [number, number, number];
  let xp: Tensor;
  if (wih) {
    if (fmt(wih.shape) !== fmt([G, F])) {
      throw new RangeError(
        `${op}: W_ih ${fmt(wih.shape)} does not fit input ${fmt(x.shape)} and W_hh ${fmt(whh.shape)} ` +
          `(expected ${fmt([G, F])})`,
      );
    }
    xp = matmul(reshape(x, [T * B, F]), transpose(wih)); // (T*B, G): all steps in one GEMM
  } else if (F !== G) {
    throw new RangeError(
      `${op}: without W_ih the input must be projected, (T, B, ${G}); got ${fmt(x.shape)}`,
    );
  } else xp = x;
  if (bias) {
    if (fmt(bias.shape) !== fmt([G])) {
      throw new RangeError(`${op}: bias must be (${G}), got ${fmt(bias.shape)}`);
    }
    xp = add(xp, bias);
  }
  xp = reshape(xp, [T, B, G]);
  if (!xp.isContiguous) xp = contiguous(xp);
  return { xp, h0: state(op, "h0", h0, [B, H], xp), T, B, H };
}

/** `s` checked against `(B, H)`, or zeros. */
function state(op: string, what: string, s: Tensor | undefined, shape: number[], like: Tensor): Tensor {
  if (s === undefined) return zeros(shape, { dtype: like.dtype, backend: like.backend });
  if (fmt(s.shape) !== fmt(shape)) {
    throw new RangeError(`${op}: ${what} must be ${fmt(shape)} (B, H), got ${fmt(s.shape)}`);
  }
  return s;
}

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

/** Order of time steps. */
function timeOrder(T: number, reverse: boolean): number[] {
  return Array.from({ length: T }, (_, s) => reverse ? T - 1 - s : s);
}

/**
 * `(T, B, H)` contiguous hidden states each step started from: `h0` then `hs` shifted by one step (`h0` itself
 * when T = 1, no copy).
 */
function previousStates(backend: Backend, hs: Tensor, h0: Tensor, reverse: boolean): Tensor {
  const [T, B, H] = hs.shape as [number, number, number];
  if (T === 1) return h0._viewAs([1, B, H], [B * H, H, 1], h0.offset);
  const prev = _empty([T, B, H], hs.dtype, backend);
  const first = reverse ? T - 1 : 0;
  backend.run("copy", [h0.view], [step(prev, first)], {});
  const n = (T - 1) * B * H;
  const src = reverse ? hs.offset + B * H : hs.offset, dst = reverse ? 0 : B * H;
  backend.run("copy", [{ storage: hs.view.storage, shape: [n], strides: [1], offset: src }], [
    { storage: prev.view.storage, shape: [n], strides: [1], offset: dst },
  ], {});
  return prev;
}

/** Outputs for a batch or hidden size of 0 (no kernel runs); gradients are zeros of the input shapes. */
function emptyRun(
  op: string,
  inputs: readonly Tensor[],
  T: number,
  B: number,
  H: number,
  n: number,
): Tensor[] {
  const like = inputs[0]!;
  const opts = { dtype: like.dtype, backend: like.backend };
  const outs = [zeros([T, B, H], opts), ...Array.from({ length: n - 1 }, () => zeros([B, H], opts))];
  record(
    op,
    inputs,
    outs,
    () => inputs.map((t) => zeros(t.shape, { dtype: t.dtype, backend: t.backend })),
  );
  return outs;
}

/** What a loop's backward reads: the step order, the saved states and activations, contiguous. */
interface Tape {
  backend: Backend;
  order: number[];
  reverse: boolean;
  /** `(T, B, H)` hidden state after every step. */
  hs: Tensor;
  /** `(T, B, G)` gate activations saved by the fused cell kernel. */
  acts: Tensor;
  /** `(B, H)` initial hidden state. */
  h0: Tensor;
  /** `(G, H)` hidden-to-hidden weights. */
  w: Tensor;
}

/** The state that step `s` (in processing order) started from: `first`, or the previous step's slice of `x`. */
function before(x: Tensor, first: Tensor, order: readonly number[], s: number): View {
  return s === 0 ? first.view : step(x, order[s - 1]!);
}

/** The hidden-state gradient step `t` hands the cell kernel: `dh`, plus `dhs[t]` when the output has one. */
function stepGrad(tape: Tape, dhs: Tensor | null, dh: Tensor, dhSum: Tensor, t: number): View {
  if (!dhs) return dh.view;
  tape.backend.run("binary", [step(dhs, t), dh.view], [dhSum.view], { op: "add" });
  return dhSum.view;
}

/** `dW_hh = sum_t dGates[t]^T @ hPrev[t]`: one GEMM over all steps. */
function recurrentWeightGrad(tape: Tape, dGates: Tensor): Tensor {
  const [T, B, G] = dGates.shape as [number, number, number];
  const H = tape.hs.shape[2]!;
  const prev = previousStates(tape.backend, tape.hs, tape.h0, tape.reverse);
  const dwhh = _empty([G, H], dGates.dtype, tape.backend);
  mm(tape.backend, transposed(flat2(dGates, T * B, G)), flat2(prev, T * B, H), dwhh.view, false);
  prev.dispose();
  return dwhh;
}

/** The LSTM forward loop: per step a copy of `xp[t]`, `+= h @ W_hh^T`, the fused cell. */
function lstmForward(xp: Tensor, h0: Tensor, c0: Tensor, w: Tensor, order: number[]): Tensor[] {
  const [T, B, G] = xp.shape as [number, number, number];
  const backend = xp.backend, dt = xp.dtype, H = G / 4;
  const hs = _empty([T, B, H], dt, backend), cs = _empty([T, B, H], dt, backend);
  const acts = _empty([T, B, G], dt, backend), gates = _empty([B, G], dt, backend);
  const whhT = transposed(w.view);
  order.forEach((t, s) => {
    backend.run("copy", [step(xp, t)], [gates.view], {});
    mm(backend, before(hs, h0, order, s), whhT, gates.view, true);
    backend.run(
      "lstmCell",
      [gates.view, before(cs, c0, order, s)],
      [step(hs, t), step(cs, t), step(acts, t)],
      {},
    );
  });
  gates.dispose();
  return [hs, cs, acts];
}

/** The LSTM backward loop, last step first: gradients of `xp`, `h0`, `c0` and (when wanted) `W_hh`. */
function lstmBackward(
  tape: Tape & { cs: Tensor; c0: Tensor },
  [dhs, dhT, dcT]: readonly (Tensor | null)[],
  weightGrad: boolean,
): Tensor[] {
  const { backend, order, hs, acts, cs, w } = tape;
  const [T, B, H] = hs.shape as [number, number, number];
  const dt = hs.dtype;
  const dGates = _empty([T, B, 4 * H], dt, backend);
  let dh = dhT ?? full([B, H], 0, { dtype: dt, backend });
  let dc = dcT ?? full([B, H], 0, { dtype: dt, backend });
  const dhSum = _empty([B, H], dt, backend);
  for (let s = T - 1; s >= 0; s--) {
    const t = order[s]!;
    const dhIn = stepGrad(tape, dhs ?? null, dh, dhSum, t);
    const dcPrev = _empty([B, H], dt, backend), dhPrev = _empty([B, H], dt, backend);
    backend.run("lstmCellBackward", [
      step(acts, t),
      before(cs, tape.c0, order, s),
      step(cs, t),
      dhIn,
      dc.view,
    ], [
      step(dGates, t),
      dcPrev.view,
    ], {});
    mm(backend, step(dGates, t), w.view, dhPrev.view, false);
    if (dh !== dhT) dh.dispose();
    if (dc !== dcT) dc.dispose();
    dh = dhPrev;
    dc = dcPrev;
  }
  dhSum.dispose();
  return [dGates, dh, dc, ...(weightGrad ? [recurrentWeightGrad(tape, dGates)] : [])];
}

/** The LSTM time loop over a projected input: one graph node. */
function lstmLoop(xp: Tensor, h0: Tensor, c0: Tensor, whh: Tensor, reverse: boolean): LstmSequenceOutput {
  const [T, B, G] = xp.shape as [number, number, number];
  const H = G / 4;
  if (B * H === 0) {
    const [output, h, c] = emptyRun("lstmSequence", [xp, h0, c0, whh], T, B, H, 3);
    return { output: output!, h: h!, c: c! };
  }
  const h0c = _contig(h0), c0c = _contig(c0), w = _contig(whh);
  const order = timeOrder(T, reverse);
  const [hs, cs, acts] = lstmForward(xp, h0c, c0c, w, order) as [Tensor, Tensor, Tensor];
  const last = order[T - 1]!;
  const h = hs._viewAs([B, H], [H, 1], hs.offset + last * B * H);
  const c = cs._viewAs([B, H], [H, 1], cs.offset + last * B * H);
  if (!needsGrad(xp, h0, c0, whh)) {
    acts.dispose();
    cs.dispose(); // c keeps the storage alive
    for (const [copy, orig] of [[h0c, h0], [c0c, c0], [w, whh]] as const) if (copy !== orig) copy.dispose();
    return { output: hs, h, c };
  }
  const tape = { backend: xp.backend, order, reverse, hs, acts, h0: h0c, w, cs, c0: c0c };
  record("lstmSequence", [xp, h0, c0, whh], [hs, h, c], (g) => {
    const [dxp, dh0, dc0, dwhh] = lstmBackward(tape, g, whh.requiresGrad);
    return [dxp!, dh0!, dc0!, dwhh ?? null];
  });
  return { output: hs, h, c };
}

/** The GRU forward loop: per step `gh = b_hh + h @ W_hh^T` (a copy, an accumulating matmul), the fused cell. */
function gruForward(gi: Tensor, h0: Tensor, w: Tensor, bhh: Tensor, order: number[]): Tensor[] {
  const [T, B, G] = gi.shape as [number, number, number];
  const backend = gi.backend, dt = gi.dtype, H = G / 3;
  const hs = _empty([T, B, H], dt, backend), ghs = _empty([T, B, G], dt, backend);
  const acts = _empty([T, B, G], dt, backend);
  const bias: View = {
    storage: bhh.view.storage,
    shape: [B, G],
    strides: [0, bhh.strides[0]!],
    offset: bhh.offset,
  };
  order.forEach((t, s) => {
    const hPrev = before(hs, h0, order, s);
    backend.run("copy", [bias], [step(ghs, t)], {});
    mm(backend, hPrev, transposed(w.view), step(ghs, t), true);
    backend.run("gruCell", [step(gi, t), step(ghs, t), hPrev], [step(hs, t), step(acts, t)], {});
  });
  return [hs, ghs, acts];
}

/** The GRU backward loop, last step first: gradients of `gi`, `h0`, `W_hh` and `b_hh` (the last two if wanted). */
function gruBackward(
  tape: Tape & { ghs: Tensor },
  [dhs, dhT]: readonly (Tensor | null)[],
  want: { w: boolean; b: boolean },
): (Tensor | null)[] {
  const { backend, order, hs, acts, ghs, w } = tape;
  const [T, B, H] = hs.shape as [number, number, number];
  const dt = hs.dtype, G = 3 * H;
  const dgi = _empty([T, B, G], dt, backend), dgh = _empty([T, B, G], dt, backend);
  let dh = dhT ?? full([B, H], 0, { dtype: dt, backend });
  const dhSum = _empty([B, H], dt, backend);
  for (let s = T - 1; s >= 0; s--) {
    const t = order[s]!;
    const dhIn = stepGrad(tape, dhs ?? null, dh, dhSum, t);
    const dhPrev = _empty([B, H], dt, backend);
    backend.run("gruCellBackward", [step(acts, t), step(ghs, t), before(hs, tape.h0, order, s), dhIn], [
      step(dgi, t),
      step(dgh, t),
      dhPrev.view,
    ], {});
    mm(backend, step(dgh, t), w.view, dhPrev.view, true);
    if (dh !== dhT) dh.dispose();
    dh = dhPrev;
  }
  dhSum.dispose();
  let dbhh: Tensor | null = null;
  if (want.b) {
    const ones = full([1, T * B], 1, { dtype: dt, backend });
    dbhh = _empty([G], dt, backend);
    mm(backend, ones.view, flat2(dgh, T * B, G), flat2(dbhh, 1, G), false);
    ones.dispose();
  }
  return [dgi, dh, want.w ? recurrentWeightGrad(tape, dgh) : null, dbhh];
}

/** The GRU time loop over a projected input `gi = x @ W_ih^T + b_ih`: one graph node. */
function gruLoop(gi: Tensor, h0: Tensor, whh: Tensor, bhh: Tensor, reverse: boolean): RnnSequenceOutput {
  const [T, B, G] = gi.shape as [number, number, number];
  const H = G / 3;
  if (B * H === 0) {
    const [output, h] = emptyRun("gruSequence", [gi, h0, whh, bhh], T, B, H, 2);
    return { output: output!, h: h! };
  }
  const h0c = _contig(h0), w = _contig(whh);
  const order = timeOrder(T, reverse);
  const [hs, ghs, acts] = gruForward(gi, h0c, w, bhh, order) as [Tensor, Tensor, Tensor];
  const last = order[T - 1]!;
  const h = hs._viewAs([B, H], [H, 1], hs.offset + last * B * H);
  if (!needsGrad(gi, h0, whh, bhh)) {
    acts.dispose();
    ghs.dispose();
    for (const [copy, orig] of [[h0c, h0], [w, whh]] as const) if (copy !== orig) copy.dispose();
    return { output: hs, h };
  }
  const tape = { backend: gi.backend, order, reverse, hs, acts, h0: h0c, w, ghs };
  record(
    "gruSequence",
    [gi, h0, whh, bhh],
    [hs, h],
    (g) => gruBackward(tape, g, { w: whh.requiresGrad, b: bhh.requiresGrad }),
  );
  return { output: hs, h };
}

/** The inputs an op records over (for `_composite`). */
function tensorsOf(x: Tensor, w: RnnWeights, options: RnnSequenceOptions): Tensor[] {
  return [x, w.wih, w.whh, w.bih, w.bhh, options.h0, options.c0].filter((t): t is Tensor => t != null);
}

/** `bih + bhh` (either alone when the other is missing): the bias folded into the projection. */
function foldedBias(w: RnnWeights): Tensor | null {
  if (w.bih && w.bhh) return add(w.bih, w.bhh);
  return w.bih ?? w.bhh ?? null;
}

/**
 * Long short-term memory (Hochreiter & Schmidhuber 1997) over a sequence: one layer, one direction, fused
 * cell kernels, one graph node for the time loop.
 * @param x `(T, B, F)` input (or `(T, B, 4H)` already projected when `weights.wih` is omitted)
 * @param weights `W_ih (4H, F)`, `W_hh (4H, H)`, biases `(4H)`; gate order i, f, g, o
 * @returns `output (T, B, H)`, last `h (B, H)` and `c (B, H)`
 */
export function lstmSequence(
  x: Tensor,
  weights: RnnWeights,
  options: RnnSequenceOptions = {},
): LstmSequenceOutput {
  return _composite(tensorsOf(x, weights, options), () => {
    const p = prepare("lstmSequence", x, weights, 4, foldedBias(weights), options.h0);
    const c0 = state("lstmSequence", "c0", options.c0, [p.B, p.H], p.xp);
    return lstmLoop(p.xp, p.h0, c0, weights.whh, options.reverse ?? false);
  });
}

/**
 * Gated recurrent unit (Cho et al. 2014, https://arxiv.org/abs/1406.1078) over a sequence: one layer, one
 * direction, fused cell kernels, one graph node for the time loop. `n = tanh(gi_n + r * (h W_hn^T + b_hn))`,
 * `h' = (1 - z) n + z h`.
 * @param x `(T, B, F)` input (or `(T, B, 3H)` already projected when `weights.wih` is omitted)
 * @param weights `W_ih (3H, F)`, `W_hh (3H, H)`, biases `(3H)`; gate order r, z, n
 * @returns `output (T, B, H)` and the last `h (B, H)`
 */
export function gruSequence(
  x: Tensor,
  weights: RnnWeights,
  options: RnnSequenceOptions = {},
): RnnSequenceOutput {
  return _composite(tensorsOf(x, weights, options), () => {
    const p = prepare("gruSequence", x, weights, 3, weights.bih ?? null, options.h0);
    const G = 3 * p.H;
    const bhh = weights.bhh ?? zeros([G], { dtype: p.xp.dtype, backend: p.xp.backend });
    if (fmt(bhh.shape) !== fmt([G])) {
      throw new RangeError(`gruSequence: b_hh must be (${G}), got ${fmt(bhh.shape)}`);
    }
    return gruLoop(p.xp, p.h0, weights.whh, bhh, options.reverse ?? false);
  });
}

/**
 * The Elman RNN with tanh over a sequence, `h_t = tanh(x_t W_ih^T + b + h_{t-1} W_hh^T)`, composed of tensor
 * ops (no fused kernel; a graph node per step).
 * @param x `(T, B, F)` input (or `(T, B, H)` already projected when `weights.wih` is omitted)
 * @param weights `W_ih (H, F)`, `W_hh (H, H)`, biases `(H)`
 * @returns `output (T, B, H)` and the last `h (B, H)`
 */
export function rnnSequence(
  x: Tensor,
  weights: RnnWeights,
  options: RnnSequenceOptions = {},
): RnnSequenceOutput {
  return _composite(tensorsOf(x, weights, options), () => {
    const { xp, h0, T } = prepare("rnnSequence", x, weights, 1, foldedBias(weights), options.h0);
    const outs: Tensor[] = new Array(T);
    let h = h0;
    for (let s = 0; s < T; s++) {
      const t = options.reverse ? T - 1 - s : s;
      h = tanh(add(slice(xp, [t]), matmul(h, transpose(weights.whh))));
      outs[t] = h;
    }
    return { output: stack(outs, 0), h };
  });
}
