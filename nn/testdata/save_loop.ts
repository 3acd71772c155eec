// Child process for training_run_test.ts (fault 4 of #13): saves two outputs of one training run over and over
// with `--force`-like overwrites, each pair stamped with the same counter, until the parent kills it (kill -9)
// at a random moment. Both files are ~1 MB so a kill often lands between their writes.
// usage: save_loop.ts <a> <b>
import { runTraining } from "../training_run.ts";

const [a, b] = Deno.args;
if (!a || !b) throw new Error("usage: save_loop.ts <a> <b>");
const body = new Uint8Array(1 << 20).fill(7);
const stamp = (i: number) => {
  const out = body.slice();
  new DataView(out.buffer).setUint32(0, i, true);
  return out;
};
await Deno.stdout.write(new TextEncoder().encode("saving\n"));
for (let i = 1;; i++) {
  await runTraining({ outputs: [a, b], force: true, lock: false }, async (run) => {
    await run.save({
      [a]: (p) => Deno.writeFile(p, stamp(i)),
      [b]: (p) => Deno.writeFile(p, stamp(i)),
    });
  });
}
