import { strict as assert } from "node:assert";
import { classifierDataLoader, lmDataLoader } from "./data_loader.ts";

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
