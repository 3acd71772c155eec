// A small, fully seeded ULMFiT-style language-model run shared by tests/resume_test.ts and the Ctrl-C child
// script (interrupt_child.ts): tiny AWD-LSTM with every dropout on, v2 shuffled streams and v0.7 random-bptt
// loaders with their own generators, Adam, one cycle, AR/TAR and gradient clipping.
import { seed } from "../../gpu/rng.ts";
import { type Callback, GradientClipping, ModelResetter, RNNRegularizer } from "../callbacks.ts";
import { lmDataLoader } from "../data_loader.ts";
import { Learner } from "../learner.ts";
import { crossEntropyFlat } from "../losses.ts";
import { Adam } from "../optim.ts";
import { AwdLstmLM } from "../../text/models/awd_lstm.ts";
import { LanguageModelLoader } from "../../text/lm_loader.ts";
import { Rng } from "../../gpu/rng.ts";

/** Epochs of the run. */
export const EPOCHS = 3;
/** Peak learning rate. */
export const LR = 3e-2;

/** Builds the model, loaders and learner from scratch (same seed: same initial weights). */
export function makeRun(callbacks: Callback[] = [], options: { docs?: number } = {}) {
  seed(7);
  const vocab = 24;
  const data = new Rng(123);
  const docs = Array.from(
    { length: options.docs ?? 12 },
    () => Int32Array.from({ length: 10 + data.int(20) }, () => 2 + data.int(vocab - 2)),
  );
  const model = new AwdLstmLM(vocab, { embSize: 6, nHid: 10, nLayers: 2 });
  const trainDl = new LanguageModelLoader(docs, { bs: 3, bptt: 6, seed: 5 });
  const validDl = new LanguageModelLoader(docs.slice(0, 4), { bs: 2, bptt: 6, seed: 9, mode: "v2" });
  const learn = new Learner(model, { train: lmDataLoader(trainDl), valid: lmDataLoader(validDl) }, {
    loss: (p, y) => crossEntropyFlat(p, y),
    opt: (groups) => new Adam(groups, { beta1: 0.9, beta2: 0.99, eps: 1e-5 }),
    wd: 0.01,
    quiet: true,
    callbacks: [
      new ModelResetter(),
      new RNNRegularizer({ alpha: 2, beta: 1 }),
      new GradientClipping(0.5),
      ...callbacks,
    ],
  });
  return { model, learn, rngs: { train: trainDl.rng, valid: validDl.rng } };
}
