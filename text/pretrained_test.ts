import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { seed } from "../gpu/rng.ts";
import { tensorsToHost } from "../nn/mod.ts";
import { AwdLstmLM } from "./models/awd_lstm.ts";
import { saveLanguageModel } from "./model_file.ts";
import { pretrainedOnVocab } from "./pretrained.ts";
import { SPECIAL_TOKENS } from "./special_tokens.ts";

const OLD = [...SPECIAL_TOKENS, "good", "bad", "film"];
const PTH = new URL("../tests/fixtures/checkpoint/awd_v2.pt", import.meta.url).pathname;

Deno.test("pretrainedOnVocab(): a denofit LM moved onto a new vocabulary", async () => {
  const dir = await Deno.makeTempDir();
  seed(6);
  const lm = new AwdLstmLM(OLD.length, { embSize: 4, nHid: 6, nLayers: 2 });
  await saveLanguageModel(lm, `${dir}/lm.safetensors`, { itos: OLD });
  try {
    const itos = [...SPECIAL_TOKENS, "film", "zebra", "good"];
    const p = await pretrainedOnVocab(`${dir}/lm.safetensors`, itos);
    deepStrictEqual([p.sizes, p.matched], [{ embSize: 4, nHid: 6, nLayers: 2 }, itos.length - 1]);
    const old = (await tensorsToHost(lm.stateDict())).get("encoder.weight")!.data;
    const emb = p.tensors.get("encoder.weight")!;
    const row = (d: ArrayLike<number>, r: number) => Array.from(d).slice(r * 4, r * 4 + 4);
    deepStrictEqual(row(emb.data, 9), row(old, 11), "film");
    deepStrictEqual(row(emb.data, 11), row(old, 9), "good");
    const mean = [0, 1, 2, 3].map((j) => Array.from({ length: OLD.length }, (_, r) => old[r * 4 + j]!));
    row(emb.data, 10).forEach((v, j) =>
      ok(Math.abs(v - mean[j]!.reduce((a, b) => a + b) / OLD.length) < 1e-6, "zebra gets the mean row")
    );
    strictEqual(p.tensors.get("decoder.weight")!.shape[0], itos.length);
  } finally {
    lm.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pretrainedOnVocab(): a fastai .pth needs its vocabulary, of the right size", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await rejects(
      pretrainedOnVocab(PTH, OLD),
      /a fastai checkpoint needs its vocabulary: pass --pretrained-vocab/,
    );
    await Deno.writeTextFile(`${dir}/itos.json`, JSON.stringify(OLD));
    await rejects(
      pretrainedOnVocab(PTH, OLD, { vocabFile: `${dir}/itos.json` }),
      /its embedding has \d+ rows but the vocabulary from .*itos\.json has 12 words \(mismatched vocab/,
    );
    await Deno.writeTextFile(`${dir}/bad.pkl`, "\x80\x04junk");
    await rejects(
      pretrainedOnVocab(PTH, OLD, { vocabFile: `${dir}/bad.pkl` }),
      /^Error: --pretrained-vocab /,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
