import { strict as assert } from "node:assert";
import { buildCorpusVocab, buildPairVocabs, ingestPairCorpus, storeInfo } from "./corpus.ts";
import { ingestCorpus } from "../corpus.ts";
import type { PairRecord } from "../readers/types.ts";

const UI: PairRecord[] = [
  { source: "_Open the file", target: "_Ouvrir le fichier", id: "1" },
  { source: "Close the file", target: "Fermer le fichier", id: "2" },
  { source: "%s files", target: "%s fichiers", id: "3" },
  { source: "Close the file", target: "Fermer le fichier", id: "4" },
  { source: "Where is the file?", target: "Où est le fichier ?", id: "5" },
  { source: "OK", target: "OK", id: "6" },
];

Deno.test("ingestPairCorpus() selects, stores, reuses; vocabularies per side", async (t) => {
  const dir = await Deno.makeTempDir();
  const store = `${dir}/s.sqlite`;
  try {
    await t.step("cleaning at ingest, its report stored with the corpus", async () => {
      const r = await ingestPairCorpus(store, "ui", { source: () => UI, desc: "test:ui", workers: 1 });
      assert.deepStrictEqual([r.pairs, r.added, r.reused], [3, 3, false]);
      assert.deepStrictEqual(
        { ...r.report! },
        { ...r.report!, read: 6, kept: 3, formatSpecifier: 1, identical: 1, duplicate: 1 },
      );
      const { pairCorpora } = await storeInfo(store, "ui");
      assert.equal(pairCorpora[0]!.source, "test:ui");
      assert.equal(JSON.parse(pairCorpora[0]!.settings).clean.accelerators, true);
    });

    await t.step("the same selection reuses; another one is refused naming both", async () => {
      const again = await ingestPairCorpus(store, "ui", { source: () => UI, desc: "test:ui" });
      assert.deepStrictEqual([again.reused, again.added, again.pairs, again.report?.read], [true, 0, 3, 6]);
      await assert.rejects(
        ingestPairCorpus(store, "ui", { source: () => UI, desc: "test:ui", questions: true }),
        /pair corpus "ui" exists with other settings: settings .*"questions":\{"source":"\^\(Wh/,
      );
      const q = await ingestPairCorpus(store, "ui-q", { source: () => UI, questions: true, workers: 1 });
      assert.equal(q.pairs, 1);
    });

    await t.step(
      "names are one namespace: a text corpus name is refused, and the other way round",
      async () => {
        await ingestCorpus(store, "texts", { source: () => [{ text: "some text here" }], workers: 1 });
        await assert.rejects(
          ingestPairCorpus(store, "texts", { source: () => UI }),
          /"texts" is a text corpus/,
        );
        await assert.rejects(
          ingestCorpus(store, "ui", { source: () => [{ text: "x y" }], workers: 1 }),
          /"ui" is a pair corpus/,
        );
      },
    );

    await t.step("a source with nothing left stores nothing", async () => {
      const only = [{ source: "OK", target: "OK" }];
      await assert.rejects(
        ingestPairCorpus(store, "empty", { source: () => only }),
        /holds no pairs after selection \(1 read, 0 kept; removed: identical 1\); nothing was stored/,
      );
      assert.equal((await storeInfo(store)).pairCorpora.some((c) => c.name === "empty"), false);
    });

    await t.step("vocabularies of both sides; buildCorpusVocab picks by kind", async () => {
      const v = await buildPairVocabs(store, "ui", { target: { minFreq: 2 } });
      assert.deepStrictEqual(v.target!.slice(9), ["le", "fichier"]);
      assert.deepStrictEqual(v.source!.slice(9), ["the", "file", "open", "close", "where", "is", "?"]);
      const one = await buildCorpusVocab(store, "ui", { minFreq: 2 }, { side: "source" });
      assert.deepStrictEqual(one, { kind: "pairs", vocabs: { source: v.source!.slice(0, 11) } });
      const text = await buildCorpusVocab(store, "texts", { minFreq: 1 });
      assert.equal(text.kind, "text");
      await assert.rejects(
        buildCorpusVocab(store, "texts", {}, { side: "source" }),
        /--side is for pair corpora/,
      );
      await assert.rejects(
        buildPairVocabs(store, "nope"),
        /no pair corpus "nope" \(pair corpora: ui, ui-q\)/,
      );
      await assert.rejects(
        buildPairVocabs(store, "ui", { source: { minFreq: 9 } }),
        /no source token of "ui" occurs 9 times or more/,
      );
      const { pairCorpora } = await storeInfo(store, "ui");
      const vocabs = pairCorpora[0]!.tokenizations[0]!.vocabs;
      assert.deepStrictEqual(vocabs.map((x) => [x.side, x.size]), [["source", 16], ["target", 11], [
        "source",
        11,
      ]]);
    });

    await t.step("storeInfo lists both kinds; a missing name names them", async () => {
      const all = await storeInfo(store);
      assert.deepStrictEqual(all.corpora.map((c) => c.name), ["texts"]);
      assert.deepStrictEqual(all.pairCorpora.map((c) => c.name), ["ui", "ui-q"]);
      await assert.rejects(
        storeInfo(store, "x"),
        /no corpus "x" \(text corpora: texts; pair corpora: ui, ui-q\)/,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
