import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { buildVocab, ingestCorpus } from "./corpus.ts";
import { readModelFile } from "./model_file.ts";
import { lrFindOnCorpus, trainClassifierOnCorpus, trainLanguageModelOnCorpus } from "./ulmfit.ts";

const VOCAB = { maxVocab: 100, minFreq: 2, padToMultiple: 0 };
const SMALL = { model: { embSize: 8, nHid: 8, nLayers: 1 }, bs: 4, bptt: 6, quiet: true } as const;

async function tinyStore(dir: string): Promise<string> {
  const store = `${dir}/s.sqlite`;
  const good = ["great", "lovely", "superb"], bad = ["awful", "dull", "boring"];
  const texts = Array.from({ length: 60 }, (_, i) => {
    const w = i % 2 ? good : bad;
    return { text: `the film was ${w[i % 3]} and ${w[(i + 1) % 3]} .`, label: i % 2 ? "pos" : "neg" };
  });
  await ingestCorpus(store, "tiny", { source: () => texts, purpose: "clas", workers: 1 });
  await buildVocab(store, "tiny", VOCAB);
  return store;
}

Deno.test("the ULMFiT recipes on a corpus store", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const store = await tinyStore(dir);
    const base = { store, name: "tiny", vocab: VOCAB, ...SMALL };
    await t.step("outputs are checked before the store is read", async () => {
      await Deno.writeTextFile(`${dir}/taken.safetensors`, "x");
      await rejects(
        trainLanguageModelOnCorpus({ ...base, store: `${dir}/no.sqlite`, out: `${dir}/taken.safetensors` }),
        /taken\.safetensors exists; pass --force/,
      );
    });
    const notes: string[] = [];
    const lm = await trainLanguageModelOnCorpus({
      ...base,
      out: `${dir}/lm.safetensors`,
      metrics: `${dir}/m.jsonl`,
      epochs: 2,
      onNote: (l) => notes.push(l),
    });
    await t.step("lm: both files, the scores of the last epoch, one metrics line per epoch", async () => {
      strictEqual(lm.encoderOut, `${dir}/lm_encoder.safetensors`);
      strictEqual(
        (await readModelFile(lm.out, "lm")).itos.length,
        (await readModelFile(lm.encoderOut, "encoder")).itos.length,
      );
      const lines = (await Deno.readTextFile(`${dir}/m.jsonl`)).trim().split("\n").map((l) => JSON.parse(l));
      deepStrictEqual(lines.map((l) => `${l.stage}:${l.epoch}`), ["lm-fwd-unfrozen:1", "lm-fwd-unfrozen:2"]);
      strictEqual(lm.accuracy, lines[1].accuracy);
      ok(notes[0]!.startsWith("lm train: 60 texts (54 train / 6 valid)"), notes[0]);
    });
    await t.step("clas: the encoder's sizes, each model reported as saved", async () => {
      const seen: string[] = [];
      const r = await trainClassifierOnCorpus({
        ...base,
        model: { embSize: 99, nHid: 99, nLayers: 3 }, // the encoder's sizes win
        encoder: lm.encoderOut,
        out: `${dir}/clas.safetensors`,
        stages: [1, 0, 1],
        onTrained: (m) => seen.push(`${m.backwards}:${m.path}:${m.split}:${m.accuracy}`),
      });
      deepStrictEqual(seen, [`false:${dir}/clas.safetensors:valid:${r.fwd}`]);
      strictEqual(r.bwd, undefined);
      const f = await readModelFile(`${dir}/clas.safetensors`, "classifier");
      deepStrictEqual([f.classes, f.config.nHid, f.config.nLayers], [["neg", "pos"], 8, 1]);
    });
    await t.step("lr-find writes its plot", async () => {
      const r = await lrFindOnCorpus({ ...base, stage: "clas", plot: `${dir}/lr.svg`, iters: 8 });
      strictEqual(r.lrs.length, 8);
      ok((await Deno.readTextFile(`${dir}/lr.svg`)).startsWith("<svg"));
      await rejects(lrFindOnCorpus({ ...base, stage: "lm", plot: `${dir}/lr.svg` }), /lr\.svg exists/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
