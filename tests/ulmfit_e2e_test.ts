/**
 * ULMFiT end to end on a tiny generated corpus: SQLite store -> vocabulary -> a few language-model steps ->
 * classifier with gradual unfreezing on the LM's encoder -> save, load, predict, generate; and the IMDb example's
 * reading path on a tiny folder in the `aclImdb` layout.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Rng } from "../gpu/mod.ts";
import { tensorsToHost, TrainingRun, useBackend } from "../nn/mod.ts";
import {
  accuracyOf,
  classifyTexts,
  CorpusStore,
  generate,
  loadTextClassifier,
  predictProbs,
  saveTextClassifier,
  type TextRecord,
  trainClassifier,
  trainLanguageModel,
} from "../text/mod.ts";
import { ingestImdb } from "../examples/ulmfit_imdb.ts";

const GOOD = ["great", "lovely", "superb", "wonderful", "fun"];
const BAD = ["awful", "boring", "dull", "terrible", "bad"];
const FILLER = ["the", "movie", "was", "and", "it", "a", "film", "story", "i", "this", "of", "plot"];

function tinyCorpus(n: number, seed = 7): TextRecord[] {
  const rng = new Rng(seed);
  const out: TextRecord[] = [];
  for (let i = 0; i < n; i++) {
    const pos = i % 2 === 1;
    const words = Array.from({ length: 8 }, () => FILLER[rng.int(FILLER.length)]!);
    for (let k = 0; k < 3; k++) words.splice(rng.int(words.length + 1), 0, (pos ? GOOD : BAD)[rng.int(5)]!);
    out.push({
      text: words.join(" ") + " .",
      label: pos ? "pos" : "neg",
      split: i % 5 === 0 ? "valid" : "train",
    });
  }
  return out;
}

Deno.test("ULMFiT end to end on a tiny corpus", async (t) => {
  await useBackend("cpu");
  const dir = await Deno.makeTempDir({ prefix: "denofit_e2e_" });
  const store = CorpusStore.open(`${dir}/c.sqlite`);
  try {
    const r = await store.ingest("tiny", tinyCorpus(240), { workers: 1 });
    strictEqual(r.added, 240);
    const { itos } = await store.vocab("tiny", { minFreq: 2 });
    const docs = [...store.documents("tiny", { vocab: { minFreq: 2 } })];
    strictEqual(docs.length, 240);
    const run = new TrainingRun();
    const log = run.log;
    const model = { embSize: 16, nHid: 32, nLayers: 2, dropMult: 0.2 };

    const lmTrain = docs.filter((d) => d.split === "train").map((d) => d.ids);
    const lmValid = docs.filter((d) => d.split === "valid").map((d) => d.ids);
    const { model: lm, learn: lmLearn } = await trainLanguageModel(lmTrain, lmValid, {
      vocabSize: itos.length,
      model,
      bs: 8,
      bptt: 12,
      lr: 1e-2,
      frozenEpochs: 0,
      epochs: 3,
      seed: 1,
      run,
      quiet: true,
    });

    await t.step("the language model's loss decreases and the metrics lines are complete", () => {
      const l = lmLearn.recorder.losses;
      const head = l.slice(0, 10).reduce((a, b) => a + b, 0) / 10,
        tail = l.slice(-10).reduce((a, b) => a + b, 0) / 10;
      ok(tail < head - 0.15, `LM loss ${head} -> ${tail}`);
      const recs = log.records.filter((x) => x.stage.startsWith("lm"));
      strictEqual(recs.length, 3);
      ok(recs[2]!.valid_loss! < recs[0]!.valid_loss!, "LM valid loss did not improve");
      ok(Math.abs(recs[2]!.perplexity! - Math.exp(recs[2]!.valid_loss!)) < 1e-9);
      // the words are drawn at random: twice the accuracy of a uniform guess is what there is to learn
      ok(
        recs[2]!.accuracy! > 2 / itos.length,
        `next-word accuracy ${recs[2]!.accuracy}, vocab ${itos.length}`,
      );
    });

    const classes = ["neg", "pos"];
    const part = (split: string) => {
      const sel = docs.filter((d) => d.split === split);
      return { docs: sel.map((d) => d.ids), labels: Int32Array.from(sel, (d) => classes.indexOf(d.label!)) };
    };
    const train = part("train"), valid = part("valid");
    const { model: clas } = await trainClassifier(train, valid, {
      vocabSize: itos.length,
      nClass: 2,
      model,
      encoder: await tensorsToHost(lm.encoder.stateDict()),
      bs: 16,
      bptt: 12,
      lr: 3e-2,
      stages: [2, 1, 3],
      seed: 1,
      run,
      quiet: true,
    });
    const probs = await predictProbs(clas, valid.docs, { nClass: 2 });

    await t.step("the classifier learns: loss falls through the stages, accuracy above chance", () => {
      const recs = log.records.filter((x) => x.stage.startsWith("clas"));
      deepStrictEqual([...new Set(recs.map((x) => x.stage))], [
        "clas-fwd-last-layer",
        "clas-fwd-last-2",
        "clas-fwd-unfrozen",
      ]);
      ok(
        recs.at(-1)!.train_loss < recs[0]!.train_loss,
        `${recs[0]!.train_loss} -> ${recs.at(-1)!.train_loss}`,
      );
      strictEqual(probs.length, valid.docs.length * 2);
      for (let i = 0; i < valid.docs.length; i++) ok(Math.abs(probs[2 * i]! + probs[2 * i + 1]! - 1) < 1e-5);
      const acc = accuracyOf(probs, valid.labels, 2);
      ok(acc >= 0.75, `accuracy ${acc}`);
      ok(Math.abs(acc - recs.at(-1)!.accuracy!) < 1e-6, "predictProbs disagrees with the Learner's accuracy");
    });

    await t.step("a saved classifier predicts the same from raw text", async () => {
      const path = `${dir}/clas.safetensors`;
      await saveTextClassifier(clas, path, { itos, classes });
      const loaded = await loadTextClassifier(path);
      deepStrictEqual(loaded.classes, classes);
      const texts = tinyCorpus(240).filter((d) => d.split === "valid").map((d) => d.text);
      const preds = await classifyTexts([loaded], texts);
      strictEqual(preds.length, texts.length);
      preds.forEach((p, i) => {
        ok(classes.includes(p.label));
        ok(
          Math.abs(p.probs.pos! - probs[2 * i + 1]!) < 1e-5,
          `text ${i}: ${p.probs.pos} vs ${probs[2 * i + 1]}`,
        );
      });
    });

    await t.step("generation continues a prompt with known words", async () => {
      const g = await generate(lm, "the movie", { itos, nWords: 12, temperature: 0.75, seed: 3 });
      strictEqual(g.tokens.length, 12);
      ok(!g.tokens.includes("xxunk"));
      ok(g.text.startsWith("the movie"), g.text);
      const known = g.tokens.filter((w) => [...GOOD, ...BAD, ...FILLER, "."].includes(w)).length;
      ok(known >= 6, `generated ${g.tokens.join(" ")}`);
    });
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("examples/ulmfit_imdb.ts reads the aclImdb layout", async () => {
  const root = await Deno.makeTempDir({ prefix: "aclImdb_" });
  const files: [string, string][] = [
    ["train/neg/0_3.txt", "A dull, boring film.<br /><br />I left early."],
    ["train/neg/1_2.txt", "Terrible acting and a terrible plot."],
    ["train/pos/0_9.txt", "A WONDERFUL movie!!! Loved it."],
    ["train/unsup/0_0.txt", "Some review without a rating."],
    ["test/neg/0_1.txt", "Bad, bad, bad."],
    ["test/pos/0_10.txt", "Great fun, great cast."],
    ["train/urls_pos.txt", "http://not-a-review"],
  ];
  for (const [p, text] of files) {
    await Deno.mkdir(`${root}/${p.split("/").slice(0, -1).join("/")}`, { recursive: true });
    await Deno.writeTextFile(`${root}/${p}`, text);
  }
  const store = CorpusStore.open(`${root}/imdb.sqlite`);
  try {
    const { itos, docs } = await ingestImdb(root, store);
    strictEqual(docs.length, 6);
    deepStrictEqual(docs.map((d) => `${d.split}/${d.label ?? "-"}`), [
      "train/neg",
      "train/neg",
      "train/pos",
      "train/-",
      "test/neg",
      "test/pos",
    ]);
    // min count 3 (the seeds: count > 2): "bad" (3x) and "terrible"... only words seen 3+ times get ids
    ok(itos.includes("bad") && !itos.includes("dull"), itos.join(" "));
    const again = await store.ingest("imdb", undefined);
    ok(again.reused);
  } finally {
    store.close();
    await Deno.remove(root, { recursive: true });
  }
});
