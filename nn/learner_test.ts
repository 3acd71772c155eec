import { strict as assert } from "node:assert";
import {
  accuracyMetric,
  type Batch,
  type DataLoader,
  Learner,
  type ModelOutput,
  perplexityMetric,
} from "./learner.ts";
import {
  type Callback,
  CancelFitError,
  EarlyStopping,
  GradientClipping,
  ModelResetter,
  RNNRegularizer,
  SaveBest,
  TeacherForcing,
} from "./callbacks.ts";
import { BatchNorm1d, Linear, Module } from "./layers/mod.ts";
import { crossEntropyFlat, mseLoss } from "./losses.ts";
import { SGD } from "./optim.ts";
import { fromArray, liveTensors, type Tensor } from "./tensor.ts";
import { seed } from "../gpu/rng.ts";

/** Two linear layers = two layer groups. */
class TwoLayer extends Module {
  a = this.registerModule("a", new Linear(2, 3));
  b = this.registerModule("b", new Linear(3, 2));
  resets = 0;
  forward(x: Tensor): ModelOutput {
    return this.b.forward(this.a.forward(x).relu());
  }
  layerGroups(): Tensor[][] {
    return [this.a.parameters(), this.b.parameters()];
  }
  override reset(): void {
    this.resets++;
  }
}

function loader(n: number, make: (i: number) => Batch): DataLoader {
  return {
    length: n,
    *[Symbol.iterator]() {
      for (let i = 0; i < n; i++) yield make(i);
    },
  };
}
const xy = (i: number): Batch => ({
  x: fromArray([i % 3, 1, 1, (i * 7) % 5], [2, 2]),
  y: fromArray([0.5, -1, 2, 0], [2, 2]),
});
const snapshot = (ps: Tensor[]) => ps.map((p) => Array.from(p.dataSync()));

Deno.test("Learner.freezeTo() stops updates of the frozen groups; unfreeze() resumes them", async () => {
  seed(1);
  const model = new TwoLayer();
  const learn = new Learner(model, { train: loader(4, xy) }, { loss: mseLoss, quiet: true });
  learn.freezeTo(-1);
  const a0 = snapshot(model.a.parameters()), b0 = snapshot(model.b.parameters());
  await learn.fit(1, 0.1);
  assert.deepEqual(snapshot(model.a.parameters()), a0, "group 0 frozen");
  assert.notDeepEqual(snapshot(model.b.parameters()), b0, "group 1 trained");
  learn.unfreeze();
  await learn.fit(1, 0.1);
  assert.notDeepEqual(snapshot(model.a.parameters()), a0, "group 0 trains after unfreeze()");
  assert.throws(() => learn.freezeTo(2), /2 layer groups/);
  learn.opt!.dispose();
  model.dispose();
});

Deno.test("Learner.fitOneCycle() sets one learning rate per group (discriminative) and records them", async () => {
  const model = new TwoLayer();
  const learn = new Learner(model, { train: loader(5, xy) }, {
    loss: mseLoss,
    quiet: true,
    opt: (g) => new SGD(g, { momentum: 0.9 }),
    readEvery: 2,
  });
  await learn.fitOneCycle(2, [0.01, 0.1]);
  const r = learn.recorder;
  assert.equal(r.lrs.length, 10);
  assert.equal(r.losses.length, 10, "every step's loss is read back (in groups of 2)");
  assert.ok(Math.abs(r.lrs[0]! - 0.1 / 25) < 1e-12, `first lr ${r.lrs[0]}`);
  assert.ok(Math.abs(r.moms[0]! - 0.95) < 1e-12);
  // the step at pos 0.2 (iteration 2 of 10) is in the warm-up: both groups keep their 1:10 ratio
  const g = learn.opt!.groups;
  assert.ok(Math.abs(g[1]!.lr / g[0]!.lr - 10) < 1e-9);
  assert.throws(() => learn.fitOneCycle(1, [1, 2, 3]), /3 given for 2 layer groups/);
  learn.opt!.dispose();
  model.dispose();
});

/** Returns fixed AWD-LSTM style outputs so AR/TAR amounts can be checked exactly. */
class FixedRnnOut extends Module {
  w = this.registerParameter("w", fromArray([0], [1]));
  forward(x: Tensor): ModelOutput {
    const out = fromArray([1, 2, 3, 4], [1, 2, 2]), rawOut = fromArray([1, 1, 4, 5], [1, 2, 2]);
    return { output: x.add(this.w), out, rawOut };
  }
}

Deno.test("RNNRegularizer adds exactly alpha*AR + beta*TAR to the training loss", async () => {
  const lossOf = async (cbs: Callback[]) => {
    const model = new FixedRnnOut();
    const learn = new Learner(model, {
      train: loader(1, () => ({ x: fromArray([3], [1]), y: fromArray([1], [1]) })),
    }, {
      loss: mseLoss,
      quiet: true,
      callbacks: cbs,
      opt: (g) => new SGD(g, { momentum: 0 }),
    });
    await learn.fit(1, 0);
    learn.opt!.dispose();
    model.dispose();
    return learn.recorder.losses[0]!;
  };
  const base = await lossOf([]);
  assert.ok(Math.abs(base - 4) < 1e-6); // (3 - 1)^2
  const withReg = await lossOf([new RNNRegularizer({ alpha: 2, beta: 1 })]);
  // AR: 2 * mean(1, 4, 9, 16) = 15; TAR: mean((4-1)^2, (5-1)^2) = 12.5
  assert.ok(Math.abs(withReg - (4 + 15 + 12.5)) < 1e-5, `loss ${withReg}`);
  // a model without { out, rawOut } is an error, never silently ignored (fastai bug #3605)
  const plain = new TwoLayer();
  const learn = new Learner(plain, { train: loader(1, xy) }, {
    loss: mseLoss,
    quiet: true,
    callbacks: [new RNNRegularizer()],
  });
  await assert.rejects(() => learn.fit(1, 0.1), /must return \{ output, out, rawOut \}/);
  learn.opt?.dispose();
  plain.dispose();
});

Deno.test("Learner callbacks: event order, resetter, early stopping, save-best, clipping", async (t) => {
  const model = new TwoLayer();
  const events: string[] = [];
  const spy: Callback = {
    beforeFit: () => void events.push("beforeFit"),
    beforeEpoch: () => void events.push("beforeEpoch"),
    beforeBatch: () => void events.push("beforeBatch"),
    afterPred: () => void events.push("afterPred"),
    afterLoss: () => void events.push("afterLoss"),
    afterBackward: () => void events.push("afterBackward"),
    afterStep: () => void events.push("afterStep"),
    afterBatch: () => void events.push("afterBatch"),
    beforeValidate: () => void events.push("beforeValidate"),
    afterEpoch: () => void events.push("afterEpoch"),
    afterFit: () => void events.push("afterFit"),
  };
  const saved: number[] = [];
  const learn = new Learner(model, { train: loader(1, xy), valid: loader(2, xy) }, {
    loss: mseLoss,
    quiet: true,
    callbacks: [spy, new ModelResetter(), new GradientClipping(0.01)],
  });
  await t.step("one epoch fires the events in fastai's order", async () => {
    await learn.fit(1, 0.01);
    assert.deepEqual(events, [
      "beforeFit",
      "beforeEpoch",
      "beforeBatch",
      "afterPred",
      "afterLoss",
      "afterBackward",
      "afterStep",
      "afterBatch",
      "beforeValidate",
      "afterEpoch",
      "afterFit",
    ]);
    assert.equal(model.resets, 3, "reset before train, before validate, after fit");
  });
  await t.step(
    "early stopping after `patience` epochs without improvement; save-best on improvements",
    async () => {
      const es = new EarlyStopping({ monitor: "train_loss", patience: 0, minDelta: 1e-4 });
      const sb = new SaveBest((l) => Promise.resolve(void saved.push(l.epoch)), {
        monitor: "valid_loss",
        minDelta: 1e-4,
      });
      learn.callbacks = [es, sb];
      await learn.fit(30, 1e-9); // lr ~0: the loss stays flat, so it stops at the second epoch
      assert.equal(learn.recorder.epochs.length, 2);
      assert.deepEqual(saved, [0]);
      assert.ok(new EarlyStopping().check(1) === false);
    },
  );
  await t.step("a callback can cancel the fit", async () => {
    learn.callbacks = [{
      afterBatch: () => {
        throw new CancelFitError("stop");
      },
    }];
    await learn.fit(3, 0.01);
    assert.equal(learn.recorder.epochs.length, 0);
    assert.equal(learn.recorder.losses.length, 1, "the cancelled step's loss is still read");
  });
  learn.opt!.dispose();
  model.dispose();
});

Deno.test("Learner.validate() averages loss and metrics; perplexity from the loss", async () => {
  class Fixed extends Module {
    forward(x: Tensor): ModelOutput {
      return x.mul(1);
    }
  }
  // logits (2 rows, 3 classes); row 0 predicts class 2, row 1 class 0
  const dl = loader(1, () => ({
    x: fromArray([0, 0, 5, 5, 0, 0], [2, 3]),
    y: fromArray([2, 1], [2], { dtype: "i32" }),
  }));
  const learn = new Learner(new Fixed(), { train: dl, valid: dl }, {
    loss: (p, y) => crossEntropyFlat(p, y),
    quiet: true,
    metrics: [accuracyMetric(), perplexityMetric()],
  });
  const before = liveTensors();
  const r = await learn.validate();
  assert.equal(liveTensors(), before);
  assert.equal(r.accuracy, 0.5);
  const lse = Math.log(2 + Math.exp(5));
  const expected = ((lse - 5) + lse) / 2;
  assert.ok(Math.abs(r.valid_loss! - expected) < 1e-5);
  assert.ok(Math.abs(r.perplexity! - Math.exp(expected)) < 1e-3);
});

Deno.test("Learner.lrFind() sweeps, suggests, and restores the weights", async () => {
  const model = new TwoLayer();
  const learn = new Learner(model, { train: loader(7, xy) }, { loss: mseLoss, quiet: true });
  await learn.fit(1, 1e-3);
  const opt = learn.opt;
  const w0 = snapshot(model.parameters());
  const r = await learn.lrFind({ numIt: 30 });
  assert.ok(r.lrs.length > 6 && r.lrs.length <= 30);
  assert.ok(r.lrs[1]! > r.lrs[0]!);
  assert.deepEqual(snapshot(model.parameters()), w0);
  assert.equal(learn.opt, opt, "the learner's optimizer (and its state) is kept");
  learn.opt!.dispose();
  model.dispose();
});

Deno.test("TeacherForcing sets prForce = (10 - epoch) * 0.1 for training and 0 for validation", async () => {
  class Forced extends TwoLayer {
    prForce = -1;
    seen: number[] = [];
    override forward(x: Tensor): ModelOutput {
      if (this.training) this.seen.push(this.prForce);
      return super.forward(x);
    }
  }
  const model = new Forced();
  const learn = new Learner(model, { train: loader(1, xy), valid: loader(1, xy) }, {
    loss: mseLoss,
    quiet: true,
    callbacks: [new TeacherForcing()],
  });
  await learn.fit(3, 1e-3);
  assert.deepEqual(model.seen.map((v) => Number(v.toFixed(10))), [1, 0.9, 0.8]);
  assert.equal(model.prForce, 0, "validation runs free");
  assert.equal(new TeacherForcing().prForce(12), 0);
  learn.opt!.dispose();
  model.dispose();
});

Deno.test("Learner.fitSlantedTriangular()/fitClr() apply ULMFiT's STLR and v0.7 use_clr per step", async () => {
  const model = new TwoLayer();
  const learn = new Learner(model, { train: loader(10, xy) }, { loss: mseLoss, quiet: true });
  await learn.fitSlantedTriangular(2, 0.01); // T = 20 steps, cut = 2
  const lrs = learn.recorder.lrs;
  assert.equal(lrs.length, 20);
  assert.ok(Math.abs(lrs[0]! - 0.01 / 32) < 1e-12);
  assert.ok(Math.abs(lrs[2]! - 0.01) < 1e-12, "peak at the cut");
  // t = 11: p = 1 - 9 / (2 * 9) = 0.5
  assert.ok(Math.abs(lrs[11]! - 0.01 * (1 + 0.5 * 31) / 32) < 1e-12);
  await learn.fitClr(1, [0.001, 0.01], { div: 10, cutDiv: 5, moms: [0.95, 0.85] }); // nb = 10, cut = 2
  const r = learn.recorder;
  assert.ok(Math.abs(r.lrs[0]! - 0.001) < 1e-12 && Math.abs(r.lrs[2]! - 0.01) < 1e-12);
  assert.ok(Math.abs(r.moms[0]! - 0.95) < 1e-12 && Math.abs(r.moms[2]! - 0.85) < 1e-12);
  assert.ok(Math.abs(learn.opt!.groups[0]!.lr / learn.opt!.groups[1]!.lr - 0.1) < 1e-9, "per-group peaks");
  learn.opt!.dispose();
  model.dispose();
});

Deno.test("Recorder writes the loss and schedule plots as SVG", async () => {
  const model = new TwoLayer();
  const learn = new Learner(model, { train: loader(6, xy), valid: loader(1, xy) }, {
    loss: mseLoss,
    quiet: true,
  });
  await learn.fitOneCycle(2, 0.01);
  const dir = await Deno.makeTempDir();
  try {
    await learn.recorder.plotLoss(`${dir}/loss.svg`);
    await learn.recorder.plotSched(`${dir}/sched.svg`);
    const loss = await Deno.readTextFile(`${dir}/loss.svg`),
      sched = await Deno.readTextFile(`${dir}/sched.svg`);
    assert.equal((loss.match(/<polyline/g) ?? []).length, 2, "train and valid curves");
    assert.equal((sched.match(/<polyline/g) ?? []).length, 2, "lr and momentum");
    assert.equal(learn.recorder.smoothLosses.length, 12);
  } finally {
    await Deno.remove(dir, { recursive: true });
    learn.opt!.dispose();
    model.dispose();
  }
});

Deno.test("Learner.freezeTo() keeps batch-norm parameters trainable (fastai train_bn) unless trainBn is false", async () => {
  class WithBn extends Module {
    lin = this.registerModule("lin", new Linear(2, 2));
    bn = this.registerModule("bn", new BatchNorm1d(2));
    head = this.registerModule("head", new Linear(2, 2));
    forward(x: Tensor): ModelOutput {
      return this.head.forward(this.bn.forward(this.lin.forward(x)));
    }
    layerGroups(): Tensor[][] {
      return [[...this.lin.parameters(), ...this.bn.parameters()], this.head.parameters()];
    }
  }
  for (const trainBn of [true, false]) {
    const model = new WithBn();
    const learn = new Learner(model, { train: loader(3, xy) }, { loss: mseLoss, quiet: true, trainBn });
    learn.freezeTo(-1);
    const lin0 = snapshot(model.lin.parameters()), bn0 = snapshot(model.bn.parameters());
    await learn.fit(1, 0.05);
    assert.deepEqual(snapshot(model.lin.parameters()), lin0, "frozen linear layer unchanged");
    if (trainBn) assert.notDeepEqual(snapshot(model.bn.parameters()), bn0, "batch norm still trains");
    else assert.deepEqual(snapshot(model.bn.parameters()), bn0, "batch norm frozen too");
    learn.opt!.dispose();
    model.dispose();
  }
});
