/**
 * The resume file: model weights, optimizer state tensors and the training position (epoch, step, schedule
 * position, RNG counters, any JSON) in one atomically written safetensors file. Tensors are stored as
 * `model.<name>` and `optim.<name>`; the position goes in `__metadata__["denofit.train_state"]` as JSON, so
 * integers up to 2^53 (RNG counters) survive exactly.
 *
 * @module
 */
import { CheckpointMismatchError } from "./formats/errors.ts";
import {
  type CheckpointInfo,
  checkpointMetadata,
  type ConfigValue,
  META_KIND,
  META_TRAIN_STATE,
} from "./checkpoint/metadata.ts";
import { readSafetensors, writeSafetensors } from "./formats/safetensors.ts";
import type { TensorMap } from "./formats/tensor_map.ts";

/** Where training stands: at least epoch and step; any other JSON (schedule position, RNG state, ...). */
export interface TrainPosition {
  /** Epochs completed. */
  epoch: number;
  /** Optimizer steps taken since the start of training. */
  step: number;
  /** Anything else needed to continue exactly. */
  [key: string]: ConfigValue;
}

/** Everything needed to resume a run. */
export interface TrainState {
  /** Model parameters (and buffers). */
  model: TensorMap;
  /** Optimizer state tensors (momentum buffers, Adam moments), by the optimizer's names. */
  optimizer: TensorMap;
  /** The training position. */
  position: TrainPosition;
  /** Other tensors the run needs to continue exactly (e.g. a stateful RNN's hidden state), stored as `runtime.<name>`. */
  runtime?: TensorMap;
}

/**
 * Saves a training state atomically.
 *
 * @param path destination
 * @param state model, optimizer state, position
 * @param info config / vocab hash to record as well
 * @example Round trip
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { readTrainState, saveTrainState } from "./train_state.ts";
 * const dir = await Deno.makeTempDir();
 * const w = { dtype: "f32" as const, shape: [1], data: new Float32Array([0.5]) };
 * const state = { model: new Map([["w", w]]), optimizer: new Map([["0.0.0", w]]), position: { epoch: 1, step: 40 } };
 * await saveTrainState(`${dir}/run.safetensors`, state);
 * const back = await readTrainState(`${dir}/run.safetensors`);
 * deepStrictEqual([back.position, back.model, back.optimizer], [state.position, state.model, state.optimizer]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function saveTrainState(
  path: string,
  state: TrainState,
  info: Omit<CheckpointInfo, "kind"> = {},
): Promise<void> {
  const { epoch, step } = state.position;
  if (!Number.isSafeInteger(epoch) || !Number.isSafeInteger(step) || epoch < 0 || step < 0) {
    throw new RangeError(`saveTrainState: epoch ${epoch} and step ${step} must be non-negative integers`);
  }
  const tensors: TensorMap = new Map();
  for (const [k, t] of state.model) tensors.set(`model.${k}`, t);
  for (const [k, t] of state.optimizer) tensors.set(`optim.${k}`, t);
  for (const [k, t] of state.runtime ?? []) tensors.set(`runtime.${k}`, t);
  const metadata = checkpointMetadata({
    ...info,
    kind: "train_state",
    extra: { ...info.extra, [META_TRAIN_STATE]: JSON.stringify(state.position) },
  });
  await writeSafetensors(path, tensors, { metadata });
}

/**
 * Reads a training state written by {@linkcode saveTrainState}.
 *
 * @param path the file
 * @returns model, optimizer state, position, and the raw metadata (for config / vocab checks)
 */
export async function readTrainState(
  path: string,
): Promise<Required<TrainState> & { metadata: Record<string, string> }> {
  const file = await readSafetensors(path);
  const raw = file.metadata[META_TRAIN_STATE];
  if (file.metadata[META_KIND] !== "train_state" || raw === undefined) {
    throw new CheckpointMismatchError(
      "missing_metadata",
      "not a training-state checkpoint (no denofit.train_state)",
      {
        file: path,
      },
    );
  }
  let position: TrainPosition;
  try {
    position = JSON.parse(raw);
  } catch (e) {
    throw new CheckpointMismatchError("missing_metadata", "denofit.train_state is not JSON", {
      file: path,
      cause: e,
    });
  }
  if (typeof position?.epoch !== "number" || typeof position?.step !== "number") {
    throw new CheckpointMismatchError("missing_metadata", "denofit.train_state lacks epoch / step", {
      file: path,
    });
  }
  const model: TensorMap = new Map();
  const optimizer: TensorMap = new Map();
  const runtime: TensorMap = new Map();
  for (const [k, t] of file.tensors) {
    if (k.startsWith("model.")) model.set(k.slice(6), t);
    else if (k.startsWith("optim.")) optimizer.set(k.slice(6), t);
    else if (k.startsWith("runtime.")) runtime.set(k.slice(8), t);
    else {
      throw new CheckpointMismatchError(
        "unexpected_tensor",
        "training-state tensors must start with model., optim. or runtime.",
        {
          file: path,
          tensor: k,
        },
      );
    }
  }
  return { model, optimizer, runtime, position, metadata: file.metadata };
}
