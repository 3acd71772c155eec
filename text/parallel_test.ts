import { strict as assert } from "node:assert";
import { chunkDocTokens, type TokenizeProgress, TokenizerPool, whitespaceTokenize } from "./parallel.ts";

function makeChunks(nChunks: number, size: number): string[][] {
  return Array.from(
    { length: nChunks },
    (_, c) =>
      Array.from({ length: size }, (_, d) => `chunk ${c} doc ${d} ${"w".repeat(1 + (d % 5))}  tail\n`),
  );
}

Deno.test("TokenizerPool tokenizes in order on workers, bounded, with progress", async (t) => {
  const chunks = makeChunks(40, 50);
  await t.step("two workers give the same tokens as the inline path, in input order", async () => {
    using pool = new TokenizerPool({ name: "whitespace" }, { workers: 2 });
    const got: string[][] = [];
    for await (const c of pool.map(chunks)) {
      for (let d = 0; d < c.offsets.length - 1; d++) got.push(chunkDocTokens(c, d));
    }
    const want = chunks.flat().map(whitespaceTokenize);
    assert.deepStrictEqual(got, want);
    assert.deepStrictEqual(got[55], ["chunk", "1", "doc", "5", "w", "tail"]);
  });
  await t.step("at most maxInFlight chunks are held", async () => {
    using pool = new TokenizerPool({ name: "whitespace" }, { workers: 2, maxInFlight: 3 });
    let pulled = 0;
    let consumed = 0;
    let maxHeld = 0;
    function* source() {
      for (const c of chunks) {
        pulled++;
        maxHeld = Math.max(maxHeld, pulled - consumed);
        yield c;
      }
    }
    for await (const _ of pool.map(source())) consumed++;
    assert.equal(consumed, 40);
    assert.equal(maxHeld, 3);
  });
  await t.step("progress counts chunks, docs and tokens", async () => {
    using pool = new TokenizerPool(whitespaceTokenize);
    assert.equal(pool.workers, 0);
    const seen: TokenizeProgress[] = [];
    for await (const _ of pool.map(chunks.slice(0, 3), { onProgress: (p) => seen.push(p) }));
    assert.deepStrictEqual(seen.map((p) => [p.chunks, p.docs, p.tokens]), [[1, 50, 300], [2, 100, 600], [
      3,
      150,
      900,
    ]]);
  });
  await t.step("records are accepted and handed back with their tokens", async () => {
    using pool = new TokenizerPool({ name: "whitespace" }, { workers: 1 });
    const recs = [[{ text: "a b", label: "x" }, { text: "c", label: "y" }]];
    for await (const { input, tokens } of pool.mapWith(recs)) {
      assert.equal(input[1]!.label, "y");
      assert.deepStrictEqual(chunkDocTokens(tokens, 0), ["a", "b"]);
    }
  });
  await t.step("a failing tokenizer surfaces as an error", async () => {
    using pool = new TokenizerPool({ name: "nope" } as never, { workers: 1 });
    await assert.rejects(() => Array.fromAsync(pool.map([["x"]])), /unknown tokenizer "nope"/);
  });
});
