/**
 * Modules <-> checkpoints: read a {@linkcode Module}'s parameters and buffers into a {@linkcode TensorMap}, copy
 * a TensorMap back into a module (every name, dtype and shape checked before anything is written), save / load
 * whole models, and ULMFiT's {@linkcode saveEncoder} / {@linkcode loadEncoder} (the encoder of a language model
 * into a classifier's encoder, refusing another vocab or another encoder shape and saying which).
 *
 * @example Save a model and load it into a fresh one
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { Linear } from "../layers/mod.ts";
 * import { loadModel, moduleTensors, saveModel } from "./model_io.ts";
 * const dir = await Deno.makeTempDir();
 * const a = new Linear(3, 2), b = new Linear(3, 2);
 * await saveModel(a, `${dir}/lin.safetensors`, { config: { in: 3, out: 2 } });
 * await loadModel(b, `${dir}/lin.safetensors`, { config: { in: 3, out: 2 } });
 * deepStrictEqual(await moduleTensors(b), await moduleTensors(a));
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
import { noGrad } from "../engine.ts";
import type { Module } from "../layers/module.ts";
import { fromArray, type Tensor, tidy } from "../tensor.ts";
import { CheckpointMismatchError } from "../formats/errors.ts";
import { copyTensorsInto, type CopyTensorsOptions, saveCheckpoint } from "./load.ts";
import {
  checkCheckpointMetadata,
  type CheckMetadataOptions,
  type ConfigValue,
  hashVocab,
  META_KIND,
  type SaveUnit,
} from "./metadata.ts";
import { readSafetensors } from "../formats/safetensors.ts";
import type { HostTensor, TensorMap } from "../formats/tensor_map.ts";

/**
 * Reads device tensors back to the host (copies), by name.
 *
 * @param tensors named device tensors (a module's `stateDict()`, an optimizer's `stateTensors()`)
 * @returns host copies in the same order
 */
export async function tensorsToHost(tensors: Iterable<[string, Tensor]>): Promise<TensorMap> {
  const out: TensorMap = new Map();
  for (const [name, t] of tensors) {
    const data = await t.data();
    let host: HostTensor;
    if (t.dtype === "f32") host = { dtype: "f32", shape: [...t.shape], data: Float32Array.from(data) };
    else if (t.dtype === "i32") host = { dtype: "i32", shape: [...t.shape], data: Int32Array.from(data) };
    else {throw new TypeError(
        `tensorsToHost: tensor "${name}" has dtype ${t.dtype}; only f32 and i32 are saved`,
      );}
    out.set(name, host);
  }
  return out;
}

/**
 * A module's parameters and buffers (`stateDict()`, tied tensors once) as host tensors.
 *
 * @param model the module
 * @returns its tensors by dotted name
 */
export function moduleTensors(model: Module): Promise<TensorMap> {
  return tensorsToHost(model.stateDict());
}

/**
 * Copies host tensors into device tensors: checks every name, dtype and shape first (a
 * {@linkcode CheckpointMismatchError} naming the tensor), then writes. On error nothing was written.
 *
 * @param target device tensors, written in place
 * @param source host tensors
 * @param options tolerance for missing / unexpected names, file name for errors
 * @returns the names written
 */
export function copyHostIntoTensors(
  target: Map<string, Tensor>,
  source: TensorMap,
  options: CopyTensorsOptions = {},
): string[] {
  // validate with a shape-only stand-in of the target: copyTensorsInto checks before it copies
  const probe: TensorMap = new Map();
  for (const [k, t] of target) {
    if (t.dtype !== "f32" && t.dtype !== "i32") {
      throw new TypeError(`copyHostIntoTensors: model tensor "${k}" has dtype ${t.dtype}`);
    }
    const n = t.size;
    probe.set(k, {
      dtype: t.dtype,
      shape: [...t.shape],
      data: t.dtype === "f32" ? new Float32Array(n) : new Int32Array(n),
    });
  }
  const names = copyTensorsInto(probe, source, options);
  noGrad(() =>
    tidy(() => {
      for (const k of names) {
        const t = target.get(k)!, h = source.get(k)!;
        const src = fromArray(h.data, h.shape, { dtype: h.dtype, backend: t.backend });
        t.backend.run("copy", [src.view], [t.view], {});
      }
    })
  );
  return names;
}

/**
 * Copies host tensors into a module's parameters and buffers (see {@linkcode copyHostIntoTensors}).
 *
 * @param model the module, written in place
 * @param source host tensors under the module's `stateDict()` names
 * @param options tolerance for missing / unexpected names
 * @returns the names written
 */
export function loadModuleTensors(
  model: Module,
  source: TensorMap,
  options: CopyTensorsOptions = {},
): string[] {
  return copyHostIntoTensors(model.stateDict(), source, options);
}

/** What a model file records (see {@linkcode saveModel}). */
export interface SaveModelOptions {
  /** The config that fixes the model's shapes. */
  config?: { [key: string]: ConfigValue };
  /** The vocabulary (its hash is stored). */
  itos?: readonly string[];
  /** Or the vocab hash directly. */
  vocabHash?: string;
  /** What the file holds. @default "model" */
  kind?: string;
  /** Extra metadata strings. */
  extra?: Record<string, string>;
  /** The save unit the file belongs to (files a training run writes together). */
  unit?: SaveUnit;
}

/** What loading checks (see {@linkcode loadModel}). */
export interface LoadModelOptions extends CopyTensorsOptions {
  /** The model's config: every key must equal the stored one. */
  config?: { [key: string]: ConfigValue };
  /** The model's vocabulary: its hash must equal the stored one. */
  itos?: readonly string[];
  /** Or the vocab hash directly. */
  vocabHash?: string;
  /** The kind the file must hold. */
  kind?: string;
}

async function vocabHashOf(o: { itos?: readonly string[]; vocabHash?: string }): Promise<string | undefined> {
  return o.itos !== undefined ? await hashVocab(o.itos) : o.vocabHash;
}

/**
 * Saves a module's tensors atomically as safetensors with config, vocab hash, kind and version.
 *
 * @param model the module
 * @param path destination
 * @param options config, vocabulary, kind
 */
export async function saveModel(model: Module, path: string, options: SaveModelOptions = {}): Promise<void> {
  await saveTensors(model.stateDict(), path, { ...options, kind: options.kind ?? "model" });
}

async function saveTensors(
  tensors: Map<string, Tensor>,
  path: string,
  options: SaveModelOptions & { kind: string },
): Promise<void> {
  const vocabHash = await vocabHashOf(options);
  await saveCheckpoint(path, await tensorsToHost(tensors), {
    kind: options.kind,
    ...(options.config ? { config: options.config } : {}),
    ...(vocabHash !== undefined ? { vocabHash } : {}),
    ...(options.extra ? { extra: options.extra } : {}),
    ...(options.unit ? { unit: options.unit } : {}),
  });
}

/**
 * Loads a file written by {@linkcode saveModel} into a module: validates the file, checks kind / config / vocab
 * hash when given and every tensor's name and shape, then copies. On any error the module is untouched.
 *
 * @param model the module, written in place
 * @param path the file
 * @param options expected kind, config, vocabulary
 * @returns the file's metadata
 */
export function loadModel(
  model: Module,
  path: string,
  options: LoadModelOptions = {},
): Promise<Record<string, string>> {
  return loadTensors(model.stateDict(), path, options);
}

async function loadTensors(
  target: Map<string, Tensor>,
  path: string,
  options: LoadModelOptions,
): Promise<Record<string, string>> {
  const file = await readSafetensors(path);
  if (options.kind !== undefined && file.metadata[META_KIND] !== options.kind) {
    throw new CheckpointMismatchError(
      "config_mismatch",
      `holds a ${file.metadata[META_KIND] ?? "(unlabelled)"} checkpoint, expected ${options.kind}`,
      { file: path },
    );
  }
  const check: CheckMetadataOptions = { file: path };
  if (options.config !== undefined) check.config = options.config;
  const vocabHash = await vocabHashOf(options);
  if (vocabHash !== undefined) check.vocabHash = vocabHash;
  checkCheckpointMetadata(file.metadata, check);
  const copy: CopyTensorsOptions = { file: path };
  if (options.allowMissing !== undefined) copy.allowMissing = options.allowMissing;
  if (options.allowUnexpected !== undefined) copy.allowUnexpected = options.allowUnexpected;
  if (options.allowNonFinite !== undefined) copy.allowNonFinite = options.allowNonFinite;
  copyHostIntoTensors(target, file.tensors, copy);
  return file.metadata;
}

/** The config keys that fix an AWD-LSTM encoder's tensors (dropouts do not, so LM and classifier may differ). */
export const ENCODER_CONFIG_KEYS = ["embSize", "nHid", "nLayers", "bidir", "padToken"] as const;

/** A model with an encoder (`AwdLstmLM`, `AwdLstmClassifier`: both register it as child `0`). */
export interface WithEncoder {
  /** The encoder module (an AWD-LSTM for ULMFiT). */
  encoder: Module & { config?: object };
}

function encoderConfig(model: WithEncoder, given?: { [key: string]: ConfigValue }) {
  if (given !== undefined) return given;
  const c = model.encoder.config as Record<string, ConfigValue> | undefined;
  if (!c) return undefined;
  const out: { [key: string]: ConfigValue } = {};
  for (const k of ENCODER_CONFIG_KEYS) if (k in c) out[k] = c[k]!;
  return out;
}

/** Options of {@linkcode saveEncoder} / {@linkcode loadEncoder}. */
export interface EncoderOptions {
  /** The vocabulary the embedding rows index (required: an encoder is useless on another vocab). */
  itos: readonly string[];
  /** The encoder config. @default the encoder's `config` restricted to {@linkcode ENCODER_CONFIG_KEYS} */
  config?: { [key: string]: ConfigValue };
  /** Extra metadata strings to store (saving only; e.g. the vocabulary itself, see `text/model_file.ts`). */
  extra?: Record<string, string>;
  /** The save unit the file belongs to (saving only). */
  unit?: SaveUnit;
}

/**
 * ULMFiT: saves the encoder of a (fine-tuned) language model, kind `"encoder"`, with its vocab hash and config.
 *
 * @param model a model with an `encoder` (e.g. `AwdLstmLM`)
 * @param path destination
 * @param options the vocabulary (and config override)
 * @example Language model encoder into a classifier
 * ```ts
 * import { deepStrictEqual, rejects } from "node:assert/strict";
 * import { AwdLstmClassifier, AwdLstmLM } from "../../text/models/awd_lstm.ts";
 * import { loadEncoder, moduleTensors, saveEncoder } from "./model_io.ts";
 * const dir = await Deno.makeTempDir(), itos = ["xxpad", "a", "b", "c"];
 * const size = { embSize: 4, nHid: 6, nLayers: 2 };
 * const lm = new AwdLstmLM(4, size), clas = new AwdLstmClassifier(4, 2, size);
 * await saveEncoder(lm, `${dir}/enc.safetensors`, { itos });
 * await loadEncoder(clas, `${dir}/enc.safetensors`, { itos });
 * deepStrictEqual(await moduleTensors(clas.encoder), await moduleTensors(lm.encoder));
 * await rejects(loadEncoder(clas, `${dir}/enc.safetensors`, { itos: ["xxpad", "a", "c", "b"] }), /vocab_mismatch/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function saveEncoder(model: WithEncoder, path: string, options: EncoderOptions): Promise<void> {
  const config = encoderConfig(model, options.config);
  await saveTensors(model.encoder.stateDict(), path, {
    kind: "encoder",
    itos: options.itos,
    ...(config ? { config } : {}),
    ...(options.extra ? { extra: options.extra } : {}),
    ...(options.unit ? { unit: options.unit } : {}),
  });
}

/**
 * ULMFiT: loads an encoder saved by {@linkcode saveEncoder} into a model's encoder (e.g. a classifier's), after
 * checking the kind, the vocab hash (`vocab_mismatch`: another vocabulary), the config (`config_mismatch`, naming
 * each differing key) and every tensor. On any error the model is untouched.
 *
 * @param model a model with an `encoder` (e.g. `AwdLstmClassifier`)
 * @param path the encoder file
 * @param options the model's vocabulary (and config override)
 * @returns the file's metadata
 */
export function loadEncoder(
  model: WithEncoder,
  path: string,
  options: EncoderOptions,
): Promise<Record<string, string>> {
  const config = encoderConfig(model, options.config);
  return loadTensors(model.encoder.stateDict(), path, {
    kind: "encoder",
    itos: options.itos,
    ...(config ? { config } : {}),
  });
}
