import { strict as assert } from "node:assert";
import { readJsonl, readTextLines } from "./lines.ts";
import { rejectsReader } from "./_test_helpers.ts";
import { newStats } from "./types.ts";

const enc = new TextEncoder();

Deno.test("readTextLines() yields one document per line", async (t) => {
  const p = await Deno.makeTempFile();
  await t.step("BOM, CRLF, blank lines, no final newline, a 1 MB line", async () => {
    const long = "x".repeat(1_000_000);
    await Deno.writeTextFile(p, `\uFEFFfirst\r\n\r\n  \nsecond\n${long}\nlast`);
    const docs = await Array.fromAsync(readTextLines(p, { label: "a", split: "train" }));
    assert.deepStrictEqual(docs.map((d) => [d.id, d.text.length]), [["1", 5], ["4", 6], ["5", 1_000_000], [
      "6",
      4,
    ]]);
    assert.equal(docs[0]!.text, "first");
    assert.deepStrictEqual([docs[0]!.label, docs[0]!.split], ["a", "train"]);
  });
  await t.step("invalid UTF-8: error with the line, or skipped and counted", async () => {
    await Deno.writeFile(
      p,
      new Uint8Array([...enc.encode("ok\n"), 0xff, 0xfe, 0x0a, ...enc.encode("fine\n")]),
    );
    await rejectsReader(() => Array.fromAsync(readTextLines(p)), `${p}: row 2: invalid UTF-8`);
    const stats = newStats();
    const docs = await Array.fromAsync(readTextLines(p, { onError: "skip", stats }));
    assert.deepStrictEqual(docs.map((d) => d.text), ["ok", "fine"]);
    assert.deepStrictEqual([stats.read, stats.skipped], [2, 1]);
  });
  await t.step("NUL bytes pass through", async () => {
    await Deno.writeTextFile(p, "a\0b\n");
    assert.equal((await Array.fromAsync(readTextLines(p)))[0]!.text, "a\0b");
  });
  await Deno.remove(p);
  await rejectsReader(() => Array.fromAsync(readTextLines(p)), "file not found");
});

Deno.test("readJsonl() reads objects and reports bad lines", async (t) => {
  const p = await Deno.makeTempFile();
  await t.step("fields, numbers as labels, ids", async () => {
    await Deno.writeTextFile(
      p,
      '{"text":"a","label":1,"split":"valid"}\n\n{"body":"b","y":"pos","id":"x9"}\n',
    );
    const stats = newStats();
    const docs = await Array.fromAsync(readJsonl(p, { textField: "text", onError: "skip", stats }));
    assert.equal(stats.skipped, 1);
    assert.deepStrictEqual(docs[0], { text: "a", label: "1", split: "valid", id: "1" });
    const other = await Array.fromAsync(
      readJsonl(p, { textField: "body", labelField: "y", onError: "skip" }),
    );
    assert.deepStrictEqual(other, [{ text: "b", label: "pos", id: "x9" }]);
  });
  await t.step("bad JSON, non-object, missing text", async () => {
    await Deno.writeTextFile(p, '{"text":"a"}\n{"text":\n[1]\n{"other":1}\n{"text":"z"}\n');
    await rejectsReader(() => Array.fromAsync(readJsonl(p)), `${p}: row 2: invalid JSON`);
    const stats = newStats();
    const docs = await Array.fromAsync(readJsonl(p, { onError: "skip", stats }));
    assert.deepStrictEqual(docs.map((d) => d.text), ["a", "z"]);
    assert.equal(stats.skipped, 3);
    assert.match(stats.reasons[1]!, /row 3: not a JSON object/);
    assert.match(stats.reasons[2]!, /row 4: field "text" is missing/);
  });
  await Deno.remove(p);
});
