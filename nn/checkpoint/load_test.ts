import { deepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import { copyTensorsInto, loadCheckpointInto, saveCheckpoint } from "./load.ts";
import { CheckpointError, CheckpointMismatchError } from "../formats/errors.ts";
import { META_VERSION } from "./metadata.ts";
import { VERSION } from "../version.ts";
import type { TensorMap } from "../formats/tensor_map.ts";

function model(fill: number): TensorMap {
  return new Map([
    ["encoder.weight", { dtype: "f32" as const, shape: [4, 3], data: new Float32Array(12).fill(fill) }],
    ["decoder.bias", { dtype: "f32" as const, shape: [4], data: new Float32Array(4).fill(fill) }],
    ["step", { dtype: "i32" as const, shape: [1], data: new Int32Array([fill]) }],
  ]);
}

const snapshot = (m: TensorMap) => [...m].map(([k, t]) => [k, [...t.data]]);

Deno.test("loadCheckpointInto() checks everything before touching the model", async (t) => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/lm.safetensors`;
  const config = { emb: 3, layers: 1 };
  await saveCheckpoint(path, model(7), { config, vocabHash: "v1", kind: "model" });
  try {
    await t.step("a good load copies every tensor and returns the metadata", async () => {
      const m = model(0);
      const meta = await loadCheckpointInto(path, m, { config, vocabHash: "v1" });
      deepStrictEqual(snapshot(m), snapshot(model(7)));
      strictEqual(meta[META_VERSION], VERSION);
    });
    await t.step("every truncation is a typed error and leaves the model untouched", async () => {
      const bytes = await Deno.readFile(path);
      const cut = `${dir}/cut.safetensors`;
      for (let len = 0; len < bytes.length; len += 7) {
        await Deno.writeFile(cut, bytes.subarray(0, len));
        const m = model(1);
        await rejects(loadCheckpointInto(cut, m), CheckpointError);
        deepStrictEqual(snapshot(m), snapshot(model(1)), `model changed by a file cut at ${len}`);
      }
    });
    await t.step("config / vocab / shape mismatches say which, model untouched", async () => {
      const m = model(2);
      await rejects(
        loadCheckpointInto(path, m, { vocabHash: "v2" }),
        /vocab hash differs: checkpoint v1, model v2/,
      );
      await rejects(
        loadCheckpointInto(path, m, { config: { emb: 4, layers: 1 } }),
        /"emb": stored 3, expected 4/,
      );
      const bigger = model(2);
      bigger.set("decoder.bias", { dtype: "f32", shape: [5], data: new Float32Array(5).fill(2) });
      await rejects(loadCheckpointInto(path, bigger), (e: unknown) => {
        ok(
          e instanceof CheckpointMismatchError && e.code === "shape_mismatch" && e.tensor === "decoder.bias",
        );
        return true;
      });
      deepStrictEqual(snapshot(m), snapshot(model(2)));
      strictEqual(bigger.get("encoder.weight")!.data[0], 2, "no partial copy before the shape check failed");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("copyTensorsInto() reports missing and unexpected names unless allowed", () => {
  const src = model(5);
  src.delete("step");
  const target = model(0);
  throws(
    () => copyTensorsInto(target, src),
    (e: unknown) =>
      e instanceof CheckpointMismatchError && e.code === "missing_tensor" && e.tensor === "step",
  );
  deepStrictEqual(copyTensorsInto(target, src, { allowMissing: true }), ["encoder.weight", "decoder.bias"]);
  deepStrictEqual(target.get("step")!.data, new Int32Array([0]));
  src.set("extra", { dtype: "f32", shape: [1], data: new Float32Array(1) });
  throws(
    () => copyTensorsInto(model(0), src, { allowMissing: true }),
    /model has no extra \[unexpected_tensor\]/,
  );
  const i32AsF32 = model(0);
  i32AsF32.set("step", { dtype: "f32", shape: [1], data: new Float32Array(1) });
  throws(() => copyTensorsInto(i32AsF32, model(1)), /checkpoint has i32 \[1\], the model f32 \[1\]/);
});
