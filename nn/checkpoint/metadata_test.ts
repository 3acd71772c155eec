import { deepStrictEqual, notStrictEqual, strictEqual, throws } from "node:assert/strict";
import {
  checkCheckpointMetadata,
  checkpointMetadata,
  hashVocab,
  META_CONFIG,
  META_KIND,
  META_VERSION,
} from "./metadata.ts";
import { CheckpointMismatchError } from "../formats/errors.ts";
import { VERSION } from "../version.ts";

Deno.test("checkpointMetadata() stamps version, config, vocab hash and kind", () => {
  const meta = checkpointMetadata({
    config: { b: [1, 2], a: { y: true, x: null } },
    vocabHash: "h",
    kind: "encoder",
    extra: { note: "n" },
  });
  deepStrictEqual(meta, {
    note: "n",
    [META_VERSION]: VERSION,
    [META_CONFIG]: '{"a":{"x":null,"y":true},"b":[1,2]}',
    "denofit.vocab_hash": "h",
    [META_KIND]: "encoder",
  });
});

Deno.test("checkCheckpointMetadata() names each mismatch", async (t) => {
  const meta = checkpointMetadata({ config: { emb: 400, nh: 1150, qrnn: false }, vocabHash: "abc" });
  await t.step("same config in another key order passes", () => {
    checkCheckpointMetadata(meta, { config: { qrnn: false, nh: 1150, emb: 400 }, vocabHash: "abc" });
  });
  await t.step("every differing, missing and extra key is listed", () => {
    throws(
      () =>
        checkCheckpointMetadata(meta, { config: { emb: 300, nh: 1150, layers: 3 }, file: "lm.safetensors" }),
      (e: unknown) =>
        e instanceof CheckpointMismatchError && e.code === "config_mismatch" &&
        e.message ===
          'lm.safetensors: model config differs — "emb": stored 400, expected 300; "layers": stored (absent), ' +
            'expected 3; "qrnn": stored false, expected (absent) [config_mismatch]',
    );
  });
  await t.step("vocab hash mismatch and missing metadata", () => {
    throws(
      () => checkCheckpointMetadata(meta, { vocabHash: "abd" }),
      (e: unknown) => e instanceof CheckpointMismatchError && e.code === "vocab_mismatch",
    );
    throws(
      () => checkCheckpointMetadata({}, { vocabHash: "abc" }),
      (e: unknown) => e instanceof CheckpointMismatchError && e.code === "missing_metadata",
    );
    throws(() => checkCheckpointMetadata({}, { config: {} }), /no denofit\.config recorded/);
  });
});

Deno.test("hashVocab() is SHA-256 of the JSON word list", async () => {
  // python3 -c 'import hashlib; print(hashlib.sha256(b"[\"xxbos\",\"the\",\"caf\xc3\xa9\"]").hexdigest())'
  strictEqual(
    await hashVocab(["xxbos", "the", "café"]),
    "4d1d60c17e4d60dabfd79cd291ebc65385c4f221fb17b14dfe235f43b848163e",
  );
  notStrictEqual(await hashVocab(["the", "xxbos", "café"]), await hashVocab(["xxbos", "the", "café"]));
});
