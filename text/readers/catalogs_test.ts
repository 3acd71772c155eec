import { strict as assert } from "node:assert";
import { buildMo, rejectsReader } from "./_test_helpers.ts";
import { catalogFiles, readCatalogs } from "./catalogs.ts";

Deno.test("readCatalogs() reads one catalog or every catalog of a folder in name order", async (t) => {
  const dir = await Deno.makeTempDir();
  const header: [string, string] = ["", "Content-Type: text/plain; charset=UTF-8\n"];
  await Deno.writeFile(`${dir}/b.mo`, buildMo([header, ["Open", "Ouvrir"], ["Quit", "Quitter"]]));
  await Deno.writeTextFile(`${dir}/a.po`, 'msgid "Save"\nmsgstr "Enregistrer"\n');
  await Deno.writeTextFile(`${dir}/README`, "not a catalog");
  try {
    await t.step("a folder: .po and .mo files by name, ids prefixed with the file", async () => {
      assert.deepStrictEqual(await catalogFiles(dir), [`${dir}/a.po`, `${dir}/b.mo`]);
      const pairs = await Array.fromAsync(readCatalogs(`${dir}/`));
      assert.deepStrictEqual(pairs.map((p) => [p.source, p.target, p.id]), [
        ["Save", "Enregistrer", "a.po#1"],
        ["Open", "Ouvrir", "b.mo#2"],
        ["Quit", "Quitter", "b.mo#3"],
      ]);
    });
    await t.step("one file: its reader's ids", async () => {
      const pairs = await Array.fromAsync(readCatalogs(`${dir}/b.mo`));
      assert.deepStrictEqual(pairs.map((p) => p.id), ["2", "3"]);
    });
    await t.step("a missing path or a folder without catalogs is an error naming it", async () => {
      await rejectsReader(
        () => Array.fromAsync(readCatalogs(`${dir}/none`)),
        `${dir}/none: no such file or folder`,
      );
      const empty = await Deno.makeTempDir();
      await rejectsReader(() => Array.fromAsync(readCatalogs(empty)), "no .mo or .po file in this folder");
      await Deno.remove(empty);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
