import { strict as assert } from "node:assert";
import { BOS, isSpecialToken, MAJ, SPECIAL_IDS, SPECIAL_TOKENS, UNK } from "./special_tokens.ts";

Deno.test("SPECIAL_TOKENS have fastai's order and ids", async (t) => {
  await t.step("order", () => {
    assert.deepEqual(SPECIAL_TOKENS, [
      "xxunk",
      "xxpad",
      "xxbos",
      "xxeos",
      "xxfld",
      "xxrep",
      "xxwrep",
      "xxup",
      "xxmaj",
    ]);
  });
  await t.step("ids agree with the order", () => {
    for (const [name, id] of Object.entries(SPECIAL_IDS)) assert.equal(SPECIAL_TOKENS[id], `xx${name}`);
    assert.equal(SPECIAL_TOKENS.indexOf(UNK), 0);
    assert.equal(SPECIAL_TOKENS.indexOf(BOS), 2);
    assert.equal(SPECIAL_TOKENS.indexOf(MAJ), 8);
  });
  await t.step("isSpecialToken", () => {
    assert.equal(isSpecialToken("xxwrep"), true);
    assert.equal(isSpecialToken("xxfake"), false);
    assert.equal(isSpecialToken("the"), false);
  });
  await t.step("frozen", () => assert.throws(() => (SPECIAL_TOKENS as string[]).push("x")));
});
