import { strict as assert } from "node:assert";
import { bleuMetric } from "./bleu_metric.ts";
import { corpusBleuScore } from "./bleu.ts";
import { type DataLoader, Learner, type ModelOutput } from "../nn/learner.ts";
import { Linear, Module } from "../nn/layers/mod.ts";
import { mseLoss } from "../nn/losses.ts";
import { fromArray, type Tensor } from "../nn/tensor.ts";
import { seed } from "../gpu/rng.ts";

class Tiny extends Module {
  lin = this.registerModule("lin", new Linear(2, 2));
  forward(x: Tensor): ModelOutput {
    return this.lin.forward(x);
  }
}

function loader(n: number): DataLoader {
  return {
    length: n,
    *[Symbol.iterator]() {
      for (let i = 0; i < n; i++) {
        yield { x: fromArray([i, 1, 1, 2], [2, 2]), y: fromArray([1, 0, 0, 1], [2, 2]) };
      }
    },
  };
}

Deno.test("bleuMetric() fills the bleu column of every epoch from the model's translations", async (t) => {
  seed(3);
  const refs = ["where is the file ?", "open the menu", "what is it ?"];
  const outputs = [
    ["where is file ?", "open menu", "what ?"],
    ["where is the file ?", "open the menu now", "what is it ?"],
  ];
  let calls = 0;
  const { metric, callback, last } = bleuMetric((learn) => {
    assert.equal(learn.model.training, false, "translate runs with the model in eval mode");
    return Promise.resolve({ hypotheses: outputs[calls++]!, references: [refs] });
  });
  const learn = new Learner(new Tiny(), { train: loader(2), valid: loader(1) }, {
    loss: mseLoss,
    metrics: [metric],
    callbacks: [callback],
    quiet: true,
  });
  await learn.fit(2, 0.01);
  await t.step("one score per epoch, equal to corpusBleuScore of that epoch's output", () => {
    const got = learn.recorder.epochs.map((e) => e.values.bleu);
    const want = outputs.map((h) => corpusBleuScore(h, [refs]).score);
    assert.deepEqual(got, want);
    assert.ok(want[1]! > want[0]! && want[0]! > 0);
    assert.equal(last()!.sysLen, 13);
  });
  await t.step("a renamed column", () => {
    const m = bleuMetric(() => Promise.resolve({ hypotheses: [], references: [[]] }), {
      name: "bleu_greedy",
    });
    assert.equal(m.metric.name, "bleu_greedy");
    assert.ok(Number.isNaN(m.metric.fromLoss!(1)));
  });
});
