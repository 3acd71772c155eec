/**
 * ULMFiT model files: an AWD-LSTM language model, its encoder or a classifier as safetensors (tensors under the
 * models' `stateDict()` names) with the kind, config, vocabulary, class names and reading direction in the
 * metadata (`META_*` keys of `nn/checkpoint/metadata.ts`). Saving goes through `nn/checkpoint`'s
 * `saveModel` / `saveEncoder`; loading builds the model from the file's config and copies the tensors (every
 * name and shape checked first). {@linkcode describeModelFile} says what any model file holds.
 *
 * @example Save a language model and its encoder, load both back
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { AwdLstmLM } from "./models/awd_lstm.ts";
 * import { loadLanguageModel, readModelFile, saveLanguageModel, saveLanguageModelEncoder } from "./model_file.ts";
 * const dir = await Deno.makeTempDir(), itos = ["xxunk", "xxpad", "a", "b"];
 * const lm = new AwdLstmLM(4, { embSize: 4, nHid: 6, nLayers: 1 });
 * await saveLanguageModel(lm, `${dir}/lm.safetensors`, { itos });
 * await saveLanguageModelEncoder(lm, `${dir}/enc.safetensors`, { itos, backwards: true });
 * const back = await loadLanguageModel(`${dir}/lm.safetensors`);
 * strictEqual(back.model.config.nHid, 6);
 * strictEqual((await readModelFile(`${dir}/enc.safetensors`, "encoder")).backwards, true);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
import {
  type ConfigValue,
  copyHostIntoTensors,
  describeFsError,
  firstNonFinite,
  hashVocab,
  isFsError,
  META_BACKWARDS,
  META_CLASSES,
  META_CONFIG,
  META_ITOS,
  META_KIND,
  META_UNIT,
  META_VERSION,
  readSafetensors,
  readTorchCheckpoint,
  recoverInterruptedWrites,
  saveEncoder,
  saveModel,
  type SaveUnit,
  type TensorMap,
} from "../nn/mod.ts";
import { AWD_LSTM_LM_CONFIG, AwdLstmClassifier, type AwdLstmConfig, AwdLstmLM } from "./models/awd_lstm.ts";
import { mapFastaiAwdLstm } from "./models/awd_lstm_fastai.ts";
import { checkAwdShapes, checkFiniteWeights, parseTextModelMeta } from "./_model_meta.ts";

/** Kinds of ULMFiT model file (`denofit.kind` in the metadata). */
export type ModelKind = "lm" | "encoder" | "classifier";

/** What a model file says about itself. */
export interface ModelFileInfo {
  /** `lm`, `encoder` or `classifier`. */
  kind: ModelKind;
  /** The AWD-LSTM config (and classifier head settings). */
  config: Record<string, ConfigValue>;
  /** Vocabulary, id order. */
  itos: string[];
  /** Class names (classifiers). */
  classes: string[];
  /** Whether the model reads text backwards. */
  backwards: boolean;
  /** The tensors. */
  tensors: TensorMap;
  /** Raw metadata. */
  metadata: Record<string, string>;
}

/**
 * Read a ULMFiT model file, checking its kind when `expect` is given, its metadata (each field parsed and
 * type-checked, the config against the tensor shapes) and its weights (non-finite weights are refused unless
 * `allowNonFinite`). A save of this file that a killed process left half done is completed first.
 *
 * @param path the file
 * @param expect the kind (or kinds) it must hold
 * @param options `allowNonFinite`: accept NaN / infinite weights
 * @returns what it holds
 */
export async function readModelFile(
  path: string,
  expect?: ModelKind | ModelKind[],
  options: { allowNonFinite?: boolean } = {},
): Promise<ModelFileInfo> {
  await recoverInterruptedWrites(path).catch(() => {}); // best effort: a read-only folder is still readable
  let file;
  try {
    file = await readSafetensors(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`${path}: no such model file`);
    if (isFsError(e)) throw new Error(describeFsError(path, e));
    throw new Error(`${path}: not a denofit model file (${e instanceof Error ? e.message : e})`);
  }
  const m = file.metadata;
  const kind = m[META_KIND] as ModelKind | undefined;
  if (!kind || !m[META_ITOS]) {
    throw new Error(`${path}: not a denofit model file (no kind/vocabulary in its metadata)`);
  }
  if (!["lm", "encoder", "classifier"].includes(kind)) {
    throw new Error(`${path}: holds a ${kind} file, not a ULMFiT model (lm, encoder or classifier)`);
  }
  const want = expect === undefined ? undefined : Array.isArray(expect) ? expect : [expect];
  if (want && !want.includes(kind)) {
    throw new Error(`${path}: holds a ${kind} model, expected ${want.join(" or ")}`);
  }
  const meta = parseTextModelMeta(path, m, kind);
  checkAwdShapes(path, meta, file.tensors);
  if (!options.allowNonFinite) checkFiniteWeights(path, file.tensors);
  return { kind, ...meta, tensors: file.tensors, metadata: m };
}

/**
 * The AWD-LSTM fields of a stored config (drops the head settings and `vocabSize`).
 *
 * @param c a config from a model file
 * @returns the fields {@linkcode AwdLstmLM} / {@linkcode AwdLstmClassifier} take
 */
export function awdConfigOf(c: Record<string, ConfigValue>): Partial<AwdLstmConfig> {
  const out: Record<string, ConfigValue> = {};
  for (const k of Object.keys(AWD_LSTM_LM_CONFIG)) if (k in c) out[k] = c[k]!;
  return out as Partial<AwdLstmConfig>;
}

/** What a text model file records besides its tensors and config. */
export interface TextModelInfo {
  /** The vocabulary (id order). */
  itos: readonly string[];
  /** Reads text backwards. @default false */
  backwards?: boolean;
  /** The save unit (files written together by a training run: `TrainingRun.save`). */
  unit?: SaveUnit;
}

function textMetadata(info: TextModelInfo, classes?: readonly string[]): Record<string, string> {
  const extra: Record<string, string> = {
    [META_ITOS]: JSON.stringify(info.itos),
    [META_BACKWARDS]: String(info.backwards ?? false),
  };
  if (classes) extra[META_CLASSES] = JSON.stringify(classes);
  return extra;
}

/**
 * Save a language model (kind `lm`) atomically with its config, vocabulary and direction.
 *
 * @param model the language model
 * @param path destination
 * @param info vocabulary and direction
 */
export function saveLanguageModel(model: AwdLstmLM, path: string, info: TextModelInfo): Promise<void> {
  return saveModel(model, path, {
    kind: "lm",
    config: { ...model.config, vocabSize: info.itos.length },
    itos: info.itos,
    extra: textMetadata(info),
    ...(info.unit ? { unit: info.unit } : {}),
  });
}

/**
 * Save a language model's encoder (kind `encoder`, what {@linkcode readEncoderFile} reads into a classifier).
 *
 * @param model the language model
 * @param path destination
 * @param info vocabulary and direction
 */
export function saveLanguageModelEncoder(model: AwdLstmLM, path: string, info: TextModelInfo): Promise<void> {
  return saveEncoder(model, path, {
    config: { ...model.config, vocabSize: info.itos.length },
    itos: info.itos,
    extra: textMetadata(info),
    ...(info.unit ? { unit: info.unit } : {}),
  });
}

/**
 * Save a classifier (kind `classifier`) with its config, vocabulary, class names and direction.
 *
 * @param model the classifier
 * @param path destination
 * @param info vocabulary, class names (class id order) and direction
 */
export function saveTextClassifier(
  model: AwdLstmClassifier,
  path: string,
  info: TextModelInfo & { classes: readonly string[] },
): Promise<void> {
  return saveModel(model, path, {
    kind: "classifier",
    config: { ...model.config, vocabSize: info.itos.length, bptt: model.bptt, nClass: info.classes.length },
    itos: info.itos,
    extra: textMetadata(info, info.classes),
    ...(info.unit ? { unit: info.unit } : {}),
  });
}

/** A language model read from a file. */
export interface LoadedLanguageModel {
  /** The model. */
  model: AwdLstmLM;
  /** Vocabulary. */
  itos: string[];
  /** Reads text backwards. */
  backwards: boolean;
}

/**
 * Load a language model file (kind `lm`) into a new model of its config.
 *
 * @param path the file
 * @returns the model, vocabulary and direction
 */
export async function loadLanguageModel(path: string): Promise<LoadedLanguageModel> {
  const f = await readModelFile(path, "lm");
  const model = new AwdLstmLM(f.itos.length, awdConfigOf(f.config));
  copyHostIntoTensors(model.stateDict(), f.tensors, { file: path, allowUnexpected: true });
  return { model, itos: f.itos, backwards: f.backwards };
}

/** A classifier read from a file. */
export interface LoadedClassifier {
  /** The model. */
  model: AwdLstmClassifier;
  /** Vocabulary. */
  itos: string[];
  /** Class names. */
  classes: string[];
  /** Reads text backwards. */
  backwards: boolean;
}

/**
 * Load a classifier file (kind `classifier`) into a new model of its config.
 *
 * @param path the file
 * @returns the model, vocabulary, class names and direction
 */
export async function loadTextClassifier(path: string): Promise<LoadedClassifier> {
  const f = await readModelFile(path, "classifier");
  const c = f.config;
  const model = new AwdLstmClassifier(f.itos.length, f.classes.length, {
    ...awdConfigOf(c),
    ...(typeof c.bptt === "number" ? { bptt: c.bptt } : {}),
  });
  copyHostIntoTensors(model.stateDict(), f.tensors, { file: path, allowUnexpected: true });
  return { model, itos: f.itos, classes: f.classes, backwards: f.backwards };
}

/** An encoder file checked against a corpus: its tensors and the sizes they fix. */
export interface EncoderFile {
  /** The tensors (an LM file's decoder tensors included; they are ignored when loading). */
  tensors: TensorMap;
  /** Sizes of the encoder. */
  sizes: { embSize: number; nHid: number; nLayers: number };
}

/**
 * Read an encoder (or language model) file for a classifier, checking that it indexes the same vocabulary and
 * reads in the same direction.
 *
 * @param path the encoder file
 * @param expected the classifier's vocabulary and direction
 * @returns the tensors and sizes
 */
export async function readEncoderFile(
  path: string,
  expected: { itos: readonly string[]; backwards: boolean },
): Promise<EncoderFile> {
  const { itos, backwards } = expected;
  const f = await readModelFile(path, ["encoder", "lm"]);
  if ((await hashVocab(f.itos)) !== (await hashVocab(itos))) {
    throw new Error(
      `${path}: its vocabulary (${f.itos.length} tokens) is not the corpus vocabulary (${itos.length} tokens); ` +
        "train the language model on this corpus and vocabulary (mismatched vocab)",
    );
  }
  if (f.backwards !== backwards) {
    throw new Error(
      `${path}: a ${f.backwards ? "backwards" : "forwards"} encoder given for the ${
        backwards ? "backwards" : "forwards"
      } model`,
    );
  }
  const c = awdConfigOf(f.config);
  return { tensors: f.tensors, sizes: { embSize: c.embSize!, nHid: c.nHid!, nLayers: c.nLayers! } };
}

function tensorLines(tensors: TensorMap, limit = 40): string[] {
  let total = 0;
  const lines: string[] = [];
  for (const [k, t] of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    total += n;
    if (lines.length < limit) lines.push(`  ${k} [${t.shape.join(", ")}] ${t.dtype}`);
  }
  if (tensors.size > limit) lines.push(`  ... ${tensors.size - limit} more`);
  return [`${tensors.size} tensors, ${total} parameters`, ...lines];
}

function denofitLines(path: string, m: Record<string, string>, tensors: TensorMap): string[] {
  const out = [`denofit ${m[META_KIND]} model (denofit ${m[META_VERSION] ?? "?"})`];
  if (m[META_CONFIG]) out.push(`config ${m[META_CONFIG]}`);
  let meta;
  try {
    meta = parseTextModelMeta(path, m, m[META_KIND] ?? "");
    if (["lm", "encoder", "classifier"].includes(m[META_KIND] ?? "") && "embSize" in meta.config) {
      checkAwdShapes(path, meta, tensors);
    }
  } catch (e) {
    return [...out, `damaged: ${e instanceof Error ? e.message : e}`];
  }
  if (m[META_ITOS]) {
    // tokens such as "\n" or " " are quoted, as `vocab build` shows them, so the preview stays on one line
    const shown = meta.itos.slice(9, 25).map((t) => (/^\S+$/.test(t) ? t : JSON.stringify(t)));
    out.push(`vocabulary ${meta.itos.length} tokens: ${shown.join(" ")} ...`);
  }
  if (meta.classes.length) out.push(`classes ${meta.classes.join(", ")}`);
  if (m[META_BACKWARDS]) out.push(`reads text ${meta.backwards ? "backwards" : "forwards"}`);
  if (m[META_UNIT]) out.push(`saved with ${m[META_UNIT]}`);
  const b = firstNonFinite(tensors);
  if (b) out.push(`WARNING: ${b.count} weights of ${b.name} are not finite (${b.value}): the model diverged`);
  return out;
}

async function describeTorchFile(path: string): Promise<string> {
  let ck;
  try {
    ck = await readTorchCheckpoint(path);
  } catch (e) {
    throw new Error(
      `${path}: neither safetensors nor a PyTorch checkpoint (${e instanceof Error ? e.message : e})`,
    );
  }
  const out = [`${path}: PyTorch checkpoint (${ck.format} format)`];
  try {
    const mapped = mapFastaiAwdLstm(ck.tensors, { file: path });
    const emb = mapped.tensors.get("encoder.weight")!;
    out.push(
      `fastai AWD-LSTM ${mapped.kind} (${mapped.format} names), ${mapped.layers} layer${
        mapped.layers === 1 ? "" : "s"
      }, ` +
        `vocabulary ${emb.shape[0]}, embedding ${emb.shape[1]}` +
        (mapped.unused.length ? `; other tensors: ${mapped.unused.slice(0, 8).join(", ")}` : ""),
    );
  } catch {
    out.push("not a fastai AWD-LSTM state dict");
  }
  return [...out, ...tensorLines(ck.tensors)].join("\n");
}

/**
 * Describe a model file in a few lines: a denofit model (kind, config, vocabulary, classes, direction,
 * tensors), any safetensors file (tensors and metadata), or a PyTorch `.pth` state dict (a fastai AWD-LSTM is
 * recognised).
 *
 * @param path a `.safetensors` or `.pth` / `.pt` file
 * @returns the description
 * @example Describe a small safetensors file
 * ```ts
 * import { saveCheckpoint } from "../nn/mod.ts";
 * import { describeModelFile } from "./model_file.ts";
 * const p = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await saveCheckpoint(p, new Map([["w", { dtype: "f32" as const, shape: [2, 3], data: new Float32Array(6) }]]));
 * const text = await describeModelFile(p);
 * if (!text.includes("w [2, 3]") || !text.includes("6 parameters")) throw new Error(text);
 * await Deno.remove(p);
 * ```
 */
export async function describeModelFile(path: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new Error(describeFsError(path, e));
  }
  // safetensors: an 8-byte header length, then the JSON header ("{" at byte 8). A file named .safetensors or
  // starting like one is read as safetensors and its error is the one reported; anything else is tried as a
  // PyTorch checkpoint.
  const st = bytes.length >= 9 && bytes[8] === 0x7b;
  if (!st && !path.endsWith(".safetensors")) return await describeTorchFile(path);
  let f;
  try {
    f = await readSafetensors(path);
  } catch (e) {
    throw new Error(`${path}: a damaged safetensors file (${e instanceof Error ? e.message : e})`);
  }
  const m = f.metadata;
  const out = [`${path}: safetensors`];
  if (m[META_KIND]) out.push(...denofitLines(path, m, f.tensors));
  else {
    const keys = Object.keys(m);
    out.push(keys.length ? `metadata: ${keys.join(", ")}` : "no metadata (not written by denofit)");
  }
  return [...out, ...tensorLines(f.tensors)].join("\n");
}
