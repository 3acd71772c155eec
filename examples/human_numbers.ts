/**
 * The 2020 fastai lesson 8 progression (book chapter 12, "A Language Model from Scratch") on the generated
 * human-numbers data set: a 3-token MLP language model, the same as an RNN loop, a stateful RNN with truncated
 * BPTT (detach), predicting at every step, a 2-layer RNN, a 2-layer LSTM, and the regularised LSTM (dropout,
 * AR/TAR, weight tying). Each model's validation accuracy is printed next to the most-frequent-token baseline.
 *
 * ```sh
 * deno run -A examples/human_numbers.ts            # every model
 * deno run -A examples/human_numbers.ts lstm reg   # only some (mlp, loop, stateful, every, rnn2, lstm, reg)
 * deno run -A examples/human_numbers.ts --backend=webgpu lstm   # on WebGPU (default: the CPU backend)
 * ```
 *
 * Measured 2026-11-21 on the CPU backend with the book's epochs and learning rates, seed 42 (validation accuracy
 * after the last epoch; the most-frequent-token baseline is 15.2% on every split):
 *
 * | model | accuracy |
 * | --- | --- |
 * | 3-token MLP (LMModel1), `fit_one_cycle(4, 1e-3)` | 48.2% |
 * | RNN loop (LMModel2), same | 48.2% |
 * | stateful RNN with detach (LMModel3), `(10, 3e-3)` | 61.0% |
 * | predict every step, sl 16 (LMModel4), `(15, 3e-3)` | 64.2% |
 * | 2-layer RNN (LMModel5), `(15, 3e-3)` | 54.7% |
 * | 2-layer LSTM (LMModel6), `(15, 1e-2)` | 75.3% |
 * | LSTM + dropout, AR/TAR, tied weights (LMModel7), `(15, 1e-2, wd=0.1)` | 84.4% |
 *
 * The same ordering as the book's chapter; the regularised LSTM is the one that passes 80%.
 *
 * @module
 */

import {
  accuracyMetric,
  add,
  type Batch,
  crossEntropyFlat,
  type DataLoader,
  Dropout,
  Embedding,
  fromArray,
  keep,
  Learner,
  Linear,
  LSTM,
  type Model,
  type ModelOutput,
  ModelResetter,
  Module,
  relu,
  RNN,
  RNNRegularizer,
  setBackend,
  slice,
  stack,
  type Tensor,
} from "../nn/mod.ts";
import { seed } from "../gpu/rng.ts";
import { createBackend } from "../gpu/create_backend.ts";
import {
  groupChunks,
  humanNumbers,
  makeSequences,
  mostFrequentBaseline,
  type Sequences,
} from "../text/human_numbers.ts";

// Hyper-parameters of the book (chapter 12).
export const BS = 64;
export const NH = 64;
export const VALID_PCT = 0.2;

/** Batches of `(x, y)` from sequences in the given order (drop the last partial batch). */
export function sequenceLoader(seqs: Sequences, order: readonly number[], bs: number): DataLoader {
  const nb = Math.floor(order.length / bs), sl = seqs.sl, everyStep = seqs.y.length === seqs.x.length;
  return {
    length: nb,
    *[Symbol.iterator](): Iterator<Batch> {
      for (let b = 0; b < nb; b++) {
        const x = new Int32Array(bs * sl), y = new Int32Array(everyStep ? bs * sl : bs);
        for (let r = 0; r < bs; r++) {
          const s = order[b * bs + r]!;
          x.set(seqs.x.subarray(s * sl, (s + 1) * sl), r * sl);
          if (everyStep) y.set(seqs.y.subarray(s * sl, (s + 1) * sl), r * sl);
          else y[r] = seqs.y[s]!;
        }
        yield { x: fromArray(x, [bs, sl]), y: fromArray(y, everyStep ? [bs, sl] : [bs]) };
      }
    },
  };
}

/** Train/valid loaders: first 80% of the sequences for training, like the book; `grouped` for stateful models. */
export function loaders(
  seqs: Sequences,
  { bs = BS, grouped = false } = {},
): { train: DataLoader; valid: DataLoader } {
  const cut = Math.floor(seqs.n * (1 - VALID_PCT));
  const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
  const order = (a: number, b: number) => grouped ? groupChunks(b - a, bs).map((i) => i + a) : range(a, b);
  return {
    train: sequenceLoader(seqs, order(0, cut), bs),
    valid: sequenceLoader(seqs, order(cut, seqs.n), bs),
  };
}

/** LMModel1: three tokens in, the next one out; the same layers at each position. */
export class LMModel1 extends Module implements Model {
  ih: Embedding;
  hh: Linear;
  ho: Linear;
  constructor(vocab: number, nh: number) {
    super();
    this.ih = this.registerModule("i_h", new Embedding(vocab, nh));
    this.hh = this.registerModule("h_h", new Linear(nh, nh));
    this.ho = this.registerModule("h_o", new Linear(nh, vocab));
  }
  forward(x: Tensor): ModelOutput {
    const tok = (i: number) => this.ih.forward(slice(x, [null, i])); // (bs, nh)
    let h = relu(this.hh.forward(tok(0)));
    h = relu(this.hh.forward(add(h, tok(1))));
    h = relu(this.hh.forward(add(h, tok(2))));
    return this.ho.forward(h);
  }
}

/** LMModel2: the same as a loop (an RNN). */
export class LMModel2 extends LMModel1 {
  override forward(x: Tensor): ModelOutput {
    let h: Tensor | number = 0;
    for (let i = 0; i < x.shape[1]!; i++) {
      const e = this.ih.forward(slice(x, [null, i]));
      h = relu(this.hh.forward(typeof h === "number" ? e : add(h, e)));
    }
    return this.ho.forward(h as Tensor);
  }
}

/** LMModel3/4: stateful RNN loop; the hidden state is detached between batches (truncated BPTT). */
export class LMModel3 extends LMModel1 {
  h: Tensor | null = null;
  /** Predict at every step (LMModel4) instead of only after the last token. */
  everyStep: boolean;
  constructor(vocab: number, nh: number, { everyStep = false } = {}) {
    super(vocab, nh);
    this.everyStep = everyStep;
  }
  override forward(x: Tensor): ModelOutput {
    let h: Tensor | null = this.h;
    const outs: Tensor[] = [];
    for (let i = 0; i < x.shape[1]!; i++) {
      const e = this.ih.forward(slice(x, [null, i]));
      h = relu(this.hh.forward(h ? add(h, e) : e));
      if (this.everyStep) outs.push(this.ho.forward(h));
    }
    this.h?.dispose();
    this.h = keep(h!.detach());
    return this.everyStep ? stack(outs, 1) : this.ho.forward(h!);
  }
  override reset(): void {
    this.h?.dispose();
    this.h = null;
  }
}

/** LMModel5/6: a multi-layer stateful nn.RNN or LSTM predicting at every step. */
export class LMModelRnn extends Module implements Model {
  ih: Embedding;
  rnn: RNN | LSTM;
  ho: Linear;
  constructor(vocab: number, nh: number, nl: number, kind: "rnn" | "lstm") {
    super();
    this.ih = this.registerModule("i_h", new Embedding(vocab, nh));
    const Cls = kind === "rnn" ? RNN : LSTM;
    this.rnn = this.registerModule("rnn", new Cls(nh, nh, { numLayers: nl, stateful: true }));
    this.ho = this.registerModule("h_o", new Linear(nh, vocab));
  }
  forward(x: Tensor): ModelOutput {
    return this.ho.forward(this.rnn.forward(this.ih.forward(x)).output);
  }
}

/** LMModel7: LSTM with dropout, weight tying and AR/TAR outputs. */
export class LMModel7 extends Module implements Model {
  ih: Embedding;
  rnn: LSTM;
  drop: Dropout;
  ho: Linear;
  constructor(vocab: number, nh: number, nl: number, p: number) {
    super();
    this.ih = this.registerModule("i_h", new Embedding(vocab, nh));
    this.rnn = this.registerModule("rnn", new LSTM(nh, nh, { numLayers: nl, stateful: true }));
    this.drop = this.registerModule("drop", new Dropout(p));
    this.ho = this.registerModule("h_o", new Linear(nh, vocab));
    this.ho.tieWeight(this.ih.weight); // h_o.weight = i_h.weight
  }
  forward(x: Tensor): ModelOutput {
    const raw = this.rnn.forward(this.ih.forward(x)).output;
    const out = this.drop.forward(raw);
    return { output: this.ho.forward(out), rawOut: raw, out };
  }
}

/** One experiment of the lesson. */
export interface Experiment {
  /** Short key. */
  key: string;
  /** What the book calls it. */
  title: string;
  /** Sequence length (3 = the 3-token model). */
  sl: number;
  /** Predict at every step. */
  everyStep: boolean;
  /** Stateful models need batches in `groupChunks` order. */
  grouped: boolean;
  /** Epochs and peak learning rate of `fit_one_cycle`. */
  epochs: number;
  /** Peak learning rate. */
  lr: number;
  /** Weight decay. */
  wd?: number;
  /** Build the model. */
  make: (vocab: number) => Module & Model;
  /** AR/TAR. */
  regularize?: boolean;
}

/** The seven models of the chapter with the book's epochs and learning rates. */
export const EXPERIMENTS: Experiment[] = [
  {
    key: "mlp",
    title: "3-token MLP (LMModel1)",
    sl: 3,
    everyStep: false,
    grouped: false,
    epochs: 4,
    lr: 1e-3,
    make: (v) => new LMModel1(v, NH),
  },
  {
    key: "loop",
    title: "RNN loop (LMModel2)",
    sl: 3,
    everyStep: false,
    grouped: false,
    epochs: 4,
    lr: 1e-3,
    make: (v) => new LMModel2(v, NH),
  },
  {
    key: "stateful",
    title: "stateful RNN, detach (LMModel3)",
    sl: 3,
    everyStep: false,
    grouped: true,
    epochs: 10,
    lr: 3e-3,
    make: (v) => new LMModel3(v, NH),
  },
  {
    key: "every",
    title: "predict every step, sl=16 (LMModel4)",
    sl: 16,
    everyStep: true,
    grouped: true,
    epochs: 15,
    lr: 3e-3,
    make: (v) => new LMModel3(v, NH, { everyStep: true }),
  },
  {
    key: "rnn2",
    title: "2-layer RNN (LMModel5)",
    sl: 16,
    everyStep: true,
    grouped: true,
    epochs: 15,
    lr: 3e-3,
    make: (v) => new LMModelRnn(v, NH, 2, "rnn"),
  },
  {
    key: "lstm",
    title: "2-layer LSTM (LMModel6)",
    sl: 16,
    everyStep: true,
    grouped: true,
    epochs: 15,
    lr: 1e-2,
    make: (v) => new LMModelRnn(v, NH, 2, "lstm"),
  },
  {
    key: "reg",
    title: "LSTM + dropout, AR/TAR, tied weights (LMModel7)",
    sl: 16,
    everyStep: true,
    grouped: true,
    epochs: 15,
    lr: 1e-2,
    wd: 0.1,
    regularize: true,
    make: (v) => new LMModel7(v, NH, 2, 0.5),
  },
];

/** Result of one experiment. */
export interface ExperimentResult {
  /** Validation accuracy after the last epoch. */
  accuracy: number;
  /** Most-frequent-token baseline on the same validation targets. */
  baseline: number;
  /** Seconds of training. */
  seconds: number;
}

/**
 * Train one experiment and return its final validation accuracy and the baseline.
 * @param exp the experiment
 * @param options `epochs` overrides the book's count; `quiet` hides progress
 */
export async function runExperiment(
  exp: Experiment,
  { epochs = exp.epochs, quiet = false, seed: s = 42 }: { epochs?: number; quiet?: boolean; seed?: number } =
    {},
): Promise<ExperimentResult> {
  seed(s);
  const data = humanNumbers();
  const seqs = makeSequences(data.ids, exp.sl, { everyStep: exp.everyStep });
  const dls = loaders(seqs, { grouped: exp.grouped });
  const cut = Math.floor(seqs.n * (1 - VALID_PCT));
  const validY = exp.everyStep ? seqs.y.subarray(cut * exp.sl) : seqs.y.subarray(cut);
  const model = exp.make(data.vocab.length);
  const learn = new Learner(model, dls, {
    loss: (p, y) => crossEntropyFlat(p, y),
    metrics: [accuracyMetric()],
    callbacks: [new ModelResetter(), ...(exp.regularize ? [new RNNRegularizer({ alpha: 2, beta: 1 })] : [])],
    wd: exp.wd ?? 0.01,
    quiet,
  });
  const start = performance.now();
  await learn.fitOneCycle(epochs, exp.lr);
  const seconds = (performance.now() - start) / 1000;
  const accuracy = learn.recorder.epochs.at(-1)?.values.accuracy ?? NaN;
  learn.opt?.dispose();
  model.dispose();
  return { accuracy, baseline: mostFrequentBaseline(validY).accuracy, seconds };
}

if (import.meta.main) {
  const backendArg = Deno.args.find((a) => a.startsWith("--backend="))?.slice("--backend=".length) ?? "cpu";
  if (backendArg !== "cpu" && backendArg !== "webgpu" && backendArg !== "auto") {
    throw new Error(`--backend must be cpu, webgpu or auto, got ${backendArg}`);
  }
  const { backend, reason } = await createBackend({ prefer: backendArg });
  setBackend(backend);
  console.log(`backend: ${backend.name} (${reason})`);
  const args = Deno.args.filter((a) => !a.startsWith("--"));
  const keys = args.length ? args : EXPERIMENTS.map((e) => e.key);
  const results: string[] = [];
  for (const exp of EXPERIMENTS.filter((e) => keys.includes(e.key))) {
    console.log(`\n== ${exp.title}: fit_one_cycle(${exp.epochs}, ${exp.lr})`);
    const r = await runExperiment(exp);
    results.push(
      `${exp.title.padEnd(50)} accuracy ${r.accuracy.toFixed(4)}  baseline ${r.baseline.toFixed(4)}  ${
        r.seconds.toFixed(1)
      } s`,
    );
  }
  console.log(`\n${results.join("\n")}`);
}
