import { strict as assert } from "node:assert";
import { loadVectorsCache, saveVectorsCache } from "./cache.ts";
import { WordVectors } from "./word_vectors.ts";
import { rejectsReader } from "../readers/_test_helpers.ts";

function sample(rows: number, dim: number): WordVectors {
  const words = Array.from(
    { length: rows },
    (_, i) => (i % 3 === 0 ? `mot${i}` : i % 3 === 1 ? `élève${i}` : `東${i}`),
  );
  return new WordVectors(words, dim, Float32Array.from({ length: rows * dim }, (_, i) => Math.sin(i) * 3));
}

Deno.test("saveVectorsCache() / loadVectorsCache() round-trip and validate", async (t) => {
  const dir = await Deno.makeTempDir();
  for (const [rows, dim] of [[1, 1], [3, 17], [1000, 3], [0, 5]] as const) {
    await t.step(`${rows} x ${dim} round-trips exactly`, async () => {
      const p = `${dir}/v${rows}x${dim}.dfwv`;
      const wv = sample(rows, dim);
      await saveVectorsCache(p, wv, { source: "test", n: rows });
      const { vectors, meta } = await loadVectorsCache(p);
      assert.deepEqual(vectors.words, wv.words);
      assert.equal(vectors.dim, dim);
      assert.deepEqual(Array.from(vectors.data), Array.from(wv.data));
      assert.deepEqual(meta, { source: "test", n: rows });
    });
  }
  const good = `${dir}/v1000x3.dfwv`;
  const bytes = await Deno.readFile(good);
  await t.step("a truncated file is an error", async () => {
    const p = `${dir}/trunc.dfwv`;
    await Deno.writeFile(p, bytes.subarray(0, bytes.length - 4));
    await rejectsReader(() => loadVectorsCache(p), "truncated or padded cache");
  });
  await t.step("a flipped bit in the vectors or the words is an error", async () => {
    for (const at of [bytes.length - 100, 200]) {
      const bad = bytes.slice();
      bad[at]! ^= 0x10;
      const p = `${dir}/flip${at}.dfwv`;
      await Deno.writeFile(p, bad);
      await rejectsReader(() => loadVectorsCache(p), "corrupted cache: hash mismatch");
    }
  });
  await t.step("not a cache file", async () => {
    const p = `${dir}/x.vec`;
    await Deno.writeTextFile(p, "2 1\na 1\nb 2\n");
    await rejectsReader(() => loadVectorsCache(p), "not a word-vectors cache");
  });
  await t.step("a word with a newline is refused", async () => {
    await assert.rejects(
      () => saveVectorsCache(`${dir}/nl.dfwv`, new WordVectors(["a\nb"], 1, new Float32Array(1))),
      /contains a newline/,
    );
    await assert.rejects(() => Deno.stat(`${dir}/nl.dfwv`), Deno.errors.NotFound);
  });
  await Deno.remove(dir, { recursive: true });
});
