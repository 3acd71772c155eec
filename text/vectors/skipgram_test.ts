import { strict as assert } from "node:assert";
import { trainSkipGram, trainSkipGramVectors } from "./skipgram.ts";
import { buildSkipGramCorpus } from "./_skipgram_corpus.ts";
import { loadVectorsText } from "./text_format.ts";
import { CosineIndex } from "./neighbours.ts";
import { Rng } from "../../gpu/rng.ts";
import { rejectsReader } from "../readers/_test_helpers.ts";

Deno.test("buildSkipGramCorpus() counts, cuts at minCount, sorts by count and splits long lines", async (t) => {
  await t.step("lines of text, </s> per line, rare words dropped from the stream", async () => {
    const c = await buildSkipGramCorpus(["b a b c", "a b", "d"], {
      minCount: 2,
      eos: "</s>",
      maxLineTokens: 1024,
    });
    assert.deepEqual(c.words, ["b", "</s>", "a"]);
    assert.deepEqual(Array.from(c.counts), [3, 3, 2]);
    assert.equal(c.totalTokens, 10);
    // b a b </s> | a b </s> | </s>   (c and d dropped)
    assert.deepEqual(Array.from(c.ids), [0, 2, 0, 1, 2, 0, 1, 1]);
    assert.deepEqual(Array.from(c.lineStarts), [0, 4, 7, 8]);
  });
  await t.step("token lists, no eos, long lines cut", async () => {
    const c = await buildSkipGramCorpus([["x", "y", "x", "y", "x"]], {
      minCount: 1,
      eos: null,
      maxLineTokens: 2,
    });
    assert.deepEqual(c.words, ["x", "y"]);
    assert.deepEqual(Array.from(c.lineStarts), [0, 2, 4, 5]);
  });
  await t.step("a file, with whitespace runs and blank lines; bad UTF-8 is an error", async () => {
    const p = await Deno.makeTempFile();
    await Deno.writeTextFile(p, "un  deux\ttrois\n\nun\n");
    const c = await buildSkipGramCorpus(p, { minCount: 1, eos: "</s>", maxLineTokens: 1024 });
    assert.deepEqual(c.words, ["un", "</s>", "deux", "trois"]);
    await Deno.writeFile(p, new Uint8Array([0x61, 0x0a, 0xc3, 0x28, 0x0a]));
    await rejectsReader(
      () => buildSkipGramCorpus(p, { minCount: 1, eos: null, maxLineTokens: 9 }),
      "row 2: invalid UTF-8",
    );
    await Deno.remove(p);
  });
});

/** Two topics: words of a topic co-occur in lines, never with the other topic's words. */
function topicCorpus(lines: number, seed: number): string[] {
  const rng = new Rng(seed);
  const topics = [["chat", "chien", "souris", "cheval", "vache", "lapin"], [
    "fichier",
    "menu",
    "cellule",
    "page",
    "texte",
    "tableau",
  ]];
  return Array.from({ length: lines }, () => {
    const words = topics[rng.int(2)]!;
    return Array.from({ length: 8 }, () => words[rng.int(words.length)]!).join(" ");
  });
}

Deno.test("trainSkipGram() learns co-occurrence and is reproducible on one thread", async (t) => {
  const lines = topicCorpus(3000, 1);
  const opts = { dim: 16, minCount: 1, epochs: 3, threads: 1, seed: 7, eos: null, sample: 1 };
  const a = await trainSkipGram(lines, opts);
  await t.step("neighbours of a word are words of its topic", () => {
    const index = new CosineIndex(a.vectors);
    for (
      const [w, topic] of [["chat", "chien souris cheval vache lapin"], [
        "menu",
        "fichier cellule page texte tableau",
      ]]
    ) {
      const nn = index.nearest(w!, { k: 5 }).map((n) => n.word);
      assert.deepEqual([...nn].sort(), topic!.split(" ").sort(), `${w}: ${nn}`);
    }
    assert.ok(a.final.loss > 0 && a.final.loss < 0.5, `loss ${a.final.loss}`);
    assert.equal(a.final.progress, 1);
    assert.equal(a.epochTokens, 24000);
  });
  await t.step("same seed, same vectors; another seed, other vectors", async () => {
    const b = await trainSkipGram(lines, opts);
    assert.deepEqual(b.vectors.data, a.vectors.data);
    const c = await trainSkipGram(lines, { ...opts, seed: 8 });
    assert.notDeepEqual(c.vectors.data, a.vectors.data);
  });
  await t.step("two threads (Hogwild) learn the same structure", async () => {
    const r = await trainSkipGram(lines, { ...opts, threads: 2 });
    assert.equal(r.threads, 2);
    assert.ok(r.vectors.data.every(Number.isFinite));
    const nn = new CosineIndex(r.vectors).nearest("souris", { k: 5 }).map((n) => n.word);
    assert.deepEqual(nn.sort(), ["chat", "cheval", "chien", "lapin", "vache"]);
  });
  await t.step("progress is reported and ends at 1 with lr 0", async () => {
    const seen: number[] = [];
    await trainSkipGram(lines.slice(0, 300), { ...opts, onProgress: (p) => seen.push(p.progress, p.lr) });
    assert.deepEqual(seen.slice(-2), [1, 0]);
  });
  await t.step("bad options and an empty vocabulary are errors", async () => {
    await assert.rejects(() => trainSkipGram(lines, { dim: 0 }), /dim must be a positive integer/);
    await assert.rejects(() => trainSkipGram(["a b"], { minCount: 5 }), /no word occurs 5 times/);
  });
  await t.step("a one-word vocabulary trains without negatives", async () => {
    const r = await trainSkipGram(["a a a", "a a"], { dim: 4, minCount: 1, eos: null, threads: 1 });
    assert.deepEqual(r.vectors.words, ["a"]);
  });
});

Deno.test("trainSkipGramVectors() writes a .vec and reports neighbours", async () => {
  const out = await Deno.makeTempFile({ suffix: ".vec" });
  const r = await trainSkipGramVectors(topicCorpus(1000, 2), out, {
    dim: 12,
    minCount: 1,
    epochs: 2,
    threads: 1,
    neighboursOf: ["chat", "absent"],
    k: 3,
    digits: 9,
  });
  const back = await loadVectorsText(out);
  assert.deepEqual(back.words, r.vectors.words);
  assert.deepEqual(back.data, r.vectors.data);
  assert.deepEqual(Object.keys(r.neighbours), ["chat"]);
  assert.equal(r.neighbours.chat!.length, 3);
  assert.equal(r.path, out);
  await Deno.remove(out);
});
