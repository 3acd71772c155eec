import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { Rng } from "../gpu/rng.ts";
import { tensorsToHost, TrainingRun } from "../nn/mod.ts";
import {
  classifierStages,
  languageModelLearner,
  languageModelStages,
  textClassifierLearner,
  trainLanguageModel,
} from "./learner.ts";
import { AwdLstmLM } from "./models/awd_lstm.ts";

const round = (x: number | readonly number[]) =>
  typeof x === "number" ? Number(x.toPrecision(10)) : x.map((v) => Number(v.toPrecision(10)));

function randomDocs(n: number, len: number, vocab: number, seed = 5): Int32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => Int32Array.from({ length: len }, () => 9 + rng.int(vocab - 9)));
}

Deno.test("languageModelStages(): the last layer group first, then everything at lr/10", async (t) => {
  await t.step("fine-tuning", () => {
    deepStrictEqual(
      languageModelStages({ lr: 1e-2, frozenEpochs: 1, epochs: 3 }).map((
        s,
      ) => [s.name, s.epochs, s.freezeTo, s.lr]),
      [["lm-fwd-last-layer", 1, -1, 1e-2], ["lm-fwd-unfrozen", 3, 0, 1e-3]],
    );
  });
  await t.step("from scratch: no frozen stage, the full rate; backwards names", () => {
    const [frozen, all] = languageModelStages({ lr: 1e-2, frozenEpochs: 0, epochs: 2, backwards: true });
    deepStrictEqual([frozen!.name, frozen!.epochs, all!.name, all!.lr], [
      "lm-bwd-last-layer",
      0,
      "lm-bwd-unfrozen",
      1e-2,
    ]);
    deepStrictEqual(all!.schedule, { kind: "one-cycle", moms: [0.8, 0.7, 0.8] });
    strictEqual(all!.perplexity, true);
  });
});

Deno.test("classifierStages(): gradual unfreezing with lr / 2.6^k per group", () => {
  const plan = classifierStages(5, { lr: 2e-2, stages: [1, 2, 3] });
  deepStrictEqual(plan.map((s) => [s.name, s.epochs, s.freezeTo]), [
    ["clas-fwd-last-layer", 1, -1],
    ["clas-fwd-last-2", 2, -2],
    ["clas-fwd-unfrozen", 3, 0],
  ]);
  strictEqual(plan[0]!.lr, 2e-2);
  deepStrictEqual(round(plan[1]!.lr), round([4, 3, 2, 1, 0].map((k) => 1e-2 / 2.6 ** k)));
  deepStrictEqual(round(plan[2]!.lr), round([4, 3, 2, 1, 0].map((k) => 2e-3 / 2.6 ** k)));
  deepStrictEqual(round(classifierStages(2, { lr: 1, lrMults: [1, 1, 1], lrDiv: 2 })[2]!.lr), [0.5, 1]);
});

Deno.test("languageModelLearner(): data, pre-trained weights, errors", async (t) => {
  const model = { embSize: 8, nHid: 8, nLayers: 1 };
  await t.step("validation only when the texts fill two batches", () => {
    const learn = languageModelLearner(randomDocs(20, 10, 30), randomDocs(1, 3, 30), {
      vocabSize: 30,
      model,
      bs: 4,
      bptt: 5,
      quiet: true,
    });
    ok(learn.data.train.length > 0);
    strictEqual(learn.data.valid, undefined);
    ok(learn.model instanceof AwdLstmLM);
    strictEqual(learn.layerGroups().length, 2);
  });
  await t.step("pre-trained weights are copied in", async () => {
    const donor = new AwdLstmLM(30, model);
    const weights = await tensorsToHost(donor.stateDict());
    const learn = languageModelLearner(randomDocs(20, 10, 30), [], {
      vocabSize: 30,
      model,
      bs: 4,
      pretrained: weights,
    });
    deepStrictEqual(await tensorsToHost(learn.model.stateDict()), weights);
  });
  await t.step("texts too short for the batch size", () => {
    throws(
      () => languageModelLearner([Int32Array.of(9, 10)], [], { vocabSize: 30, model, bs: 64 }),
      /2 tokens are too few for 64 streams/,
    );
  });
});

Deno.test("textClassifierLearner(): the encoder comes from the LM, the head is new", async () => {
  const model = { embSize: 8, nHid: 8, nLayers: 1 };
  const lm = new AwdLstmLM(30, model);
  const encoder = await tensorsToHost(lm.encoder.stateDict());
  const docs = randomDocs(12, 6, 30);
  const labels = Int32Array.from(docs, (_, i) => i % 2);
  const learn = textClassifierLearner({ docs, labels }, { docs, labels }, {
    vocabSize: 30,
    nClass: 2,
    model,
    encoder,
    bs: 4,
    bptt: 3,
  });
  deepStrictEqual(await tensorsToHost(learn.model.encoder.stateDict()), encoder);
  strictEqual(learn.layerGroups().length, 3); // embedding, one LSTM, the head
  strictEqual(learn.model.bptt, 3);
});

Deno.test("trainLanguageModel() fits the plan in the given run", async () => {
  const run = new TrainingRun();
  const { model, learn } = await trainLanguageModel(randomDocs(40, 12, 20), randomDocs(8, 12, 20), {
    vocabSize: 20,
    model: { embSize: 8, nHid: 8, nLayers: 1 },
    bs: 4,
    bptt: 6,
    lr: 1e-2,
    frozenEpochs: 1,
    epochs: 1,
    run,
    quiet: true,
  });
  strictEqual(learn.model, model);
  deepStrictEqual(run.log.records.map((r) => r.stage), ["lm-fwd-last-layer", "lm-fwd-unfrozen"]);
  ok(run.log.records.every((r) => r.perplexity! > 1 && r.accuracy! >= 0));
});
