import { deepStrictEqual, rejects, strictEqual } from "node:assert/strict";
import { recoverInterruptedWrites, writeFilesAtomic } from "./atomic_group.ts";

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("writeFilesAtomic() replaces files as one unit", async (t) => {
  const dir = await Deno.makeTempDir();
  const a = `${dir}/lm.safetensors`, b = `${dir}/sub/enc.safetensors`;
  await Deno.mkdir(`${dir}/sub`);
  try {
    await t.step("every file replaced, across folders, nothing left beside them", async () => {
      await writeFilesAtomic([
        { path: a, write: (p) => Deno.writeTextFile(p, "a1") },
        { path: b, write: (p) => Deno.writeTextFile(p, "b1") },
      ]);
      deepStrictEqual([await Deno.readTextFile(a), await Deno.readTextFile(b)], ["a1", "b1"]);
      deepStrictEqual(names(dir), ["lm.safetensors", "sub"]);
    });
    await t.step("a failing or silent writer changes nothing and leaves no temp", async () => {
      await rejects(
        writeFilesAtomic([
          { path: a, write: (p) => Deno.writeTextFile(p, "a2") },
          { path: b, write: () => Promise.reject(new Error("no space")) },
        ]),
        /no space/,
      );
      await rejects(
        writeFilesAtomic([{ path: a, write: () => Promise.resolve() }]),
        /the writer of .*lm\.safetensors wrote nothing/,
      );
      await rejects(
        writeFilesAtomic([{ path: a, write: () => Promise.resolve() }, {
          path: a,
          write: () => Promise.resolve(),
        }]),
        /named twice/,
      );
      deepStrictEqual([await Deno.readTextFile(a), await Deno.readTextFile(b)], ["a1", "b1"]);
      deepStrictEqual(names(dir), ["lm.safetensors", "sub"]);
      deepStrictEqual(names(`${dir}/sub`), ["enc.safetensors"]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("recoverInterruptedWrites() completes a journaled unit a killed writer left half renamed", async () => {
  const dir = await Deno.makeTempDir();
  const a = `${dir}/lm.safetensors`, b = `${dir}/lm_encoder.safetensors`;
  try {
    await Deno.writeTextFile(a, "new a"); // renamed before the kill
    await Deno.writeTextFile(b, "old b");
    const tb = `${dir}/.lm_encoder.safetensors.4242.x1.pending`;
    await Deno.writeTextFile(tb, "new b");
    const journal = `${dir}/.lm.safetensors.4242.x2.journal`;
    await Deno.writeTextFile(
      journal,
      JSON.stringify({ v: 1, pid: 4242, renames: [[`${dir}/.lm.safetensors.4242.x0.pending`, a], [tb, b]] }),
    );
    const stray = `${dir}/.lm.safetensors.4242.zz.tmp`;
    await Deno.writeTextFile(stray, "half a save");
    // a reader completes the unit but leaves temps alone (a live writer may own them)
    deepStrictEqual(await recoverInterruptedWrites(b), { completed: [b], removed: [] });
    deepStrictEqual([await Deno.readTextFile(a), await Deno.readTextFile(b)], ["new a", "new b"]);
    strictEqual(await Deno.stat(journal).then(() => true, () => false), false);
    // the lock holder removes what dead saves left
    deepStrictEqual(await recoverInterruptedWrites(a, { removeTemps: true }), {
      completed: [],
      removed: [stray],
    });
    deepStrictEqual(names(dir), ["lm.safetensors", "lm_encoder.safetensors"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
