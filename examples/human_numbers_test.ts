import { strict as assert } from "node:assert";
import { EXPERIMENTS, loaders, runExperiment } from "./human_numbers.ts";
import { humanNumbers, makeSequences } from "../text/mod.ts";

Deno.test("human-numbers loaders: stateful batches continue each other row by row", () => {
  const seqs = makeSequences(humanNumbers().ids, 16, { everyStep: true });
  const { train, valid } = loaders(seqs, { grouped: true });
  assert.equal(train.length, Math.floor(Math.floor(seqs.n * 0.8) / 64));
  const it = train[Symbol.iterator]();
  const b0 = it.next().value!, b1 = it.next().value!;
  const x0 = b0.x.dataSync(), y0 = b0.y.dataSync(), x1 = b1.x.dataSync();
  // the target of row r's last step in batch 0 is the first token of row r in batch 1
  for (let r = 0; r < 64; r++) assert.equal(y0[r * 16 + 15], x1[r * 16], `row ${r}`);
  assert.deepEqual(b0.x.shape, [64, 16]);
  assert.ok(x0.length === 64 * 16 && valid.length > 0);
  for (const t of [b0.x, b0.y, b1.x, b1.y]) t.dispose();
});

Deno.test({
  name: "human numbers: the regularised 2-layer LSTM reaches >= 80% validation accuracy (baseline ~15%)",
  // 6 epochs of one-cycle instead of the book's 15 keep it within CI time on the CPU backend
  fn: async () => {
    const exp = EXPERIMENTS.find((e) => e.key === "reg")!;
    const r = await runExperiment(exp, { epochs: 6, quiet: true });
    console.log(
      `regularised LSTM, 6 epochs: accuracy ${r.accuracy.toFixed(4)}, baseline ${r.baseline.toFixed(4)}, ${
        r.seconds.toFixed(1)
      } s`,
    );
    assert.ok(r.baseline > 0.14 && r.baseline < 0.16, `baseline ${r.baseline}`);
    assert.ok(r.accuracy >= 0.8, `accuracy ${r.accuracy}`);
  },
});
