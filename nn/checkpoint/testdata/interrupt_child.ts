// Child process for interrupt_test.ts: the seeded run of resume_run.ts with a TrainCheckpoint and an
// InterruptCheckpoint, printing "step <n>" after every step (slowed down after step 3 so that the parent's
// SIGINT lands mid-training). Mode "hang": the save never finishes, so only a second Ctrl-C ends the process.
import { InterruptCheckpoint } from "../interrupt.ts";
import { TrainCheckpoint } from "../resume.ts";
import { EPOCHS, LR, makeRun } from "./resume_run.ts";

const [path, mode = "save"] = Deno.args;
if (!path) throw new Error("usage: interrupt_child.ts <checkpoint path> [save|hang]");
const enc = new TextEncoder();
const run = makeRun();
const ck = new TrainCheckpoint({ path, rngs: run.rngs });
const hang = () => new Promise<void>(() => setInterval(() => {}, 1000));
run.learn.addCallback(new InterruptCheckpoint(mode === "hang" ? hang : ck, { yieldEveryMs: 0 }));
run.learn.addCallback({
  order: 50,
  afterBatch: async (l) => {
    await Deno.stdout.write(enc.encode(`step ${l.trainIter}\n`));
    if (l.trainIter >= 3) await new Promise((r) => setTimeout(r, 30));
  },
});
await run.learn.fitOneCycle(EPOCHS, LR);
await Deno.stdout.write(enc.encode("finished\n"));
