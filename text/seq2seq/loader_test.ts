import { strict as assert } from "node:assert";
import { seq2seqDataLoader, Seq2SeqLoader } from "./loader.ts";

/** Pair i: input of 1 + (i*7)%13 tokens, target of 1 + (i*5)%11 tokens, ids encoding (i, position). */
function pairs(n: number): { x: Int32Array[]; y: Int32Array[] } {
  const x: Int32Array[] = [], y: Int32Array[] = [];
  for (let i = 0; i < n; i++) {
    x.push(Int32Array.from({ length: 1 + ((i * 7) % 13) }, (_, t) => 10 + i * 100 + t));
    y.push(Int32Array.from({ length: 1 + ((i * 5) % 11) }, (_, t) => 20 + i * 100 + t));
  }
  return { x, y };
}

/** Row `b` of a time-major batch, pads dropped. */
function column(data: Int32Array, len: number, bs: number, b: number, pad: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < len; t++) out.push(data[t * bs + b]!);
  while (out.length && out.at(-1) === pad) out.pop();
  return out;
}

Deno.test("Seq2SeqLoader batches pairs time-major, padded at the end", async (t) => {
  const { x, y } = pairs(1003);

  await t.step("every pair once per epoch, rows intact in both tensors, pads only at the end", () => {
    const dl = new Seq2SeqLoader(x, y, { bs: 64, seed: 3 });
    assert.equal(dl.length, 16);
    for (let epoch = 0; epoch < 2; epoch++) {
      const seen = new Set<number>();
      let batches = 0;
      for (const b of dl.batches()) {
        batches++;
        assert.equal(b.x.length, b.xLen * b.bs);
        assert.equal(b.y.length, b.yLen * b.bs);
        assert.equal(b.xLen, Math.max(...b.indices.map((k) => x[k]!.length)));
        b.indices.forEach((k, r) => {
          seen.add(k);
          assert.deepStrictEqual(column(b.x, b.xLen, b.bs, r, 1), [...x[k]!]);
          assert.deepStrictEqual(column(b.y, b.yLen, b.bs, r, 1), [...y[k]!]);
          // pad at the end: position t of row r is real exactly when t < length
          for (let tt = 0; tt < b.xLen; tt++) assert.equal(b.x[tt * b.bs + r] === 1, tt >= x[k]!.length);
        });
      }
      assert.equal(batches, 16);
      assert.equal(seen.size, 1003);
    }
  });

  await t.step("sortish: the longest input first, neighbours of similar length, seeded", () => {
    const a = [...new Seq2SeqLoader(x, y, { bs: 10, seed: 1 }).batches()];
    const b = [...new Seq2SeqLoader(x, y, { bs: 10, seed: 1 }).batches()];
    const c = [...new Seq2SeqLoader(x, y, { bs: 10, seed: 2 }).batches()];
    assert.equal(a[0]!.xLen, 13);
    assert.deepStrictEqual(a.map((z) => z.indices), b.map((z) => z.indices));
    assert.notDeepStrictEqual(a.map((z) => z.indices), c.map((z) => z.indices));
    // sortish batches pad far less than batches in corpus order (lengths cycle through 1..13)
    const padded = a.reduce((s, z) => s + z.xLen * z.bs, 0);
    let inOrder = 0;
    for (let i = 0; i < x.length; i += 10) {
      inOrder += 10 * Math.max(...x.slice(i, i + 10).map((s) => s.length));
    }
    const real = x.reduce((s, z) => s + z.length, 0);
    assert.ok(padded / real < 1.35 && inOrder / real > 1.7, `padding ${padded / real} vs ${inOrder / real}`);
  });

  await t.step("validation: longest first, same order every epoch; sortBy y orders by target", () => {
    const dl = new Seq2SeqLoader(x, y, { bs: 200, shuffle: false, padIdx: 0 });
    const [e1, e2] = [[...dl.batches()], [...dl.batches()]];
    assert.deepStrictEqual(e1.map((z) => z.indices), e2.map((z) => z.indices));
    const lens = e1.flatMap((z) => z.indices.map((k) => x[k]!.length));
    assert.deepStrictEqual(lens, [...lens].sort((p, q) => q - p));
    assert.equal(e1[0]!.x[e1[0]!.xLen * e1[0]!.bs - 1], 0, "pad id 0 used");
    const byY = new Seq2SeqLoader(x, y, { bs: 200, shuffle: false, sortBy: "y" });
    const yl = [...byY.batches()].flatMap((z) => z.indices.map((k) => y[k]!.length));
    assert.deepStrictEqual(yl, [...yl].sort((p, q) => q - p));
  });

  await t.step("bad input is refused", () => {
    assert.throws(() => new Seq2SeqLoader(x, y.slice(1)), /1003 inputs but 1002 targets/);
    assert.throws(() => new Seq2SeqLoader(x, y, { bs: 0 }), /bs must be a positive integer/);
  });

  await t.step("tensor batches: (seq, batch) i32 for input and target", () => {
    const dl = seq2seqDataLoader(new Seq2SeqLoader(x.slice(0, 5), y.slice(0, 5), { bs: 3, shuffle: false }));
    assert.equal(dl.length, 2);
    const shapes: string[] = [];
    for (const b of dl) {
      shapes.push(`${b.x.shape.join("x")}/${b.y.shape.join("x")}/${b.x.dtype}`);
      b.x.dispose();
      b.y.dispose();
    }
    // inputs of lengths 1, 8, 2, 9, 3 -> sorted 9, 8, 3 | 2, 1 (pairs 3, 1, 4 | 2, 0: targets 5, 6, 10 | 11, 1)
    assert.deepStrictEqual(shapes, ["9x3/10x3/i32", "2x2/11x2/i32"]);
  });
});
