import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { INTERRUPT_EXIT_CODE } from "./interrupt.ts";
import { moduleTensors } from "./checkpoint/model_io.ts";
import { TrainCheckpoint } from "./resume.ts";
import { readTrainState } from "./train_state.ts";
import { EPOCHS, LR, makeRun } from "./testdata/resume_run.ts";

const child = new URL("./testdata/interrupt_child.ts", import.meta.url).pathname;

/** Starts the child, sends SIGINT `signals` times once it printed "step 5"; returns exit code and output. */
async function interruptChild(path: string, mode: string, signals: number) {
  const cmd = new Deno.Command(Deno.execPath(), {
    // --allow-ffi: the child must pick the same CPU matmul kernel as this process (BLAS where the machine has
    // one), or the resumed run would not match the uninterrupted one bit for bit.
    args: ["run", "--allow-read", "--allow-write", "--allow-env", "--allow-ffi", child, path, mode],
    stdout: "piped",
    stderr: "piped",
  });
  const proc = cmd.spawn();
  const stderr = new Response(proc.stderr).text();
  let out = "", sent = 0;
  const dec = new TextDecoder();
  for await (const chunk of proc.stdout) {
    out += dec.decode(chunk, { stream: true });
    if (sent === 0 && out.includes("step 5\n")) {
      proc.kill("SIGINT");
      sent++;
    }
    if (sent === 1 && signals === 2) {
      await new Promise((r) => setTimeout(r, 300));
      proc.kill("SIGINT");
      sent++;
    }
  }
  const status = await proc.status;
  return { code: status.code, out, err: await stderr };
}

Deno.test("InterruptCheckpoint: the first Ctrl-C finishes the step, saves, exits 130; the run resumes exactly", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/run.safetensors`;
  const r = await interruptChild(path, "save", 1);
  strictEqual(r.code, INTERRUPT_EXIT_CODE, r.err);
  ok(!r.out.includes("finished"), "the child stopped before the end");
  const lastStep = Number(/step (\d+)\n$/.exec(r.out)?.[1]);
  const saved = await readTrainState(path);
  strictEqual(saved.position.step, lastStep, "the checkpoint holds the last completed step");
  strictEqual(lastStep, 5, "the child waits for the signal after step 5");
  ok(r.err.includes(`checkpoint saved after step ${lastStep}`), r.err);

  const full = makeRun();
  await full.learn.fitOneCycle(EPOCHS, LR);
  ok(lastStep < full.learn.trainIter, `${lastStep} of ${full.learn.trainIter} steps`);
  const resumed = makeRun();
  const ck = new TrainCheckpoint({ path, rngs: resumed.rngs });
  resumed.learn.addCallback(ck);
  await ck.resumeFrom();
  await resumed.learn.fitOneCycle(EPOCHS, LR);
  deepStrictEqual(await moduleTensors(resumed.model), await moduleTensors(full.model));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("InterruptCheckpoint: a second Ctrl-C exits at once with 130 while the save is still running", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/run.safetensors`;
  const r = await interruptChild(path, "hang", 2);
  strictEqual(r.code, INTERRUPT_EXIT_CODE, r.err);
  ok(r.err.includes("quitting now"), r.err);
  await rejects(Deno.stat(path), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});
