import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { seed } from "../gpu/rng.ts";
import { Linear, Module } from "./layers/mod.ts";
import { Learner, type Model } from "./learner.ts";
import { mseLoss } from "./losses.ts";
import { fromArray, type Tensor } from "./tensor.ts";
import { checkOutput, MetricsLog, runTraining, TrainingRun } from "./training_run.ts";

/** Two linear layers, one layer group each. */
class TwoGroups extends Module implements Model {
  a = this.registerModule("a", new Linear(1, 1));
  b = this.registerModule("b", new Linear(1, 1));
  forward(x: Tensor): Tensor {
    return this.b.forward(this.a.forward(x));
  }
  layerGroups(): Tensor[][] {
    return [this.a.parameters(), this.b.parameters()];
  }
}

function learner(): { learn: Learner; model: TwoGroups } {
  seed(3);
  const model = new TwoGroups();
  const batch = () => ({ x: fromArray([0, 1, 2], [3, 1]), y: fromArray([1, 3, 5], [3, 1]) });
  const loader = {
    length: 3,
    *[Symbol.iterator]() {
      for (let i = 0; i < 3; i++) yield batch();
    },
  };
  const learn = new Learner(model, { train: loader, valid: loader }, { loss: mseLoss, quiet: true });
  return { learn, model };
}

const values = async (t: Tensor) => [...await t.data()];

Deno.test("TrainingRun.fit() runs a plan of stages", async (t) => {
  await t.step("freezeTo per stage: the frozen group keeps its weights", async () => {
    const { learn, model } = learner();
    const a0 = await values(model.a.weight), b0 = await values(model.b.weight);
    const run = new TrainingRun();
    await run.fit(learn, [{ name: "head", epochs: 1, freezeTo: -1, lr: 0.05 }]);
    deepStrictEqual(await values(model.a.weight), a0, "group 0 trained while frozen");
    ok((await values(model.b.weight))[0] !== b0[0], "group 1 did not train");
    await run.fit(learn, [{ name: "all", epochs: 1, freezeTo: 0, lr: 0.05 }]);
    ok((await values(model.a.weight))[0] !== a0[0], "group 0 did not train once unfrozen");
  });

  await t.step("one metrics record per epoch, named by stage; a 0-epoch stage is skipped", async () => {
    const { learn } = learner();
    const run = new TrainingRun();
    const before = learn.callbacks.length;
    await run.fit(learn, [
      { name: "skipped", epochs: 0, freezeTo: -1, lr: 0.05 },
      { name: "lm", epochs: 2, freezeTo: 0, lr: 0.05, perplexity: true },
      { name: "clas", epochs: 1, freezeTo: 0, lr: 0.05 },
    ]);
    deepStrictEqual(run.log.records.map((r) => `${r.stage}:${r.epoch}`), ["lm:1", "lm:2", "clas:1"]);
    const [lm1, , clas1] = run.log.records;
    strictEqual(lm1!.perplexity, Math.exp(lm1!.valid_loss!));
    strictEqual(clas1!.perplexity, undefined);
    ok(lm1!.train_loss > 0 && lm1!.seconds >= 0);
    strictEqual(learn.callbacks.length, before, "the metrics callbacks were left on the learner");
  });

  await t.step(
    "schedules: one-cycle starts at lr/25, CLR at lr/div; per-group rates reach the groups",
    async () => {
      const { learn } = learner();
      const run = new TrainingRun();
      await run.fit(learn, [{ name: "oc", epochs: 1, freezeTo: 0, lr: 0.1 }]);
      ok(Math.abs(learn.recorder.lrs[0]! - 0.1 / 25) < 1e-12, `one-cycle starts at ${learn.recorder.lrs[0]}`);
      await run.fit(learn, [{
        name: "clr",
        epochs: 1,
        freezeTo: 0,
        lr: 0.1,
        schedule: { kind: "clr", div: 10, cutDiv: 3 },
      }]);
      ok(Math.abs(learn.recorder.lrs[0]! - 0.01) < 1e-12, `CLR starts at ${learn.recorder.lrs[0]}`);
      const firstStep: number[][] = [];
      learn.addCallback({ afterStep: (l) => void firstStep.push(l.opt!.groups.map((g) => g.lr)) });
      await run.fit(learn, [{ name: "disc", epochs: 1, freezeTo: 0, lr: [0.02, 0.2] }]);
      deepStrictEqual(firstStep[0]!.map((x) => Number(x.toPrecision(12))), [0.02 / 25, 0.2 / 25]);
    },
  );
});

Deno.test("MetricsLog appends JSON lines to its file", async () => {
  const path = `${await Deno.makeTempDir()}/m.jsonl`;
  const log = new MetricsLog(path);
  const rec = { stage: "s", epoch: 1, train_loss: 1, valid_loss: null, accuracy: null, lr: 0.1, seconds: 2 };
  await log.add(rec);
  await log.add({ ...rec, epoch: 2 });
  const lines = (await Deno.readTextFile(path)).trim().split("\n").map((l) => JSON.parse(l));
  deepStrictEqual(lines, [rec, { ...rec, epoch: 2 }]);
  deepStrictEqual(log.records, lines);
});

Deno.test("runTraining() checks outputs before the body; save() writes only declared outputs", async (t) => {
  const dir = await Deno.makeTempDir();
  const existing = `${dir}/exists.bin`, fresh = `${dir}/new.bin`;
  await Deno.writeTextFile(existing, "old");
  await t.step("an existing output stops the run before any work", async () => {
    let ran = false;
    await rejects(
      runTraining({ outputs: [fresh, existing] }, () => Promise.resolve(void (ran = true))),
      new RegExp(`${existing} exists; pass --force`),
    );
    strictEqual(ran, false);
    await checkOutput(existing, true); // force: fine
  });
  await t.step("with force the body runs and save() hands each writer its path", async () => {
    const written = await runTraining({ outputs: [existing, fresh], force: true, seed: 7 }, async (run) => {
      strictEqual(run.seed, 7);
      await run.save({
        [existing]: (p) => Deno.writeTextFile(p, "new"),
        [fresh]: (p) => Deno.writeTextFile(p, "fresh"),
      });
      await rejects(
        run.save({ [`${dir}/other`]: () => Promise.resolve() }),
        /not one of its declared outputs/,
      );
      return [await Deno.readTextFile(existing), await Deno.readTextFile(fresh)];
    });
    deepStrictEqual(written, ["new", "fresh"]);
  });
  await Deno.remove(dir, { recursive: true });
});
