import { strict as assert } from "node:assert";
import { SPECIAL_TOKENS } from "./special_tokens.ts";
import { countTokens, Vocab } from "./vocab.ts";

const DOCS = [
  ["xxbos", "the", "cat", "sat", "on", "the", "mat"],
  ["xxbos", "the", "dog", "sat", "on", "the", "cat"],
  ["xxbos", "a", "cat", "and", "a", "dog", "sat"],
];
// counts: the 4, sat 3, cat 3, xxbos 3, on 2, dog 2, a 2, mat 1, and 1 (first seen: xxbos the cat sat on mat dog a and)

Deno.test("countTokens() counts in first-seen order", async (t) => {
  await t.step("counts", () => {
    const c = countTokens(DOCS);
    assert.deepEqual([...c.keys()], ["xxbos", "the", "cat", "sat", "on", "mat", "dog", "a", "and"]);
    assert.deepEqual([...c.values()], [3, 4, 3, 3, 2, 1, 2, 2, 1]);
  });
  await t.step("adds to existing counts (streaming in chunks), and fromCounts builds the same vocab", () => {
    const c = countTokens(DOCS.slice(2), countTokens(DOCS.slice(0, 2)));
    assert.deepEqual(c, countTokens(DOCS));
    assert.deepEqual(Vocab.fromCounts(c, { minFreq: 2 }).itos, Vocab.fromTokens(DOCS, { minFreq: 2 }).itos);
  });
});

Deno.test("Vocab.fromTokens() follows fastai's make_vocab", async (t) => {
  await t.step("specials first, then by count, ties in first-seen order, minFreq 3 by default", () => {
    const v = Vocab.fromTokens(DOCS);
    assert.deepEqual(v.itos, [...SPECIAL_TOKENS, "the", "cat", "sat"]);
    assert.equal(v.stoi.get("xxunk"), 0);
    assert.equal(v.stoi.get("xxpad"), 1);
    assert.equal(v.stoi.get("xxbos"), 2);
    assert.equal(v.stoi.get("xxmaj"), 8);
    assert.equal(v.stoi.get("the"), 9);
  });
  await t.step("minFreq 2 keeps count >= 2 (v0.7's count > 1)", () => {
    const v = Vocab.fromTokens(DOCS, { minFreq: 2 });
    assert.deepEqual(v.itos.slice(9), ["the", "cat", "sat", "on", "dog", "a"]);
  });
  await t.step("minFreq 1 keeps everything", () => {
    assert.equal(Vocab.fromTokens(DOCS, { minFreq: 1 }).size, 9 + 8);
  });
  await t.step("maxVocab counts the specials and cuts the least frequent", () => {
    const v = Vocab.fromTokens(DOCS, { minFreq: 1, maxVocab: 11 });
    assert.deepEqual(v.itos.slice(9), ["the", "cat"]);
    assert.equal(v.size, 11);
  });
  await t.step("maxVocab applies to most_common before the specials are moved (as fastai)", () => {
    // most_common(10) keeps xxbos among the 10, so only 9 words compete for the rest.
    const v = Vocab.fromTokens(DOCS, { minFreq: 1, maxVocab: 10 });
    assert.deepEqual(v.itos.slice(9), ["the"]);
  });
  await t.step("padToMultiple 8 pads with xxfake tokens", () => {
    const v = Vocab.fromTokens(DOCS, { padToMultiple: 8 });
    assert.equal(v.size, 16);
    assert.deepEqual(v.itos.slice(12), ["xxfake", "xxfake1", "xxfake2", "xxfake3"]);
    assert.equal(Vocab.fromTokens(DOCS, { minFreq: 1, maxVocab: 16, padToMultiple: 8 }).size, 16);
  });
  await t.step("custom specials", () => {
    const v = Vocab.fromTokens(DOCS, { specials: ["_unk_", "_pad_"], minFreq: 3 });
    assert.deepEqual(v.itos, ["_unk_", "_pad_", "the", "xxbos", "cat", "sat"]);
    assert.equal(v.unkId, 0);
  });
  await t.step("bad options are errors", () => {
    assert.throws(() => Vocab.fromTokens(DOCS, { maxVocab: 3 }), /maxVocab must be an integer >= the 9/);
    assert.throws(() => Vocab.fromTokens(DOCS, { padToMultiple: -1 }), /padToMultiple/);
  });
  await t.step("the corpus is read once (an iterator works)", () => {
    function* docs() {
      yield* DOCS;
    }
    assert.deepEqual(Vocab.fromTokens(docs()).itos, Vocab.fromTokens(DOCS).itos);
  });
});

Deno.test("Vocab numericalize(), lookup(), textify()", async (t) => {
  const v = Vocab.fromTokens(DOCS);
  await t.step("unknown tokens map to xxunk (0)", () => {
    assert.deepEqual([...v.numericalize(["xxbos", "the", "zebra", "cat", "sat"])], [2, 9, 0, 10, 11]);
    assert.ok(v.numericalize([]) instanceof Int32Array);
  });
  await t.step("lookup and textify", () => {
    assert.deepEqual(v.lookup([2, 9, 10]), ["xxbos", "the", "cat"]);
    assert.equal(v.textify(new Int32Array([9, 10, 11])), "the cat sat");
    assert.equal(v.textify([9, 10], { sep: "|" }), "the|cat");
  });
  await t.step("ids out of range are errors naming the position", () => {
    assert.throws(() => v.lookup([9, 99]), /id 99 at position 1 is out of range 0\.\.11/);
  });
  await t.step("duplicate tokens are rejected", () => {
    assert.throws(() => new Vocab(["a", "b", "a"]), /"a" appears twice \(ids 0 and 2\)/);
  });
});

Deno.test("Vocab save/load and hash()", async (t) => {
  const v = Vocab.fromTokens(DOCS, { minFreq: 1 });
  await t.step("toJSON / fromJSON round trip (object, JSON text, plain itos array)", () => {
    const saved = JSON.stringify(v);
    assert.deepEqual(JSON.parse(saved), { version: 1, itos: [...v.itos] });
    assert.deepEqual(Vocab.fromJSON(saved).itos, v.itos);
    assert.deepEqual(Vocab.fromJSON(v.toJSON()).itos, v.itos);
    assert.deepEqual(Vocab.fromJSON([...v.itos]).itos, v.itos);
  });
  await t.step("bad saved data is an error", () => {
    assert.throws(() => Vocab.fromJSON('{"version":2,"itos":[]}'), /unsupported version 2/);
    assert.throws(() => Vocab.fromJSON("{}"), /expected \{ version: 1, itos: string\[\] \}/);
  });
  await t.step("hash is stable: a fixed value for a fixed vocab", () => {
    assert.equal(new Vocab(["xxunk", "xxpad", "the"]).hash(), new Vocab(["xxunk", "xxpad", "the"]).hash());
    assert.match(v.hash(), /^[0-9a-f]{16}$/);
    assert.equal(Vocab.fromJSON(JSON.stringify(v)).hash(), v.hash());
    // Reference values from Python: 64-bit FNV-1a over each token's UTF-8 bytes + 0xFF.
    assert.equal(new Vocab(["a", "b"]).hash(), "d2b371819297f98a");
    assert.equal(new Vocab(["xxunk", "été", "😂"]).hash(), "14d39c916e5f69c3");
  });
  await t.step("hash changes with order and with token boundaries", () => {
    const h = new Vocab(["ab", "c"]).hash();
    assert.notEqual(h, new Vocab(["a", "bc"]).hash());
    assert.notEqual(h, new Vocab(["c", "ab"]).hash());
    assert.notEqual(new Vocab(["a"]).hash(), new Vocab(["a", ""]).hash());
  });
});
