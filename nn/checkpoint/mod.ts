/**
 * Model I/O: what a denofit checkpoint records about itself (config, vocab hash, kind, library version, and the
 * check that refuses a checkpoint of another config or vocab, saying which), the host-side pair
 * `saveCheckpoint` / `loadCheckpointInto` (a bad or mismatched file leaves the target untouched), and modules
 * <-> files: `saveModel` / `loadModel` (any `Module`, under its `stateDict()` names), `saveEncoder` /
 * `loadEncoder` (ULMFiT: an LM's encoder into a classifier, vocab and config checked), `tensorsToHost` /
 * `copyHostIntoTensors` (device <-> host).
 *
 * The file formats underneath are `nn/formats/`; training resume (`TrainCheckpoint`, `InterruptCheckpoint`,
 * `saveTrainState`) lives beside the Learner in `nn/`.
 *
 * @example Save, load and verify a checkpoint
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { loadCheckpointInto, saveCheckpoint } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * const w = () => new Map([["decoder.bias", { dtype: "f32" as const, shape: [2], data: new Float32Array(2) }]]);
 * const trained = w();
 * trained.get("decoder.bias")!.data.set([0.5, -1]);
 * await saveCheckpoint(`${dir}/lm.safetensors`, trained, { config: { emb: 2 } });
 * const fresh = w();
 * await loadCheckpointInto(`${dir}/lm.safetensors`, fresh, { config: { emb: 2 } });
 * deepStrictEqual(fresh, trained);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
export * from "./metadata.ts";
export * from "./load.ts";
export * from "./model_io.ts";
