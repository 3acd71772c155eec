import { strict as assert } from "node:assert";
import { CorpusStore } from "./store.ts";
import { PairStore } from "./pair_store.ts";
import { pairTokenizer } from "./pair_types.ts";
import { syntheticPair, syntheticPairs, WS_PAIR } from "./testdata/pair_crash_child.ts";
import { decodeIds } from "./_schema.ts";
import { whitespaceTokenize } from "../parallel.ts";
import { tokenizeDocument } from "../word_tokenizer.ts";
import type { PairRecord } from "../readers/types.ts";

function scalar(store: CorpusStore, sql: string, ...args: (string | number)[]): unknown {
  return Object.values(store.db.prepare(sql).get(...args) as Record<string, unknown>)[0];
}

/** Every structural invariant that a crash must not break; returns the pairs stored. */
function checkConsistent(store: CorpusStore, pairs: PairStore): number {
  assert.equal(scalar(store, "PRAGMA integrity_check"), "ok");
  const n = scalar(store, "SELECT n_pairs FROM pair_corpora WHERE name = 'synthetic'") as number;
  assert.equal(scalar(store, "SELECT count(*) FROM pairs"), n);
  assert.equal(scalar(store, "SELECT coalesce(max(idx) + 1, 0) FROM pairs"), n, "no gap in idx");
  assert.equal(scalar(store, "SELECT count(*) FROM pair_tokens"), n, "every pair has both sides' tokens");
  assert.equal(scalar(store, "SELECT n_pairs FROM pair_tokenizations"), n);
  for (const side of ["source", "target"] as const) {
    const nTokens = scalar(store, `SELECT ${side}_tokens FROM pair_tokenizations`) as number;
    assert.equal(scalar(store, `SELECT coalesce(sum(${side}_n), 0) FROM pair_tokens`), nTokens);
    assert.equal(
      scalar(
        store,
        `SELECT count(*) FROM pair_tokens WHERE length(${side}_ids) != ${side}_n * ${side}_width`,
      ),
      0,
    );
    // every stored term id has its term (terms are committed with the pairs that first use them)
    const nTerms = pairs.terms("synthetic", side, WS_PAIR).length;
    let maxId = -1;
    for (
      const r of store.db.prepare(`SELECT ${side}_width AS w, ${side}_ids AS b FROM pair_tokens`).iterate()
    ) {
      for (const id of decodeIds(r.b as Uint8Array, r.w as number)) maxId = Math.max(maxId, id);
    }
    assert.equal(maxId + 1, nTerms, `${side} terms`);
  }
  return n;
}

async function killMidIngest(db: string, n: number, chunk: number, after: number): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./testdata/pair_crash_child.ts", import.meta.url).pathname,
      db,
      `${n}`,
      `${chunk}`,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = 0, buf = "";
  while (seen < after) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    const m = [...buf.matchAll(/progress (\d+)/g)].at(-1);
    if (m) seen = Number(m[1]);
  }
  child.kill("SIGKILL");
  await child.status;
  await reader.cancel().catch(() => {});
}

Deno.test("PairStore survives SIGKILL mid-ingest and resumes to exactly the uninterrupted result", async () => {
  const dir = await Deno.makeTempDir();
  const db = `${dir}/pairs.db`;
  const N = 12_000, CHUNK = 200;
  await killMidIngest(db, N, CHUNK, 2000);

  let store = CorpusStore.open(db);
  let pairs = new PairStore(store);
  const stored = checkConsistent(store, pairs);
  assert.ok(stored >= 2000 && stored < N, `killed mid-way: ${stored} of ${N} stored`);
  assert.equal(stored % CHUNK, 0, "only whole chunks are committed");
  assert.equal(scalar(store, "SELECT complete FROM pair_corpora"), 0);
  assert.equal(scalar(store, "SELECT count(*) FROM pair_terms"), 0, "terms are written on completion only");
  store.close();

  store = CorpusStore.open(db);
  pairs = new PairStore(store);
  const opts = { tokenizers: WS_PAIR, settings: { synthetic: 1 }, source: "synthetic", workers: 2 };
  const res = await pairs.ingest("synthetic", syntheticPairs(N), { ...opts, chunkSize: CHUNK });
  assert.equal(res.added, N - stored);
  assert.equal(checkConsistent(store, pairs), N);
  assert.equal(scalar(store, "SELECT complete FROM pair_tokenizations"), 1);
  const want = { source: 0, target: 0 };
  for (let i = 0; i < N; i++) (want.source += 3 + (i % 17), want.target += 2 + (i % 23));
  assert.equal(scalar(store, "SELECT source_tokens FROM pair_tokenizations"), want.source);
  assert.equal(scalar(store, "SELECT sum(count) FROM pair_terms WHERE side = 'target'"), want.target);
  // the resumed store holds exactly what an uninterrupted run would: every pair's tokens, both sides
  const terms = {
    source: pairs.terms("synthetic", "source", WS_PAIR),
    target: pairs.terms("synthetic", "target", WS_PAIR),
  };
  let i = 0;
  for (const p of pairs.pairs("synthetic", { tokenizers: WS_PAIR })) {
    const w = syntheticPair(i);
    assert.equal(p.idx, i);
    assert.equal(p.id, w.id);
    assert.deepStrictEqual(Array.from(p.source, (t) => terms.source[t]), whitespaceTokenize(w.source));
    assert.deepStrictEqual(Array.from(p.target, (t) => terms.target[t]), whitespaceTokenize(w.target));
    i++;
  }
  assert.equal(i, N);
  const again = await pairs.ingest("synthetic", syntheticPairs(N), opts);
  assert.deepStrictEqual([again.reused, again.added], [true, 0]);
  store.close();
  await Deno.remove(dir, { recursive: true });
});

const EN_FR: PairRecord[] = [
  { source: "Open the file", target: "Ouvrir le fichier", id: "a#1" },
  { source: "Where is the file?", target: "Où est le fichier ?", id: "a#2" },
  { source: "Close the file", target: "Fermer le fichier", id: "a#3" },
];

Deno.test("PairStore keeps both sides apart, per language, and checks its settings", async (t) => {
  const store = CorpusStore.open(":memory:");
  const pairs = new PairStore(store);

  await t.step("opening writes nothing; an empty source creates nothing", async () => {
    assert.deepStrictEqual(pairs.names(), []);
    assert.equal(scalar(store, "SELECT count(*) FROM sqlite_master WHERE name = 'pair_corpora'"), 0);
    const r = await pairs.ingest("none", [], { workers: 0 });
    assert.deepStrictEqual([r.added, r.pairs], [0, 0]);
    assert.deepStrictEqual(pairs.names(), []);
    assert.equal(scalar(store, "SELECT value FROM meta WHERE key = 'pair_schema_version'"), "1");
  });

  await t.step("each side is tokenized with its language's rules, without xxbos", async () => {
    const r = await pairs.ingest("ui", EN_FR, { workers: 2, settings: { clean: true }, source: "test" });
    assert.deepStrictEqual([r.added, r.tokenized, r.reused], [3, 3, false]);
    const en = EN_FR.map((p) => tokenizeDocument(p.source, { lang: "en", bos: false }));
    const fr = EN_FR.map((p) => tokenizeDocument(p.target, { lang: "fr", bos: false }));
    assert.equal(r.sourceTokens, en.flat().length);
    assert.equal(r.targetTokens, fr.flat().length);
    const terms = { source: pairs.terms("ui", "source"), target: pairs.terms("ui", "target") };
    const got = [...pairs.pairs("ui", { texts: true })];
    assert.deepStrictEqual(got.map((p) => Array.from(p.target, (i) => terms.target[i])), fr);
    assert.deepStrictEqual(got.map((p) => Array.from(p.source, (i) => terms.source[i])), en);
    assert.equal(got[1]!.targetText, "Où est le fichier ?");
    assert.ok(!terms.source.includes("xxbos"));
    assert.deepStrictEqual(pairs.langs("ui"), { source: "en", target: "fr" });
  });

  await t.step("a re-run with the same settings reuses; other settings or source are errors", async () => {
    const again = await pairs.ingest("ui", EN_FR, { workers: 0, settings: { clean: true }, source: "test" });
    assert.equal(again.reused, true);
    await assert.rejects(
      pairs.ingest("ui", EN_FR, { workers: 0, settings: { clean: false }, source: "test" }),
      /pair corpus "ui" exists with other settings: settings \{"clean":false\} \(stored: \{"clean":true\}\)/,
    );
    await assert.rejects(
      pairs.ingest("ui", EN_FR, { workers: 0, settings: { clean: true }, source: "other" }),
      /source other \(stored: test\)/,
    );
    await assert.rejects(
      pairs.ingest("ui", EN_FR, {
        workers: 0,
        settings: { clean: true },
        langs: { source: "fr", target: "en" },
      }),
      /languages fr -> en \(stored: en -> fr\)/,
    );
  });

  await t.step("vocabularies per side: built once, reused, ids mapped on read", async () => {
    const fr = await pairs.vocab("ui", "target", { minFreq: 2 });
    assert.deepStrictEqual(fr.itos.slice(9), ["le", "fichier"]);
    assert.deepStrictEqual(fr.params, { maxVocab: 40000, minFreq: 2, padToMultiple: 0 });
    const again = await pairs.vocab("ui", "target", { minFreq: 2 });
    assert.equal(again.id, fr.id);
    const en = await pairs.vocab("ui", "source");
    assert.equal(en.itos.length, 9 + 7); // xxmaj open the file where is ? close: "xxmaj" is a special
    const [p0, p1] = pairs.pairs("ui", { vocabs: { target: { minFreq: 2 }, source: {} } });
    assert.deepStrictEqual(Array.from(p0!.target, (i) => fr.itos[i]), ["xxmaj", "xxunk", "le", "fichier"]);
    assert.deepStrictEqual(Array.from(p1!.source, (i) => en.itos[i]), [
      "xxmaj",
      "where",
      "is",
      "the",
      "file",
      "?",
    ]);
    assert.equal(pairs.storedVocab("ui", "target")?.id, fr.id, "the only target vocabulary");
    assert.throws(
      () => [...pairs.pairs("ui", { vocabs: { target: { minFreq: 5 } } })],
      /no target vocabulary/,
    );
  });

  await t.step("a new tokenizer re-tokenizes the stored texts without the source", async () => {
    const lower = { custom: "lower", fn: (s: string) => s.toLowerCase().split(" ") };
    const tokenizers = { source: lower, target: pairTokenizer("fr") };
    assert.throws(() => pairs.terms("ui", "source", tokenizers), /not tokenized with the current tokenizers/);
    const r = await pairs.ingest("ui", undefined, { tokenizers });
    assert.deepStrictEqual([r.added, r.tokenized, r.reused], [0, 3, false]);
    assert.deepStrictEqual(pairs.terms("ui", "source", tokenizers).slice(0, 3), ["open", "the", "file"]);
    assert.equal(pairs.describe()[0]!.tokenizations.length, 2);
  });

  await t.step("a source that fails part-way keeps whole chunks and resumes", async () => {
    function* failing(n: number) {
      for (let i = 0; i < n; i++) {
        if (i === 25) throw new Error("disk gone");
        yield syntheticPair(i);
      }
    }
    const opts = { tokenizers: WS_PAIR, workers: 0, chunkSize: 10 };
    await assert.rejects(pairs.ingest("syn", failing(40), opts), /disk gone/);
    // chunks read ahead but not committed when the source failed are read again on resume
    const kept = pairs.describe().find((c) => c.name === "syn")!.nPairs;
    assert.ok(kept > 0 && kept < 25 && kept % 10 === 0, `${kept} pairs kept`);
    await assert.rejects(
      pairs.ingest("syn", syntheticPairs(40).drop(1), opts),
      new RegExp(`differs from the stored pairs at ${kept - 1}`),
    );
    const r = await pairs.ingest("syn", syntheticPairs(40), opts);
    assert.deepStrictEqual([r.added, r.pairs], [40 - kept, 40]);
    const d = pairs.describe().find((c) => c.name === "syn")!;
    assert.deepStrictEqual([d.nPairs, d.complete, d.tokenizations[0]!.complete], [40, true, true]);
  });
  store.close();
});
