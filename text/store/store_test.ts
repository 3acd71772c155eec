import { strict as assert } from "node:assert";
import { DatabaseSync } from "node:sqlite";
import { CorpusStore, RecordHasher, STORE_APPLICATION_ID } from "./store.ts";
import { claimCorpus } from "./_guard.ts";
import type { TextRecord } from "../readers/types.ts";
import { syntheticCorpus, syntheticDoc } from "./testdata/crash_child.ts";
import { decodeIds, encodeIds, widthFor } from "./_schema.ts";
import { TokenizerPool, whitespaceTokenize } from "../parallel.ts";
import { Vocab } from "../vocab.ts";
import { tokenizeDocument } from "../word_tokenizer.ts";

const WS = { name: "whitespace" } as const;

function scalar(store: CorpusStore, sql: string, ...args: (string | number)[]): unknown {
  return Object.values(store.db.prepare(sql).get(...args) as Record<string, unknown>)[0];
}

/** Every structural invariant that a crash must not break. */
function checkConsistent(store: CorpusStore): number {
  assert.equal(scalar(store, "PRAGMA integrity_check"), "ok");
  const nDocs = scalar(store, "SELECT n_docs FROM corpora WHERE name = 'synthetic'") as number;
  assert.equal(scalar(store, "SELECT count(*) FROM documents"), nDocs);
  assert.equal(scalar(store, "SELECT coalesce(max(idx) + 1, 0) FROM documents"), nDocs, "no gap in idx");
  assert.equal(scalar(store, "SELECT count(*) FROM doc_tokens"), nDocs, "every document has its tokens");
  assert.equal(scalar(store, "SELECT n_docs FROM tokenizations"), nDocs);
  const nTokens = scalar(store, "SELECT n_tokens FROM tokenizations") as number;
  assert.equal(scalar(store, "SELECT coalesce(sum(n), 0) FROM doc_tokens"), nTokens);
  assert.equal(scalar(store, "SELECT count(*) FROM doc_tokens WHERE length(term_ids) != n * width"), 0);
  // every stored term id has its term (terms are committed with the documents that first use them)
  const nTerms = store.terms("synthetic", WS).length;
  let maxId = -1;
  for (const r of store.db.prepare("SELECT width, term_ids FROM doc_tokens").iterate()) {
    for (const id of decodeIds(r.term_ids as Uint8Array, r.width as number)) maxId = Math.max(maxId, id);
  }
  assert.equal(maxId + 1, nTerms);
  if (scalar(store, "SELECT complete FROM tokenizations")) {
    assert.equal(scalar(store, "SELECT count(*) FROM terms"), nTerms);
    assert.equal(scalar(store, "SELECT count(*) FROM term_batches"), 0);
    assert.equal(scalar(store, "SELECT sum(count) FROM terms"), nTokens, "term counts match tokens");
  } else assert.equal(scalar(store, "SELECT count(*) FROM terms"), 0);
  return nDocs;
}

Deno.test("CorpusStore survives SIGKILL mid-ingest and resumes to the exact count", async () => {
  const dir = await Deno.makeTempDir();
  const db = `${dir}/corpus.db`;
  const N = 30_000;
  const CHUNK = 200;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./testdata/crash_child.ts", import.meta.url).pathname,
      db,
      String(N),
      String(CHUNK),
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let seen = 0;
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  while (seen < 3000) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    const m = [...buf.matchAll(/progress (\d+)/g)].at(-1);
    if (m) seen = Number(m[1]);
  }
  child.kill("SIGKILL");
  await child.status;
  await reader.cancel().catch(() => {});

  let store = CorpusStore.open(db);
  const stored = checkConsistent(store);
  assert.ok(stored >= 3000 && stored < N, `killed mid-way: ${stored} of ${N} stored`);
  assert.equal(stored % CHUNK, 0, "only whole chunks are committed");
  assert.equal(scalar(store, "SELECT complete FROM corpora"), 0);
  store.close();

  store = CorpusStore.open(db);
  const res = await store.ingest("synthetic", syntheticCorpus(N), {
    tokenizer: WS,
    workers: 1,
    chunkSize: CHUNK,
  });
  assert.equal(res.added, N - stored);
  assert.equal(checkConsistent(store), N);
  assert.equal(scalar(store, "SELECT complete FROM corpora"), 1);
  const expectTokens = Array.from({ length: N }, (_, i) => 10 + (i % 40)).reduce((a, b) => a + b, 0);
  assert.equal(scalar(store, "SELECT n_tokens FROM tokenizations"), expectTokens);
  // the resumed store holds exactly what an uninterrupted run would: check every document's tokens
  const terms = store.terms("synthetic", WS);
  let i = 0;
  for (const d of store.documents("synthetic", { tokenizer: WS })) {
    assert.equal(d.idx, i);
    const want = syntheticDoc(i);
    assert.deepStrictEqual(Array.from(d.ids, (t) => terms[t]), whitespaceTokenize(want.text));
    assert.deepStrictEqual([d.label, d.split], [want.label, want.split]);
    i++;
  }
  assert.equal(i, N);
  store.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("CorpusStore keeps settings apart, reuses them, builds vocabularies", async (t) => {
  const store = CorpusStore.open(":memory:");
  const docs = [
    { text: "The cat sat. The cat!", label: "pos", split: "train" },
    { text: "The DOG sat on the mat.", label: "neg", split: "train" },
    { text: "A cat, a dog; the end.", label: "pos", split: "valid" },
  ];
  await t.step("two tokenizers, two tokenizations; a re-run reuses", async () => {
    const a = await store.ingest("mini", docs, { tokenizer: WS, workers: 0 });
    assert.deepStrictEqual([a.added, a.tokens, a.reused], [3, 17, false]);
    using pool = new TokenizerPool({ name: "word", lang: "en" }, { workers: 1 });
    const b = await store.ingest("mini", docs, { pool });
    assert.equal(b.added, 0);
    assert.equal(b.tokens, docs.map((d) => tokenizeDocument(d.text).length).reduce((x, y) => x + y));
    assert.notEqual(a.settingsHash, b.settingsHash);
    const again = await store.ingest("mini", docs, { workers: 1 });
    assert.deepStrictEqual([again.reused, again.tokens], [true, 0]);
    assert.equal(scalar(store, "SELECT count(*) FROM tokenizations"), 2);
    assert.equal(scalar(store, "SELECT count(*) FROM documents"), 3);
    const words = store.terms("mini");
    const first = [...store.documents("mini")][1]!;
    assert.deepStrictEqual(Array.from(first.ids, (i) => words[i]), tokenizeDocument(docs[1]!.text));
  });
  await t.step("a custom tokenizer function is keyed by its name", async () => {
    const upper = { custom: "upper-ws-v1", fn: (s: string) => s.toUpperCase().split(" ") };
    const r = await store.ingest("mini", undefined, { tokenizer: upper });
    assert.equal(r.tokenized, 3);
    assert.equal(store.terms("mini", upper)[0], "THE");
  });
  await t.step("vocab ids match Vocab.fromCounts on the same tokens, and are reused", async () => {
    const v = await store.vocab("mini", { minFreq: 2 });
    const ref = Vocab.fromTokens(docs.map((d) => tokenizeDocument(d.text)), { minFreq: 2 });
    assert.deepStrictEqual(v.itos, [...ref.itos]);
    assert.equal(v.width, 1);
    const got = [...store.documents("mini", { vocab: { minFreq: 2 } })];
    assert.deepStrictEqual(
      got.map((d) => Array.from(d.ids)),
      docs.map((d) => Array.from(ref.numericalize(tokenizeDocument(d.text)))),
    );
    const v2 = await store.vocab("mini", { minFreq: 2 });
    assert.equal(v2.id, v.id);
    const v3 = await store.vocab("mini", { minFreq: 1 });
    assert.notEqual(v3.id, v.id);
    assert.ok(v3.itos.length > v.itos.length);
  });
  await t.step("filters and plain SQL", () => {
    const valid = [...store.documents("mini", { split: "valid" })];
    assert.deepStrictEqual(valid.map((d) => d.idx), [2]);
    assert.deepStrictEqual([...store.documents("mini", { label: "pos" })].map((d) => d.idx), [0, 2]);
    const byLabel = store.db.prepare(
      "SELECT label, count(*) AS n FROM documents d JOIN corpora c ON c.id = d.corpus_id WHERE c.name = 'mini' GROUP BY label ORDER BY label",
    ).all();
    assert.deepStrictEqual(byLabel.map((r) => [r.label, r.n]), [["neg", 1], ["pos", 2]]);
  });
  await t.step("errors: unknown corpus, incomplete corpus, changed source, missing vocab", async () => {
    await assert.rejects(() => store.ingest("nope", undefined, { tokenizer: WS }), /no corpus "nope"/);
    assert.throws(() => [...store.documents("mini", { vocab: { minFreq: 7 } })], /no vocabulary/);
    const gen = function* () {
      yield { text: "one" };
      yield { text: "two" };
      throw new Error("reader failed");
    };
    await assert.rejects(
      () => store.ingest("partial", gen(), { tokenizer: WS, chunkSize: 1, workers: 0 }),
      /reader failed/,
    );
    // the chunk in flight when the reader failed was not committed; resuming redoes it
    assert.equal(scalar(store, "SELECT n_docs FROM corpora WHERE name = 'partial'"), 1);
    await assert.rejects(
      () => store.ingest("partial", undefined, { tokenizer: WS }),
      /incomplete \(1 documents\)/,
    );
    await assert.rejects(
      () => store.ingest("partial", [{ text: "CHANGED" }, { text: "two" }], { tokenizer: WS, workers: 0 }),
      /differs from the stored documents at 0/,
    );
    const ok = await store.ingest("partial", [{ text: "one" }, { text: "two" }, { text: "three" }], {
      tokenizer: WS,
      workers: 0,
    });
    assert.deepStrictEqual([ok.added, ok.docs], [2, 3]);
  });
  store.close();
});

Deno.test("id BLOB codecs use the smallest width and round-trip", () => {
  assert.deepStrictEqual([widthFor(9), widthFor(256), widthFor(257), widthFor(65536), widthFor(65537)], [
    1,
    1,
    2,
    2,
    4,
  ]);
  const ids = Int32Array.of(0, 1, 255, 65535, 70000, 2 ** 31 - 1);
  const b4 = encodeIds(ids, 4);
  assert.deepStrictEqual(Array.from(b4.subarray(0, 8)), [0, 0, 0, 0, 1, 0, 0, 0]);
  assert.deepStrictEqual(decodeIds(b4, 4), ids);
  assert.deepStrictEqual(Array.from(encodeIds(Int32Array.of(258, 1), 2)), [2, 1, 1, 0]);
  assert.deepStrictEqual(decodeIds(encodeIds(ids.subarray(0, 4), 2), 2), ids.subarray(0, 4));
  assert.deepStrictEqual(decodeIds(encodeIds(ids.subarray(0, 3), 1), 1), ids.subarray(0, 3));
  assert.throws(() => decodeIds(new Uint8Array(5), 4), /not a multiple of 4/);
});

Deno.test("CSV reader -> store -> vocab -> LM and classifier batches", async () => {
  const dir = await Deno.makeTempDir();
  const csv = `${dir}/reviews.csv`;
  const rows: string[] = [];
  for (let i = 0; i < 60; i++) {
    const good = i % 2 === 0;
    rows.push(
      `${good ? "pos" : "neg"},"Review ${i}","This film was ${good ? "GREAT" : "awful"}, I ${
        good ? "loved" : "hated"
      } it."`,
    );
  }
  await Deno.writeTextFile(csv, rows.join("\n") + "\n");
  const { readCsv } = await import("../readers/csv.ts");
  const { LanguageModelLoader } = await import("../lm_loader.ts");
  const { ClassifierLoader } = await import("../clas_loader.ts");
  const store = CorpusStore.open(`${dir}/c.db`);
  const res = await store.ingest("reviews", readCsv(csv), { workers: 1, chunkSize: 16 });
  assert.equal(res.added, 60);
  const vocab = await store.vocab("reviews", { minFreq: 2 });
  const docs = [...store.documents("reviews", { vocab: { minFreq: 2 } })];
  const first = docs[0]!;
  const words = Array.from(first.ids, (i) => vocab.itos[i]);
  // xxbos xxfld 1 xxmaj review 0 xxfld 2 xxmaj this film was xxup great , i loved it .
  assert.deepStrictEqual(words.slice(0, 3), ["xxbos", "xxfld", "1"]);
  assert.ok(words.includes("xxup") && words.includes("great"));
  assert.equal(words.filter((w) => w === "xxunk").length, 1, "the unique review number is unknown");
  const lm = new LanguageModelLoader(docs.map((d) => d.ids), { bs: 4, bptt: 10, mode: "v2", seed: 1 });
  let n = 0;
  for (const b of lm.batches()) n += b.bs * b.seqLen;
  assert.equal(n, 4 * lm.streamLength);
  const labels = Int32Array.from(docs, (d) => (d.label === "pos" ? 1 : 0));
  const clas = new ClassifierLoader(docs.map((d) => d.ids), labels, { bs: 16 });
  const batches = [...clas.batches()];
  assert.equal(batches.length, 4);
  assert.equal(batches.reduce((s, b) => s + b.rows, 0), 60);
  store.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("CorpusStore.ingest() tokenizes with a subword model on workers, keyed by the model's content", async () => {
  const { SubwordTokenizer } = await import("../subword/subword.ts");
  const dir = await Deno.makeTempDir();
  try {
    const texts = ["the cat sat on the mat", "a dog ate the bone", "cats and dogs sat together", "the end"];
    const corpus = Array.from({ length: 40 }, (_, i) => texts[i % texts.length]!);
    const tok = SubwordTokenizer.train(corpus, { vocabSize: 300, characterCoverage: 1 });
    const model = `${dir}/sp.json`;
    await tok.save(model);
    const store = CorpusStore.open(`${dir}/c.sqlite`);
    const spec = { name: "subword", model } as const;
    const docs = texts.map((text, i) => ({ text, label: String(i % 2) }));
    const res = await store.ingest("sub", docs, { tokenizer: spec, workers: 1 });
    const terms = store.terms("sub", spec);
    const stored = [...store.documents("sub", { tokenizer: spec })].map((d) =>
      [...d.ids].map((i) => terms[i])
    );
    assert.deepEqual(stored, texts.map((t) => tok.encodePieces(t)));
    assert.equal(res.tokens, texts.reduce((n, t) => n + tok.encodePieces(t).length, 0));
    // A different model at the same path is a different tokenization: nothing stale is reused.
    await SubwordTokenizer.train(corpus, { vocabSize: 280, characterCoverage: 1 }).save(model);
    const again = await store.ingest("sub", docs, { tokenizer: spec, workers: 1 });
    assert.equal(again.reused, false);
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CorpusStore queries: corpusNames, isTokenized, completeVocab, describe", async (t) => {
  const store = CorpusStore.open(":memory:");
  try {
    const docs = [
      { text: "a b a", label: "pos", split: "train" },
      { text: "b c", label: "neg", split: "train" },
      { text: "a c c", split: "valid" },
    ];
    await store.ingest("first", docs, { tokenizer: WS, workers: 0, source: "test:first" });
    await store.ingest("second", [{ text: "x y" }], { tokenizer: WS, workers: 0 });
    await t.step("names in creation order; the path it was opened from", () => {
      assert.deepStrictEqual(store.corpusNames(), ["first", "second"]);
      assert.equal(store.path, ":memory:");
    });
    await t.step("tokenized with these settings only", () => {
      assert.equal(store.isTokenized("first", WS), true);
      assert.equal(store.isTokenized("first"), false, "the default word tokenizer never ran");
      assert.equal(store.isTokenized("nope", WS), false);
    });
    await t.step("a vocabulary is returned once built, by its parameters", async () => {
      const params = { maxVocab: 100, minFreq: 1, padToMultiple: 0 };
      assert.equal(store.completeVocab("first", params, WS), undefined);
      const v = await store.vocab("first", { ...params, tokenizer: WS });
      assert.deepStrictEqual(store.completeVocab("first", params, WS), v.itos);
      assert.equal(store.completeVocab("first", { ...params, minFreq: 2 }, WS), undefined);
    });
    await t.step("describe(): documents per split and label, tokenizations, vocabularies", () => {
      const [first, second] = store.describe();
      assert.equal(first!.name, "first");
      assert.equal(first!.source, "test:first");
      assert.deepStrictEqual([first!.nDocs, first!.complete], [3, true]);
      assert.deepStrictEqual(first!.groups, [
        { split: "train", label: "neg", n: 1 },
        { split: "train", label: "pos", n: 1 },
        { split: "valid", label: null, n: 1 },
      ]);
      const [tz] = first!.tokenizations;
      assert.deepStrictEqual([tz!.nDocs, tz!.nTokens, tz!.complete], [3, 8, true]);
      assert.ok(tz!.settings.includes('"whitespace"'), tz!.settings);
      assert.deepStrictEqual(tz!.vocabs.map((v) => [v.params, v.complete]), [
        ['{"maxVocab":100,"minFreq":1,"padToMultiple":0}', true],
      ]);
      assert.deepStrictEqual([second!.name, second!.source, second!.tokenizations[0]!.vocabs], [
        "second",
        null,
        [],
      ]);
    });
  } finally {
    store.close();
  }
});

function sourceOf(docs: Iterable<TextRecord>, desc: string) {
  const h = new RecordHasher();
  for (const d of docs) h.add(d);
  return { hash: h.digest(), nDocs: h.count, desc };
}

Deno.test("CorpusStore never hides a changed source (#13 fault 6)", async (t) => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/s.sqlite`;
  const a = [{ text: "a b a", label: "x" }, { text: "b c", label: "y" }];
  const b = [...a, { text: "c d", label: "x" }];
  const store = CorpusStore.open(path);
  const opts = { tokenizer: WS, workers: 0 };
  try {
    await t.step(
      "the source is recorded; the same content is reused, another one is an error naming both",
      async () => {
        await store.ingest("c", a, { ...opts, sourceInfo: sourceOf(a, "csv:a.csv") });
        const again = await store.ingest("c", a, { ...opts, sourceInfo: sourceOf(a, "csv:copy-of-a.csv") });
        assert.ok(again.reused);
        await assert.rejects(
          store.ingest("c", b, { ...opts, sourceInfo: sourceOf(b, "csv:b.csv") }),
          /corpus "c" was stored from csv:a\.csv \(2 documents, sha256 [0-9a-f]{12}\); the source given now is csv:b\.csv \(3 documents.*another --name, or pass --replace/,
        );
        assert.equal(scalar(store, "SELECT n_docs FROM corpora WHERE name = 'c'"), 2);
      },
    );
    await t.step(
      "--replace: a failing new source leaves the old corpus whole; a finished one is swapped in",
      async () => {
        const broken = (async function* () {
          yield* b.slice(0, 2);
          throw new Error("read error");
        })();
        await assert.rejects(
          store.ingest("c", broken, {
            ...opts,
            chunkSize: 1,
            sourceInfo: sourceOf(b, "csv:b.csv"),
            replace: true,
          }),
          /read error/,
        );
        assert.deepEqual([...store.documents("c", { tokenizer: WS })].map((d) => d.label), ["x", "y"]);
        const r = await store.ingest("c", b, {
          ...opts,
          sourceInfo: sourceOf(b, "csv:b.csv"),
          replace: true,
        });
        assert.ok(r.replaced);
        assert.deepEqual(store.corpusNames(), ["c"]);
        assert.deepEqual([...store.documents("c", { tokenizer: WS })].map((d) => d.label), ["x", "y", "x"]);
        assert.equal(scalar(store, "SELECT count(*) FROM documents"), 3, "the old documents are gone");
      },
    );
    await t.step("a corpus stored before sources were recorded is compared by its documents", async () => {
      store.db.exec("DELETE FROM corpus_sources");
      const same = await store.ingest("c", b, { ...opts, sourceInfo: sourceOf(b, "csv:b.csv") });
      assert.ok(same.reused);
      assert.equal(scalar(store, "SELECT count(*) FROM corpus_sources"), 1, "recorded on the way");
      store.db.exec("DELETE FROM corpus_sources");
      await assert.rejects(
        store.ingest("c", a, { ...opts, sourceInfo: sourceOf(a, "csv:a.csv") }),
        /differs/,
      );
    });
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CorpusStore never writes into another program's database (#13 fault 7)", async (t) => {
  const dir = await Deno.makeTempDir();
  const sha = async (p: string) =>
    [...new Uint8Array(await crypto.subtle.digest("SHA-256", await Deno.readFile(p)))].join();
  try {
    await t.step("a foreign database is refused, read-only or not, and left byte for byte", async () => {
      const foreign = `${dir}/app.db`;
      const db = new DatabaseSync(foreign);
      db.exec("CREATE TABLE users (name TEXT)");
      db.close();
      const before = await sha(foreign);
      for (const readOnly of [true, false]) {
        assert.throws(
          () => CorpusStore.open(foreign, { readOnly }),
          /app\.db: a SQLite database of another program/,
        );
      }
      assert.equal(await sha(foreign), before);
    });
    await t.step(
      "a new store is marked (application_id, user_version); read-only opens change nothing",
      async () => {
        const path = `${dir}/s.sqlite`;
        const s = CorpusStore.open(path);
        await s.ingest("c", [{ text: "a b" }], { tokenizer: WS, workers: 0 });
        assert.equal(scalar(s, "PRAGMA application_id"), STORE_APPLICATION_ID);
        assert.equal(scalar(s, "PRAGMA user_version"), 1);
        s.close();
        const before = await sha(path);
        const ro = CorpusStore.open(path, { readOnly: true });
        assert.deepEqual(ro.corpusNames(), ["c"]);
        assert.throws(() => ro.db.exec("DELETE FROM corpora"), /readonly/);
        ro.close();
        assert.equal(await sha(path), before);
      },
    );
    await t.step("an unmarked store of ours (from before the marking) is recognised and marked", () => {
      const path = `${dir}/old.sqlite`;
      const s = CorpusStore.open(path);
      s.db.exec("PRAGMA application_id = 0");
      s.close();
      const again = CorpusStore.open(path);
      assert.equal(scalar(again, "PRAGMA application_id"), STORE_APPLICATION_ID);
      again.close();
    });
    await t.step("errors name the file: not a database, a folder", () => {
      Deno.writeTextFileSync(`${dir}/t.txt`, "just text, no database here at all");
      assert.throws(() => CorpusStore.open(`${dir}/t.txt`), /t\.txt: not a SQLite database/);
      assert.throws(() => CorpusStore.open(dir), /: is a folder, not a corpus store/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CorpusStore: concurrent writers of one corpus wait for each other (#13 fault 8)", async (t) => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/s.sqlite`;
  const docs = [...syntheticCorpus(400)];
  try {
    await t.step("two ingests at once: both succeed, the second reuses the first's work", async () => {
      const [s1, s2] = [CorpusStore.open(path), CorpusStore.open(path)];
      const info = sourceOf(docs, "synthetic");
      const run = (s: CorpusStore) =>
        s.ingest("synthetic", docs, { tokenizer: WS, workers: 0, chunkSize: 20, sourceInfo: info });
      const [r1, r2] = await Promise.all([run(s1), run(s2)]);
      assert.deepEqual([r1.reused, r2.reused].sort(), [false, true]);
      assert.equal(checkConsistent(s1), 400);
      const [v1, v2] = await Promise.all([
        s1.vocab("synthetic", { tokenizer: WS }),
        s2.vocab("synthetic", { tokenizer: WS }),
      ]);
      assert.deepEqual(v1.itos, v2.itos);
      s1.close();
      s2.close();
    });
    await t.step("a writer that does not finish in time: an error naming the other process", async () => {
      const held = await claimCorpus(path, "synthetic");
      const s = CorpusStore.open(path);
      const waits: string[] = [];
      await assert.rejects(
        s.ingest("synthetic", docs, { tokenizer: WS, workers: 0, waitMs: 300, onWait: (l) => waits.push(l) }),
        new RegExp(`another process is writing corpus "synthetic" \\(pid ${Deno.pid}, since `),
      );
      assert.match(waits[0]!, /waiting for pid \d+, which is writing corpus "synthetic"/);
      held.release();
      assert.ok((await s.ingest("synthetic", docs, { tokenizer: WS, workers: 0 })).reused);
      s.close();
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".lock")), []);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
