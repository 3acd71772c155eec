import { strict as assert } from "node:assert";
import { chunked, joinFields, readCsv } from "./csv.ts";
import { rejectsReader } from "./_test_helpers.ts";
import { newStats } from "./types.ts";

async function tmp(content: string | Uint8Array): Promise<string> {
  const p = await Deno.makeTempFile({ suffix: ".csv" });
  if (typeof content === "string") await Deno.writeTextFile(p, content);
  else await Deno.writeFile(p, content);
  return p;
}

Deno.test("readCsv() reads the fastai layout and named columns", async (t) => {
  await t.step("label then two fields, quoted newlines and commas, CRLF", async () => {
    const p = await tmp('3,"A title","Line one\nline two, ""quoted"""\r\n1,t,b\r\n');
    const docs = await Array.fromAsync(readCsv(p));
    assert.deepStrictEqual(docs, [
      {
        text: 'xxfld 1 A title xxfld 2 Line one\nline two, "quoted"',
        fields: ["A title", 'Line one\nline two, "quoted"'],
        label: "3",
        id: "1",
      },
      { text: "xxfld 1 t xxfld 2 b", fields: ["t", "b"], label: "1", id: "2" },
    ]);
    await Deno.remove(p);
  });
  await t.step("one text field stays unmarked; labelCols 2 joins labels", async () => {
    const p = await tmp("a,b,hello\nc,d,world\n");
    const docs = await Array.fromAsync(readCsv(p, { labelCols: 2 }));
    assert.deepStrictEqual(docs.map((d) => [d.label, d.text]), [["a;b", "hello"], ["c;d", "world"]]);
    const always = await Array.fromAsync(readCsv(p, { labelCols: 2, fieldMarks: "always" }));
    assert.equal(always[0]!.text, "xxfld 1 hello");
    const skipped = await Array.fromAsync(readCsv(p, { labelCols: 2, skipHeader: true }));
    assert.deepStrictEqual(skipped.map((d) => [d.text, d.id]), [["world", "1"]]);
    await Deno.remove(p);
  });
  await t.step("named columns with a header", async () => {
    const p = await tmp("id,label,title,body,is_valid\n7,spam,Hi,Buy now,False\n8,ham,Re,See you,True\n");
    const docs = await Array.fromAsync(
      readCsv(p, {
        textColumns: ["title", "body"],
        labelColumns: ["label"],
        idColumn: "id",
        splitColumn: "is_valid",
      }),
    );
    assert.deepStrictEqual(docs[1], {
      text: "xxfld 1 Re xxfld 2 See you",
      fields: ["Re", "See you"],
      label: "ham",
      split: "True",
      id: "8",
    });
    await rejectsReader(() => Array.fromAsync(readCsv(p, { textColumns: ["text"] })), 'column "text"');
    await Deno.remove(p);
  });
});

Deno.test("readCsv() reports malformed rows by file and row, or skips and counts them", async (t) => {
  await t.step("ragged row", async () => {
    const p = await tmp("1,a,b\n2,c\n3,d,e\n");
    await rejectsReader(() => Array.fromAsync(readCsv(p)), `${p}: row 2: Invalid Record Length`);
    const stats = newStats();
    const docs = await Array.fromAsync(readCsv(p, { onError: "skip", stats }));
    assert.deepStrictEqual(docs.map((d) => d.label), ["1", "3"]);
    assert.deepStrictEqual([stats.read, stats.skipped], [2, 1]);
    await Deno.remove(p);
  });
  await t.step("unterminated quote", async () => {
    const p = await tmp('1,a\n2,"never closed\n3,c\n');
    await rejectsReader(() => Array.fromAsync(readCsv(p)), `${p}: row 2: Quote Not Closed`);
    const stats = newStats();
    const docs = await Array.fromAsync(readCsv(p, { onError: "skip", stats }));
    assert.deepStrictEqual([docs.length, stats.skipped], [1, 1]);
    await Deno.remove(p);
  });
  await t.step("invalid UTF-8 names the line; skip drops the record containing it", async () => {
    const enc = new TextEncoder();
    const bytes = new Uint8Array([
      ...enc.encode('1,ok\n2,"multi\nline '),
      0xc3,
      0x28,
      ...enc.encode('"\n3,fine\n'),
    ]);
    const p = await tmp(bytes);
    await rejectsReader(() => Array.fromAsync(readCsv(p)), `${p}: row 3: line 3: invalid UTF-8`);
    const stats = newStats();
    const docs = await Array.fromAsync(readCsv(p, { onError: "skip", stats }));
    assert.deepStrictEqual(docs.map((d) => d.text), ["ok", "fine"]);
    assert.equal(stats.skipped, 1);
    assert.match(stats.reasons[0]!, /row 2: line 3: invalid UTF-8/);
    await Deno.remove(p);
  });
  await t.step("missing file", async () => {
    await rejectsReader(
      () => Array.fromAsync(readCsv("/nonexistent/x.csv")),
      "/nonexistent/x.csv: file not found",
    );
  });
});

Deno.test("readCsv() streams a large file with chunked() in bounded pieces", async () => {
  const p = await Deno.makeTempFile({ suffix: ".csv" });
  const rows: string[] = [];
  for (let i = 0; i < 50_000; i++) rows.push(`${i % 2},"doc ${i}, with comma"`);
  await Deno.writeTextFile(p, rows.join("\n") + "\n");
  let n = 0;
  let chunks = 0;
  for await (const c of chunked(readCsv(p), 24000)) {
    chunks++;
    assert.ok(c.length <= 24000);
    assert.equal(c[0]!.text, `doc ${n}, with comma`);
    n += c.length;
  }
  assert.deepStrictEqual([n, chunks], [50_000, 3]);
  assert.equal(joinFields(["a"], "never"), "a");
  await Deno.remove(p);
});

Deno.test("readCsv() turns every csv-parse error into a ReaderError naming the file (found by fuzzing)", async () => {
  const p = await Deno.makeTempFile({ suffix: ".csv" });
  try {
    await Deno.writeTextFile(p, '["neg","a quote in the middle"\n');
    await rejectsReader(() => Array.fromAsync(readCsv(p)), "row 1: Invalid Opening Quote");
  } finally {
    await Deno.remove(p);
  }
});
