import { strict as assert } from "node:assert";
import {
  groupChunks,
  humanNumbers,
  makeSequences,
  mostFrequentBaseline,
  numberToWords,
} from "./human_numbers.ts";

Deno.test("numberToWords() spells numbers like fastai's human-numbers files", async (t) => {
  const cases: [number, string][] = [
    [1, "one"],
    [13, "thirteen"],
    [20, "twenty"],
    [42, "forty two"],
    [100, "one hundred"],
    [105, "one hundred five"],
    [999, "nine hundred ninety nine"],
    [1000, "one thousand"],
    [1234, "one thousand two hundred thirty four"],
    [8001, "eight thousand one"],
    [9999, "nine thousand nine hundred ninety nine"],
    [20019, "twenty thousand nineteen"],
  ];
  for (const [n, words] of cases) await t.step(`${n}`, () => assert.equal(numberToWords(n), words));
  await t.step("out of range", () => {
    assert.throws(() => numberToWords(0), /\[1, 999999\], got 0/);
    assert.throws(() => numberToWords(1.5), /got 1.5/);
  });
});

Deno.test("humanNumbers() builds the lesson's token stream and vocabulary", async (t) => {
  const d = humanNumbers();
  await t.step("stream", () => {
    assert.equal(d.tokens.slice(0, 7).join(" "), "one . two . three . four");
    assert.equal(d.tokens.slice(-6).join(" "), "nine thousand nine hundred ninety nine");
    // words of 1..9999 plus 9998 separators: count them independently from the spelled numbers
    let words = 0;
    for (let n = 1; n <= 9999; n++) words += numberToWords(n).split(" ").length;
    assert.equal(d.tokens.length, words + 9998);
    assert.equal(d.ids.length, d.tokens.length);
  });
  await t.step("vocab in order of first appearance", () => {
    assert.equal(d.vocab.length, 30);
    assert.deepEqual(d.vocab.slice(0, 4), ["one", ".", "two", "three"]);
    assert.deepEqual(d.vocab.slice(-3), ["ninety", "hundred", "thousand"]);
    for (let i = 0; i < d.ids.length; i += 997) assert.equal(d.vocab[d.ids[i]!], d.tokens[i]);
  });
  await t.step("sub-range", () => {
    assert.deepEqual(humanNumbers({ from: 19, to: 21 }).tokens, [
      "nineteen",
      ".",
      "twenty",
      ".",
      "twenty",
      "one",
    ]);
  });
});

Deno.test("makeSequences() cuts the stream like the lesson", async (t) => {
  const ids = Int32Array.from({ length: 20 }, (_, i) => i);
  await t.step("3-token inputs, next-token targets", () => {
    const s = makeSequences(ids, 3);
    assert.equal(s.n, 6); // range(0, 16, 3)
    assert.deepEqual([...s.x.slice(3, 6)], [3, 4, 5]);
    assert.deepEqual([...s.y], [3, 6, 9, 12, 15, 18]);
  });
  await t.step("every-step targets are inputs shifted by one", () => {
    const s = makeSequences(ids, 4, { everyStep: true });
    assert.equal(s.n, 4); // range(0, 15, 4)
    assert.deepEqual([...s.x.slice(4, 8)], [4, 5, 6, 7]);
    assert.deepEqual([...s.y.slice(4, 8)], [5, 6, 7, 8]);
  });
  await t.step("the book's baseline: 'thousand' on the 3-token validation split", () => {
    const d = humanNumbers();
    const s = makeSequences(d.ids, 3);
    const cut = Math.floor(s.n * 0.8);
    const base = mostFrequentBaseline(s.y.slice(cut));
    assert.equal(d.vocab[base.token], "thousand");
    // the book prints (tensor(29), 'thousand', 0.15165200855716662)
    assert.ok(Math.abs(base.accuracy - 0.15165200855716662) < 1e-12, `${base.accuracy}`);
  });
});

Deno.test("groupChunks() makes each batch row continue the previous batch's row", () => {
  // 7 sequences, bs 3 -> m = 2: batches [0, 2, 4], [1, 3, 5]; sequence 6 dropped
  assert.deepEqual(groupChunks(7, 3), [0, 2, 4, 1, 3, 5]);
});
