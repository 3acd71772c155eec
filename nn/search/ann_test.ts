import { deepStrictEqual as assertEquals, ok as assert, rejects, throws } from "node:assert/strict";
import { Rng } from "../../gpu/rng.ts";
import { annAvailable, UsearchIndex } from "./ann.ts";
import { ExactIndex } from "./exact.ts";
import { normalizeRows, recallAtK } from "./types.ts";

const available = await annAvailable();
if (available !== true) console.warn(`usearch tests ignored: ${available}`);
const ignore = available !== true;

/** `n` vectors around `centres` random centres (clustered, like word vectors), row-major. */
function clustered(rng: Rng, n: number, dim: number, centres: number): Float32Array {
  const c = Float32Array.from({ length: centres * dim }, () => rng.normal());
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const k = rng.int(centres);
    for (let d = 0; d < dim; d++) out[i * dim + d] = c[k * dim + d]! + 0.6 * rng.normal();
  }
  return out;
}

Deno.test({
  name: "UsearchIndex.search() finds the exact neighbours (recall@10 >= 0.95) with true cosine scores",
  ignore,
  async fn() {
    const rng = new Rng(11), dim = 32;
    const db = clustered(rng, 3000, dim, 40), q = clustered(rng, 200, dim, 40);
    const ann = await UsearchIndex.create(dim, { expansionSearch: 200 });
    const exact = new ExactIndex(dim);
    assertEquals([ann.add(db), exact.add(db)], [0, 0]);
    assertEquals(ann.size, 3000);
    const [a, e] = [await ann.search(q, 10), await exact.search(q, 10)];
    const recall = recallAtK(a, e);
    assert(recall >= 0.95, `recall@10 ${recall}`);
    // every returned score is the cosine of the query and the returned id's vector
    const dbn = normalizeRows(Float32Array.from(db), dim), qn = normalizeRows(Float32Array.from(q), dim);
    for (let i = 0; i < a.ids.length; i++) {
      const id = a.ids[i]!, qi = Math.floor(i / 10);
      let s = 0;
      for (let d = 0; d < dim; d++) s += qn[qi * dim + d]! * dbn[id * dim + d]!;
      assert(Math.abs(s - a.scores[i]!) < 1e-5, `query ${qi} id ${id}: score ${a.scores[i]} vs cosine ${s}`);
      if (i % 10 > 0) assert(a.scores[i]! <= a.scores[i - 1]! + 1e-6, "scores not descending");
    }
    ann.dispose();
    exact.dispose();
  },
});

Deno.test({
  name: "UsearchIndex save/open/view round-trip; bad files and misuse are named",
  ignore,
  async fn(t) {
    const dir = await Deno.makeTempDir();
    const rng = new Rng(5), dim = 8;
    const db = clustered(rng, 500, dim, 10), q = clustered(rng, 20, dim, 10);
    const ann = await UsearchIndex.create(dim);
    ann.add(db.subarray(0, 300 * dim));
    assertEquals(ann.add(db.subarray(300 * dim)), 300);
    const want = await ann.search(q, 5);
    const path = `${dir}/words.usearch`;
    await ann.save(path);
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["words.usearch"]);
    await t.step("open (loaded) and open (memory-mapped view) give the same results", async () => {
      for (const view of [false, true]) {
        const back = await UsearchIndex.open(path, { view });
        assertEquals([back.dim, back.size, back.readOnly], [dim, 500, view]);
        assertEquals(await back.search(q, 5), want);
        back.dispose();
      }
    });
    await t.step("a view is read-only", async () => {
      const v = await UsearchIndex.open(path, { view: true });
      throws(
        () => v.add(new Float32Array(dim)),
        (e: unknown) => e instanceof Error && /read-only/.test(e.message),
      );
    });
    await t.step("missing and corrupt files", async () => {
      await rejects(() => UsearchIndex.open(`${dir}/none.usearch`), /no index file at .*none\.usearch/);
      await Deno.writeTextFile(`${dir}/junk.usearch`, "junk");
      await rejects(
        () => UsearchIndex.open(`${dir}/junk.usearch`),
        /junk\.usearch is not a readable usearch index/,
      );
    });
    await t.step("bad rows, bad k, disposed index", async () => {
      throws(() => ann.add(new Float32Array(dim + 1)), /9 numbers are not whole rows of 8/);
      await rejects(async () => await ann.search(q, 0), /k must be a positive integer/);
      ann.dispose();
      throws(() => ann.size, /disposed/);
    });
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "UsearchIndex pads rows when the index holds fewer than k vectors",
  ignore,
  async fn() {
    const ann = await UsearchIndex.create(2);
    ann.add(Float32Array.of(1, 0, 0, 1));
    const r = await ann.search(Float32Array.of(1, 0.1), 3);
    assertEquals(Array.from(r.ids), [0, 1, -1]);
    assertEquals(r.scores[2], -Infinity);
    ann.dispose();
  },
});
