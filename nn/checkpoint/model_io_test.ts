import { deepStrictEqual, notDeepStrictEqual, ok, rejects } from "node:assert/strict";
import { AwdLstmClassifier, AwdLstmLM } from "../../text/models/awd_lstm.ts";
import { Linear } from "../layers/mod.ts";
import { seed } from "../../gpu/rng.ts";
import { CheckpointError } from "../formats/errors.ts";
import { loadEncoder, loadModel, moduleTensors, saveEncoder, saveModel } from "./model_io.ts";

const itos = ["xxunk", "xxpad", "the", "a", "cat", "dog"];
const size = { embSize: 4, nHid: 6, nLayers: 2 };

Deno.test("saveEncoder() / loadEncoder() move an LM encoder into a classifier and refuse mismatches", async (t) => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/enc.safetensors`;
  seed(1);
  const lm = new AwdLstmLM(itos.length, size);
  await saveEncoder(lm, path, { itos });
  await t.step("same vocab and shapes: every encoder tensor is copied exactly", async () => {
    const clas = new AwdLstmClassifier(itos.length, 2, size);
    const before = await moduleTensors(clas.encoder);
    notDeepStrictEqual(before, await moduleTensors(lm.encoder));
    await loadEncoder(clas, path, { itos });
    const got = await moduleTensors(clas.encoder), want = await moduleTensors(lm.encoder);
    deepStrictEqual([...got.keys()], [...want.keys()]);
    ok(got.size === 2 * 4 + 1, `${got.size} tensors`);
    deepStrictEqual(got, want);
  });
  await t.step("another vocab: vocab_mismatch, classifier untouched", async () => {
    const clas = new AwdLstmClassifier(itos.length, 2, size);
    const before = await moduleTensors(clas);
    const other = [...itos.slice(0, 5), "bird"];
    await rejects(
      loadEncoder(clas, path, { itos: other }),
      (e: CheckpointError) => e.code === "vocab_mismatch",
    );
    deepStrictEqual(await moduleTensors(clas), before);
  });
  await t.step("another hidden size: config_mismatch naming nHid", async () => {
    const clas = new AwdLstmClassifier(itos.length, 2, { ...size, nHid: 8 });
    const before = await moduleTensors(clas);
    await rejects(loadEncoder(clas, path, { itos }), /"nHid": stored 6, expected 8 \[config_mismatch\]/);
    deepStrictEqual(await moduleTensors(clas), before);
  });
  await t.step("a whole-model file is not an encoder", async () => {
    await saveModel(lm, `${dir}/lm.safetensors`, { itos, kind: "lm" });
    const clas = new AwdLstmClassifier(itos.length, 2, size);
    await rejects(
      loadEncoder(clas, `${dir}/lm.safetensors`, { itos }),
      /holds a lm checkpoint, expected encoder/,
    );
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadModel() of a checkpoint truncated at any offset throws a typed error and leaves the model untouched", async () => {
  const dir = await Deno.makeTempDir();
  seed(2);
  const src = new Linear(5, 3), dst = new Linear(5, 3);
  await saveModel(src, `${dir}/m.safetensors`, { config: { n: 5 } });
  const bytes = await Deno.readFile(`${dir}/m.safetensors`);
  const before = await moduleTensors(dst);
  const offsets = new Set([0, 1, 7, 8, 9, bytes.length - 1, bytes.length - 4]);
  for (let k = 10; k < bytes.length; k += 13) offsets.add(k);
  for (const n of offsets) {
    await Deno.writeFile(`${dir}/cut.safetensors`, bytes.subarray(0, n));
    await rejects(
      loadModel(dst, `${dir}/cut.safetensors`),
      (e) => e instanceof CheckpointError,
      `cut at ${n}`,
    );
  }
  deepStrictEqual(await moduleTensors(dst), before);
  await rejects(loadModel(dst, `${dir}/m.safetensors`, { config: { n: 6 } }), /config_mismatch/);
  await rejects(loadModel(new Linear(5, 4), `${dir}/m.safetensors`), /shape_mismatch/);
  deepStrictEqual(await moduleTensors(dst), before);
  await loadModel(dst, `${dir}/m.safetensors`, { config: { n: 5 } });
  deepStrictEqual(await moduleTensors(dst), await moduleTensors(src));
  await Deno.remove(dir, { recursive: true });
});
