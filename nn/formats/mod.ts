/**
 * File formats, with no tensor engine: named host arrays ({@linkcode TensorMap}); safetensors read/write with
 * every validation of the reference implementation; crash-safe atomic writes; a PyTorch `.pt`/`.pth` reader that
 * never executes the pickle (allow-list interpreter, zip and legacy formats); vocabulary files (fastai's pickled
 * `itos`, JSON arrays, one token per line); and the typed errors they all throw (`code`, file, tensor).
 *
 * Model I/O on top of these (metadata, save/load into modules) is `nn/checkpoint/`; training resume files are
 * `nn/train_state.ts` beside the Learner; the fastai AWD-LSTM name mapping is `text/models/awd_lstm_fastai.ts`.
 *
 * @example Write and read a safetensors file
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { readSafetensors, writeSafetensors } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * const tensors = new Map([["w", { dtype: "f32" as const, shape: [2], data: new Float32Array([0.5, -1]) }]]);
 * await writeSafetensors(`${dir}/w.safetensors`, tensors, { metadata: { note: "hi" } });
 * const file = await readSafetensors(`${dir}/w.safetensors`);
 * deepStrictEqual([file.tensors, file.metadata.note], [tensors, "hi"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
export * from "./tensor_map.ts";
export * from "./errors.ts";
export * from "./safetensors.ts";
export * from "./atomic.ts";
export * from "./atomic_group.ts";
export * from "./torch.ts";
export * from "./vocab_file.ts";
