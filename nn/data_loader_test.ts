import { strict as assert } from "node:assert";
import { Rng } from "../gpu/rng.ts";
import { classifierDataLoader, lmDataLoader, splitIndices } from "./data_loader.ts";

Deno.test("lmDataLoader()/classifierDataLoader() turn host batches into tensors", () => {
  const lm = lmDataLoader({
    length: 1,
    *batches() {
      yield { x: Int32Array.of(1, 2, 3, 4, 5, 6), y: Int32Array.of(2, 3, 4, 5, 6, 7), bs: 2, seqLen: 3 };
    },
  });
  assert.equal(lm.length, 1);
  const [b] = [...lm];
  assert.deepEqual([b!.x.shape, b!.y.shape, b!.x.dtype], [[2, 3], [2, 3], "i32"]);
  assert.deepEqual(Array.from(b!.y.dataSync()), [2, 3, 4, 5, 6, 7]);
  const clas = classifierDataLoader({
    length: 1,
    *batches() {
      yield { data: Int32Array.of(1, 5, 6, 7), rows: 2, cols: 2, labels: Int32Array.of(0, 1) };
    },
  });
  const [c] = [...clas];
  assert.deepEqual([c!.x.shape, c!.y.shape], [[2, 2], [2]]);
  for (const t of [b!.x, b!.y, c!.x, c!.y]) t.dispose();
});

Deno.test("splitIndices() is a seeded partition with at least one validation item", async (t) => {
  await t.step("disjoint, complete, sorted, the asked fraction", () => {
    const { train, valid } = splitIndices(100, 0.2, 42);
    assert.deepEqual(valid.length, 20);
    assert.deepEqual([...train, ...valid].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
    assert.deepEqual(train, [...train].sort((a, b) => a - b));
  });
  await t.step("same seed, same split; another seed, another split", () => {
    assert.deepEqual(splitIndices(50, 0.1, 7), splitIndices(50, 0.1, 7));
    assert.ok(splitIndices(50, 0.1, 7).valid.join() !== splitIndices(50, 0.1, 8).valid.join());
  });
  await t.step("tiny inputs keep one validation item; a fraction outside (0, 1) is refused", () => {
    assert.deepEqual(splitIndices(3, 0.01, 1).valid.length, 1);
    assert.throws(() => splitIndices(10, 1, 1), /valid fraction must be in \(0, 1\), got 1/);
  });
});

Deno.test("hostDataLoader() passes the source's generator on as the loader's rng (for training checkpoints)", () => {
  const rng = new Rng(3);
  const withRng = lmDataLoader({ length: 0, rng, batches: () => [] });
  const without = lmDataLoader({ length: 0, batches: () => [] });
  if (withRng.rng !== rng || without.rng !== undefined || "rng" in without) {
    throw new Error("rng not passed on");
  }
});
