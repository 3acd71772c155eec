import { strict as assert } from "node:assert";
import { cleanPairs, readParallel, readTsvPairs } from "./pairs.ts";
import { readMo } from "./gettext.ts";
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

Deno.test("cleanPairs() keeps clean, unique, translated single-line pairs", async (t) => {
  await t.step("each filter", async () => {
    const raw = [
      { source: " Save ", target: "Enregistrer" },
      { source: "Save", target: "Enregistrer" },
      { source: "Help", target: "Help" },
      { source: "a\nb", target: "c\nd" },
      { source: "%d files", target: "%d fichiers" },
      { source: "Copy {0}", target: "Copier {0}" },
      { source: "x".repeat(50), target: "y" },
      { source: "", target: "vide" },
    ];
    const all = await Array.fromAsync(cleanPairs(raw));
    assert.deepStrictEqual(all.map((p) => p.source), ["Save", "%d files", "Copy {0}", "x".repeat(50)]);
    const strict = await Array.fromAsync(cleanPairs(raw, { noPlaceholders: true, maxChars: 40 }));
    assert.deepStrictEqual(strict.map((p) => p.source), ["Save"]);
    const loose = await Array.fromAsync(
      cleanPairs(raw, { unique: false, differentSides: false, singleLine: false }),
    );
    assert.equal(loose.length, 7);
  });
  await t.step("the system's French catalogs", async () => {
    const d = "/usr/share/locale/fr/LC_MESSAGES";
    const names = (await Array.fromAsync(Deno.readDir(d)).catch(() => [])).map((e) => e.name).filter((n) =>
      n.endsWith(".mo")
    ).sort();
    if (names.length === 0) return;
    async function* all() {
      for (const n of names) yield* readMo(`${d}/${n}`);
    }
    let raw = 0;
    async function* counted() {
      for await (const p of all()) {
        raw++;
        yield p;
      }
    }
    const kept = await Array.fromAsync(cleanPairs(counted()));
    assert.ok(kept.length > 0 && kept.length < raw, `${kept.length} of ${raw}`);
    assert.ok(kept.every((p) => !p.source.includes("\n") && p.source !== p.target));
  });
});
