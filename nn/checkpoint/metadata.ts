/**
 * What a denofit checkpoint records about itself in safetensors `__metadata__` (every key is a `META_*` constant
 * of this file, the one place they are spelled): the model config (JSON), the vocab's hash, the kind, the
 * library version, and for text models the vocabulary, class names and reading direction — and the check that refuses to load a checkpoint into a model whose
 * config or vocab differs, saying which.
 *
 * @module
 */
import { VERSION } from "../version.ts";
import { CheckpointMismatchError } from "../formats/errors.ts";

/** `__metadata__` key holding the model config as JSON. */
export const META_CONFIG = "denofit.config";
/** `__metadata__` key holding the vocab hash. */
export const META_VOCAB_HASH = "denofit.vocab_hash";
/** `__metadata__` key holding the library version that wrote the file. */
export const META_VERSION = "denofit.version";
/** `__metadata__` key holding the checkpoint kind (e.g. `"model"`, `"encoder"`, `"train_state"`). */
export const META_KIND = "denofit.kind";

/** `__metadata__` key holding a model's vocabulary (JSON array of tokens, id order). */
export const META_ITOS = "denofit.itos";
/** `__metadata__` key holding a classifier's class names (JSON array, class id order). */
export const META_CLASSES = "denofit.classes";
/** `__metadata__` key telling whether a text model reads text backwards (`"true"` / `"false"`). */
export const META_BACKWARDS = "denofit.backwards";

/** `__metadata__` key holding a training state's position (JSON; see `nn/train_state.ts`). */
export const META_TRAIN_STATE = "denofit.train_state";

/**
 * `__metadata__` key holding the save unit a file belongs to (JSON `{"files":[...],"id":"..."}`): files saved
 * together by one training run (a language model and its encoder) share the id.
 */
export const META_UNIT = "denofit.unit";

/** Files written together as one unit (see `nn/training_run.ts`, `TrainingRun.save`). */
export interface SaveUnit {
  /** Shared by every file of the unit: a hash of the trained weights, so a re-run gives the same id. */
  id: string;
  /** The unit's file names (base names), in the order they are renamed into place. */
  files: readonly string[];
}

/** JSON-serialisable config values. */
export type ConfigValue = string | number | boolean | null | ConfigValue[] | { [key: string]: ConfigValue };

/** What a checkpoint describes about itself. */
export interface CheckpointInfo {
  /** The model config (hyper-parameters that fix tensor shapes and behaviour). */
  config?: { [key: string]: ConfigValue };
  /** Hash of the vocabulary the embedding rows index (see {@linkcode hashVocab}). */
  vocabHash?: string;
  /** What the file holds. */
  kind?: string;
  /** Extra string entries to store verbatim. */
  extra?: Record<string, string>;
  /** The save unit the file belongs to. */
  unit?: SaveUnit;
}

/**
 * Builds the `__metadata__` map for a checkpoint, stamping the library version.
 *
 * @param info config, vocab hash, kind, extras
 * @returns a string-to-string map for {@linkcode encodeSafetensors}
 * @example Stamp a config
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { checkpointMetadata, META_CONFIG } from "./metadata.ts";
 * strictEqual(checkpointMetadata({ config: { emb: 400 } })[META_CONFIG], '{"emb":400}');
 * ```
 */
export function checkpointMetadata(info: CheckpointInfo): Record<string, string> {
  const meta: Record<string, string> = { ...info.extra, [META_VERSION]: VERSION };
  if (info.config !== undefined) meta[META_CONFIG] = stableJson(info.config);
  if (info.vocabHash !== undefined) meta[META_VOCAB_HASH] = info.vocabHash;
  if (info.kind !== undefined) meta[META_KIND] = info.kind;
  if (info.unit !== undefined) {
    meta[META_UNIT] = stableJson({ id: info.unit.id, files: [...info.unit.files] });
  }
  return meta;
}

function stableJson(v: ConfigValue): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson(v[k]!)}`).join(",")}}`;
}

/**
 * SHA-256 (hex) of a vocabulary's index-to-string list: two vocabs hash equal iff they map the same ids to the
 * same words.
 *
 * @param itos the words, by id
 * @returns a 64-character hex digest
 */
export async function hashVocab(itos: readonly string[]): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(itos)));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Options of {@linkcode checkCheckpointMetadata}. */
export interface CheckMetadataOptions {
  /** The config the model was built with; each key must match the stored one. */
  config?: { [key: string]: ConfigValue };
  /** The vocab hash the model uses. */
  vocabHash?: string;
  /** File name for error messages. @default "<checkpoint>" */
  file?: string;
}

/**
 * Throws a {@linkcode CheckpointMismatchError} when the stored config or vocab hash differs from the expected
 * ones, naming each mismatched config key with both values (code `config_mismatch`) or both hashes
 * (`vocab_mismatch`); `missing_metadata` when the file lacks what is asked for.
 *
 * @param metadata the file's `__metadata__`
 * @param expected what the model expects
 * @example A vocab mismatch is caught
 * ```ts
 * import { throws } from "node:assert/strict";
 * import { checkCheckpointMetadata, checkpointMetadata } from "./metadata.ts";
 * const meta = checkpointMetadata({ config: { emb: 400 }, vocabHash: "abc" });
 * checkCheckpointMetadata(meta, { config: { emb: 400 }, vocabHash: "abc" });
 * throws(() => checkCheckpointMetadata(meta, { vocabHash: "def" }), /vocab_mismatch/);
 * throws(() => checkCheckpointMetadata(meta, { config: { emb: 300 } }), /"emb": stored 400, expected 300/);
 * ```
 */
export function checkCheckpointMetadata(
  metadata: Record<string, string>,
  expected: CheckMetadataOptions,
): void {
  const { file = "<checkpoint>" } = expected;
  if (expected.vocabHash !== undefined) {
    const stored = metadata[META_VOCAB_HASH];
    if (stored === undefined) {
      throw new CheckpointMismatchError(
        "missing_metadata",
        `no ${META_VOCAB_HASH} recorded; cannot verify the vocab`,
        {
          file,
        },
      );
    }
    if (stored !== expected.vocabHash) {
      throw new CheckpointMismatchError(
        "vocab_mismatch",
        `vocab hash differs: checkpoint ${stored}, model ${expected.vocabHash} — the embedding rows index another vocab (remap it with remapVocab)`,
        { file },
      );
    }
  }
  if (expected.config !== undefined) {
    const raw = metadata[META_CONFIG];
    if (raw === undefined) {
      throw new CheckpointMismatchError(
        "missing_metadata",
        `no ${META_CONFIG} recorded; cannot verify the config`,
        {
          file,
        },
      );
    }
    let stored: { [key: string]: ConfigValue };
    try {
      stored = JSON.parse(raw);
    } catch (e) {
      throw new CheckpointMismatchError("missing_metadata", `${META_CONFIG} is not JSON`, { file, cause: e });
    }
    const diffs: string[] = [];
    for (const key of Object.keys(expected.config).sort()) {
      const want = stableJson(expected.config[key]!);
      const have = key in stored ? stableJson(stored[key]!) : "(absent)";
      if (want !== have) diffs.push(`"${key}": stored ${have}, expected ${want}`);
    }
    for (const key of Object.keys(stored).sort()) {
      if (!(key in expected.config)) {
        diffs.push(`"${key}": stored ${stableJson(stored[key]!)}, expected (absent)`);
      }
    }
    if (diffs.length) {
      throw new CheckpointMismatchError("config_mismatch", `model config differs — ${diffs.join("; ")}`, {
        file,
      });
    }
  }
}
