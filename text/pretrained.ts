/**
 * Pre-trained language-model weights moved onto a new vocabulary (ULMFiT's first step): a denofit LM or
 * encoder file, or a fastai AWD-LSTM `.pth` (v0.7 or v1/v2 names) with its pickled vocabulary (`itos_wt103.pkl`,
 * a JSON array or one token per line). Words the pre-trained vocabulary lacks get the mean embedding row and the
 * mean decoder bias (`remapVocab`).
 *
 * @module
 */
import {
  CheckpointError,
  describeFsError,
  isFsError,
  readItos,
  readTorchCheckpoint,
  type TensorMap,
} from "../nn/mod.ts";
import { mapFastaiAwdLstm, remapVocab } from "./models/awd_lstm_fastai.ts";
import { readModelFile } from "./model_file.ts";

/** Pre-trained weights on a new vocabulary, and the sizes they fix. */
export interface PretrainedOnVocab {
  /** The tensors under the language model's `stateDict()` names, rows in the new vocabulary's order. */
  tensors: TensorMap;
  /** Sizes of the pre-trained model. */
  sizes: { embSize: number; nHid: number; nLayers: number };
  /** How many words of the new vocabulary the pre-trained one has. */
  matched: number;
}

async function readPretrainedVocab(path: string): Promise<string[]> {
  try {
    return await readItos(path);
  } catch (e) {
    if (e instanceof CheckpointError) throw new Error(`--pretrained-vocab ${e.message}`);
    throw e;
  }
}

async function readPretrained(
  path: string,
  vocabFile: string | undefined,
): Promise<{ tensors: TensorMap; oldItos: string[]; layers: number }> {
  if (path.endsWith(".safetensors")) {
    const f = await readModelFile(path, ["lm", "encoder"]);
    return { tensors: f.tensors, oldItos: f.itos, layers: Number(f.config.nLayers) };
  }
  let ck;
  try {
    ck = await readTorchCheckpoint(path);
  } catch (e) {
    if (isFsError(e)) throw new Error(`--pretrained ${describeFsError(path, e)}`);
    throw e;
  }
  const mapped = mapFastaiAwdLstm(ck.tensors, { file: path });
  if (!vocabFile) {
    throw new Error(
      `${path}: a fastai checkpoint needs its vocabulary: pass --pretrained-vocab itos_wt103.pkl (or .json)`,
    );
  }
  const oldItos = await readPretrainedVocab(vocabFile);
  const tensors = mapped.tensors;
  if (!tensors.has("decoder.bias")) {
    const rows = tensors.get("encoder.weight")!.shape[0]!;
    tensors.set("decoder.bias", { dtype: "f32", shape: [rows], data: new Float32Array(rows) });
  }
  return { tensors, oldItos, layers: mapped.layers };
}

/**
 * Read pre-trained language-model weights and move their vocabulary rows onto `itos`.
 *
 * @param path a denofit `.safetensors` LM or encoder, or a fastai `.pth`
 * @param itos the new vocabulary
 * @param options `vocabFile`: the vocabulary of a `.pth` (required for one)
 * @returns the tensors, the sizes they fix and how many words matched
 */
export async function pretrainedOnVocab(
  path: string,
  itos: readonly string[],
  options: { vocabFile?: string } = {},
): Promise<PretrainedOnVocab> {
  const { tensors, oldItos, layers } = await readPretrained(path, options.vocabFile);
  const emb = tensors.get("encoder.weight")!;
  if (emb.shape[0] !== oldItos.length) {
    const from = options.vocabFile && !path.endsWith(".safetensors") ? options.vocabFile : "its metadata";
    throw new Error(
      `${path}: its embedding has ${emb.shape[0]} rows but the vocabulary from ${from} has ` +
        `${oldItos.length} words (mismatched vocab: give the vocabulary the model was trained with)`,
    );
  }
  const remap = remapVocab(tensors, { oldItos, newItos: itos });
  const out = new Map(remap.tensors);
  if (!out.has("decoder.weight")) out.set("decoder.weight", out.get("encoder.weight")!);
  return {
    tensors: out,
    sizes: { embSize: emb.shape[1]!, nHid: tensors.get("rnns.0.weightHH")!.shape[1]!, nLayers: layers },
    matched: remap.matched,
  };
}
