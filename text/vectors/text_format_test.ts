import { strict as assert } from "node:assert";
import { loadVectorsText, readVectorsText, writeVec } from "./text_format.ts";
import { WordVectors } from "./word_vectors.ts";
import { rejectsReader } from "../readers/_test_helpers.ts";

async function tmpWith(content: string | Uint8Array): Promise<string> {
  const p = await Deno.makeTempFile({ suffix: ".vec" });
  if (typeof content === "string") await Deno.writeTextFile(p, content);
  else await Deno.writeFile(p, content);
  return p;
}

Deno.test("loadVectorsText() reads .vec, GloVe and word2vec text files", async (t) => {
  await t.step("fastText .vec with header and trailing spaces, CRLF endings", async () => {
    const p = await tmpWith("3 2\r\n</s> 0.5 -0.25 \r\nété 1e-3 2 \r\nqu'est-ce -1 3.5 \r\n");
    const wv = await loadVectorsText(p);
    assert.deepEqual(wv.words, ["</s>", "été", "qu'est-ce"]);
    assert.equal(wv.dim, 2);
    assert.deepEqual(Array.from(wv.data), [0.5, -0.25, 0.001, 2, -1, 3.5].map(Math.fround));
  });
  await t.step("GloVe without a header: the size comes from the first row", async () => {
    const p = await tmpWith("the 0.1 0.2 0.3\n, 0.4 0.5 0.6\n");
    const wv = await loadVectorsText(p);
    assert.deepEqual([wv.size, wv.dim, wv.get(",")![2]], [2, 3, Math.fround(0.6)]);
  });
  await t.step("a word filter and a row limit", async () => {
    const p = await tmpWith("4 1\na 1\nb 2\nc 3\nd 4\n");
    assert.deepEqual((await loadVectorsText(p, { words: new Set(["b", "d", "zz"]) })).words, ["b", "d"]);
    assert.deepEqual((await loadVectorsText(p, { limit: 2 })).words, ["a", "b"]);
    assert.deepEqual((await loadVectorsText(p, { words: (w) => w > "b" })).words, ["c", "d"]);
    const none = await loadVectorsText(p, { words: new Set(["zz"]) });
    assert.deepEqual([none.size, none.dim], [0, 1]);
  });
  await t.step("spaces inside words only when asked", async () => {
    const p = await tmpWith("at name@domain.com 0.5 0.5\nx 1 2\n");
    // without a header the size comes from row 1, whose extra word part is then a bad value
    await rejectsReader(() => loadVectorsText(p), 'row 1: value 1 is not a finite number: "name@domain.com"');
    const q = await tmpWith("x 1 2\nat name@domain.com 0.5 0.5\n");
    await rejectsReader(() => loadVectorsText(q), "row 2: ragged row");
    assert.deepEqual((await loadVectorsText(q, { spacesInWords: true })).words, ["x", "at name@domain.com"]);
  });
  await t.step("rows are yielded with their line numbers", async () => {
    const p = await tmpWith("2 1\na 1\n\nb 2\n");
    const rows = await Array.fromAsync(readVectorsText(p));
    assert.deepEqual(rows.map((r) => [r.word, r.line]), [["a", 2], ["b", 4]]);
  });
});

Deno.test("readVectorsText() rejects bad input naming the file and line", async (t) => {
  const cases: [string, string | Uint8Array, string][] = [
    ["ragged row", "2 3\na 1 2 3\nb 1 2\n", "row 3: ragged row: expected a word and 3 values, got 2"],
    ["NaN value", "a 1 2\nb nan 2\n", "row 2: value 1 is not a finite number"],
    ["inf value", "a 1 inf\n", "row 1: value 2 is not a finite number"],
    ["text value", "a 1 2\nb 1 x2\n", "row 2: value 2 is not a finite number"],
    ["empty value (double space)", "a 1 2\nb 1  2\n", "row 2: ragged row"],
    ["truncated", "3 2\na 1 2\nb 3 4\n", "truncated: the header says 3 rows, the file has 2"],
    ["more rows than the header", "1 2\na 1 2\nb 3 4\n", "row 3: more rows than the header's 1"],
    [
      "invalid UTF-8",
      new Uint8Array([0x61, 0x20, 0x31, 0x0a, 0xff, 0x20, 0x32, 0x0a]),
      "row 2: invalid UTF-8",
    ],
    ["header required", "a 1 2\n", 'row 1: expected a "count dim" header'],
    ["empty file", "", "no vectors in the file"],
  ];
  for (const [name, content, msg] of cases) {
    await t.step(name, async () => {
      const p = await tmpWith(content);
      const err = await rejectsReader(
        () => loadVectorsText(p, name === "header required" ? { header: true } : {}),
        msg,
      );
      assert.equal(err.file, p);
    });
  }
  await t.step("a missing file", async () => {
    await rejectsReader(() => loadVectorsText("/nonexistent/x.vec"), "file not found");
  });
});

Deno.test("writeVec() writes a .vec that reads back", async (t) => {
  const words = ["</s>", "élève", "cœur", "東京"];
  const data = new Float32Array([0.1, -2.5e-7, 3, 1 / 3, -1, 0, 123456.7, 1e-30]);
  const wv = new WordVectors(words, 2, data);
  await t.step("9 digits round-trip float32 exactly", async () => {
    const p = await tmpWith("");
    await writeVec(p, wv, { digits: 9 });
    const back = await loadVectorsText(p);
    assert.deepEqual(back.words, words);
    assert.deepEqual(Array.from(back.data), Array.from(data));
  });
  await t.step("default 6 digits: relative error under 5e-6", async () => {
    const p = await tmpWith("");
    await writeVec(p, wv);
    const back = await loadVectorsText(p);
    data.forEach((v, i) => assert.ok(Math.abs(back.data[i]! - v) <= 5e-6 * Math.abs(v), `${i}`));
    assert.ok((await Deno.readTextFile(p)).startsWith("4 2\n</s> 0.1 -2.5e-7 \n"));
  });
  await t.step("a word with whitespace is refused and nothing is written", async () => {
    const p = await tmpWith("keep");
    await assert.rejects(
      () => writeVec(p, new WordVectors(["a b"], 1, new Float32Array(1))),
      /has whitespace/,
    );
    assert.equal(await Deno.readTextFile(p), "keep");
  });
});
