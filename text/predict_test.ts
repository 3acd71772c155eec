import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { seed } from "../gpu/rng.ts";
import { AwdLstmClassifier, AwdLstmLM } from "./models/awd_lstm.ts";
import { type LoadedClassifier, saveLanguageModel, saveTextClassifier } from "./model_file.ts";
import { accuracyOf, classifyTexts, generateSamples, predictProbs } from "./predict.ts";
import { generate } from "./generate.ts";
import { SPECIAL_TOKENS } from "./special_tokens.ts";

const ITOS = [...SPECIAL_TOKENS, "good", "bad", "film", "the", "."];
const SIZES = { embSize: 6, nHid: 8, nLayers: 1 };

function classifier(s: number, backwards = false): LoadedClassifier {
  seed(s);
  const model = new AwdLstmClassifier(ITOS.length, 2, { ...SIZES, bptt: 4 });
  return { model, itos: ITOS, classes: ["neg", "pos"], backwards };
}

Deno.test("predictProbs(): one probability row per document, in input order", async () => {
  const { model } = classifier(1);
  const a = Int32Array.of(2, 9, 11), b = Int32Array.of(2, 10, 11, 12, 13, 10);
  const p = await predictProbs(model, [a, b, a], { nClass: 2, bs: 3 }); // one batch, sorted b, a, a
  strictEqual(p.length, 6);
  for (let i = 0; i < 3; i++) ok(Math.abs(p[2 * i]! + p[2 * i + 1]! - 1) < 1e-6);
  deepStrictEqual([p[0], p[1]], [p[4], p[5]], "the two copies of a got different rows");
  ok(p[0] !== p[2], "b got a's row");
  strictEqual(accuracyOf(Float32Array.of(0.2, 0.8, 0.9, 0.1), Int32Array.of(1, 1), 2), 0.5);
  ok(Number.isNaN(accuracyOf(new Float32Array(0), new Int32Array(0), 2)));
});

Deno.test("classifyTexts(): files or loaded models, the ensemble is the mean", async (t) => {
  const dir = await Deno.makeTempDir();
  const fwd = classifier(1), bwd = classifier(2, true);
  await saveTextClassifier(fwd.model, `${dir}/f.safetensors`, { itos: ITOS, classes: fwd.classes });
  const texts = ["Good film.", "the bad film"];
  try {
    await t.step("a file predicts as the model it holds", async () => {
      deepStrictEqual(
        await classifyTexts([`${dir}/f.safetensors`], texts),
        await classifyTexts([fwd], texts),
      );
    });
    await t.step("the ensemble averages the probabilities", async () => {
      const [f, b, both] = [
        await classifyTexts([fwd], texts),
        await classifyTexts([bwd], texts),
        await classifyTexts([fwd, bwd], texts),
      ];
      both.forEach((p, i) => ok(Math.abs(p.probs.pos! - (f[i]!.probs.pos! + b[i]!.probs.pos!) / 2) < 1e-6));
      ok(both.every((p) => p.label === (p.probs.pos! > p.probs.neg! ? "pos" : "neg")));
    });
    await t.step("unknown-only texts and mismatched models are refused", async () => {
      await rejects(classifyTexts([fwd], ["zebra quokka"]), /text 1 \("zebra quokka"\): only unknown tokens/);
      const three = { ...classifier(3), classes: ["a", "b", "c"] };
      await rejects(classifyTexts([fwd, three], texts), /different classes or vocabularies/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("generateSamples(): one sample per seed from a file", async () => {
  const dir = await Deno.makeTempDir();
  seed(4);
  const lm = new AwdLstmLM(ITOS.length, SIZES);
  await saveLanguageModel(lm, `${dir}/lm.safetensors`, { itos: ITOS });
  try {
    const samples = await Array.fromAsync(
      generateSamples(`${dir}/lm.safetensors`, "the film", { samples: 2, nWords: 5, seed: 7 }),
    );
    strictEqual(samples.length, 2);
    const second = await generate(lm, "the film", { itos: ITOS, nWords: 5, seed: 8 });
    strictEqual(samples[1], second.text);
    ok(samples.every((s) => s.startsWith("the film")), samples.join(" | "));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
