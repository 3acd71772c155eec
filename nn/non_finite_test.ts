import { match, ok, rejects, strictEqual } from "node:assert/strict";
import { seed } from "../gpu/rng.ts";
import { Linear } from "./layers/mod.ts";
import { Learner } from "./learner.ts";
import { mseLoss } from "./losses.ts";
import { NonFiniteGuard, NonFiniteLossError } from "./non_finite.ts";
import { fromArray } from "./tensor.ts";
import { runTraining } from "./training_run.ts";

function learner(n = 3): Learner {
  seed(3);
  const batch = () => ({ x: fromArray([0, 1, 2], [3, 1]), y: fromArray([1, 3, 5], [3, 1]) });
  const loader = {
    length: n,
    *[Symbol.iterator]() {
      for (let i = 0; i < n; i++) yield batch();
    },
  };
  return new Learner(new Linear(1, 1), { train: loader, valid: loader }, { loss: mseLoss, quiet: true });
}

Deno.test("NonFiniteGuard stops a fit at a non-finite loss, naming where (#13 fault 1)", async (t) => {
  await t.step("the first NaN/Infinity training loss: stage, epoch, step and a lower --lr", async () => {
    const learn = learner(20);
    learn.addCallback(new NonFiniteGuard("warm-up", { lr: 1e30 }));
    const err = await learn.fit(2, 1e30).then(() => null, (e) => e);
    ok(err instanceof NonFiniteLossError, String(err));
    strictEqual(err.which, "train");
    strictEqual(err.stage, "warm-up");
    ok(err.step >= 1 && err.step <= 20 && err.epoch === 1, `step ${err.step}, epoch ${err.epoch}`);
    ok(!Number.isFinite(err.value));
    match(err.message, /at step \d+ of 40 \(epoch 1 of 2, stage "warm-up", peak learning rate 1e\+30\)/);
    match(err.message, /try a lower learning rate \(--lr\) such as 1e\+29/);
  });
  await t.step("maxNonFinite: 3 tolerates two, stops at the third, naming the first", async () => {
    const learn = learner(20);
    const losses = [1, NaN, 2, Infinity, 3, NaN, 4];
    let i = 0;
    // replace each read-back loss with the scripted one (what a diverging run looks like)
    learn.addCallback({
      order: 1,
      afterBatch: (l) => {
        while (i < l.recorder.losses.length) l.recorder.losses[i] = losses[i++] ?? 5;
      },
    });
    learn.addCallback(new NonFiniteGuard("s", { maxNonFinite: 3 }));
    const err = await learn.fit(1, 1e-3).then(() => null, (e) => e);
    ok(err instanceof NonFiniteLossError, String(err));
    strictEqual(err.step, 2);
    match(err.message, /training loss was NaN at step 2 .*\(3 non-finite losses so far\)/);
  });
  await t.step("a finite run is not stopped; maxNonFinite must be a positive integer", async () => {
    const learn = learner();
    learn.addCallback(new NonFiniteGuard("ok"));
    await learn.fit(2, 0.01);
    strictEqual(learn.trainIter, 6);
    let threw = false;
    try {
      new NonFiniteGuard("x", { maxNonFinite: 0 });
    } catch (e) {
      threw = e instanceof RangeError;
    }
    ok(threw);
  });
});

Deno.test("runTraining(): a diverged fit stops before any save; the good file stays (#13 fault 1)", async () => {
  const dir = await Deno.makeTempDir();
  const out = `${dir}/m.bin`;
  await Deno.writeTextFile(out, "a good model");
  let saved = false;
  await rejects(
    runTraining({ outputs: [out], force: true }, async (run) => {
      await run.fit(learner(), [{ name: "diverge", epochs: 2, freezeTo: 0, lr: 1e30 }]);
      saved = true;
      await run.save({ [out]: (p) => Deno.writeTextFile(p, "NaN") });
    }),
    (e) =>
      e instanceof NonFiniteLossError && /stage "diverge"/.test(e.message) &&
      /No output was written/.test(e.message),
  );
  strictEqual(saved, false);
  strictEqual(await Deno.readTextFile(out), "a good model");
  await Deno.remove(dir, { recursive: true });
});
