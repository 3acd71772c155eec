import { deepStrictEqual, notDeepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { getRng } from "../gpu/rng.ts";
import { CancelFitError } from "../nn/callbacks.ts";
import type { Learner } from "../nn/learner.ts";
import { moduleTensors, tensorsToHost } from "../nn/checkpoint/model_io.ts";
import { readTrainState } from "../nn/train_state.ts";
import { CheckpointError } from "../nn/formats/errors.ts";
import { TrainCheckpoint } from "../nn/resume.ts";
import { EPOCHS, LR, makeRun } from "../nn/testdata/resume_run.ts";
import type { SaveUnit } from "../nn/checkpoint/metadata.ts";
import { saveModel } from "../nn/checkpoint/model_io.ts";
import {
  type FitStage,
  runTraining,
  TrainingInterruptedError,
  type TrainingRunOptions,
} from "../nn/training_run.ts";

/** Stops the fit right after step `n` (after the checkpoint callback saved it). */
const stopAfter = (n: number) => ({
  order: 100,
  afterBatch: (l: Learner) => {
    if (l.trainIter === n) throw new CancelFitError(`stopped after step ${n}`);
  },
});

Deno.test("TrainCheckpoint: N steps in one go == N/2 + save + load into a fresh model and optimizer + N/2, bit for bit", async (t) => {
  const dir = await Deno.makeTempDir();
  const ends: number[] = [];
  const full = makeRun([{ afterEpoch: (l) => void ends.push(l.trainIter) }]);
  await full.learn.fitOneCycle(EPOCHS, LR);
  const total = full.learn.trainIter;
  // random-bptt batches: the number per epoch varies with the loader's generator
  ok(total >= 15 && ends.length === EPOCHS && ends[0]! > 4, `${total} steps, epochs end at ${ends}`);
  const want = await moduleTensors(full.model);
  const wantOpt = await tensorsToHost(full.learn.opt!.stateTensors());
  const wantRng = getRng().counter;
  const cuts = [Math.floor(total / 2), 3, ends[0]!, total - 2];
  for (const cut of cuts) {
    await t.step(`stop after step ${cut} of ${total}`, async () => {
      const path = `${dir}/cut${cut}.safetensors`;
      const first = makeRun();
      first.learn.callbacks.push(
        new TrainCheckpoint({ path, everySteps: cut, rngs: first.rngs }),
        stopAfter(cut),
      );
      await first.learn.fitOneCycle(EPOCHS, LR);
      strictEqual(first.learn.trainIter, cut);
      const saved = await readTrainState(path);
      strictEqual(saved.position.step, cut);
      ok(saved.runtime.size === 4, `hidden h and c of both LSTMs saved (${[...saved.runtime.keys()]})`);
      notDeepStrictEqual(saved.model, want);

      const second = makeRun();
      const resumed = new TrainCheckpoint({ path, rngs: second.rngs });
      second.learn.addCallback(resumed);
      strictEqual((await resumed.resumeFrom()).epoch, ends.findIndex((e) => e >= cut));
      await second.learn.fitOneCycle(EPOCHS, LR);
      strictEqual(second.learn.trainIter, total);
      const got = await moduleTensors(second.model);
      deepStrictEqual([...got.keys()], [...want.keys()]);
      for (const [name, w] of want) deepStrictEqual(got.get(name)!.data, w.data, `parameter ${name} differs`);
      deepStrictEqual(await tensorsToHost(second.learn.opt!.stateTensors()), wantOpt);
      strictEqual(getRng().counter, wantRng);
    });
  }
  await t.step("a checkpoint written at the end of epoch 1 (everyEpoch) resumes exactly", async () => {
    const path = `${dir}/epoch.safetensors`;
    const first = makeRun();
    const stop = {
      order: 100,
      afterEpoch: (l: Learner) => {
        if (l.epoch === 1) throw new CancelFitError("stopped after epoch 1");
      },
    };
    first.learn.callbacks.push(new TrainCheckpoint({ path, everyEpoch: true, rngs: first.rngs }), stop);
    await first.learn.fitOneCycle(EPOCHS, LR);
    const pos = (await readTrainState(path)).position;
    deepStrictEqual([pos.epoch, pos.step, pos.iter], [1, ends[1], ends[1]! - ends[0]!]);
    const second = makeRun();
    const ck = new TrainCheckpoint({ path, rngs: second.rngs });
    second.learn.addCallback(ck);
    await ck.resumeFrom();
    await second.learn.fitOneCycle(EPOCHS, LR);
    deepStrictEqual(await moduleTensors(second.model), want);
  });
  await t.step(
    "resuming without the loaders' generators, or with another schedule length, is refused",
    async () => {
      const path = `${dir}/cut${cuts[0]}.safetensors`;
      const a = makeRun();
      const noRngs = new TrainCheckpoint({ path });
      a.learn.addCallback(noRngs);
      await noRngs.resumeFrom();
      const before = await moduleTensors(a.model);
      await rejects(
        a.learn.fitOneCycle(EPOCHS, LR),
        /generator "train"; pass it in rngs \[config_mismatch\]/,
      );
      const b = makeRun();
      const ck = new TrainCheckpoint({ path, rngs: b.rngs });
      b.learn.addCallback(ck);
      await ck.resumeFrom();
      await rejects(b.learn.fitOneCycle(EPOCHS + 1, LR), /the schedule would differ \[config_mismatch\]/);
      deepStrictEqual(await moduleTensors(a.model), before);
    },
  );
  await t.step(
    "a truncated training state is refused with a typed error before the fit touches the model",
    async () => {
      const bytes = await Deno.readFile(`${dir}/cut${cuts[0]}.safetensors`);
      const run = makeRun();
      const before = await moduleTensors(run.model);
      for (const n of [0, 8, 100, bytes.length >> 1, bytes.length - 1]) {
        await Deno.writeFile(`${dir}/cut.safetensors`, bytes.subarray(0, n));
        const ck = new TrainCheckpoint({ path: `${dir}/cut.safetensors`, rngs: run.rngs });
        await rejects(ck.resumeFrom(), (e) => e instanceof CheckpointError, `cut at ${n}`);
      }
      deepStrictEqual(await moduleTensors(run.model), before);
    },
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("TrainingRun: an interrupt checkpoints the run; resume ends bit-identical (#13 fault 2)", async (t) => {
  const root = await Deno.makeTempDir();
  const plans: FitStage[][] = [
    [{ name: "a-last", epochs: 1, freezeTo: -1, lr: 3e-2 }, {
      name: "a-all",
      epochs: 2,
      freezeTo: 0,
      lr: 3e-2,
    }],
    [{ name: "b-all", epochs: 2, freezeTo: 0, lr: 2e-2, schedule: { kind: "clr", div: 10, cutDiv: 3 } }],
  ];
  /** Two fits (as `clas train` with a backwards model), both models saved together at the end. */
  const train = (dir: string, options: Partial<TrainingRunOptions>, at?: [number, number]) => {
    const outs = [`${dir}/a.safetensors`, `${dir}/b.safetensors`];
    return runTraining({ outputs: outs, metrics: `${dir}/m.jsonl`, ...options }, async (run) => {
      const models: ReturnType<typeof makeRun>["model"][] = [];
      for (const [k, plan] of plans.entries()) {
        const r = makeRun();
        if (at && at[0] === k) {
          r.learn.addCallback({
            order: 50,
            afterBatch: (l) => void (l.trainIter === at[1] && run.requestInterrupt()),
          });
        }
        await run.fit(r.learn, plan);
        models.push(r.model);
      }
      await run.save(
        Object.fromEntries(
          outs.map((o, k) => [o, (p: string, unit: SaveUnit) => saveModel(models[k]!, p, { unit })]),
        ),
      );
    });
  };
  const hook = { exit: () => {}, listen: false, log: () => {} };
  await Deno.mkdir(`${root}/full`);
  await train(`${root}/full`, { interrupt: hook });
  const want = [
    await Deno.readFile(`${root}/full/a.safetensors`),
    await Deno.readFile(`${root}/full/b.safetensors`),
  ];
  const wantLog = (await Deno.readTextFile(`${root}/full/m.jsonl`)).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  for (const at of [[0, 3], [0, 9], [1, 5]] as [number, number][]) {
    await t.step(`interrupted in fit ${at[0]} after step ${at[1]}, resumed in a fresh run`, async () => {
      const dir = `${root}/cut${at.join("_")}`;
      await Deno.mkdir(dir);
      const ck = `${dir}/a.resume.safetensors`;
      await rejects(train(dir, { interrupt: hook }, at), TrainingInterruptedError);
      strictEqual((await readTrainState(ck)).position.step, at[1]);
      for (const o of ["a", "b"]) {
        strictEqual(await Deno.stat(`${dir}/${o}.safetensors`).then(() => 1, () => 0), 0);
      }
      await train(dir, { interrupt: hook, resume: ck });
      deepStrictEqual(await Deno.readFile(`${dir}/a.safetensors`), want[0]);
      deepStrictEqual(await Deno.readFile(`${dir}/b.safetensors`), want[1]);
      const log = (await Deno.readTextFile(`${dir}/m.jsonl`)).trim().split("\n").map((l) => JSON.parse(l));
      deepStrictEqual(
        log.map((r) => [r.stage, r.epoch, r.train_loss, r.valid_loss]),
        wantLog.map((r) => [r.stage, r.epoch, r.train_loss, r.valid_loss]),
      );
      strictEqual(await Deno.stat(ck).then(() => 1, () => 0), 0, "the used checkpoint is left");
    });
  }
  await t.step("a resume with another plan or other outputs is refused, naming the difference", async () => {
    const dir = `${root}/other`;
    await Deno.mkdir(dir);
    await rejects(train(dir, { interrupt: hook }, [0, 4]), TrainingInterruptedError);
    const ck = `${dir}/a.resume.safetensors`;
    plans[0]![1]!.lr = 1e-2;
    await rejects(
      train(dir, { interrupt: hook, resume: ck }),
      /plan differs .*stage "a-last"|plan differs .*"a-all": lr was 0\.03, now 0\.01/,
    );
    plans[0]![1]!.lr = 3e-2;
    await rejects(
      runTraining({ outputs: [`${dir}/x.safetensors`], resume: ck }, () => Promise.resolve()),
      /the interrupted run wrote .*a\.safetensors.*; this run writes .*x\.safetensors/,
    );
  });
  await Deno.remove(root, { recursive: true });
});
