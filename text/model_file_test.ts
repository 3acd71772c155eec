import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import {
  META_BACKWARDS,
  META_CLASSES,
  META_ITOS,
  META_KIND,
  readSafetensors,
  saveCheckpoint,
  tensorsToHost,
} from "../nn/mod.ts";
import { seed } from "../gpu/rng.ts";
import { AwdLstmClassifier, AwdLstmLM } from "./models/awd_lstm.ts";
import { awdLstmParamNames } from "./models/awd_lstm_fastai.ts";
import {
  describeModelFile,
  loadLanguageModel,
  loadTextClassifier,
  readEncoderFile,
  readModelFile,
  saveLanguageModel,
  saveLanguageModelEncoder,
  saveTextClassifier,
} from "./model_file.ts";

const ITOS = [
  "xxunk",
  "xxpad",
  "xxbos",
  "xxeos",
  "xxfld",
  "xxrep",
  "xxwrep",
  "xxup",
  "xxmaj",
  "good",
  "bad",
  "film",
];
const SIZES = { embSize: 6, nHid: 8, nLayers: 2 };

Deno.test("language model and encoder files: names, metadata, round trip", async (t) => {
  const dir = await Deno.makeTempDir();
  seed(1);
  const lm = new AwdLstmLM(ITOS.length, SIZES);
  await saveLanguageModel(lm, `${dir}/lm.safetensors`, { itos: ITOS });
  await saveLanguageModelEncoder(lm, `${dir}/enc.safetensors`, { itos: ITOS, backwards: true });
  try {
    await t.step("the LM file holds the model's stateDict() names and the text metadata", async () => {
      const f = await readSafetensors(`${dir}/lm.safetensors`);
      deepStrictEqual([...f.tensors.keys()], awdLstmParamNames(2));
      deepStrictEqual(
        [f.metadata[META_KIND], JSON.parse(f.metadata[META_ITOS]!), f.metadata[META_BACKWARDS]],
        ["lm", ITOS, "false"],
      );
      strictEqual(f.metadata[META_CLASSES], undefined);
    });
    await t.step("loading builds the same model with the same weights", async () => {
      const back = await loadLanguageModel(`${dir}/lm.safetensors`);
      deepStrictEqual([back.itos, back.backwards, back.model.config], [ITOS, false, lm.config]);
      deepStrictEqual(await tensorsToHost(back.model.stateDict()), await tensorsToHost(lm.stateDict()));
    });
    await t.step("the encoder file: encoder tensors only, kind encoder, the direction", async () => {
      const f = await readModelFile(`${dir}/enc.safetensors`, "encoder");
      deepStrictEqual([...f.tensors.keys()], awdLstmParamNames(2).slice(0, -2));
      deepStrictEqual([f.backwards, f.config.vocabSize, f.config.nHid], [true, ITOS.length, 8]);
    });
    await t.step(
      "readEncoderFile() checks the vocabulary and the direction, and gives the sizes",
      async () => {
        const e = await readEncoderFile(`${dir}/enc.safetensors`, { itos: ITOS, backwards: true });
        deepStrictEqual(e.sizes, SIZES);
        const other = [...ITOS.slice(0, -1), "movie"];
        await rejects(
          readEncoderFile(`${dir}/enc.safetensors`, { itos: other, backwards: true }),
          /mismatched vocab/,
        );
        await rejects(
          readEncoderFile(`${dir}/enc.safetensors`, { itos: ITOS, backwards: false }),
          /a backwards encoder given for the forwards model/,
        );
        // an LM file serves as an encoder too
        ok(
          (await readEncoderFile(`${dir}/lm.safetensors`, { itos: ITOS, backwards: false })).tensors.has(
            "decoder.bias",
          ),
        );
      },
    );
    await t.step("describeModelFile() names kind, vocabulary and direction", async () => {
      const text = await describeModelFile(`${dir}/enc.safetensors`);
      ok(text.includes("denofit encoder model"), text);
      ok(text.includes("vocabulary 12 tokens: good bad film ..."), text);
      ok(text.includes("reads text backwards"), text);
    });
  } finally {
    lm.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("classifier files round-trip with their classes", async () => {
  const dir = await Deno.makeTempDir();
  seed(2);
  const clas = new AwdLstmClassifier(ITOS.length, 3, { ...SIZES, bptt: 5 });
  try {
    await saveTextClassifier(clas, `${dir}/c.safetensors`, { itos: ITOS, classes: ["a", "b", "c"] });
    const back = await loadTextClassifier(`${dir}/c.safetensors`);
    deepStrictEqual([back.classes, back.model.bptt, back.backwards], [["a", "b", "c"], 5, false]);
    deepStrictEqual(await tensorsToHost(back.model.stateDict()), await tensorsToHost(clas.stateDict()));
    await rejects(loadLanguageModel(`${dir}/c.safetensors`), /holds a classifier model, expected lm/);
  } finally {
    clas.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readModelFile() says what is wrong with a file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await rejects(readModelFile(`${dir}/none.safetensors`), /none\.safetensors: no such model file/);
    const w = new Map([["w", { dtype: "f32" as const, shape: [1], data: new Float32Array(1) }]]);
    await saveCheckpoint(`${dir}/plain.safetensors`, w);
    await rejects(
      readModelFile(`${dir}/plain.safetensors`),
      /not a denofit model file \(no kind\/vocabulary/,
    );
    await Deno.writeTextFile(`${dir}/junk.safetensors`, "not a checkpoint at all");
    await rejects(readModelFile(`${dir}/junk.safetensors`), /junk\.safetensors: not a denofit model file \(/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readModelFile() checks metadata fields, config against shapes, and weights (#13 faults 1, 10)", async (t) => {
  const dir = await Deno.makeTempDir();
  seed(1);
  const lm = new AwdLstmLM(ITOS.length, SIZES);
  const good = `${dir}/lm.safetensors`;
  await saveLanguageModel(lm, good, { itos: ITOS });
  const file = await readSafetensors(good);
  const variant = async (name: string, meta: Record<string, string>, nan = false) => {
    const tensors = new Map([...file.tensors].map(([k, v]) => [k, { ...v, data: v.data.slice() }]));
    if (nan) tensors.get("rnns.0.weightHH")!.data[3] = NaN;
    await saveCheckpoint(`${dir}/${name}`, tensors, { extra: { ...file.metadata, ...meta } });
    return `${dir}/${name}`;
  };
  try {
    await t.step("each metadata field is type-checked with an error naming file and field", async () => {
      const cases: [Record<string, string>, RegExp][] = [
        [
          { [META_ITOS]: '{"a":1}' },
          /bad metadata denofit\.itos \(expected a JSON array of 1\+ strings, found \{"a":1\}\)/,
        ],
        [{ [META_ITOS]: "[1, 2]" }, /bad metadata denofit\.itos/],
        [{ [META_ITOS]: "not json" }, /bad metadata denofit\.itos/],
        [{ "denofit.config": "[]" }, /bad metadata denofit\.config \(expected a JSON object/],
        [{ [META_BACKWARDS]: "maybe" }, /bad metadata denofit\.backwards/],
        [
          { [META_KIND]: "classifier", [META_CLASSES]: '["only"]' },
          /bad metadata denofit\.classes \(expected a JSON array of 2\+ strings/,
        ],
      ];
      for (const [meta, message] of cases) {
        const p = await variant("bad.safetensors", meta);
        await rejects(readModelFile(p), (e: Error) => message.test(e.message) && e.message.startsWith(p));
        const d = await describeModelFile(p); // `info` says so too, instead of a TypeError
        ok(/damaged: .*bad metadata/.test(d), d);
      }
    });
    await t.step("the config's sizes are checked against the tensors", async () => {
      const config = JSON.parse(file.metadata["denofit.config"]!);
      for (
        const [k, v, msg] of [["embSize", 7, /give encoder\.weight \[12, 7\], the file holds \[12, 6\]/], [
          "nHid",
          9,
          /rnns\.0\.weightIH \[36, 6\], the file holds \[32, 6\]/,
        ], ["nLayers", 1, /nLayers 1 but the file holds rnns\.1|give rnns\.0\.weightIH/]] as const
      ) {
        const p = await variant("conf.safetensors", {
          "denofit.config": JSON.stringify({ ...config, [k]: v }),
        });
        await rejects(readModelFile(p), msg);
      }
      const p = await variant("nosize.safetensors", {
        "denofit.config": JSON.stringify({ ...config, nHid: "8" }),
      });
      await rejects(readModelFile(p), /"nHid" must be a positive integer, found "8"/);
    });
    await t.step("non-finite weights are refused (loudly shown by info), unless allowed", async () => {
      const p = await variant("nan.safetensors", {}, true);
      await rejects(
        readModelFile(p),
        /nan\.safetensors: 1 weights of rnns\.0\.weightHH are NaN .*retrain it with a lower learning rate/,
      );
      await rejects(loadLanguageModel(p), /not finite/);
      strictEqual((await readModelFile(p, "lm", { allowNonFinite: true })).kind, "lm");
      ok((await describeModelFile(p)).includes("WARNING: 1 weights of rnns.0.weightHH are not finite"));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
