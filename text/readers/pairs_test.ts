import { strict as assert } from "node:assert";
import { readParallel, readTsvPairs } from "./pairs.ts";
import { rejectsReader } from "./_test_helpers.ts";
import { newStats } from "./types.ts";

Deno.test("readParallel() pairs aligned files line by line", async (t) => {
  const dir = await Deno.makeTempDir();
  const en = `${dir}/c.en`;
  const fr = `${dir}/c.fr`;
  await t.step("aligned, with an empty side dropped", async () => {
    await Deno.writeTextFile(en, "What is it?\n\nWho are you?\n");
    await Deno.writeTextFile(fr, "Qu'est-ce ?\nVide\nQui êtes-vous ?\n");
    const pairs = await Array.fromAsync(readParallel(en, fr));
    assert.deepStrictEqual(pairs, [
      { source: "What is it?", target: "Qu'est-ce ?", id: "1" },
      { source: "Who are you?", target: "Qui êtes-vous ?", id: "3" },
    ]);
  });
  await t.step("different lengths name the shorter file", async () => {
    await Deno.writeTextFile(fr, "Un\nDeux\nTrois\nQuatre\n");
    await rejectsReader(() => Array.fromAsync(readParallel(en, fr)), `${en}: row 4: ends before ${fr}`);
  });
  await t.step("invalid UTF-8 on one side", async () => {
    await Deno.writeFile(fr, new Uint8Array([0x55, 0x6e, 0x0a, 0xc0, 0x0a, 0x54, 0x0a]));
    await rejectsReader(() => Array.fromAsync(readParallel(en, fr)), `${fr}: row 2: invalid UTF-8`);
    const stats = newStats();
    const pairs = await Array.fromAsync(readParallel(en, fr, { onError: "skip", stats, skipEmpty: false }));
    assert.deepStrictEqual(pairs.map((p) => p.target), ["Un", "T"]);
    assert.equal(stats.skipped, 1);
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("readTsvPairs() reads tab-separated pairs", async (t) => {
  const p = await Deno.makeTempFile();
  await t.step("columns and header", async () => {
    await Deno.writeTextFile(p, "en\tfr\nGo.\tVa !\tCC\n\nRun!\tCours !\n");
    const pairs = await Array.fromAsync(readTsvPairs(p, { header: true }));
    assert.deepStrictEqual(pairs.map((x) => [x.source, x.target, x.id]), [["Go.", "Va !", "2"], [
      "Run!",
      "Cours !",
      "4",
    ]]);
    const rev = await Array.fromAsync(readTsvPairs(p, { header: true, sourceCol: 1, targetCol: 0 }));
    assert.equal(rev[0]!.source, "Va !");
  });
  await t.step("a row without a tab", async () => {
    await Deno.writeTextFile(p, "a\tb\nlonely\nc\td\n");
    await rejectsReader(() => Array.fromAsync(readTsvPairs(p)), `${p}: row 2: expected at least 2`);
    const stats = newStats();
    assert.equal((await Array.fromAsync(readTsvPairs(p, { onError: "skip", stats }))).length, 2);
    assert.equal(stats.skipped, 1);
  });
  await Deno.remove(p);
});
