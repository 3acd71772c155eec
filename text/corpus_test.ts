import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { CorpusStore } from "./store/mod.ts";
import type { TextRecord } from "./readers/types.ts";
import {
  buildVocab,
  corpusInfo,
  ingestCorpus,
  inValidSplit,
  loadTrainingCorpus,
  openCorpusStore,
} from "./corpus.ts";

const VOCAB = { maxVocab: 100, minFreq: 2, padToMultiple: 0 };

function labelled(n: number): TextRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    text: i % 2 ? "a good fun film" : "a bad dull film",
    label: i % 2 ? "pos" : "neg",
  }));
}

Deno.test("ingestCorpus() checks the source before storing anything", async (t) => {
  const dir = await Deno.makeTempDir();
  const store = `${dir}/s.sqlite`;
  try {
    await t.step("an empty source: nothing stored, not even the file", async () => {
      await rejects(
        ingestCorpus(store, "e", { source: () => [{ text: "  " }], desc: "csv:e.csv" }),
        /csv:e\.csv holds no documents \(empty corpus\); nothing was stored/,
      );
      await rejects(Deno.stat(store), Deno.errors.NotFound);
    });
    await t.step("a classifier corpus needs two classes", async () => {
      await rejects(
        ingestCorpus(store, "u", { source: () => [{ text: "x" }], purpose: "clas" }),
        /has no labels/,
      );
      const one = () => [{ text: "x", label: "pos" }, { text: "y", label: "pos" }];
      await rejects(ingestCorpus(store, "o", { source: one, purpose: "clas" }), /single class \("pos"\)/);
    });
    await t.step("labels counted, unlabelled ones noted, a seeded split made, texts cut", async () => {
      const notes: string[] = [];
      const src = () => [...labelled(40), { text: "no label here" }];
      const r = await ingestCorpus(store, "c", {
        source: src,
        purpose: "clas",
        validPct: 0.25,
        seed: 3,
        maxChars: 8,
        workers: 1,
        onNote: (l) => notes.push(l),
      });
      deepStrictEqual([r.docs, r.added, r.reused, r.labels], [41, 41, false, [["neg", 20], ["pos", 20]]]);
      ok(notes.includes("note: 1 unlabelled documents are kept (language model only)"), notes.join("\n"));
      const s = CorpusStore.open(store);
      const docs = [...s.documents("c")];
      s.close();
      const valid = docs.filter((d) => d.split === "valid").map((d) => d.idx);
      deepStrictEqual(valid, docs.map((d) => d.idx).filter((i) => inValidSplit(i, 0.25, 3)));
      ok(valid.length > 3 && valid.length < 20, `${valid.length} valid`);
      ok(docs.every((d) => d.ids.length <= 4), "texts were not cut to 8 characters");
      strictEqual(
        (await ingestCorpus(store, "c", {
          source: src,
          purpose: "clas",
          validPct: 0.25,
          seed: 3,
          maxChars: 8,
        })).reused,
        true,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("buildVocab(), loadTrainingCorpus(), corpusInfo() name the store, the corpus and the fix", async (t) => {
  const dir = await Deno.makeTempDir();
  const store = `${dir}/s.sqlite`;
  try {
    await ingestCorpus(store, "c", { source: () => labelled(20), workers: 1 });
    await t.step("a missing store or corpus", async () => {
      await rejects(
        openCorpusStore(`${dir}/none.sqlite`),
        /none\.sqlite: no corpus store here; run `denofit corpus ingest`/,
      );
      await rejects(buildVocab(store, "x", VOCAB), /s\.sqlite: no corpus "x" \(it holds: c\)/);
      await rejects(loadTrainingCorpus(store, "x", VOCAB), /no corpus "x"/);
      await rejects(corpusInfo(store, "x"), /no corpus "x"/);
    });
    await t.step("no vocabulary yet, then one", async () => {
      await rejects(
        loadTrainingCorpus(store, "c", VOCAB),
        /no vocabulary of "c" with --max-vocab 100 --min-freq 2 --pad-to 0/,
      );
      const notes: string[] = [];
      const { itos } = await buildVocab(store, "c", VOCAB, { onNote: (l) => notes.push(l) });
      deepStrictEqual(notes, [], "nothing needed tokenizing again");
      ok(["good", "bad", "film"].every((w) => itos.includes(w)), itos.join(" "));
      const corpus = await loadTrainingCorpus(store, "c", VOCAB);
      deepStrictEqual(corpus.itos, itos);
      strictEqual(corpus.docs.length, 20);
      strictEqual(corpus.docs[1]!.label, "pos");
      await rejects(
        buildVocab(store, "c", { ...VOCAB, minFreq: 50 }),
        /no token of "c" occurs 50 times or more/,
      );
    });
    await t.step("a corpus tokenized another way is not served", async () => {
      const s = CorpusStore.open(store);
      await s.ingest("ws", [{ text: "a b" }], { tokenizer: { name: "whitespace" }, workers: 0 });
      s.close();
      await rejects(loadTrainingCorpus(store, "ws", VOCAB), /not tokenized with the current tokenizer/);
    });
    await t.step("corpusInfo(): every corpus, or one", async () => {
      deepStrictEqual((await corpusInfo(store)).map((c) => c.name), ["c", "ws"]);
      const [c] = await corpusInfo(store, "c");
      deepStrictEqual([c!.nDocs, c!.tokenizations[0]!.vocabs.length], [20, 2]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
