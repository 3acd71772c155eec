/**
 * AWD-LSTM (Merity et al., https://arxiv.org/abs/1708.02182) as ULMFiT uses it (Howard & Ruder,
 * https://arxiv.org/abs/1801.06146): the encoder ({@linkcode AwdLstm}: embedding with embedding dropout, input
 * locked dropout, stacked stateful LSTMs with weight dropout on `W_hh` and locked dropout between layers), the
 * language model ({@linkcode AwdLstmLM}: encoder + {@linkcode LinearDecoder} tied to the embedding), and the
 * classifier ({@linkcode AwdLstmClassifier}: the encoder run over the document in `bptt` chunks, masked concat
 * pooling `[last, max, mean]`, then BatchNorm1d -> Dropout -> Linear blocks).
 *
 * Presets: {@linkcode AWD_LSTM_LM_CONFIG} / {@linkcode AWD_LSTM_CLAS_CONFIG} (fastai v2) and
 * {@linkcode AWD_LSTM_LM_CONFIG_V07} / {@linkcode AWD_LSTM_CLAS_CONFIG_V07} (the 2018 lesson's values).
 * `dropMult` scales all five dropouts.
 *
 * @example A tiny language model
 * ```ts
 * import { AwdLstmLM } from "./awd_lstm.ts";
 * import { fromArray } from "../../nn/mod.ts";
 * const lm = new AwdLstmLM(20, { embSize: 8, nHid: 12, nLayers: 2 });
 * const { output } = lm.forward(fromArray([2, 5, 7, 3, 4, 9], [2, 3], { dtype: "i32" }));
 * if (output.shape.join() !== "2,3,20") throw new Error("shape");
 * if (lm.decoder.weight !== lm.encoder.encoder.weight) throw new Error("weights are not tied");
 * ```
 *
 * @module
 */

import {
  assign,
  BatchNorm1d,
  concat,
  Dropout,
  Embedding,
  EmbeddingDropout,
  eq,
  Linear,
  LSTM,
  max,
  type Model,
  Module,
  mul,
  noGrad,
  relu,
  RNNDropout,
  slice,
  sub,
  sum,
  type Tensor,
  tidy,
  where,
} from "../../nn/mod.ts";
import { cast, div } from "../../nn/ops_elementwise.ts";
import { reshape } from "../../nn/ops_shape.ts";

/** AWD-LSTM hyper-parameters (fastai names in comments). */
export interface AwdLstmConfig {
  /** Embedding size (`emb_sz`). */
  embSize: number;
  /** Hidden size of the inner layers (`n_hid`). */
  nHid: number;
  /** LSTM layers (`n_layers`). */
  nLayers: number;
  /** Padding token id (`pad_token`). */
  padToken: number;
  /** Bidirectional LSTMs (`bidir`). */
  bidir: boolean;
  /** Dropout before the decoder / head (`output_p`; v0.7 `dropout`). */
  outputP: number;
  /** Locked dropout between LSTM layers (`hidden_p`; v0.7 `dropouth`). */
  hiddenP: number;
  /** Locked dropout on the embeddings (`input_p`; v0.7 `dropouti`). */
  inputP: number;
  /** Embedding (whole-word) dropout (`embed_p`; v0.7 `dropoute`). */
  embedP: number;
  /** Weight dropout on `W_hh` (`weight_p`; v0.7 `wdrop`). */
  weightP: number;
  /** Tie the decoder to the embedding (LM). */
  tieWeights: boolean;
  /** Decoder bias (LM; v0.7 had none). */
  outBias: boolean;
}

/** fastai v2 `awd_lstm_lm_config`. */
export const AWD_LSTM_LM_CONFIG: Readonly<AwdLstmConfig> = Object.freeze({
  embSize: 400,
  nHid: 1152,
  nLayers: 3,
  padToken: 1,
  bidir: false,
  outputP: 0.1,
  hiddenP: 0.15,
  inputP: 0.25,
  embedP: 0.02,
  weightP: 0.2,
  tieWeights: true,
  outBias: true,
});

/** fastai v2 `awd_lstm_clas_config`. */
export const AWD_LSTM_CLAS_CONFIG: Readonly<AwdLstmConfig> = Object.freeze({
  ...AWD_LSTM_LM_CONFIG,
  outputP: 0.4,
  hiddenP: 0.3,
  inputP: 0.4,
  embedP: 0.05,
  weightP: 0.5,
});

const round = (v: number) => Number(v.toPrecision(12));

/** The 2018 lesson 10 LM: 400/1150/3, `drops = [0.25, 0.1, 0.2, 0.02, 0.15] * 0.7`, no decoder bias. */
export const AWD_LSTM_LM_CONFIG_V07: Readonly<AwdLstmConfig> = Object.freeze({
  embSize: 400,
  nHid: 1150,
  nLayers: 3,
  padToken: 1,
  bidir: false,
  inputP: round(0.25 * 0.7),
  outputP: round(0.1 * 0.7),
  weightP: round(0.2 * 0.7),
  embedP: round(0.02 * 0.7),
  hiddenP: round(0.15 * 0.7),
  tieWeights: true,
  outBias: false,
});

/** The 2018 lesson 10 classifier: `dps = [0.4, 0.5, 0.05, 0.3, 0.4] * 0.5` (dropouti, wdrop, dropoute, dropouth, head). */
export const AWD_LSTM_CLAS_CONFIG_V07: Readonly<AwdLstmConfig> = Object.freeze({
  ...AWD_LSTM_LM_CONFIG_V07,
  inputP: round(0.4 * 0.5),
  weightP: round(0.5 * 0.5),
  embedP: round(0.05 * 0.5),
  hiddenP: round(0.3 * 0.5),
  outputP: round(0.4 * 0.5),
});

/** Options of the AWD-LSTM models: any config field, plus `dropMult` scaling the five dropouts. */
export type AwdLstmOptions = Partial<AwdLstmConfig> & {
  /** Multiplies `outputP, hiddenP, inputP, embedP, weightP`. @default 1 */
  dropMult?: number;
};

/** A full config from a preset, overrides and `dropMult`. */
export function resolveConfig(base: Readonly<AwdLstmConfig>, options: AwdLstmOptions = {}): AwdLstmConfig {
  const { dropMult = 1, ...rest } = options;
  const c: AwdLstmConfig = { ...base, ...rest };
  for (const k of ["outputP", "hiddenP", "inputP", "embedP", "weightP"] as const) {
    c[k] = round(c[k] * dropMult);
  }
  if (c.nLayers < 1) throw new Error(`AWD-LSTM: nLayers must be >= 1, got ${c.nLayers}`);
  return c;
}

/** Encoder outputs: the last layer before and after its dropout, for AR/TAR. */
export interface EncoderOutput {
  /** `(B, T, emb)` last layer output (no dropout after the last layer inside the encoder). */
  rawOut: Tensor;
}

/** The AWD-LSTM encoder (fastai `AWD_LSTM`): `(B, T)` token ids -> `(B, T, embSize)`. Stateful across calls. */
export class AwdLstm extends Module {
  /** Config in use. */
  readonly config: AwdLstmConfig;
  /** Token embedding, uniform(-0.1, 0.1), padding row zero. */
  readonly encoder: Embedding;
  /** Whole-word dropout on the embedding rows. */
  readonly encoderDp: EmbeddingDropout;
  /** Locked dropout on the embedded input. */
  readonly inputDp: RNNDropout;
  /** One LSTM per layer (weight dropout on `W_hh`, stateful). */
  readonly rnns: LSTM[];
  /** Locked dropout after each layer but the last. */
  readonly hiddenDps: RNNDropout[];

  /**
   * Create an AwdLstm.
   * @param vocabSize number of tokens
   * @param config the full config (see {@linkcode resolveConfig})
   */
  constructor(vocabSize: number, config: AwdLstmConfig) {
    super();
    this.config = config;
    const { embSize, nHid, nLayers, padToken, bidir } = config;
    this.encoder = this.registerModule(
      "encoder",
      new Embedding(vocabSize, embSize, { paddingIdx: padToken, initRange: 0.1 }),
    );
    this.encoderDp = this.registerModule("encoder_dp", new EmbeddingDropout(config.embedP));
    this.inputDp = this.registerModule("input_dp", new RNNDropout(config.inputP));
    const nDir = bidir ? 2 : 1;
    this.rnns = [];
    this.hiddenDps = [];
    for (let l = 0; l < nLayers; l++) {
      const inSize = l === 0 ? embSize : nHid, out = (l === nLayers - 1 ? embSize : nHid) / nDir;
      if (!Number.isInteger(out)) {
        throw new Error(`AWD-LSTM: hidden size not divisible by ${nDir} directions`);
      }
      const rnn = new LSTM(inSize, out, {
        bidirectional: bidir,
        weightDropout: config.weightP,
        stateful: true,
      });
      this.rnns.push(this.registerModule(`rnns.${l}`, rnn));
      this.hiddenDps.push(this.registerModule(`hidden_dps.${l}`, new RNNDropout(config.hiddenP)));
    }
  }

  /** Run over `(B, T)` ids; the hidden state carries over (detached) to the next call until `reset()`. */
  forward(ids: Tensor): { output: Tensor; rawOut: Tensor } {
    const table = this.encoderDp.forward(this.encoder.weight);
    let x = this.inputDp.forward(this.encoder.forward(ids, table)); // (B, T, emb)
    let raw = x;
    this.rnns.forEach((rnn, l) => {
      raw = rnn.forward(x).output;
      x = l < this.rnns.length - 1 ? this.hiddenDps[l]!.forward(raw) : raw;
    });
    return { output: x, rawOut: raw };
  }

  /** Layer groups: one per LSTM layer (the embedding goes with the decoder / is its own group). */
  rnnGroups(): Tensor[][] {
    return this.rnns.map((r) => r.parameters());
  }

  /**
   * Parameters under the names of denofit's AWD-LSTM model files and of the fastai mapping
   * (`awd_lstm_fastai.ts`): `encoder.weight`, `rnns.N.weightIH|weightHH|biasIH|biasHH` (other names, such as a
   * bidirectional layer's `_reverse` weights, as the module registers them).
   */
  override stateDict(): Map<string, Tensor> {
    return new Map([...super.stateDict()].map(([name, t]) => [awdTensorName(name), t]));
  }
}

const LSTM_TENSOR_NAMES: Record<string, string> = {
  weight_ih_l0: "weightIH",
  weight_hh_l0: "weightHH",
  bias_ih_l0: "biasIH",
  bias_hh_l0: "biasHH",
};

function awdTensorName(name: string): string {
  const m = /^rnns\.(\d+)\.(\w+)$/.exec(name);
  const short = m ? LSTM_TENSOR_NAMES[m[2]!] : undefined;
  return short ? `rnns.${m![1]}.${short}` : name;
}

/** `Linear(emb, vocab)` with output dropout on its input; weight optionally tied to an embedding. */
export class LinearDecoder extends Module {
  /** The linear layer. */
  readonly decoder: Linear;
  /** Dropout before it. */
  readonly outputDp: RNNDropout;
  /**
   * Create a LinearDecoder.
   * @param vocabSize outputs
   * @param embSize inputs
   */
  constructor(vocabSize: number, embSize: number, { outputP = 0, tieTo, bias = true }: {
    outputP?: number;
    tieTo?: Embedding;
    bias?: boolean;
  } = {}) {
    super();
    this.decoder = this.registerModule("decoder", new Linear(embSize, vocabSize, { bias }));
    if (this.decoder.bias) assign(this.decoder.bias, 0); // fastai: decoder bias starts at zero
    if (tieTo) this.decoder.tieWeight(tieTo.weight);
    this.outputDp = this.registerModule("output_dp", new RNNDropout(outputP));
  }
  /** The decoder weight (the embedding's when tied). */
  get weight(): Tensor {
    return this.decoder.weight;
  }
  /** `(B, T, emb)` -> `{ output: (B, T, vocab), out: dropped input }`. */
  forward(x: Tensor): { output: Tensor; out: Tensor } {
    const out = this.outputDp.forward(x);
    return { output: this.decoder.forward(out), out };
  }
}

/** The AWD-LSTM language model: encoder + tied decoder; forward returns `{ output, out, rawOut }` for AR/TAR. */
export class AwdLstmLM extends Module implements Model {
  /** Config in use. */
  readonly config: AwdLstmConfig;
  /** The encoder. */
  readonly encoder: AwdLstm;
  /** The decoder (tied to `encoder.encoder` when `tieWeights`). */
  readonly decoder: LinearDecoder;
  /**
   * Create an AwdLstmLM.
   * @param vocabSize number of tokens
   * @param options config overrides on {@linkcode AWD_LSTM_LM_CONFIG} and `dropMult`
   */
  constructor(vocabSize: number, options: AwdLstmOptions & { base?: Readonly<AwdLstmConfig> } = {}) {
    super();
    const { base = AWD_LSTM_LM_CONFIG, ...rest } = options;
    this.config = resolveConfig(base, rest);
    this.encoder = this.registerModule("0", new AwdLstm(vocabSize, this.config));
    const opts = { outputP: this.config.outputP, bias: this.config.outBias };
    this.decoder = this.registerModule(
      "1",
      new LinearDecoder(
        vocabSize,
        this.config.embSize,
        this.config.tieWeights ? { ...opts, tieTo: this.encoder.encoder } : opts,
      ),
    );
  }
  /** `(B, T)` ids -> `{ output: (B, T, vocab) logits, out, rawOut }`. */
  forward(ids: Tensor): { output: Tensor; out: Tensor; rawOut: Tensor } {
    const enc = this.encoder.forward(ids);
    const dec = this.decoder.forward(enc.output);
    return { output: dec.output, out: dec.out, rawOut: enc.rawOut };
  }
  /** fastai's 4 LM groups: each LSTM layer, then embedding + decoder. */
  layerGroups(): Tensor[][] {
    const last = [...this.encoder.encoder.parameters(), ...this.decoder.parameters()];
    return [...this.encoder.rnnGroups(), [...new Set(last)]];
  }
  /**
   * The encoder's tensors (see {@linkcode AwdLstm.stateDict}), then `decoder.weight` (the embedding's tensor when
   * tied, listed under both names as fastai saves it) and `decoder.bias`.
   */
  override stateDict(): Map<string, Tensor> {
    const m = this.encoder.stateDict();
    m.set("decoder.weight", this.decoder.weight);
    if (this.decoder.decoder.bias) m.set("decoder.bias", this.decoder.decoder.bias);
    return m;
  }
}

/** Options of {@linkcode AwdLstmClassifier}. */
export type AwdLstmClassifierOptions = AwdLstmOptions & {
  /** Preset to start from. @default AWD_LSTM_CLAS_CONFIG */
  base?: Readonly<AwdLstmConfig>;
  /** Chunk length when reading a document. @default 70 */
  bptt?: number;
  /** Keep encoder outputs of the last `maxLen` tokens. @default 20 * 70 */
  maxLen?: number;
  /** Hidden sizes of the head between `emb*3` and `nClass`. @default [50] */
  linFtrs?: number[];
  /** Dropouts of the head blocks after the first (the first uses `outputP`). @default [0.1] */
  ps?: number[];
};

/** The ULMFiT classifier: BPT3C encoder, masked concat pooling, `[emb*3, 50, nClass]` head. */
export class AwdLstmClassifier extends Module implements Model {
  /** Config in use. */
  readonly config: AwdLstmConfig;
  /** The encoder (load a fine-tuned LM encoder into it). */
  readonly encoder: AwdLstm;
  /** Head blocks: BatchNorm1d -> Dropout -> Linear. */
  readonly head: { bn: BatchNorm1d; drop: Dropout; lin: Linear }[] = [];
  /** Chunk length. */
  readonly bptt: number;
  /** Tokens whose outputs are pooled (the last ones). */
  readonly maxLen: number;

  /**
   * Create an AwdLstmClassifier.
   * @param vocabSize number of tokens
   * @param nClass number of classes
   */
  constructor(vocabSize: number, nClass: number, options: AwdLstmClassifierOptions = {}) {
    super();
    const { base = AWD_LSTM_CLAS_CONFIG, bptt = 70, maxLen = 20 * 70, linFtrs = [50], ps = [0.1], ...rest } =
      options;
    this.config = resolveConfig(base, rest);
    this.bptt = bptt;
    this.maxLen = maxLen;
    this.encoder = this.registerModule("0", new AwdLstm(vocabSize, this.config));
    const dims = [this.config.embSize * 3, ...linFtrs, nClass];
    const drops = [this.config.outputP, ...ps];
    if (drops.length !== dims.length - 1) {
      throw new Error(`AwdLstmClassifier: ${drops.length} dropouts for ${dims.length - 1} layers`);
    }
    for (let i = 0; i < dims.length - 1; i++) {
      const block = {
        bn: this.registerModule(`1.layers.${i}.bn`, new BatchNorm1d(dims[i]!)),
        drop: this.registerModule(`1.layers.${i}.drop`, new Dropout(drops[i]!)),
        lin: this.registerModule(`1.layers.${i}.lin`, new Linear(dims[i]!, dims[i + 1]!)),
      };
      this.head.push(block);
    }
  }

  /**
   * Classify `(B, T)` ids padded at the START with `padToken`.
   * @returns `{ output: (B, nClass) logits, out, rawOut }` (out/rawOut: pooled encoder outputs for AR/TAR)
   */
  forward(ids: Tensor): { output: Tensor; out: Tensor; rawOut: Tensor } {
    const { outs, raws, mask } = this.#encode(ids);
    let x = maskedConcatPool(outs, mask);
    this.head.forEach((b, i) => {
      x = b.lin.forward(b.drop.forward(b.bn.forward(x)));
      if (i < this.head.length - 1) x = relu(x);
    });
    return { output: x, out: outs, rawOut: raws };
  }

  /** BPT3C: reset the encoder, run the document in `bptt` chunks, keep the outputs of the last `maxLen` tokens. */
  #encode(ids: Tensor): { outs: Tensor; raws: Tensor; mask: Tensor } {
    const T = ids.shape[1]!;
    this.encoder.reset();
    const outs: Tensor[] = [], raws: Tensor[] = [];
    let keptFrom = T;
    for (let i = 0; i < T; i += this.bptt) {
      const end = Math.min(i + this.bptt, T);
      const kept = T - i <= this.maxLen;
      // chunks before the pooled window only carry the hidden state forward: no graph, no saved activations
      const chunk = () => this.encoder.forward(slice(ids, [null, [i, end]]));
      const r = kept ? chunk() : noGrad(() => tidy(chunk));
      if (kept) {
        outs.push(r.output);
        raws.push(r.rawOut);
        keptFrom = Math.min(keptFrom, i);
      }
    }
    if (outs.length === 0) {
      // maxLen shorter than a chunk: keep the last chunk anyway
      throw new Error(`AwdLstmClassifier: maxLen ${this.maxLen} keeps no chunk of ${this.bptt} tokens`);
    }
    const mask = eq(slice(ids, [null, [keptFrom, T]]), this.config.padToken); // (B, kept) 1 = padding
    return {
      outs: outs.length === 1 ? outs[0]! : concat(outs, 1),
      raws: raws.length === 1 ? raws[0]! : concat(raws, 1),
      mask,
    };
  }

  /** fastai's 5 classifier groups: embedding, each LSTM layer, the head. */
  layerGroups(): Tensor[][] {
    const head = this.head.flatMap((b) => [...b.bn.parameters(), ...b.lin.parameters()]);
    return [this.encoder.encoder.parameters(), ...this.encoder.rnnGroups(), head];
  }

  /** The encoder's tensors (see {@linkcode AwdLstm.stateDict}), then the head's parameters and buffers as `head.*`. */
  override stateDict(): Map<string, Tensor> {
    const m = this.encoder.stateDict();
    for (const [name, t] of super.stateDict()) if (name.startsWith("1.")) m.set(`head.${name.slice(2)}`, t);
    return m;
  }
}

/**
 * Masked concat pooling over `(B, T, H)` encoder outputs with `mask (B, T)` (i32, 1 at padding, padding at the
 * start): `[output at the last step, max over real tokens, mean over real tokens]` -> `(B, 3H)`.
 */
export function maskedConcatPool(output: Tensor, mask: Tensor): Tensor {
  const [B, T] = output.shape as [number, number, number];
  const m = cast(reshape(mask, [B, T, 1]), output.dtype); // 1 at padding
  const keep = sub(1, m);
  const last = slice(output, [null, T - 1]); // (B, H)
  const maxPool = max(where(reshape(mask, [B, T, 1]), { then: -1e30, else: output }), { axis: 1 });
  const lens = sum(keep, { axis: 1 }); // (B, 1)
  const avgPool = div(sum(mul(output, keep), { axis: 1 }), lens);
  return concat([last, maxPool, avgPool], 1);
}
