import { strict as assert } from "node:assert";
import {
  BatchNorm1d,
  Dropout,
  Embedding,
  EmbeddingDropout,
  Linear,
  RNNDropout,
  Sequential,
  WeightDropout,
} from "./mod.ts";
import { Module } from "./module.ts";
import { sum } from "../ops_reduce.ts";
import { seed } from "../../gpu/rng.ts";
import { fromArray, ones, tidy } from "../tensor.ts";

function close(a: ArrayLike<number>, e: readonly number[], tol = 1e-5): void {
  assert.equal(a.length, e.length);
  for (let i = 0; i < e.length; i++) {
    assert.ok(Math.abs(a[i]! - e[i]!) <= tol, `[${i}] expected ${e[i]}, got ${a[i]}`);
  }
}

Deno.test("Linear() computes x @ W^T + b over the last axis", () => {
  const lin = new Linear(2, 3);
  lin.weight.backend.write(lin.weight.view.storage, Float32Array.from([1, 2, 3, 4, 5, 6]));
  lin.bias!.backend.write(lin.bias!.view.storage, Float32Array.from([0.5, 0, -1]));
  tidy(() => {
    const y = lin.forward(fromArray([1, 1, 2, 0], [2, 1, 2])); // (2, 1, 2)
    assert.deepEqual(y.shape, [2, 1, 3]);
    close(y.dataSync(), [3.5, 7, 10, 2.5, 6, 9]);
  });
  assert.throws(() => lin.forward(ones([2, 3])), /does not end in 2 features/);
  lin.dispose();
});

Deno.test("Embedding() keeps the padding row at zero with no gradient", () => {
  const emb = new Embedding(5, 3, { paddingIdx: 1 });
  const w = emb.weight;
  close(w.dataSync().slice(3, 6), [0, 0, 0]);
  tidy(() => sum(emb.forward(fromArray([1, 2, 1, 2], [2, 2], { dtype: "i32" }))).backward());
  const g = w.grad!.dataSync();
  close(g.slice(3, 6), [0, 0, 0]); // padding row
  close(g.slice(6, 9), [2, 2, 2]); // row 2 used twice
  close(g.slice(0, 3), [0, 0, 0]);
  emb.dispose();
});

Deno.test("dropout masks have the documented shapes", async (t) => {
  seed(3);
  await t.step("RNNDropout: (B, 1, F), the same at every time step", () =>
    tidy(() => {
      const y = new RNNDropout(0.5).forward(ones([4, 6, 10])).dataSync();
      let zeros = 0;
      for (let b = 0; b < 4; b++) {
        for (let f = 0; f < 10; f++) {
          const v0 = y[b * 60 + f]!;
          assert.ok(v0 === 0 || Math.abs(v0 - 2) < 1e-6, "kept values are scaled by 1/(1-p)");
          if (v0 === 0) zeros++;
          for (let s = 1; s < 6; s++) assert.equal(y[b * 60 + s * 10 + f], v0, `b${b} f${f} t${s}`);
        }
      }
      assert.ok(zeros > 5 && zeros < 35, `about half of 40 masked, got ${zeros}`);
    }));
  await t.step("EmbeddingDropout: whole rows (V, 1)", () =>
    tidy(() => {
      const w = new EmbeddingDropout(0.5).forward(ones([50, 4])).dataSync();
      let dropped = 0;
      for (let r = 0; r < 50; r++) {
        const row = Array.from(w.slice(r * 4, r * 4 + 4));
        assert.ok(row.every((v) => v === row[0]), `row ${r} is all kept or all dropped`);
        if (row[0] === 0) dropped++;
      }
      assert.ok(dropped > 10 && dropped < 40, `dropped ${dropped} of 50 rows`);
    }));
  await t.step("WeightDropout/Dropout: element masks; identity in eval mode", () =>
    tidy(() => {
      const wd = new WeightDropout(0.5);
      const a = Array.from(wd.forward(ones([8, 8])).dataSync()),
        b = Array.from(wd.forward(ones([8, 8])).dataSync());
      assert.notDeepEqual(a, b, "resampled every forward");
      assert.ok(a.some((v) => v === 0) && a.some((v) => v === 2));
      const d = new Dropout(0.3);
      d.eval();
      close(d.forward(ones([3])).dataSync(), [1, 1, 1]);
    }));
  await t.step("bad p", () => assert.throws(() => new RNNDropout(1), /\[0, 1\), got 1/));
});

Deno.test("BatchNorm1d() normalises with batch statistics and tracks running ones", () => {
  const bn = new BatchNorm1d(2);
  tidy(() => {
    const y = bn.forward(fromArray([1, 10, 3, 20], [2, 2]));
    const s = 1 / Math.sqrt(1 + 1e-5), s2 = 5 / Math.sqrt(25 + 1e-5);
    close(y.dataSync(), [-s, -s2, s, s2]);
  });
  // running mean = 0.1 * batch mean; running var = 0.9 + 0.1 * unbiased var (2 and 50)
  close(bn.runningMean.dataSync(), [0.2, 1.5]);
  close(bn.runningVar.dataSync(), [0.9 + 0.2, 0.9 + 5]);
  bn.eval();
  tidy(() => close(bn.forward(fromArray([0.2, 1.5], [1, 2])).dataSync(), [0, 0]));
  bn.dispose();
});

Deno.test("Module parameters: tied weights share storage and are listed once", () => {
  const emb = new Embedding(6, 4);
  const dec = new Linear(4, 6);
  dec.tieWeight(emb.weight);
  class LM extends Module {
    constructor() {
      super();
      this.registerModule("encoder", emb);
      this.registerModule("decoder", dec);
    }
  }
  const lm = new LM();
  assert.equal(dec.weight, emb.weight);
  assert.equal(dec.weight.view.storage, emb.weight.view.storage);
  assert.deepEqual(lm.namedParameters().map(([n]) => n), ["encoder.weight", "decoder.bias"]);
  const seq = new Sequential([new Linear(2, 2)]);
  assert.deepEqual(seq.namedParameters().map(([n]) => n), ["0.weight", "0.bias"]);
  lm.dispose();
  seq.dispose();
});
