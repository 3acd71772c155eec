/**
 * The model-facing save/load pair: {@linkcode saveCheckpoint} stamps config, vocab hash and version into an
 * atomic safetensors write; {@linkcode loadCheckpointInto} reads, validates the file, checks the metadata and
 * every name / shape / dtype against the model's tensors, and only then copies — so a bad, truncated or
 * mismatched file leaves the model exactly as it was.
 *
 * @module
 */
import { CheckpointMismatchError } from "../formats/errors.ts";
import {
  checkCheckpointMetadata,
  type CheckMetadataOptions,
  type CheckpointInfo,
  checkpointMetadata,
} from "./metadata.ts";
import { type FloatFormat, readSafetensors, writeSafetensors } from "../formats/safetensors.ts";
import type { TensorMap } from "../formats/tensor_map.ts";

/** Options of {@linkcode copyTensorsInto}. */
export interface CopyTensorsOptions {
  /** Tolerate target tensors the source lacks (they keep their values). @default false */
  allowMissing?: boolean;
  /** Tolerate source tensors the target lacks (they are ignored). @default false */
  allowUnexpected?: boolean;
  /** File name for errors. @default "<checkpoint>" */
  file?: string;
  /**
   * Accept NaN / infinite weights (a diverged model). Off, such a file is refused (`non_finite`) naming the
   * first bad tensor. @default false
   */
  allowNonFinite?: boolean;
}

/**
 * The first tensor of `tensors` holding a NaN or an infinity, with how many such values it has.
 *
 * @param tensors host tensors
 * @returns the tensor's name, its bad values and the first one, or undefined when every value is finite
 * @example A NaN is found
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { firstNonFinite } from "./load.ts";
 * const t = { dtype: "f32" as const, shape: [3], data: new Float32Array([1, NaN, Infinity]) };
 * strictEqual(firstNonFinite(new Map([["w", t]]))?.count, 2);
 * ```
 */
export function firstNonFinite(
  tensors: TensorMap,
): { name: string; count: number; value: number } | undefined {
  for (const [name, t] of tensors) {
    if (t.dtype !== "f32") continue;
    let count = 0, value = 0;
    for (let i = 0; i < t.data.length; i++) {
      const v = t.data[i]!;
      if (v - v !== 0) { // NaN or +-Infinity
        if (count++ === 0) value = v;
      }
    }
    if (count > 0) return { name, count, value };
  }
  return undefined;
}

/**
 * Copies `source` values into the existing arrays of `target` after checking every name, dtype and shape;
 * throws a {@linkcode CheckpointMismatchError} listing the problems before writing anything.
 *
 * @param target the model's tensors (their `data` arrays are overwritten in place)
 * @param source loaded tensors
 * @param options tolerance for missing / unexpected names
 * @returns the names copied
 * @example Copy matching weights
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { copyTensorsInto } from "./load.ts";
 * const target = new Map([["w", { dtype: "f32" as const, shape: [2], data: new Float32Array(2) }]]);
 * copyTensorsInto(target, new Map([["w", { dtype: "f32" as const, shape: [2], data: new Float32Array([1, 2]) }]]));
 * deepStrictEqual(target.get("w")?.data, new Float32Array([1, 2]));
 * ```
 */
export function copyTensorsInto(
  target: TensorMap,
  source: TensorMap,
  options: CopyTensorsOptions = {},
): string[] {
  const { allowMissing = false, allowUnexpected = false, file = "<checkpoint>" } = options;
  const missing = [...target.keys()].filter((k) => !source.has(k));
  const unexpected = [...source.keys()].filter((k) => !target.has(k));
  const list = (xs: string[]) =>
    xs.slice(0, 10).join(", ") + (xs.length > 10 ? `, ... (${xs.length} in all)` : "");
  if (missing.length && !allowMissing) {
    throw new CheckpointMismatchError("missing_tensor", `checkpoint lacks ${list(missing)}`, {
      file,
      tensor: missing[0]!,
    });
  }
  if (unexpected.length && !allowUnexpected) {
    throw new CheckpointMismatchError("unexpected_tensor", `model has no ${list(unexpected)}`, {
      file,
      tensor: unexpected[0]!,
    });
  }
  const names = [...target.keys()].filter((k) => source.has(k));
  for (const k of names) {
    const t = target.get(k)!;
    const s = source.get(k)!;
    if (t.dtype !== s.dtype || t.shape.join() !== s.shape.join() || t.data.length !== s.data.length) {
      throw new CheckpointMismatchError(
        "shape_mismatch",
        `checkpoint has ${s.dtype} [${s.shape}], the model ${t.dtype} [${t.shape}]`,
        { file, tensor: k },
      );
    }
  }
  if (!options.allowNonFinite) {
    const bad = firstNonFinite(new Map(names.map((k) => [k, source.get(k)!])));
    if (bad) {
      throw new CheckpointMismatchError(
        "non_finite",
        `${bad.count} weights are ${bad.value} or otherwise not finite: the model diverged during training ` +
          "(retrain it with a lower learning rate)",
        { file, tensor: bad.name },
      );
    }
  }
  for (const k of names) target.get(k)!.data.set(source.get(k)!.data);
  return names;
}

/** Options of {@linkcode saveCheckpoint}. */
export interface SaveCheckpointOptions extends CheckpointInfo {
  /** Storage format of f32 tensors. @default "F32" */
  floatFormat?: FloatFormat;
}

/**
 * Saves tensors atomically as safetensors with denofit metadata (config, vocab hash, version, kind).
 *
 * @param path destination
 * @param tensors what to save
 * @param options metadata and float format
 */
export async function saveCheckpoint(
  path: string,
  tensors: TensorMap,
  options: SaveCheckpointOptions = {},
): Promise<void> {
  const { floatFormat = "F32", ...info } = options;
  await writeSafetensors(path, tensors, { metadata: checkpointMetadata(info), floatFormat });
}

/** Options of {@linkcode loadCheckpointInto}. */
export type LoadCheckpointOptions = Omit<CheckMetadataOptions, "file"> & Omit<CopyTensorsOptions, "file">;

/**
 * Loads a safetensors checkpoint into existing tensors: validates the file, checks config / vocab hash when given,
 * checks every tensor, then copies. On any error nothing in `target` has changed.
 *
 * @param path the checkpoint
 * @param target the model's tensors
 * @param options expected config / vocab hash, tolerance for missing / unexpected names
 * @returns the file's metadata
 * @example Save then load into a fresh model
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { loadCheckpointInto, saveCheckpoint } from "./load.ts";
 * const dir = await Deno.makeTempDir();
 * const w = () => new Map([["w", { dtype: "f32" as const, shape: [2], data: new Float32Array(2) }]]);
 * const trained = w();
 * trained.get("w")!.data.set([3, 4]);
 * await saveCheckpoint(`${dir}/m.safetensors`, trained, { config: { n: 2 }, vocabHash: "h" });
 * const fresh = w();
 * await loadCheckpointInto(`${dir}/m.safetensors`, fresh, { config: { n: 2 }, vocabHash: "h" });
 * deepStrictEqual(fresh.get("w")?.data, new Float32Array([3, 4]));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadCheckpointInto(
  path: string,
  target: TensorMap,
  options: LoadCheckpointOptions = {},
): Promise<Record<string, string>> {
  const file = await readSafetensors(path);
  const check: CheckMetadataOptions = { file: path };
  if (options.config !== undefined) check.config = options.config;
  if (options.vocabHash !== undefined) check.vocabHash = options.vocabHash;
  checkCheckpointMetadata(file.metadata, check);
  const copy: CopyTensorsOptions = { file: path };
  if (options.allowMissing !== undefined) copy.allowMissing = options.allowMissing;
  if (options.allowUnexpected !== undefined) copy.allowUnexpected = options.allowUnexpected;
  if (options.allowNonFinite !== undefined) copy.allowNonFinite = options.allowNonFinite;
  copyTensorsInto(target, file.tensors, copy);
  return file.metadata;
}
