import { strict as assert } from "node:assert";
import { buildPairVocabs, ingestPairCorpus } from "./corpus.ts";
import { loadPairCorpus, pairDataLoaders } from "./data.ts";
import { lengthAtPercentile } from "./split.ts";
import { inValidSplit } from "../corpus.ts";
import { tokenizeDocument } from "../word_tokenizer.ts";
import type { PairRecord } from "../readers/types.ts";

const WORDS = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "theta"];

/** Pair i: (i % 9) + 2 English words, (i % 13) + 1 French words; every 10th a question with a tail. */
function pair(i: number): PairRecord {
  const en = Array.from({ length: (i % 9) + 2 }, (_, k) => WORDS[(i + k) % 8]!);
  const fr = Array.from({ length: (i % 13) + 1 }, (_, k) => `mot${(i * 3 + k) % 20}`);
  if (i % 10 === 0) {
    return {
      source: `What is ${en.join(" ")} ${i}? It is ${i}.`,
      target: `Qu'est-ce que ${fr.join(" ")} ${i} ? Rien.`,
    };
  }
  return { source: `${en.join(" ")} n${i}`, target: `${fr.join(" ")} m${i}` };
}

const N = 400;
const toks = (text: string, lang: "en" | "fr") => tokenizeDocument(text, { lang, bos: false });

Deno.test("loadPairCorpus() gives the lesson's ids: eos, direction, filters, percentile cut, seeded split", async (t) => {
  const dir = await Deno.makeTempDir();
  const store = `${dir}/s.sqlite`;
  const raw = Array.from({ length: N }, (_, i) => pair(i));
  await ingestPairCorpus(store, "syn", { source: () => raw, workers: 1 });

  try {
    await t.step("no vocabulary yet: the error names the command", async () => {
      await assert.rejects(
        loadPairCorpus(store, "syn"),
        /has no source vocabulary; run `denofit vocab build --name syn`/,
      );
    });
    await buildPairVocabs(store, "syn");

    await t.step(
      "source -> target, eos appended to both, every pair once, split by corpus index",
      async () => {
        const d = await loadPairCorpus(store, "syn", { percentiles: false });
        assert.deepStrictEqual([d.inputLang, d.outputLang, d.inputSide], ["en", "fr", "source"]);
        assert.equal(d.train.x.length + d.valid.x.length, N);
        assert.deepStrictEqual(
          [...d.train.idx, ...d.valid.idx].sort((a, b) => a - b),
          Array.from({ length: N }, (_, i) => i),
        );
        assert.deepStrictEqual(
          d.valid.idx,
          Array.from({ length: N }, (_, i) => i).filter((i) => inValidSplit(i, 0.1, 42)),
        );
        assert.ok(d.valid.x.length > 20 && d.valid.x.length < 60, `${d.valid.x.length} validation pairs`);
        const k = d.train.idx.indexOf(7);
        const words = (ids: Int32Array, itos: string[]) => Array.from(ids, (i) => itos[i]);
        assert.deepStrictEqual(words(d.train.x[k]!, d.inputItos), [...toks(raw[7]!.source, "en"), "xxeos"]);
        assert.deepStrictEqual(words(d.train.y[k]!, d.outputItos), [...toks(raw[7]!.target, "fr"), "xxeos"]);
        assert.deepStrictEqual(d.maxLen, { input: Infinity, output: Infinity });
      },
    );

    await t.step("from the target language: French in, English out", async () => {
      const d = await loadPairCorpus(store, "syn", { from: "fr", percentiles: false });
      const e = await loadPairCorpus(store, "syn", { percentiles: false });
      assert.deepStrictEqual([d.inputLang, d.inputSide], ["fr", "target"]);
      assert.deepStrictEqual(d.train.x, e.train.y);
      assert.deepStrictEqual(d.valid.y, e.valid.x);
      await assert.rejects(
        loadPairCorpus(store, "syn", { from: "de" }),
        /is en -> fr; cannot read it from "de"/,
      );
    });

    await t.step(
      "percentile truncation: numpy's int(percentile) of each side's lengths, eos included",
      async () => {
        const full = await loadPairCorpus(store, "syn", { percentiles: false });
        const cut = await loadPairCorpus(store, "syn", { percentiles: { input: 90, output: 70 } });
        const lens = (side: "x" | "y") => [...full.train[side], ...full.valid[side]].map((s) => s.length);
        const want = { input: lengthAtPercentile(lens("x"), 90), output: lengthAtPercentile(lens("y"), 70) };
        assert.deepStrictEqual(cut.maxLen, want);
        assert.equal(cut.counts.cutInputs, lens("x").filter((n) => n > want.input).length);
        assert.equal(cut.counts.cutOutputs, lens("y").filter((n) => n > want.output).length);
        assert.ok(cut.counts.cutOutputs > 50, "the 70th percentile cuts many");
        for (const s of cut.train.y) assert.ok(s.length <= want.output);
        // a cut sequence is the start of the full one (the lesson's o[:maxlen]: the eos goes)
        const i = cut.train.y.findIndex((s, k) => s.length < full.train.y[k]!.length);
        assert.deepStrictEqual(cut.train.y[i], full.train.y[i]!.slice(0, want.output));
      },
    );

    await t.step("questions at load: cut to the question and tokenized again, split kept", async () => {
      const d = await loadPairCorpus(store, "syn", { questions: true, percentiles: false });
      assert.deepStrictEqual([d.counts.stored, d.counts.kept], [N, N / 10]);
      assert.deepStrictEqual(
        [...d.train.idx, ...d.valid.idx].sort((a, b) => a - b),
        Array.from({ length: 40 }, (_, i) => i * 10),
      );
      assert.ok(d.valid.idx.every((i) => inValidSplit(i, 0.1, 42)));
      const k = d.train.idx.indexOf(20);
      const q = /^(Wh[^?.!]+\?)/.exec(raw[20]!.source)![0];
      assert.deepStrictEqual(Array.from(d.train.x[k]!, (i) => d.inputItos[i]), [...toks(q, "en"), "xxeos"]);
      assert.ok(d.train.y[k]!.length < toks(raw[20]!.target, "fr").length, "the French side is cut at its ?");
    });

    await t.step("several vocabularies: choose one; tensor batches use its pad id", async () => {
      await buildPairVocabs(store, "syn", { source: { minFreq: 2 } }, { sides: ["source"] });
      await assert.rejects(
        loadPairCorpus(store, "syn"),
        /has 2 source vocabularies .*choose one with vocabs.source/,
      );
      const d = await loadPairCorpus(store, "syn", { vocabs: { source: { minFreq: 2 } } });
      assert.ok(d.inputItos.includes("alpha") && !d.inputItos.includes("n7"), "singletons n<i> are xxunk");
      const dls = pairDataLoaders(d, { bs: 16 });
      assert.equal(dls.train.length, Math.ceil(d.train.x.length / 16));
      assert.equal(dls.valid!.length, Math.ceil(d.valid.x.length / 25), "validation bs = int(16 * 1.6)");
      let rows = 0;
      for (const b of dls.train) {
        assert.equal(b.x.shape[1], b.y.shape[1]);
        assert.ok(b.x.shape[0]! <= d.maxLen.input && b.y.shape[0]! <= d.maxLen.output);
        rows += b.x.shape[1]!;
        b.x.dispose();
        b.y.dispose();
      }
      assert.equal(rows, d.train.x.length);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
