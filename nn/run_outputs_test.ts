import { deepStrictEqual, rejects } from "node:assert/strict";
import { checkOutputPath, OutputLock } from "./run_outputs.ts";

Deno.test("checkOutputPath() refuses what cannot be written, before any work", async (t) => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/m.bin`;
  await Deno.writeTextFile(file, "x");
  try {
    await t.step("an existing file needs force, unless it is appended to", async () => {
      await rejects(checkOutputPath(file), /m\.bin exists; pass --force/);
      await checkOutputPath(file, { force: true });
      await checkOutputPath(file, { append: true });
    });
    await t.step("folders, missing folders, a file used as a folder", async () => {
      await rejects(
        checkOutputPath(dir, { force: true, flag: "--out" }),
        /--out .*: is a folder; give a file name/,
      );
      await rejects(checkOutputPath(`${dir}/a/b.bin`), /the folder .*\/a does not exist; create it first/);
      await rejects(checkOutputPath(`${file}/b.bin`), /m\.bin is not a folder|cannot check it/);
    });
    await t.step("the writability probe leaves nothing behind", async () => {
      await checkOutputPath(`${dir}/new.bin`);
      deepStrictEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["m.bin"]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("OutputLock: one holder at a time, released on demand or with its process", async () => {
  const dir = await Deno.makeTempDir();
  const out = `${dir}/lm.safetensors`;
  try {
    const lock = await OutputLock.acquire(out);
    await rejects(
      OutputLock.acquire(out),
      new RegExp(`another run is writing it \\(pid ${Deno.pid}, since `),
    );
    lock.release();
    lock.release(); // twice is fine
    // a lock file whose holder died (not locked any more) is taken over
    await Deno.writeTextFile(OutputLock.lockPathOf(out), JSON.stringify({ pid: 1, started: "long ago" }));
    const again = await OutputLock.acquire(out);
    again.release();
    deepStrictEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
