import { strict as assert } from "node:assert";
import { buildMo, rejectsReader } from "./_test_helpers.ts";
import { readMo, readPo } from "./gettext.ts";
import { newStats } from "./types.ts";

const ENTRIES: [string, string][] = [
  ["", "Content-Type: text/plain; charset=UTF-8\n"],
  ["%d file", "%d fichier\0%d fichiers"],
  ["Open", "Ouvrir"],
  ["menu\x04Quit", "Quitter"],
  ["Untranslated", ""],
];

Deno.test("readMo() parses both byte orders, contexts, plurals; rejects truncated files", async (t) => {
  const dir = await Deno.makeTempDir();
  for (const le of [true, false]) {
    await t.step(`${le ? "little" : "big"}-endian`, async () => {
      const p = `${dir}/x_${le}.mo`;
      await Deno.writeFile(p, buildMo(ENTRIES, le));
      const pairs = await Array.fromAsync(readMo(p));
      assert.deepStrictEqual(pairs, [
        { source: "%d file", target: "%d fichier", plurals: ["%d fichiers"], id: "2" },
        { source: "Open", target: "Ouvrir", id: "3" },
        { source: "Quit", target: "Quitter", context: "menu", id: "4" },
      ]);
    });
  }
  await t.step("truncated file names the file and entry", async () => {
    const full = buildMo(ENTRIES);
    const p = `${dir}/trunc.mo`;
    await Deno.writeFile(p, full.subarray(0, full.length - 12));
    const e = await rejectsReader(() => Array.fromAsync(readMo(p)), "truncated .mo");
    assert.deepStrictEqual(e.file, p);
    assert.deepStrictEqual(e.row, 3); // "Ouvrir", entry 3, is the first string cut off
    await Deno.writeFile(p, full.subarray(0, 40));
    await rejectsReader(() => Array.fromAsync(readMo(p)), "table of 5 entries");
    await Deno.writeFile(p, full.subarray(0, 10));
    await rejectsReader(() => Array.fromAsync(readMo(p)), "10 bytes");
    await Deno.writeFile(p, new Uint8Array(64));
    await rejectsReader(() => Array.fromAsync(readMo(p)), "not a .mo file");
    await rejectsReader(() => Array.fromAsync(readMo(`${dir}/missing.mo`)), "file not found");
  });
  await t.step("invalid UTF-8 entry: error or skipped and counted", async () => {
    const bytes = buildMo([["", "charset=UTF-8"], ["A", "x"], ["B", "y"]]);
    const p = `${dir}/bad.mo`;
    const i = bytes.lastIndexOf("x".charCodeAt(0));
    bytes[i] = 0xff;
    await Deno.writeFile(p, bytes);
    await rejectsReader(() => Array.fromAsync(readMo(p)), "row 2: entry is not valid utf-8");
    const stats = newStats();
    const pairs = await Array.fromAsync(readMo(p, { onError: "skip", stats }));
    assert.deepStrictEqual(pairs.map((x) => x.source), ["B"]);
    assert.deepStrictEqual([stats.read, stats.skipped], [1, 1]);
  });
  await t.step("the system's French catalogs give tens of thousands of pairs", async () => {
    const d = "/usr/share/locale/fr/LC_MESSAGES";
    const files = await Array.fromAsync(Deno.readDir(d)).catch(() => []);
    if (files.length === 0) return;
    let total = 0;
    for (const f of files) {
      if (f.name.endsWith(".mo")) total += (await Array.fromAsync(readMo(`${d}/${f.name}`))).length;
    }
    if (total < 20000) throw new Error(`only ${total} pairs`);
  });
  await Deno.remove(dir, { recursive: true });
});

const PO = `# header comment
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

#: src/a.c:10
msgid "Open "
"the \\"file\\"\\n"
msgstr "Ouvrir le \\"fichier\\"\\n"

#, fuzzy, c-format
msgid "Fuzzy"
msgstr "Flou"

msgctxt "menu"
msgid "Quit"
msgstr "Quitter"
msgid "%d file"
msgid_plural "%d files"
msgstr[0] "%d fichier"
msgstr[1] "%d fichiers"

msgid "Untranslated"
msgstr ""

#~ msgid "Old"
#~ msgstr "Vieux"
`;

Deno.test("readPo() parses entries, escapes, contexts, plurals, fuzzy flags", async (t) => {
  const p = await Deno.makeTempFile({ suffix: ".po" });
  await Deno.writeTextFile(p, PO);
  await t.step("default leaves fuzzy out", async () => {
    const pairs = await Array.fromAsync(readPo(p));
    assert.deepStrictEqual(pairs, [
      { source: 'Open the "file"\n', target: 'Ouvrir le "fichier"\n', id: "7" },
      { source: "Quit", target: "Quitter", context: "menu", id: "16" },
      { source: "%d file", target: "%d fichier", plurals: ["%d fichiers"], id: "18" },
    ]);
  });
  await t.step("includeFuzzy", async () => {
    const pairs = await Array.fromAsync(readPo(p, { includeFuzzy: true }));
    assert.deepStrictEqual(pairs[1], { source: "Fuzzy", target: "Flou", fuzzy: true, id: "12" });
  });
  await t.step("malformed lines: error naming the line, or the entry skipped", async () => {
    await Deno.writeTextFile(p, 'msgid "A"\nmsgstr "a"\n\nmsgid "B\nmsgstr "b"\n\nmsgid "C"\nmsgstr "c"\n');
    await rejectsReader(() => Array.fromAsync(readPo(p)), `${p}: row 4: badly quoted string`);
    const stats = newStats();
    const pairs = await Array.fromAsync(readPo(p, { onError: "skip", stats }));
    assert.deepStrictEqual(pairs.map((x) => x.source), ["A", "C"]);
    assert.deepStrictEqual(stats.skipped, 1);
    await Deno.writeTextFile(p, 'msgid "A"\nbogus line\nmsgstr "a"\n');
    await rejectsReader(() => Array.fromAsync(readPo(p)), "row 2: unexpected line");
  });
  await Deno.remove(p);
});

Deno.test("readPo() keeps U+2028 / U+2029 inside strings (found by fuzzing)", async () => {
  const p = await Deno.makeTempFile({ suffix: ".po" });
  try {
    await Deno.writeTextFile(p, 'msgid "a\u2028b"\nmsgstr "c\u2029d"\n');
    const [r] = await Array.fromAsync(readPo(p));
    assert.deepEqual([r?.source, r?.target], ["a\u2028b", "c\u2029d"]);
  } finally {
    await Deno.remove(p);
  }
});
