import { strict as assert } from "node:assert";
import { loadWinkGlove, readWinkJson, WINK_GLOVE_PACKAGE } from "./wink.ts";
import { rejectsReader } from "../readers/_test_helpers.ts";

/** A file in the package's layout: `dims` values, then the L2 norm, then the word index. */
function winkJson(words: string[], dims: number, opts: { order?: number[]; spaces?: boolean } = {}): string {
  const vectors: Record<string, number[]> = {};
  for (const i of opts.order ?? words.map((_, i) => i)) {
    const v = Array.from({ length: dims }, (_, j) => Math.round(Math.cos(i * 7 + j) * 1e6) / 1e6);
    vectors[words[i]!] = [...v, Math.hypot(...v), i];
  }
  const obj = {
    precision: 8,
    l2NormIndex: dims,
    wordIndex: dims + 1,
    size: words.length,
    dimensions: dims,
    words,
    vectors,
    unkVector: [...new Array(dims).fill(0), -1],
  };
  return opts.spaces ? JSON.stringify(obj, null, 1) : JSON.stringify(obj);
}

Deno.test("readWinkJson() streams the package's JSON layout", async (t) => {
  const dir = await Deno.makeTempDir();
  const words = ["the", ",", "vectors", 'quote"d', "back\\slash", "été", "東京", "😀"];
  await t.step("entries in any order land at their word index; escapes decoded", async () => {
    const p = `${dir}/a.json`;
    await Deno.writeTextFile(p, winkJson(words, 5, { order: [3, 0, 7, 1, 2, 6, 4, 5] }));
    const wv = await readWinkJson(p);
    assert.deepEqual(wv.words, words);
    assert.equal(wv.dim, 5);
    assert.equal(wv.get("東京")![2], Math.fround(Math.round(Math.cos(6 * 7 + 2) * 1e6) / 1e6));
  });
  await t.step("pretty-printed JSON with whitespace", async () => {
    const p = `${dir}/b.json`;
    await Deno.writeTextFile(p, winkJson(words, 3, { spaces: true }));
    assert.deepEqual((await readWinkJson(p)).words, words);
  });
  await t.step("a long file read in many chunks", async () => {
    const many = Array.from({ length: 3000 }, (_, i) => `w${i}`);
    const p = `${dir}/c.json`;
    await Deno.writeTextFile(p, winkJson(many, 50));
    const wv = await readWinkJson(p);
    assert.equal(wv.size, 3000);
    assert.equal(wv.words[2999], "w2999");
  });
  const text = winkJson(words, 4);
  const bad: [string, string, string][] = [
    [
      "a wrong norm",
      text.replace(/("the":\[[^\]]*,)([0-9.]+)(,0\])/, "$19.5$3"),
      'entry "the": stored L2 norm 9.5',
    ],
    ["a short row", text.replace(/"the":\[[^,]*,/, '"the":['), 'entry "the": 5 numbers, expected 6'],
    ["a NaN", text.replace(/"the":\[[^,]*,/, '"the":[null,'), "value 1 is not a finite number"],
    ["an index twice", text.replace(/(,"vectors":\{"the":\[[^\]]*,)0\]/, "$11]"), "word index 1 used twice"],
    ["truncated", text.slice(0, text.lastIndexOf('"東京"')), "truncated: 6 of 8 vectors"],
    ["not wink", '{"a":1}', 'no "vectors" object'],
  ];
  for (const [name, content, msg] of bad) {
    await t.step(`${name} is an error naming the file`, async () => {
      const p = `${dir}/bad.json`;
      await Deno.writeTextFile(p, content);
      await rejectsReader(() => readWinkJson(p), msg);
    });
  }
  await t.step("invalid UTF-8", async () => {
    const p = `${dir}/utf.json`;
    const b = new TextEncoder().encode(text);
    b[b.indexOf(0x74, /* t of "the" */ 100)] = 0xff;
    await Deno.writeFile(p, b);
    await rejectsReader(() => readWinkJson(p), "invalid UTF-8");
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadWinkGlove() converts once, then loads the cache; a bad cache is rebuilt", async (t) => {
  const dir = await Deno.makeTempDir();
  const json = `${dir}/glove.json`;
  await Deno.writeTextFile(json, winkJson(["the", "cat", "sat"], 4));
  const cacheDir = `${dir}/cache`;
  const log: string[] = [];
  const onProgress = (m: string) => log.push(m);
  await t.step("first call converts and writes the cache", async () => {
    const r = await loadWinkGlove({ cacheDir, jsonPath: json, onProgress });
    assert.equal(r.fromCache, false);
    assert.equal(r.cachePath, `${cacheDir}/${WINK_GLOVE_PACKAGE.replace("@", "-")}.dfwv`);
    assert.deepEqual(r.vectors.words, ["the", "cat", "sat"]);
  });
  await t.step("second call reads the cache", async () => {
    const r = await loadWinkGlove({ cacheDir, jsonPath: json, onProgress });
    assert.equal(r.fromCache, true);
    assert.deepEqual(r.vectors.words, ["the", "cat", "sat"]);
  });
  await t.step("a corrupted cache is reported and rebuilt", async () => {
    const r0 = await loadWinkGlove({ cacheDir, jsonPath: json });
    const b = await Deno.readFile(r0.cachePath);
    b[b.length - 1]! ^= 1;
    await Deno.writeFile(r0.cachePath, b);
    log.length = 0;
    const r = await loadWinkGlove({ cacheDir, jsonPath: json, onProgress });
    assert.equal(r.fromCache, false);
    assert.match(log[0]!, /unusable .*hash mismatch/);
    assert.equal((await loadWinkGlove({ cacheDir, jsonPath: json })).fromCache, true);
  });
  await t.step("a changed source file is converted again", async () => {
    await Deno.writeTextFile(json, winkJson(["the", "cat", "sat", "mat"], 4));
    const r = await loadWinkGlove({ cacheDir, jsonPath: json, onProgress });
    assert.equal(r.fromCache, false);
    assert.equal(r.vectors.size, 4);
  });
  await Deno.remove(dir, { recursive: true });
});
