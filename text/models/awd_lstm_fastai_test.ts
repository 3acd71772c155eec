import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { awdLstmParamNames, mapFastaiAwdLstm, remapVocab } from "./awd_lstm_fastai.ts";
import { CheckpointMismatchError } from "../../nn/formats/errors.ts";
import type { TensorMap } from "../../nn/formats/tensor_map.ts";

let counter = 0;
const t = (...shape: number[]) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: "f32" as const, shape, data: Float32Array.from({ length: n }, () => counter++) };
};

/** A fastai state dict with emb 2, hidden 3, 2 layers, vocab 4. */
function v07(): TensorMap {
  return new Map([
    ["0.encoder.weight", t(4, 2)],
    ["0.encoder_with_dropout.embed.weight", t(4, 2)],
    ["0.rnns.0.module.weight_ih_l0", t(12, 2)],
    ["0.rnns.0.module.bias_ih_l0", t(12)],
    ["0.rnns.0.module.bias_hh_l0", t(12)],
    ["0.rnns.0.module.weight_hh_l0_raw", t(12, 3)],
    ["0.rnns.1.module.weight_ih_l0", t(8, 3)],
    ["0.rnns.1.module.bias_ih_l0", t(8)],
    ["0.rnns.1.module.bias_hh_l0", t(8)],
    ["0.rnns.1.module.weight_hh_l0_raw", t(8, 2)],
    ["1.decoder.weight", t(4, 2)],
  ]);
}

Deno.test("mapFastaiAwdLstm() maps names and checks shapes", async (t2) => {
  await t2.step("v0.7: zero decoder bias filled in, aliases skipped", () => {
    const src = v07();
    const m = mapFastaiAwdLstm(src);
    deepStrictEqual([m.format, m.layers, m.unused], ["v0.7", 2, []]);
    deepStrictEqual([...m.tensors.keys()].sort(), awdLstmParamNames(2).sort());
    strictEqual(m.tensors.get("rnns.1.weightHH")!.data, src.get("0.rnns.1.module.weight_hh_l0_raw")!.data);
    deepStrictEqual(m.tensors.get("decoder.bias"), { dtype: "f32", shape: [4], data: new Float32Array(4) });
  });
  await t2.step("a model. prefix (learn.save with optimizer) is detected; unknown keys are reported", () => {
    const src = new Map([...v07()].map(([k, v]) => [`model.${k}`, v]));
    src.set("opt.state.0", t(1));
    const m = mapFastaiAwdLstm(src);
    strictEqual(m.layers, 2);
    deepStrictEqual(m.unused, ["opt.state.0"]);
  });
  await t2.step("an encoder saved alone and a v2 classifier's encoder map without decoder tensors", () => {
    const lm = v07();
    const alone = new Map([...lm].filter(([k]) => k.startsWith("0.")).map(([k, v]) => [k.slice(2), v]));
    const a = mapFastaiAwdLstm(alone);
    deepStrictEqual([a.kind, a.layers, a.unused], ["encoder", 2, []]);
    deepStrictEqual([...a.tensors.keys()], awdLstmParamNames(2).filter((n) => !n.startsWith("decoder")));
    const clas = new Map([...alone].map(([k, v]) => [`0.module.${k}`, v]));
    clas.set("1.layers.0.weight", t(5, 6));
    const c = mapFastaiAwdLstm(clas);
    deepStrictEqual([c.kind, c.layers, c.unused], ["encoder", 2, ["1.layers.0.weight"]]);
    strictEqual(c.tensors.get("rnns.0.weightIH")!.data, lm.get("0.rnns.0.module.weight_ih_l0")!.data);
    strictEqual(mapFastaiAwdLstm(v07()).kind, "lm");
  });
  await t2.step("v2 without _raw falls back to the module's hidden weights", () => {
    const src: TensorMap = new Map([
      ["0.encoder.weight", t(4, 2)],
      ["0.rnns.0.module.weight_ih_l0", t(8, 2)],
      ["0.rnns.0.module.weight_hh_l0", t(8, 2)],
      ["0.rnns.0.module.bias_ih_l0", t(8)],
      ["0.rnns.0.module.bias_hh_l0", t(8)],
    ]);
    const m = mapFastaiAwdLstm(src);
    deepStrictEqual([m.format, m.layers], ["v2", 1]);
    strictEqual(m.tensors.get("rnns.0.weightHH")!.data, src.get("0.rnns.0.module.weight_hh_l0")!.data);
  });
  await t2.step("missing tensors and inconsistent sizes are name_mapping errors naming the key", () => {
    const missing = v07();
    missing.delete("0.rnns.1.module.bias_hh_l0");
    throws(
      () => mapFastaiAwdLstm(missing),
      (e: unknown) =>
        e instanceof CheckpointMismatchError && e.code === "name_mapping" &&
        e.tensor === "0.rnns.1.module.bias_hh_l0",
    );
    const lastWrong = v07();
    lastWrong.set("0.rnns.1.module.weight_ih_l0", t(12, 3));
    lastWrong.set("0.rnns.1.module.weight_hh_l0_raw", t(12, 3));
    lastWrong.set("0.rnns.1.module.bias_ih_l0", t(12));
    lastWrong.set("0.rnns.1.module.bias_hh_l0", t(12));
    throws(
      () => mapFastaiAwdLstm(lastWrong),
      /last LSTM layer has 3 units but the tied decoder needs emb = 2/,
    );
    const decWrong = v07();
    decWrong.set("1.decoder.weight", t(5, 2));
    throws(() => mapFastaiAwdLstm(decWrong), /"1\.decoder\.weight": shape \[5,2\], expected \[4,2\]/);
    throws(() => mapFastaiAwdLstm(new Map([["0.encoder.weight", t(4, 2)]])), /no LSTM layers/);
  });
});

Deno.test("remapVocab() follows fastai: last duplicate wins, row counts must match", () => {
  const enc = { dtype: "f32" as const, shape: [3, 1], data: new Float32Array([10, 20, 30]) };
  const bias = { dtype: "f32" as const, shape: [3], data: new Float32Array([1, 2, 6]) };
  const r = remapVocab(new Map([["encoder.weight", enc], ["decoder.bias", bias]]), {
    oldItos: ["a", "b", "a"],
    newItos: ["a", "c", "b"],
  });
  deepStrictEqual(r.tensors.get("encoder.weight")!.data, new Float32Array([30, 20, 20]));
  deepStrictEqual(r.tensors.get("decoder.bias")!.data, new Float32Array([6, 3, 2]));
  deepStrictEqual([r.matched, r.missing], [2, ["c"]]);
  throws(
    () => remapVocab(new Map([["encoder.weight", enc]]), { oldItos: ["a", "b"], newItos: ["a"] }),
    (e: unknown) => {
      ok(
        e instanceof CheckpointMismatchError && e.code === "vocab_mismatch" && e.tensor === "encoder.weight",
      );
      return true;
    },
  );
});
