/**
 * Recurrent layers with PyTorch's parameter layout (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`,
 * `bias_hh_l0`, `..._reverse`): {@linkcode LSTM}, {@linkcode GRU} and the plain tanh {@linkcode RNN};
 * multi-layer, bidirectional, optionally stateful (the last hidden state is carried to the next call, detached
 * from the graph: truncated back-propagation through time) with `reset()`.
 *
 * Each layer and direction is one call of the sequence ops of `ops_rnn.ts` (input projection of ALL time steps
 * as one GEMM, then one accumulating matmul `h @ W_hh^T` and one fused cell kernel per step).
 * `weightDropout` applies DropConnect to `W_hh` with a fresh mask every forward pass (AWD-LSTM).
 *
 * @example A 2-layer LSTM over a batch-first sequence
 * ```ts
 * import { LSTM } from "./rnn.ts";
 * import { ones } from "../tensor.ts";
 * const lstm = new LSTM(3, 4, { numLayers: 2 });
 * const { output, h } = lstm.forward(ones([2, 5, 3])); // (B, T, F)
 * if (output.shape.join() !== "2,5,4" || h.shape.join() !== "2,2,4") throw new Error("shapes");
 * ```
 *
 * @module
 */

import { dropout } from "../ops_nn.ts";
import { gruSequence, lstmSequence, rnnSequence, type RnnWeights } from "../ops_rnn.ts";
import { concat, contiguous, permute, slice, stack } from "../ops_shape.ts";
import { keep, rand, type Tensor, zeros } from "../tensor.ts";
import { fmt } from "../_shape.ts";
import { Module } from "./module.ts";

/** Options of the recurrent layers. */
export interface RnnOptions {
  /** Stacked layers. @default 1 */
  numLayers?: number;
  /** Run a second direction from the end and concatenate. @default false */
  bidirectional?: boolean;
  /** Input and output are `(B, T, F)` (else `(T, B, F)`). @default true */
  batchFirst?: boolean;
  /** Dropout between stacked layers (PyTorch's `dropout`). @default 0 */
  dropout?: number;
  /** DropConnect probability on the hidden-to-hidden weights, resampled each forward. @default 0 */
  weightDropout?: number;
  /** Carry the final hidden state into the next call (detached). @default false */
  stateful?: boolean;
  /** Use biases. @default true */
  bias?: boolean;
}

/** Hidden state: `h` (and `c` for LSTMs), each `(numLayers * numDirections, B, H)`. */
export interface RnnState {
  /** Hidden state. */
  h: Tensor;
  /** Cell state (LSTM only). */
  c?: Tensor;
}

/** Result of a forward pass. */
export interface RnnOutput extends RnnState {
  /** `(B, T, D*H)` (or `(T, B, D*H)` when not batch-first): the last layer's hidden state at every step. */
  output: Tensor;
}

/** The recurrent cell kinds. */
export type RnnKind = "lstm" | "gru" | "rnn";
const GATES: Record<RnnKind, number> = { lstm: 4, gru: 3, rnn: 1 };

/** Shared machinery of {@linkcode LSTM}, {@linkcode GRU} and {@linkcode RNN}: parameters, state, the layer loop. */
export abstract class RecurrentBase extends Module {
  /** Input size. */
  readonly inputSize: number;
  /** Hidden size. */
  readonly hiddenSize: number;
  /** Stacked layers. */
  readonly numLayers: number;
  /** 2 when bidirectional, else 1. */
  readonly numDirections: number;
  /** Batch-first layout. */
  readonly batchFirst: boolean;
  /** Dropout between layers. */
  dropout: number;
  /** DropConnect on `W_hh`. */
  weightDropout: number;
  /** Whether the hidden state is carried between calls. */
  stateful: boolean;
  /** The carried hidden state (stateful mode), detached and kept outside `tidy`. */
  hidden: RnnState | null = null;
  readonly #kind: RnnKind;
  readonly #bias: boolean;

  /**
   * Create the parameters of every layer and direction, uniform in `±1/sqrt(hiddenSize)` like PyTorch.
   * @param kind `"lstm"`, `"gru"` or `"rnn"`
   * @param inputSize features per step
   * @param hiddenSize hidden units
   * @param options layers, directions, dropouts, statefulness
   */
  constructor(kind: RnnKind, inputSize: number, hiddenSize: number, options: RnnOptions) {
    super();
    this.#kind = kind;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.numLayers = options.numLayers ?? 1;
    this.numDirections = options.bidirectional ? 2 : 1;
    this.batchFirst = options.batchFirst ?? true;
    this.dropout = options.dropout ?? 0;
    this.weightDropout = options.weightDropout ?? 0;
    this.stateful = options.stateful ?? false;
    this.#bias = options.bias ?? true;
    const G = GATES[kind] * hiddenSize, k = 1 / Math.sqrt(hiddenSize);
    const init = (shape: number[]) => rand(shape, { low: -k, high: k });
    for (let l = 0; l < this.numLayers; l++) {
      const inSize = l === 0 ? inputSize : hiddenSize * this.numDirections;
      for (let d = 0; d < this.numDirections; d++) {
        const sfx = `_l${l}${d === 1 ? "_reverse" : ""}`;
        this.registerParameter(`weight_ih${sfx}`, init([G, inSize]));
        this.registerParameter(`weight_hh${sfx}`, init([G, hiddenSize]));
        if (this.#bias) {
          this.registerParameter(`bias_ih${sfx}`, init([G]));
          this.registerParameter(`bias_hh${sfx}`, init([G]));
        }
      }
    }
  }

  /** The parameter called `name` (e.g. `weight_hh_l0`). */
  param(name: string): Tensor {
    const p = this.namedParameters().find(([n]) => n === name);
    if (!p) throw new Error(`${this.constructor.name}: no parameter ${name}`);
    return p[1];
  }

  /** Forget the carried hidden state. */
  override reset(): void {
    this.hidden?.h.dispose();
    this.hidden?.c?.dispose();
    this.hidden = null;
  }

  /** Zero state for batch size `bs`. */
  #zeroState(bs: number, like: Tensor): RnnState {
    const shape = [this.numLayers * this.numDirections, bs, this.hiddenSize];
    const h = zeros(shape, { dtype: like.dtype, backend: like.backend });
    return this.#kind === "lstm"
      ? { h, c: zeros(shape, { dtype: like.dtype, backend: like.backend }) }
      : { h };
  }

  /**
   * Run over a sequence.
   * @param x `(B, T, F)` (or `(T, B, F)`)
   * @param state initial state; default: the carried state (stateful, same batch size) or zeros
   */
  forward(x: Tensor, state?: RnnState): RnnOutput {
    if (x.rank !== 3 || x.shape[2] !== this.inputSize) {
      throw new Error(
        `${this.constructor.name}.forward: input ${fmt(x.shape)}, expected 3-D ending in ${this.inputSize}`,
      );
    }
    const bs = this.batchFirst ? x.shape[0]! : x.shape[1]!;
    let init = state;
    if (!init && this.stateful && this.hidden && this.hidden.h.shape[1] === bs) init = this.hidden;
    init ??= this.#zeroState(bs, x);
    let layerIn = this.batchFirst ? contiguous(permute(x, [1, 0, 2])) : contiguous(x); // (T, B, F)
    const hs: Tensor[] = [], cs: Tensor[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < this.numDirections; d++) {
        const idx = l * this.numDirections + d;
        const r = this.#runDirection(
          layerIn,
          l,
          d,
          slice(init.h, [idx]),
          init.c ? slice(init.c, [idx]) : null,
        );
        outs.push(r.hs);
        hs.push(r.hT);
        if (r.cT) cs.push(r.cT);
      }
      layerIn = outs.length === 1 ? outs[0]! : concat(outs, 2);
      if (l < this.numLayers - 1 && this.dropout > 0) {
        layerIn = dropout(layerIn, this.dropout, { training: this.training });
      }
    }
    const h = stack(hs, 0), c = cs.length ? stack(cs, 0) : undefined;
    if (this.stateful) {
      const prev = this.hidden;
      this.hidden = { h: keep(h.detach()), ...(c ? { c: keep(c.detach()) } : {}) };
      if (prev) {
        prev.h.dispose();
        prev.c?.dispose();
      }
    }
    const output = this.batchFirst ? permute(layerIn, [1, 0, 2]) : layerIn;
    return c ? { output, h, c } : { output, h };
  }

  #runDirection(
    xs: Tensor,
    l: number,
    d: number,
    h0: Tensor,
    c0: Tensor | null,
  ): { hs: Tensor; hT: Tensor; cT?: Tensor } {
    const sfx = `_l${l}${d === 1 ? "_reverse" : ""}`;
    const whhRaw = this.param(`weight_hh${sfx}`);
    const weights: RnnWeights = {
      wih: this.param(`weight_ih${sfx}`),
      whh: this.weightDropout > 0 ? dropout(whhRaw, this.weightDropout, { training: this.training }) : whhRaw,
      bih: this.#bias ? this.param(`bias_ih${sfx}`) : null,
      bhh: this.#bias ? this.param(`bias_hh${sfx}`) : null,
    };
    const options = { h0, reverse: d === 1 };
    if (this.#kind === "lstm") {
      const r = lstmSequence(xs, weights, c0 ? { ...options, c0 } : options);
      return { hs: r.output, hT: r.h, cT: r.c };
    }
    const r = (this.#kind === "gru" ? gruSequence : rnnSequence)(xs, weights, options);
    return { hs: r.output, hT: r.h };
  }
}

/** Long short-term memory (Hochreiter & Schmidhuber 1997), PyTorch gate order (i, f, g, o). */
export class LSTM extends RecurrentBase {
  /**
   * Create a LSTM.
   * @param inputSize features per step
   * @param hiddenSize hidden units
   */
  constructor(inputSize: number, hiddenSize: number, options: RnnOptions = {}) {
    super("lstm", inputSize, hiddenSize, options);
  }
}

/** Gated recurrent unit (Cho et al. 2014, https://arxiv.org/abs/1406.1078), PyTorch gate order (r, z, n). */
export class GRU extends RecurrentBase {
  /**
   * Create a GRU.
   * @param inputSize features per step
   * @param hiddenSize hidden units
   */
  constructor(inputSize: number, hiddenSize: number, options: RnnOptions = {}) {
    super("gru", inputSize, hiddenSize, options);
  }
}

/** Elman RNN with tanh (PyTorch `nn.RNN`). */
export class RNN extends RecurrentBase {
  /**
   * Create a RNN.
   * @param inputSize features per step
   * @param hiddenSize hidden units
   */
  constructor(inputSize: number, hiddenSize: number, options: RnnOptions = {}) {
    super("rnn", inputSize, hiddenSize, options);
  }
}
