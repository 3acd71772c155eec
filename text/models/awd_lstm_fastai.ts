/**
 * fastai AWD-LSTM language-model state dicts (v0.7, and v1/v2 which share names) mapped onto denofit's module
 * names, plus the vocab remap that ULMFiT needs when fine-tuning on a new vocabulary.
 *
 * denofit's AWD-LSTM LM parameter names (a `TensorMap`):
 *
 * | ours                | shape                | fastai v0.7                               | fastai v1 / v2                          |
 * | ------------------- | -------------------- | ----------------------------------------- | --------------------------------------- |
 * | `encoder.weight`    | (vocab, emb)         | `0.encoder.weight`                        | `0.encoder.weight`                      |
 * | `rnns.N.weightIH`   | (4 * nhN, inN)       | `0.rnns.N.module.weight_ih_l0`            | `0.rnns.N.module.weight_ih_l0`          |
 * | `rnns.N.weightHH`   | (4 * nhN, nhN)       | `0.rnns.N.module.weight_hh_l0_raw`        | `0.rnns.N.weight_hh_l0_raw`             |
 * | `rnns.N.biasIH`     | (4 * nhN)            | `0.rnns.N.module.bias_ih_l0`              | `0.rnns.N.module.bias_ih_l0`            |
 * | `rnns.N.biasHH`     | (4 * nhN)            | `0.rnns.N.module.bias_hh_l0`              | `0.rnns.N.module.bias_hh_l0`            |
 * | `decoder.weight`    | (vocab, emb)         | `1.decoder.weight` (tied to the encoder)  | `1.decoder.weight` (tied)               |
 * | `decoder.bias`      | (vocab)              | none: zeros are filled in                 | `1.decoder.bias`                        |
 *
 * The table shows a language model's keys; the same module keys are found under `model.0.` (fastai `learn.save`
 * with optimizer), with no prefix (fastai `save_encoder`), or under `0.module.` (a v2 classifier's encoder), which
 * map to the same names without the `decoder.*` entries.
 *
 * LSTM gate rows are in PyTorch's order: input, forget, cell (g), output. The last layer's hidden size is the
 * embedding size (weights are tied). The `_raw` hidden weights are the undropped ones (weight-drop masks a copy
 * during training); the dropped copies (`module.weight_hh_l0` in v1/v2) and the embedding-dropout aliases
 * (`encoder_with_dropout.embed.weight`, `encoder_dp.emb.weight`) are recognised and skipped.
 *
 * @module
 */
import { CheckpointMismatchError } from "../../nn/formats/errors.ts";
import type { HostTensor, TensorMap } from "../../nn/formats/tensor_map.ts";

/** Which fastai naming a state dict uses. */
export type FastaiAwdFormat = "v0.7" | "v2";

/** Options of {@linkcode mapFastaiAwdLstm}. */
export interface MapFastaiOptions {
  /**
   * Where the AWD-LSTM module's own keys (`encoder.weight`, `rnns.N...`) start. The LM decoder is looked up at the
   * sibling `1.` when this ends in `0.`. @default auto: the first of `"0."` (LM state dict), `"model.0."` (fastai
   * `learn.save` with optimizer), `""` (`save_encoder`), `"0.module."` / `"model.0.module."` (v2 classifier)
   * that holds `encoder.weight`
   */
  modulePrefix?: string;
  /** File name for errors. @default "<state dict>" */
  file?: string;
}

/** Result of {@linkcode mapFastaiAwdLstm}. */
export interface MappedAwdLstm {
  /** The tensors under denofit names (data arrays are shared with the input, not copied). */
  tensors: TensorMap;
  /** Detected naming. */
  format: FastaiAwdFormat;
  /** Number of LSTM layers. */
  layers: number;
  /** `"lm"` when decoder tensors were found (and mapped), `"encoder"` for an encoder-only / classifier dict. */
  kind: "lm" | "encoder";
  /** Source keys that were neither mapped nor a known alias (e.g. a classifier head); nothing is dropped silently. */
  unused: string[];
}

/**
 * denofit's parameter names for an AWD-LSTM LM with `layers` LSTM layers, in a stable order.
 *
 * @param layers number of LSTM layers
 * @returns the names
 */
export function awdLstmParamNames(layers: number): string[] {
  const names = ["encoder.weight"];
  for (let i = 0; i < layers; i++) {
    names.push(`rnns.${i}.weightIH`, `rnns.${i}.weightHH`, `rnns.${i}.biasIH`, `rnns.${i}.biasHH`);
  }
  return names.concat(["decoder.weight", "decoder.bias"]);
}

/**
 * Maps a fastai AWD-LSTM state dict (v0.7 or v1/v2 names; a language model, an encoder saved alone or a
 * classifier's encoder) onto denofit names, checking every shape.
 *
 * @param source the state dict as read by {@linkcode readTorchCheckpoint}
 * @param options module prefix, file name
 * @returns mapped tensors, detected format, layer count, unused keys
 * @example Map a one-layer v2 state dict
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { mapFastaiAwdLstm } from "./awd_lstm_fastai.ts";
 * const t = (...shape: number[]) => ({ dtype: "f32" as const, shape, data: new Float32Array(shape.reduce((a, b) => a * b)) });
 * const sd = new Map([
 *   ["0.encoder.weight", t(5, 2)], ["0.rnns.0.weight_hh_l0_raw", t(8, 2)], ["0.rnns.0.module.weight_ih_l0", t(8, 2)],
 *   ["0.rnns.0.module.bias_ih_l0", t(8)], ["0.rnns.0.module.bias_hh_l0", t(8)], ["1.decoder.bias", t(5)],
 * ]);
 * const m = mapFastaiAwdLstm(sd);
 * deepStrictEqual([m.format, m.layers, [...m.tensors.keys()]], ["v2", 1, [
 *   "encoder.weight", "rnns.0.weightIH", "rnns.0.weightHH", "rnns.0.biasIH", "rnns.0.biasHH", "decoder.bias",
 * ]]);
 * ```
 */
export function mapFastaiAwdLstm(source: TensorMap, options: MapFastaiOptions = {}): MappedAwdLstm {
  const { file = "<state dict>" } = options;
  const candidates = ["0.", "model.0.", "", "0.module.", "model.0.module."];
  const mp = options.modulePrefix ?? candidates.find((c) => source.has(`${c}encoder.weight`)) ?? "0.";
  const dp = mp.endsWith("0.") && !mp.endsWith("module.0.") ? `${mp.slice(0, -2)}1.` : undefined;
  const used = new Set<string>();
  const fail = (detail: string, tensor?: string): never => {
    throw new CheckpointMismatchError(
      "name_mapping",
      detail,
      tensor === undefined ? { file } : { file, tensor },
    );
  };
  const get = (key: string): HostTensor => {
    const t = source.get(key);
    if (!t) return fail(`missing — not a fastai AWD-LSTM state dict, or another layer count`, key);
    if (t.dtype !== "f32") return fail(`is ${t.dtype}, expected f32 weights`, key);
    used.add(key);
    return t;
  };
  const expect = (key: string, t: HostTensor, shape: number[]) => {
    if (t.shape.join() !== shape.join()) fail(`shape [${t.shape}], expected [${shape}]`, key);
  };
  const format: FastaiAwdFormat = source.has(`${mp}encoder_with_dropout.embed.weight`) ||
      source.has(`${mp}rnns.0.module.weight_hh_l0_raw`)
    ? "v0.7"
    : "v2";
  const out: TensorMap = new Map();
  const enc = get(`${mp}encoder.weight`);
  if (enc.shape.length !== 2) fail(`shape [${enc.shape}] is not (vocab, emb)`, `${mp}encoder.weight`);
  const [vocab, emb] = enc.shape as [number, number];
  out.set("encoder.weight", enc);
  let layers = 0;
  let nIn = emb;
  for (; source.has(`${mp}rnns.${layers}.module.weight_ih_l0`); layers++) {
    const p = `${mp}rnns.${layers}.`;
    const rawName = format === "v0.7" ? `${p}module.weight_hh_l0_raw` : `${p}weight_hh_l0_raw`;
    const hhName = source.has(rawName) ? rawName : `${p}module.weight_hh_l0`;
    const ih = get(`${p}module.weight_ih_l0`);
    const hh = get(hhName);
    const nh = hh.shape[1] ?? 0;
    expect(`${p}module.weight_ih_l0`, ih, [4 * nh, nIn]);
    expect(hhName, hh, [4 * nh, nh]);
    out.set(`rnns.${layers}.weightIH`, ih);
    out.set(`rnns.${layers}.weightHH`, hh);
    for (const [ours, theirs] of [["biasIH", "bias_ih_l0"], ["biasHH", "bias_hh_l0"]] as const) {
      const b = get(`${p}module.${theirs}`);
      expect(`${p}module.${theirs}`, b, [4 * nh]);
      out.set(`rnns.${layers}.${ours}`, b);
    }
    nIn = nh;
  }
  if (layers === 0) fail("no LSTM layers found", `${mp}rnns.0.module.weight_ih_l0`);
  const kind = dp !== undefined && (source.has(`${dp}decoder.weight`) || source.has(`${dp}decoder.bias`))
    ? "lm"
    : "encoder";
  if (kind === "lm") {
    if (nIn !== emb) fail(`last LSTM layer has ${nIn} units but the tied decoder needs emb = ${emb}`);
    if (source.has(`${dp}decoder.weight`)) {
      const w = get(`${dp}decoder.weight`);
      expect(`${dp}decoder.weight`, w, [vocab, emb]);
      out.set("decoder.weight", w);
    }
    if (source.has(`${dp}decoder.bias`)) {
      const b = get(`${dp}decoder.bias`);
      expect(`${dp}decoder.bias`, b, [vocab]);
      out.set("decoder.bias", b);
    } else {
      out.set("decoder.bias", { dtype: "f32", shape: [vocab], data: new Float32Array(vocab) });
    }
  }
  const aliases = new Set([`${mp}encoder_with_dropout.embed.weight`, `${mp}encoder_dp.emb.weight`]);
  for (let i = 0; i < layers; i++) aliases.add(`${mp}rnns.${i}.module.weight_hh_l0`);
  const unused = [...source.keys()].filter((k) => !used.has(k) && !aliases.has(k));
  return { tensors: out, format, layers, kind, unused };
}

/** Result of {@linkcode remapVocab}. */
export interface VocabRemap {
  /** The tensors with `encoder.weight`, `decoder.weight` and `decoder.bias` re-indexed to the new vocab. */
  tensors: TensorMap;
  /** How many new words were found in the old vocab. */
  matched: number;
  /** New words absent from the old vocab (they got the mean row / mean bias). */
  missing: string[];
}

function remapRows(t: HostTensor, rows: Int32Array, name: string): HostTensor {
  const width = t.shape.length === 1 ? 1 : t.shape[1]!;
  const oldRows = t.shape[0]!;
  const mean = new Float64Array(width);
  for (let r = 0; r < oldRows; r++) for (let j = 0; j < width; j++) mean[j]! += t.data[r * width + j]!;
  for (let j = 0; j < width; j++) mean[j]! /= Math.max(oldRows, 1);
  const out = new Float32Array(rows.length * width);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (r >= oldRows) {
      throw new CheckpointMismatchError("vocab_mismatch", `old vocab is longer than ${name}'s rows`);
    }
    if (r >= 0) out.set(t.data.subarray(r * width, (r + 1) * width), i * width);
    else out.set(mean, i * width);
  }
  return { dtype: "f32", shape: t.shape.length === 1 ? [rows.length] : [rows.length, width], data: out };
}

/**
 * Re-indexes the embedding, tied decoder weight and decoder bias from `oldItos` to `newItos` (fastai ULMFiT's
 * vocab conversion): shared words keep their rows; words the old vocab lacks get the mean row (and the mean
 * decoder bias). Other tensors pass through.
 *
 * @param tensors mapped AWD-LSTM tensors (see {@linkcode mapFastaiAwdLstm})
 * @param vocabs `{ oldItos, newItos }`: the pre-trained and the target vocab, words by id
 * @returns remapped tensors and match statistics
 * @example Two shared words, one new
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { remapVocab } from "./awd_lstm_fastai.ts";
 * const enc = { dtype: "f32" as const, shape: [2, 2], data: new Float32Array([1, 2, 3, 6]) };
 * const r = remapVocab(new Map([["encoder.weight", enc]]), { oldItos: ["a", "b"], newItos: ["b", "zz", "a"] });
 * deepStrictEqual(r.tensors.get("encoder.weight")?.data, new Float32Array([3, 6, 2, 4, 1, 2]));
 * deepStrictEqual(r.missing, ["zz"]);
 * ```
 */
export function remapVocab(
  tensors: TensorMap,
  vocabs: { oldItos: readonly string[]; newItos: readonly string[] },
): VocabRemap {
  const { oldItos, newItos } = vocabs;
  const stoi = new Map<string, number>();
  oldItos.forEach((w, i) => stoi.set(w, i)); // like fastai: the last duplicate wins
  const rows = Int32Array.from(newItos, (w) => stoi.get(w) ?? -1);
  const missing = newItos.filter((_, i) => rows[i] === -1);
  const out: TensorMap = new Map(tensors);
  for (const name of ["encoder.weight", "decoder.weight", "decoder.bias"]) {
    const t = tensors.get(name);
    if (!t) continue;
    if (t.dtype !== "f32" || t.shape[0] !== oldItos.length || t.shape.length > 2) {
      throw new CheckpointMismatchError(
        "vocab_mismatch",
        `shape [${t.shape}] does not have one row per old-vocab word (${oldItos.length})`,
        { tensor: name },
      );
    }
    out.set(name, remapRows(t, rows, name));
  }
  return { tensors: out, matched: newItos.length - missing.length, missing };
}
