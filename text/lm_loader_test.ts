import { strict as assert } from "node:assert";
import { LanguageModelLoader, type LmBatch } from "./lm_loader.ts";

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
const row = (b: LmBatch, j: number, which: "x" | "y" = "x") =>
  Array.from(b[which].subarray(j * b.seqLen, (j + 1) * b.seqLen));

Deno.test("LanguageModelLoader v0.7 lays out the lesson's 90 tokens as 6 streams of 15", async (t) => {
  const tokens = Int32Array.from(range(0, 90));
  await t.step("fixed bptt 5: three batches, the last one shorter", () => {
    const dl = new LanguageModelLoader([tokens.subarray(0, 40), tokens.subarray(40)], {
      bs: 6,
      bptt: 5,
      randomBptt: false,
    });
    assert.equal(dl.streamLength, 15);
    const bs = [...dl.batches()];
    assert.equal(bs.length, dl.length);
    assert.deepStrictEqual(bs.map((b) => [b.bs, b.seqLen]), [[6, 5], [6, 5], [6, 4]]);
    // batch 0 is the lesson's first 6x5 block
    assert.deepStrictEqual(Array.from(bs[0]!.x), [
      ...[0, 1, 2, 3, 4],
      ...[15, 16, 17, 18, 19],
      ...[30, 31, 32, 33, 34],
      ...[45, 46, 47, 48, 49],
      ...[60, 61, 62, 63, 64],
      ...[75, 76, 77, 78, 79],
    ]);
    assert.deepStrictEqual(row(bs[1]!, 2), [35, 36, 37, 38, 39]);
    assert.deepStrictEqual(row(bs[1]!, 2, "y"), [36, 37, 38, 39, 40]);
    assert.deepStrictEqual(row(bs[2]!, 5), [85, 86, 87, 88]);
    assert.deepStrictEqual(row(bs[2]!, 5, "y"), [86, 87, 88, 89]);
  });
  await t.step("remainder tokens are dropped", () => {
    const dl = new LanguageModelLoader(Int32Array.from(range(0, 95)), { bs: 6, bptt: 5, randomBptt: false });
    const last = [...dl.batches()].at(-1)!;
    assert.deepStrictEqual(row(last, 5, "y"), [86, 87, 88, 89]);
  });
  await t.step("backwards reverses each stream", () => {
    const dl = new LanguageModelLoader(tokens, { bs: 6, bptt: 5, randomBptt: false, backwards: true });
    const [b0] = dl.batches();
    assert.deepStrictEqual(row(b0!, 0), [14, 13, 12, 11, 10]);
    assert.deepStrictEqual(row(b0!, 1, "y"), [28, 27, 26, 25, 24]);
  });
});

Deno.test("LanguageModelLoader v0.7 random bptt keeps every stream continuous and is seeded", async (t) => {
  const n = 40_000;
  const tokens = Int32Array.from(range(0, n));
  const bs = 8;
  const bptt = 70;
  const lens = (seed: number) =>
    [...new LanguageModelLoader(tokens, { bs, bptt, seed }).batches()].map((b) => b.seqLen);
  await t.step("row j of batch k+1 continues row j of batch k; y is x shifted", () => {
    const dl = new LanguageModelLoader(tokens, { bs, bptt, seed: 3 });
    const L = dl.streamLength;
    const next = Array.from({ length: bs }, (_, j) => j * L);
    let count = 0;
    for (const b of dl.batches()) {
      for (let j = 0; j < bs; j++) {
        const x = row(b, j);
        assert.deepStrictEqual(x, range(next[j]!, next[j]! + b.seqLen));
        assert.deepStrictEqual(row(b, j, "y"), range(next[j]! + 1, next[j]! + 1 + b.seqLen));
        next[j]! += b.seqLen;
      }
      count++;
    }
    assert.equal(count, dl.length); // stops at fastai 0.7's cap n // bptt - 1 = 70
    assert.equal(count, Math.floor(L / bptt) - 1);
  });
  await t.step("lengths: first bptt+25, then >= 5, mostly around bptt, sometimes around bptt/2", () => {
    const all: number[] = [];
    for (let s = 0; s < 20; s++) all.push(...lens(s).slice(1, -1));
    assert.equal(lens(1)[0], bptt + 25);
    assert.ok(all.every((l) => l >= 5));
    const half = all.filter((l) => l < 50).length / all.length;
    assert.ok(half > 0.02 && half < 0.09, `short fraction ${half}`);
    const full = all.filter((l) => l >= 50);
    const mean = full.reduce((a, b) => a + b, 0) / full.length;
    const sd = Math.sqrt(full.reduce((a, b) => a + (b - mean) ** 2, 0) / full.length);
    assert.ok(Math.abs(mean - bptt) < 0.6, `mean ${mean}`);
    assert.ok(Math.abs(sd - 5) < 0.5, `sd ${sd}`);
  });
  await t.step("rounding: trunc gives fastai 0.7's int() of the same draws", () => {
    const a = [...new LanguageModelLoader(tokens, { bs, bptt, seed: 9 }).batches()].map((b) => b.seqLen);
    const b = [...new LanguageModelLoader(tokens, { bs, bptt, seed: 9, rounding: "trunc" }).batches()].map((
      b,
    ) => b.seqLen);
    const pairs = a.slice(1, -1).map((x, i) => x - b[i + 1]!);
    assert.ok(pairs.every((d) => d === 0 || d === 1), "round(x) - trunc(x) is 0 or 1");
    assert.ok(pairs.includes(1) && pairs.includes(0));
  });
  await t.step("same seed same lengths; new epoch and other seeds differ", () => {
    assert.deepStrictEqual(lens(7), lens(7));
    assert.notDeepStrictEqual(lens(7), lens(8));
    const dl = new LanguageModelLoader(tokens, { bs, bptt, seed: 7 });
    const e1 = [...dl.batches()].map((b) => b.seqLen);
    const e2 = [...dl.batches()].map((b) => b.seqLen);
    assert.deepStrictEqual(e1, lens(7));
    assert.notDeepStrictEqual(e1, e2);
  });
});

Deno.test("LanguageModelLoader v2 uses fixed seq_len streams over reshuffled documents", async (t) => {
  await t.step("91 tokens, bs 6: streams of 15, the target crosses into the next stream", () => {
    const dl = new LanguageModelLoader(Int32Array.from(range(0, 91)), {
      bs: 6,
      bptt: 5,
      mode: "v2",
      shuffle: false,
    });
    assert.equal(dl.streamLength, 15);
    const bs = [...dl.batches()];
    assert.deepStrictEqual(bs.map((b) => b.seqLen), [5, 5, 5]);
    assert.deepStrictEqual(row(bs[0]!, 1), [15, 16, 17, 18, 19]);
    assert.deepStrictEqual(row(bs[2]!, 0, "y"), [11, 12, 13, 14, 15]);
    assert.deepStrictEqual(row(bs[2]!, 5, "y"), [86, 87, 88, 89, 90]);
  });
  await t.step("90 tokens, bs 6: streams of 14, last batch of 4", () => {
    const dl = new LanguageModelLoader(Int32Array.from(range(0, 90)), {
      bs: 6,
      bptt: 5,
      mode: "v2",
      shuffle: false,
    });
    const bs = [...dl.batches()];
    assert.deepStrictEqual(bs.map((b) => b.seqLen), [5, 5, 4]);
    assert.deepStrictEqual(row(bs[2]!, 3, "x"), [52, 53, 54, 55]);
  });
  await t.step("documents reshuffled each epoch, each kept whole", () => {
    const docs = Array.from({ length: 12 }, (_, d) => Int32Array.from(range(d * 100, d * 100 + 10)));
    const dl = new LanguageModelLoader(docs, { bs: 2, bptt: 7, mode: "v2", seed: 5 });
    const epochOrder = () => {
      const bs = [...dl.batches()];
      const stream: number[] = [];
      for (let j = 0; j < 2; j++) for (const b of bs) stream.push(...row(b, j));
      stream.push(row(bs.at(-1)!, 1, "y").at(-1)!);
      const order: number[] = [];
      for (let k = 0; k + 10 <= stream.length; k += 10) {
        const d = Math.floor(stream[k]! / 100);
        assert.deepStrictEqual(stream.slice(k, k + 10), range(d * 100, d * 100 + 10));
        order.push(d);
      }
      return order;
    };
    const o1 = epochOrder();
    const o2 = epochOrder();
    assert.equal(new Set(o1).size, o1.length);
    assert.notDeepStrictEqual(o1, o2);
    assert.notDeepStrictEqual(o1, range(0, o1.length));
  });
  await t.step("backwards reverses the corpus", () => {
    const dl = new LanguageModelLoader(Int32Array.from(range(0, 91)), {
      bs: 6,
      bptt: 5,
      mode: "v2",
      backwards: true,
    });
    assert.deepStrictEqual(row([...dl.batches()][0]!, 0), [90, 89, 88, 87, 86]);
  });
  await t.step("too few tokens is a clear error", () => {
    assert.throws(() => new LanguageModelLoader(Int32Array.of(1, 2, 3), { bs: 4 }), /3 tokens are too few/);
  });
});
