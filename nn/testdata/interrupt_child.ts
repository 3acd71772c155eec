// Child process for interrupt_test.ts: the seeded run of resume_run.ts with a TrainCheckpoint and an
// InterruptCheckpoint, printing "step <n>" after every step and waiting after step 5 until the parent's SIGINT
// arrives. Mode "hang": the save never finishes, so only a second Ctrl-C ends the process.
import { InterruptCheckpoint } from "../interrupt.ts";
import { TrainCheckpoint } from "../resume.ts";
import { EPOCHS, LR, makeRun } from "./resume_run.ts";

const [path, mode = "save"] = Deno.args;
if (!path) throw new Error("usage: interrupt_child.ts <checkpoint path> [save|hang]");
const enc = new TextEncoder();
const run = makeRun();
const ck = new TrainCheckpoint({ path, rngs: run.rngs });
const hang = () => new Promise<void>(() => setInterval(() => {}, 1000));
const interrupt = new InterruptCheckpoint(mode === "hang" ? hang : ck, { yieldEveryMs: 0 });
run.learn.addCallback(interrupt);
run.learn.addCallback({
  order: 50,
  afterBatch: async (l) => {
    await Deno.stdout.write(enc.encode(`step ${l.trainIter}\n`));
    // after step 5, wait (up to 10 s) for the parent's SIGINT so that it lands at a known step
    for (let waited = 0; l.trainIter >= 5 && interrupt.requests === 0 && waited < 10_000; waited += 10) {
      await new Promise((r) => setTimeout(r, 10));
    }
  },
});
await run.learn.fitOneCycle(EPOCHS, LR);
await Deno.stdout.write(enc.encode("finished\n"));
