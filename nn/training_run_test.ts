import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { Rng, seed } from "../gpu/rng.ts";
import { Linear, Module } from "./layers/mod.ts";
import { Learner, type Model } from "./learner.ts";
import { mseLoss } from "./losses.ts";
import { fromArray, type Tensor } from "./tensor.ts";
import {
  checkOutput,
  MetricsLog,
  runTraining,
  TrainingRun,
  type TrainingRunOptions,
} from "./training_run.ts";

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

/** A pid that is certainly not running: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), { args: ["--version"], stdout: "null" }).spawn();
  await child.status;
  return child.pid;
}

Deno.test("runTraining() checks every output before any work (#13 fault 3)", async (t) => {
  const dir = await Deno.makeTempDir();
  const cases: [string, TrainingRunOptions, RegExp][] = [
    [
      "an output in a missing folder",
      { outputs: [`${dir}/no/such/m.bin`] },
      /the folder .*no\/such does not exist/,
    ],
    ["an output naming a folder", { outputs: [dir], force: true }, /is a folder; give a file name/],
    [
      "a metrics file in a missing folder",
      { outputs: [`${dir}/m.bin`], metrics: `${dir}/gone/m.jsonl` },
      /--metrics .*gone\/m\.jsonl: the folder .* does not exist/,
    ],
    [
      "a metrics path naming a folder",
      { outputs: [`${dir}/m.bin`], metrics: dir },
      /--metrics .*: is a folder/,
    ],
  ];
  for (const [what, options, message] of cases) {
    await t.step(`${what}: refused before the body runs`, async () => {
      let ran = false;
      await rejects(runTraining(options, () => Promise.resolve(void (ran = true))), message);
      strictEqual(ran, false, "the body ran: the work would have been lost at the end");
    });
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("runTraining() locks its outputs: a second run on them fails at its start (#13 fault 5)", async (t) => {
  const dir = await Deno.makeTempDir();
  const out = `${dir}/lm.safetensors`;
  await t.step("while the first run works, the second is refused and the first's file is kept", async () => {
    let release = () => {};
    let started = false;
    const first = runTraining({ outputs: [out] }, async (run) => {
      started = true;
      await new Promise<void>((r) => release = r);
      await run.save({ [out]: (p) => Deno.writeTextFile(p, "first") });
    });
    while (!started) await new Promise((r) => setTimeout(r, 1));
    let ran = false;
    await rejects(
      runTraining({ outputs: [out], force: true }, () => Promise.resolve(void (ran = true))),
      /lm\.safetensors: another run is writing it \(pid \d+/,
    );
    strictEqual(ran, false);
    release();
    await first;
    strictEqual(await Deno.readTextFile(out), "first");
  });
  await t.step("the lock goes with the run; a lock left by a dead process is taken over", async () => {
    await Deno.writeTextFile(
      `${dir}/.lm.safetensors.lock`,
      JSON.stringify({ pid: await deadPid(), host: Deno.hostname(), started: "then" }),
    );
    await runTraining(
      { outputs: [out], force: true },
      (run) => run.save({ [out]: (p) => Deno.writeTextFile(p, "second") }),
    );
    strictEqual(await Deno.readTextFile(out), "second");
    deepStrictEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["lm.safetensors"]);
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("TrainingRun.save() writes its outputs as one unit (#13 fault 4)", async (t) => {
  const dir = await Deno.makeTempDir();
  const a = `${dir}/lm.safetensors`, b = `${dir}/lm_encoder.safetensors`;
  await t.step("a writer that fails leaves every output as it was, and no temp", async () => {
    await Deno.writeTextFile(a, "old lm");
    await Deno.writeTextFile(b, "old encoder");
    await rejects(
      runTraining({ outputs: [a, b], force: true }, (run) =>
        run.save({
          [a]: (p) => Deno.writeTextFile(p, "new lm"),
          [b]: () => Promise.reject(new Error("disk full")),
        })),
      /disk full/,
    );
    deepStrictEqual([await Deno.readTextFile(a), await Deno.readTextFile(b)], ["old lm", "old encoder"]);
    deepStrictEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "lm.safetensors",
      "lm_encoder.safetensors",
    ]);
  });
  await t.step("a killed save's hidden temp is removed when the next run on the output starts", async () => {
    const pid = await deadPid();
    const stale = [
      `${dir}/.lm.safetensors.${pid}.k3x.tmp`,
      `${dir}/.lm_encoder.safetensors.${pid}.q9.pending`,
    ];
    for (const s of stale) await Deno.writeFile(s, new Uint8Array(1000));
    await runTraining({ outputs: [a, b], force: true }, () => Promise.resolve());
    for (const s of stale) {
      strictEqual(await Deno.stat(s).then(() => true, () => false), false, `${s} is left`);
    }
  });
  await t.step(
    "kill -9 at random moments of repeated --force saves: never a mixed pair once a run starts",
    async () => {
      const rng = new Rng(13);
      const child = new URL("./testdata/save_loop.ts", import.meta.url).pathname;
      const stamp = async (p: string) => {
        const f = await Deno.open(p).catch(() => null);
        if (!f) return 0;
        const head = new Uint8Array(4);
        await f.read(head);
        f.close();
        return new DataView(head.buffer).getUint32(0, true);
      };
      const seen = new Set<number>();
      for (let round = 0; round < 8; round++) {
        const proc = new Deno.Command(Deno.execPath(), {
          args: ["run", "--allow-read", "--allow-write", child, a, b],
          stdout: "piped",
          stderr: "null",
        }).spawn();
        const reader = proc.stdout.getReader();
        await reader.read(); // "saving": the loop runs
        await new Promise((r) => setTimeout(r, 20 + rng.int(200)));
        proc.kill("SIGKILL");
        await proc.status;
        reader.releaseLock();
        await proc.stdout.cancel();
        // what the next run sees once it has started (interrupted saves finished, stale temps removed)
        await runTraining({ outputs: [a, b], force: true }, () => Promise.resolve());
        const [sa, sb] = [await stamp(a), await stamp(b)];
        strictEqual(sa, sb, `round ${round}: ${a} is from save ${sa}, ${b} from save ${sb}`);
        seen.add(sa);
        const left = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith("."));
        deepStrictEqual(left, [], `round ${round}: left behind`);
      }
      ok(seen.size > 1, `the saves never progressed: ${[...seen]}`);
    },
  );
  await Deno.remove(dir, { recursive: true });
});
