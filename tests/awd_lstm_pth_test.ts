// fastai AWD-LSTM weights (PyTorch pickles, v0.7 and v2 names) loaded into OUR text/models AWD-LSTM through the
// allow-list reader and the name mapping: per-layer outputs, final states and logits match PyTorch's (dropout off).
import { ok, rejects, strictEqual, throws } from "node:assert/strict";
import { readTorchCheckpoint } from "../nn/formats/mod.ts";
import { mapFastaiAwdLstm } from "../text/models/mod.ts";
import { copyHostIntoTensors, moduleTensors } from "../nn/checkpoint/model_io.ts";
import { CheckpointMismatchError } from "../nn/formats/errors.ts";
import { fromArray, type Tensor, tidy } from "../nn/tensor.ts";
import { noGrad } from "../nn/engine.ts";
import { AwdLstmLM } from "../text/models/awd_lstm.ts";

const fixture = (name: string) => new URL(`./fixtures/checkpoint/${name}`, import.meta.url).pathname;
type Nested = number | Nested[];

/** Largest |a - b| between our `(B, T, ...)` tensor and PyTorch's `(T, B, ...)` nested list. */
function maxDiffTB(ours: Float32Array, shape: readonly number[], ref: Nested[]): number {
  const [B, T, F] = shape as [number, number, number];
  strictEqual(ref.length, T);
  let m = 0;
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const row = (ref[t] as Nested[])[b] as number[];
      strictEqual(row.length, F);
      for (let f = 0; f < F; f++) m = Math.max(m, Math.abs(ours[(b * T + t) * F + f]! - row[f]!));
    }
  }
  return m;
}

function maxDiffFlat(ours: Float32Array, ref: number[][]): number {
  const flat = ref.flat();
  strictEqual(ours.length, flat.length);
  return flat.reduce((m, v, i) => Math.max(m, Math.abs(ours[i]! - v)), 0);
}

Deno.test("fastai AWD-LSTM .pth weights in our AwdLstmLM reproduce PyTorch's per-layer outputs and logits", async (t) => {
  const ref = JSON.parse(await Deno.readTextFile(fixture("awd_lstm_outputs.json")));
  const tokens: number[][] = ref.tokens; // (T, B)
  const T = tokens.length, B = tokens[0]!.length;
  const ids = Int32Array.from({ length: B * T }, (_, i) => tokens[i % T]![Math.floor(i / T)]!); // (B, T)
  for (
    const [file, logitsKey, outBias] of [["awd_v07.pt", "logits_v07", false], [
      "awd_v2.pt",
      "logits_v2",
      true,
    ]] as const
  ) {
    await t.step(file, async () => {
      const mapped = mapFastaiAwdLstm((await readTorchCheckpoint(fixture(file))).tensors, { file });
      const model = new AwdLstmLM(20, { embSize: 8, nHid: 12, nLayers: 3, outBias });
      const before = await moduleTensors(model);
      // v0.7 LMs had no decoder bias: the mapping fills zeros, which a bias-free model may ignore
      if (!outBias) ok(mapped.tensors.get("decoder.bias")!.data.every((v) => v === 0));
      const written = copyHostIntoTensors(model.stateDict(), mapped.tensors, {
        file,
        allowUnexpected: !outBias,
      });
      strictEqual(written.length, 1 + 4 * 3 + 1 + (outBias ? 1 : 0));
      ok(
        (await moduleTensors(model)).get("rnns.2.weightHH")!.data.some((v, i) =>
          v !== before.get("rnns.2.weightHH")!.data[i]
        ),
      );
      model.eval();
      const x = fromArray(ids, [B, T], { dtype: "i32" });
      const diffs = noGrad(() =>
        tidy(() => {
          const out: number[] = [];
          let h: Tensor = model.encoder.encoder.forward(x);
          model.encoder.rnns.forEach((rnn, l) => {
            rnn.reset();
            h = rnn.forward(h).output;
            const layer = ref.layers[l];
            out.push(maxDiffTB(h.dataSync() as Float32Array, h.shape, layer.output));
            out.push(maxDiffFlat(rnn.hidden!.h.dataSync() as Float32Array, layer.h));
            out.push(maxDiffFlat(rnn.hidden!.c!.dataSync() as Float32Array, layer.c));
          });
          model.reset();
          const logits = model.forward(x).output;
          out.push(maxDiffTB(logits.dataSync() as Float32Array, logits.shape, ref[logitsKey]));
          model.reset();
          return out;
        })
      );
      x.dispose();
      strictEqual(diffs.length, 3 * 3 + 1);
      for (const [i, d] of diffs.entries()) ok(d < 1e-4, `${file}: output ${i} differs by ${d}`);
      model.dispose();
    });
  }
  await t.step("a model of another size is refused before anything is written", async () => {
    const mapped = mapFastaiAwdLstm((await readTorchCheckpoint(fixture("awd_v2.pt"))).tensors);
    const model = new AwdLstmLM(20, { embSize: 8, nHid: 16, nLayers: 3 });
    const before = await moduleTensors(model);
    throws(
      () => copyHostIntoTensors(model.stateDict(), mapped.tensors, { file: "awd_v2.pt" }),
      (e) =>
        e instanceof CheckpointMismatchError && e.code === "shape_mismatch" &&
        /rnns\.0\.weightIH/.test(e.message),
    );
    const after = await moduleTensors(model);
    for (const [k, v] of before) ok(after.get(k)!.data.every((x, i) => x === v.data[i]), k);
    await rejects(readTorchCheckpoint(fixture("evil_os_system.pt")), /forbidden_global/);
    model.dispose();
  });
});
