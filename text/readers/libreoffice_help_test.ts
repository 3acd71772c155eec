import { strict as assert } from "node:assert";
import { helpSegments, readLibreOfficeHelp } from "./libreoffice_help.ts";
import { rejectsReader } from "./_test_helpers.ts";
import { newStats } from "./types.ts";

// Two pages in the format of Debian's libreoffice-help-en-us / -fr 7.4 (excerpts of the real pages), a page
// without a French version.
const ROOT = new URL("./testdata/libreoffice_help", import.meta.url).pathname;

Deno.test("readLibreOfficeHelp() pairs segments by page and id", async (t) => {
  const pairs = await Array.fromAsync(readLibreOfficeHelp(ROOT));
  const byId = new Map(pairs.map((p) => [p.id!, p]));
  await t.step("pages in path order, ids in page order, only ids on both sides", () => {
    assert.deepEqual(pairs.map((p) => p.id), [
      "scalc/01/func_eomonth.html#hd_id3150991",
      "scalc/01/func_eomonth.html#par_id3154829",
      "shared/guide/keyboard.html#hd_id3158421",
      "shared/guide/keyboard.html#par_id3152473",
      "shared/guide/keyboard.html#par_id3151056",
      "shared/guide/keyboard.html#hd_id3153111",
      "shared/guide/keyboard.html#par_id3150000",
      "shared/guide/keyboard.html#par_id3155100",
      "shared/guide/keyboard.html#par_id3151041",
      "shared/guide/keyboard.html#par_id3159149",
      "shared/guide/keyboard.html#par_id3151041#2",
    ]);
  });
  await t.step("text: tags out, entities decoded, default system variant kept, app variants hidden", () => {
    const get = (id: string) => byId.get(`shared/guide/keyboard.html#${id}`)!;
    assert.deepEqual(get("hd_id3158421"), {
      source: "Shortcuts (LibreOffice Accessibility)",
      target: "Raccourcis (accessibilité LibreOffice)",
      id: "shared/guide/keyboard.html#hd_id3158421",
    });
    assert.equal(get("par_id3152473").source, "Press Ctrl+F6 to switch to the document.");
    assert.equal(get("par_id3152473").target, "Appuyez sur Ctrl+F6 pour vous déplacer au document.");
    assert.equal(get("hd_id3153111").target, "Choisir & modifier");
    assert.equal(get("par_id3150000").source, "Choose Tools - AutoCorrect Options tab.");
    assert.equal(get("par_id3151041#2").target, "Ligne un ligne deux");
    assert.equal(get("par_id3155100").source, "? (question mark) matches any single character");
  });
  await t.step("the dpkg -x folder works as the root too; empty sides kept when asked", async () => {
    const dir = await Deno.makeTempDir();
    await Deno.mkdir(`${dir}/usr/share/libreoffice`, { recursive: true });
    await Deno.symlink(ROOT, `${dir}/usr/share/libreoffice/help`);
    const again = await Array.fromAsync(readLibreOfficeHelp(dir, { skipEmpty: false }));
    assert.equal(again.length, pairs.length + 1);
    assert.deepEqual(again.find((p) => p.id!.endsWith("#bm_module")), {
      source: "",
      target: "",
      id: "shared/guide/keyboard.html#bm_module",
    });
    await Deno.remove(dir, { recursive: true });
  });
  await t.step("swapped languages", async () => {
    const fr = await Array.fromAsync(readLibreOfficeHelp(ROOT, { source: "fr", target: "en-US" }));
    assert.equal(fr.length, pairs.length);
    assert.equal(fr[1]!.source, pairs[1]!.target);
  });
});

Deno.test("readLibreOfficeHelp() reports bad input", async (t) => {
  await t.step("a folder without the languages", async () => {
    await rejectsReader(() => Array.fromAsync(readLibreOfficeHelp("/tmp")), "no en-US/text folder");
    await rejectsReader(
      () => Array.fromAsync(readLibreOfficeHelp(ROOT, { target: "de" })),
      "no de/text folder",
    );
  });
  await t.step("a page that is not UTF-8: error naming it and its line, or skipped", async () => {
    const dir = await Deno.makeTempDir();
    for (const lang of ["en-US", "fr"]) await Deno.mkdir(`${dir}/${lang}/text`, { recursive: true });
    const ok = '<p id="p1">Yes</p>';
    await Deno.writeTextFile(`${dir}/en-US/text/a.html`, ok);
    await Deno.writeTextFile(`${dir}/fr/text/a.html`, '<p id="p1">Oui</p>');
    await Deno.writeTextFile(`${dir}/en-US/text/b.html`, ok);
    await Deno.writeFile(`${dir}/fr/text/b.html`, new Uint8Array([0x3c, 0x70, 0x3e, 0x0a, 0x41, 0xff, 0x0a]));
    await rejectsReader(
      () => Array.fromAsync(readLibreOfficeHelp(dir)),
      `${dir}/fr/text/b.html: row 2: invalid UTF-8`,
    );
    const stats = newStats();
    const pairs = await Array.fromAsync(readLibreOfficeHelp(dir, { onError: "skip", stats }));
    assert.deepEqual(pairs.map((p) => p.target), ["Oui"]);
    assert.deepEqual([stats.read, stats.skipped], [1, 1]);
    await Deno.remove(dir, { recursive: true });
  });
});

Deno.test("helpSegments() handles upper-case tags, repeated ids and unclosed elements", () => {
  const s = helpSegments('<P ID="x">A<BR/>b</P><h3 id="x">T &#233;t&eacute;</h3><p id="y">never closed');
  assert.deepEqual([...s], [["x", "A b"], ["x#2", "T été"]]);
});
