/**
 * Checkpoint I/O on plain named host arrays ({@linkcode TensorMap}): safetensors read/write with the reference
 * validations, crash-safe atomic saves, checkpoint metadata (config, vocab hash, version) checks, a PyTorch
 * `.pt`/`.pth` reader that never executes the pickle, and the fastai AWD-LSTM name mapping with vocab remap.
 * `saveCheckpoint` / `loadCheckpointInto` are the model-facing pair (a bad or mismatched file leaves the model
 * untouched); `saveTrainState` / `readTrainState` hold model + optimizer state + training position for resume.
 *
 * Models: `saveModel` / `loadModel` (any `Module`), `saveEncoder` / `loadEncoder` (ULMFiT: an LM's encoder into a
 * classifier, vocab and config checked), `moduleTensors` / `copyHostIntoTensors` (device <-> host). Training:
 * `TrainCheckpoint` (a Learner callback: save, then resume exactly, bit for bit on the CPU backend) and
 * `InterruptCheckpoint` (first Ctrl-C: finish the step, save, exit 130; second: exit at once).
 *
 * Importing fastai weights: `readTorchCheckpoint(path)` -> `mapFastaiAwdLstm(ck.tensors)` ->
 * `remapVocab(mapped.tensors, { oldItos: await readItos("itos_wt103.pkl"), newItos })` ->
 * `copyHostIntoTensors(lm.checkpointTensors(), remapped.tensors)`; `readItos` reads fastai's pickled vocabularies
 * (no globals allowed), JSON arrays and one-token-per-line files.
 *
 * @example Save, load and verify a checkpoint
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { checkCheckpointMetadata, checkpointMetadata, readSafetensors, writeSafetensors } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * const tensors = new Map([["decoder.bias", { dtype: "f32" as const, shape: [2], data: new Float32Array([0.5, -1]) }]]);
 * await writeSafetensors(`${dir}/lm.safetensors`, tensors, { metadata: checkpointMetadata({ config: { emb: 2 } }) });
 * const file = await readSafetensors(`${dir}/lm.safetensors`);
 * checkCheckpointMetadata(file.metadata, { config: { emb: 2 } });
 * deepStrictEqual(file.tensors, tensors);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
export * from "./tensor_map.ts";
export * from "./errors.ts";
export * from "./safetensors.ts";
export * from "./atomic.ts";
export * from "./metadata.ts";
export * from "./torch.ts";
export * from "./awd_lstm.ts";
export * from "./load.ts";
export * from "./train_state.ts";
export * from "./model_io.ts";
export * from "./resume.ts";
export * from "./interrupt.ts";
export * from "./vocab_file.ts";
