/**
 * Reading a ULMFiT model file's metadata defensively: each field is parsed and type-checked with an error that
 * names the file and the field (never `itos.slice is not a function`), the AWD-LSTM sizes in the config are
 * checked against the tensors' shapes, and non-finite weights are refused (a model that diverged in training).
 *
 * @module
 */
import {
  type ConfigValue,
  firstNonFinite,
  META_BACKWARDS,
  META_CLASSES,
  META_CONFIG,
  META_ITOS,
  type TensorMap,
} from "../nn/mod.ts";

/** The metadata fields of a text model file, parsed and checked. */
export interface TextModelMeta {
  /** The config. */
  config: Record<string, ConfigValue>;
  /** The vocabulary. */
  itos: string[];
  /** Class names (classifiers), else []. */
  classes: string[];
  /** Reads backwards. */
  backwards: boolean;
}

function bad(path: string, key: string, want: string, raw: string): Error {
  const shown = raw.length > 60 ? `${raw.slice(0, 60)}...` : raw;
  return new Error(`${path}: bad metadata ${key} (expected ${want}, found ${shown}); the file is damaged`);
}

function parseJson(path: string, key: string, raw: string, want: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw bad(path, key, want, raw);
  }
}

function stringList(path: string, key: string, raw: string, min: number): string[] {
  const want = `a JSON array of ${min}+ strings`;
  const v = parseJson(path, key, raw, want);
  if (!Array.isArray(v) || v.length < min || v.some((s) => typeof s !== "string")) {
    throw bad(path, key, want, raw);
  }
  return v as string[];
}

/**
 * Parses and checks the metadata of a text model file.
 *
 * @param path the file, for messages
 * @param m its `__metadata__`
 * @param kind what it holds (`classifier` needs two class names)
 * @returns config, vocabulary, classes, direction
 */
export function parseTextModelMeta(path: string, m: Record<string, string>, kind: string): TextModelMeta {
  const rawConfig = m[META_CONFIG] ?? "{}";
  const config = parseJson(path, META_CONFIG, rawConfig, "a JSON object");
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw bad(path, META_CONFIG, "a JSON object", rawConfig);
  }
  const itos = stringList(path, META_ITOS, m[META_ITOS] ?? "", 1);
  const classes = m[META_CLASSES] !== undefined || kind === "classifier"
    ? stringList(path, META_CLASSES, m[META_CLASSES] ?? "", kind === "classifier" ? 2 : 0)
    : [];
  const dir = m[META_BACKWARDS];
  if (dir !== undefined && dir !== "true" && dir !== "false") {
    throw bad(path, META_BACKWARDS, '"true" or "false"', dir);
  }
  return { config: config as Record<string, ConfigValue>, itos, classes, backwards: dir === "true" };
}

function shapeOf(tensors: TensorMap, name: string): string | undefined {
  return tensors.get(name)?.shape.join(", ");
}

/**
 * Checks that an AWD-LSTM file's config (`embSize`, `nHid`, `nLayers`, `bidir`) and vocabulary fit its
 * tensors: the embedding is (vocabulary, embSize), each LSTM layer's weights have the sizes the config gives,
 * and there is no layer beyond `nLayers`.
 *
 * @param path the file, for messages
 * @param meta its parsed metadata
 * @param tensors its tensors
 */
export function checkAwdShapes(path: string, meta: TextModelMeta, tensors: TensorMap): void {
  const c = meta.config;
  const size = (k: string) => {
    const v = c[k];
    if (!(typeof v === "number" && Number.isInteger(v) && v >= 1)) {
      throw new Error(
        `${path}: bad metadata ${META_CONFIG}: "${k}" must be a positive integer, found ${JSON.stringify(v)}`,
      );
    }
    return v;
  };
  const emb = size("embSize"), hid = size("nHid"), layers = size("nLayers");
  const nDir = c.bidir === true ? 2 : 1;
  const want = new Map<string, string>([["encoder.weight", `${meta.itos.length}, ${emb}`]]);
  for (let l = 0; l < layers; l++) {
    const inSize = l === 0 ? emb : hid, out = (l === layers - 1 ? emb : hid) / nDir;
    want.set(`rnns.${l}.weightIH`, `${4 * out}, ${inSize}`);
    want.set(`rnns.${l}.weightHH`, `${4 * out}, ${out}`);
  }
  for (const [name, shape] of want) {
    const have = shapeOf(tensors, name);
    if (have !== undefined && have !== shape) {
      throw new Error(
        `${path}: the config (embSize ${emb}, nHid ${hid}, nLayers ${layers}) and vocabulary ` +
          `(${meta.itos.length} tokens) give ${name} [${shape}], the file holds [${have}]; the file is damaged`,
      );
    }
  }
  if (tensors.has(`rnns.${layers}.weightIH`)) {
    throw new Error(
      `${path}: the config says nLayers ${layers} but the file holds rnns.${layers}; the file is damaged`,
    );
  }
}

/**
 * Refuses non-finite weights, naming the tensor.
 *
 * @param path the file, for messages
 * @param tensors its tensors
 */
export function checkFiniteWeights(path: string, tensors: TensorMap): void {
  const b = firstNonFinite(tensors);
  if (b) {
    throw new Error(
      `${path}: ${b.count} weights of ${b.name} are ${b.value} or otherwise not finite: the model diverged in ` +
        "training; retrain it with a lower learning rate (--lr)",
    );
  }
}
