import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { removeStaleTemps, writeFileAtomic } from "./atomic.ts";
import { readSafetensors } from "./safetensors.ts";

const LOOP = new URL("./testdata/save_loop.ts", import.meta.url).pathname;

/** Reads the child's stdout until it reports `count` more saves; returns the last step it reported. */
async function waitForSaves(reader: ReadableStreamDefaultReader<string>, count: number): Promise<number> {
  let buf = "";
  let seen = 0;
  let last = -1;
  while (seen < count) {
    const { value, done } = await reader.read();
    if (done) throw new Error("save loop exited early");
    buf += value;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = /^saved (\d+)$/.exec(line);
      if (m) {
        last = Number(m[1]);
        seen++;
      }
    }
  }
  return last;
}

Deno.test("writeFileAtomic() survives SIGKILL at random moments of a save loop", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/model.safetensors`;
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  let step = 0;
  let littered = 0;
  try {
    for (let round = 0; round < 10; round++) {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-read", "--allow-write", LOOP, path, String(step * 1000 + 1000)],
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      const reported = await waitForSaves(reader, 1 + Math.floor(rnd() * 3));
      await new Promise((r) => setTimeout(r, rnd() * 40));
      child.kill("SIGKILL");
      const status = await child.status;
      strictEqual(status.signal, "SIGKILL");
      reader.releaseLock();
      await child.stdout.cancel().catch(() => {});
      littered += [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".tmp")).length;
      // The file must load and be one whole save: every weight equal to its step, step >= the last reported one.
      const file = await readSafetensors(path);
      const saved = file.tensors.get("step")!.data[0]!;
      ok(saved >= reported, `loaded step ${saved} older than reported ${reported}`);
      strictEqual(file.metadata.step, String(saved));
      const w = file.tensors.get("weights")!.data;
      strictEqual(w.length, 1 << 19);
      ok(w.every((x) => x === saved), `round ${round}: weights mix steps`);
      step++;
    }
    console.log(`temp files found right after the kills: ${littered}`);
    // Whatever temps the killed writers left, their pids are dead: the cleaner removes them all.
    await removeStaleTemps(path);
    deepStrictEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["model.safetensors"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("removeStaleTemps() removes only dead writers' temps of the same file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/a.bin`;
    await writeFileAtomic(path, new Uint8Array([1]));
    const dead = `${dir}/.a.bin.999999999.abc.tmp`; // no such pid
    const mine = `${dir}/.a.bin.${Deno.pid}.xyz.tmp`; // a save of ours in flight
    const other = `${dir}/.b.bin.999999999.abc.tmp`; // another file's temp
    for (const f of [dead, mine, other]) await Deno.writeFile(f, new Uint8Array([0]));
    deepStrictEqual(await removeStaleTemps(path), [dead]);
    await writeFileAtomic(path, new Uint8Array([2]));
    deepStrictEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      ".a.bin." + Deno.pid + ".xyz.tmp",
      ".b.bin.999999999.abc.tmp",
      "a.bin",
    ]);
    deepStrictEqual([...await Deno.readFile(path)], [2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() leaves the old file and no temp when the write fails", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/a.bin`;
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    await Deno.mkdir(`${dir}/sub`);
    // Renaming a file over a non-empty directory fails after the temp was written: the temp must be removed.
    await Deno.writeFile(`${dir}/sub/x`, new Uint8Array([0]));
    let failed = false;
    await writeFileAtomic(`${dir}/sub`, new Uint8Array([9])).catch(() => (failed = true));
    ok(failed, "rename over a directory should fail");
    deepStrictEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["a.bin", "sub"]);
    deepStrictEqual([...await Deno.readFile(path)], [1, 2, 3]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
