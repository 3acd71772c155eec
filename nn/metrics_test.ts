import { strict as assert } from "node:assert";
import {
  accuracy,
  accuracyFromLogits,
  argmaxRows,
  corpusBleu,
  perplexity,
  SmoothedLoss,
  WeightedMean,
} from "./metrics.ts";

function close(actual: number, expected: number, tol = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);
}

Deno.test("accuracy() counts hits and skips the ignore index", async (t) => {
  await t.step("plain", () => close(accuracy([0, 1, 2, 2], [0, 1, 1, 2]), 0.75));
  await t.step("ignore index", () => close(accuracy([0, 1, 2, 2], [0, 1, 1, 1], { ignoreIndex: 1 }), 1));
  await t.step("length mismatch", () => assert.throws(() => accuracy([1], [1, 2]), /1 predictions for 2/));
});

Deno.test("argmaxRows()/accuracyFromLogits() pick the largest score per row", () => {
  const logits = [0.1, 0.9, 0.0, /**/ 2, -1, 1, /**/ -3, -2, -1];
  assert.deepEqual([...argmaxRows(logits, 3)], [1, 0, 2]);
  close(accuracyFromLogits(logits, [1, 1, 2]), 2 / 3);
  assert.throws(() => argmaxRows(logits, 4), /rows of 4/);
});

Deno.test("perplexity() is exp(loss)", () => close(perplexity(3.908), Math.exp(3.908)));

Deno.test("corpusBleu() matches hand-counted n-grams", async (t) => {
  const cands = ["the cat sat on the mat", "a dog barks at night today loudly"].map((s) => s.split(" "));
  const refs = ["the cat is on the mat", "the dog barks at night today again yes"].map((s) => s.split(" "));
  await t.step("BLEU-4 with brevity penalty", () => {
    // clipped matches / candidate n-grams, summed over both sentences (counted by hand):
    // 1-grams (5+5)/(6+7), 2-grams (3+4)/(5+6), 3-grams (1+3)/(4+5), 4-grams (0+2)/(3+4); c = 13, r = 14
    const geo = Math.exp((Math.log(10 / 13) + Math.log(7 / 11) + Math.log(4 / 9) + Math.log(2 / 7)) / 4);
    const expected = Math.exp(1 - 14 / 13) * geo;
    close(corpusBleu(cands, refs), expected);
    close(corpusBleu(cands, refs), 0.46235, 1e-5);
  });
  await t.step("clipping (Papineni et al.'s 'the the the ...' example)", () => {
    close(corpusBleu([["the", "the", "the", "the", "the", "the", "the"]], [refs[0]!], { maxN: 1 }), 2 / 7);
  });
  await t.step("no 4-gram match gives 0, smoothing gives > 0", () => {
    assert.equal(corpusBleu([cands[0]!], [refs[0]!]), 0);
    // smoothed: 1-grams 5/6, 2-grams (3+1)/(5+1), 3-grams (1+1)/(4+1), 4-grams (0+1)/(3+1); same length
    const expected = Math.exp((Math.log(5 / 6) + Math.log(4 / 6) + Math.log(2 / 5) + Math.log(1 / 4)) / 4);
    close(corpusBleu([cands[0]!], [refs[0]!], { smooth: true }), expected);
  });
  await t.step("identical text scores 1", () => close(corpusBleu(refs, refs), 1));
});

Deno.test("SmoothedLoss() is fastai's debiased moving average", async (t) => {
  await t.step("first value is returned exactly", () => {
    const s = new SmoothedLoss();
    close(s.update(2), 2, 1e-12);
  });
  await t.step("two values", () => {
    const s = new SmoothedLoss(0.98);
    s.update(2);
    // avg = 0.98 * 0.04 + 0.02 * 4 = 0.1192; debias by 1 - 0.98^2 = 0.0396
    close(s.update(4), 0.1192 / 0.0396, 1e-12);
    assert.equal(s.count, 2);
    s.reset();
    assert.ok(Number.isNaN(s.value));
  });
  await t.step("constant input stays constant", () => {
    const s = new SmoothedLoss();
    for (let i = 0; i < 50; i++) s.update(1.5);
    close(s.value, 1.5, 1e-12);
  });
});

Deno.test("WeightedMean() weights by batch size", () => {
  const m = new WeightedMean();
  m.add(1, 3);
  m.add(2, 1);
  close(m.value, 1.25);
});
