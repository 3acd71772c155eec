import { deepStrictEqual, rejects, strictEqual } from "node:assert/strict";
import { readTrainState, saveTrainState } from "./train_state.ts";
import { saveCheckpoint } from "./checkpoint/load.ts";
import { checkCheckpointMetadata } from "./checkpoint/metadata.ts";
import { CheckpointMismatchError } from "./formats/errors.ts";

Deno.test("saveTrainState() / readTrainState() keep every bit of the run", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/run.safetensors`;
    const model = new Map([
      ["encoder.weight", {
        dtype: "f32" as const,
        shape: [2, 2],
        data: new Float32Array([0.1, -0, NaN, 3e-39]),
      }],
    ]);
    const optimizer = new Map([
      ["0.0.0", { dtype: "f32" as const, shape: [2, 2], data: new Float32Array([1e-30, 2, 3, 4]) }],
      ["0.0.1", { dtype: "f32" as const, shape: [2, 2], data: new Float32Array([5, 6, 7, 8]) }],
    ]);
    const position = {
      epoch: 3,
      step: 1234,
      schedPos: 0.4375,
      rng: { seed: 42, counter: 2 ** 53 - 1 },
      lrs: [1e-3, 3.8e-4],
    };
    await saveTrainState(path, { model, optimizer, position }, { config: { emb: 2 }, vocabHash: "v" });
    const back = await readTrainState(path);
    await t.step("tensors bit-exact (NaN, -0, subnormals), position exact", () => {
      const bits = (d: Float32Array | Int32Array) => new Uint32Array(d.buffer, d.byteOffset, d.length);
      deepStrictEqual(bits(back.model.get("encoder.weight")!.data), bits(model.get("encoder.weight")!.data));
      deepStrictEqual(back.optimizer, optimizer);
      deepStrictEqual(back.position, position);
      strictEqual((back.position.rng as { counter: number }).counter, 2 ** 53 - 1);
      checkCheckpointMetadata(back.metadata, { config: { emb: 2 }, vocabHash: "v" });
    });
    await t.step("a plain model checkpoint is not a training state", async () => {
      await saveCheckpoint(`${dir}/model.safetensors`, model);
      await rejects(
        readTrainState(`${dir}/model.safetensors`),
        (e: unknown) => e instanceof CheckpointMismatchError && e.code === "missing_metadata",
      );
    });
    await t.step("negative or fractional steps are refused before writing", async () => {
      await rejects(
        saveTrainState(`${dir}/bad.safetensors`, { model, optimizer, position: { epoch: 0, step: 1.5 } }),
        RangeError,
      );
      await rejects(Deno.stat(`${dir}/bad.safetensors`));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
