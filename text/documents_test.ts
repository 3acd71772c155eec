import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { countUnknownOnly, reverseDocs, truncateDocs } from "./documents.ts";

Deno.test("reverseDocs(), truncateDocs(), countUnknownOnly()", async (t) => {
  const docs = [Int32Array.of(9, 10, 11), Int32Array.of(12)];
  await t.step("reverse copies, the input untouched", () => {
    deepStrictEqual(reverseDocs(docs).map((d) => [...d]), [[11, 10, 9], [12]]);
    deepStrictEqual([...docs[0]!], [9, 10, 11]);
  });
  await t.step("cut to the first tokens; 0 keeps all", () => {
    deepStrictEqual(truncateDocs(docs, 2).map((d) => [...d]), [[9, 10], [12]]);
    strictEqual(truncateDocs(docs, 0)[0], docs[0]);
  });
  await t.step("documents with special tokens only (ids below 9)", () => {
    strictEqual(countUnknownOnly([Int32Array.of(2, 0, 0), Int32Array.of(2, 9), new Int32Array(0)]), 2);
    strictEqual(countUnknownOnly([Int32Array.of(3)], 3), 0);
  });
});
