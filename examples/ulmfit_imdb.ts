/**
 * ULMFiT on IMDb exactly as the seeds' lesson 10 (fastai v0.7 `imdb.ipynb`) does it, given an `aclImdb` folder:
 *
 * ```sh
 * deno run -A examples/ulmfit_imdb.ts /data/aclImdb --store imdb.sqlite --backend webgpu
 * ```
 *
 * - Corpus: `aclImdb/{train,test}/{neg,pos,unsup}/*.txt` into the SQLite store (labels neg/pos, unsup unlabelled).
 * - Language model on every review (train + test + unsup, 90/10 split), vocabulary 60,000 words seen more than
 *   twice; AWD-LSTM `em_sz=400, nh=1150, nl=3`, `bs=52, bptt=70`, dropouts `[0.25, 0.1, 0.2, 0.02, 0.15] * 0.7`,
 *   Adam betas (0.8, 0.99), `wd=1e-7`, `lr=1e-3`: the last layer for one epoch at `lr/2` with
 *   `use_clr=(32, 2)`, then unfrozen for 15 epochs with `use_clr=(20, 10)`; the encoder is saved.
 * - Classifier on train (neg/pos) evaluated on test: `bs=48`, dropouts `[0.4, 0.5, 0.05, 0.3, 0.4] * 0.5`,
 *   Adam betas (0.7, 0.99), `lrs = 3e-3 / 2.6^k`, `wd=1e-7`, clip 0.25, AR 2 / TAR 1: `freeze_to(-1)` 1 epoch
 *   `use_clr=(8, 3)`, `freeze_to(-2)` 1 epoch, then unfrozen 14 epochs `use_clr=(32, 10)`.
 *
 * The seeds report LM val loss 3.908 / accuracy 0.312 and 92.9% -> 93.3% -> 94.8% classifier accuracy (GPU
 * hours). Flags: `--store`, `--out DIR`, `--metrics FILE`, `--backend`, `--seed`, `--lm-epochs`, `--clas-epochs`,
 * `--max-docs N` (a quick look on the first N reviews of each folder).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Adam, type FitStage, splitIndices, tensorsToHost, TrainingRun, useBackend } from "../nn/mod.ts";
import {
  AWD_LSTM_CLAS_CONFIG_V07,
  AWD_LSTM_LM_CONFIG_V07,
  CorpusStore,
  languageModelLearner,
  readFolderPerClass,
  saveLanguageModel,
  saveTextClassifier,
  textClassifierLearner,
  type TextRecord,
} from "../text/mod.ts";

// ---- the seeds' hyper-parameters (lesson 10) ----
/** Language-model settings. */
export const IMDB_LM = {
  emSz: 400,
  nh: 1150,
  nl: 3,
  bs: 52,
  bptt: 70,
  dropMult: 0.7,
  lr: 1e-3,
  wd: 1e-7,
  betas: [0.8, 0.99] as const,
  epochs: 15,
  clip: 0.3,
};
/** Classifier settings. */
export const IMDB_CLAS = {
  bs: 48,
  bptt: 70,
  dropMult: 0.5,
  lr: 3e-3,
  lrDiv: 2.6,
  wd: 1e-7,
  clip: 0.25,
  betas: [0.7, 0.99] as const,
  epochs: 14,
};
/** Vocabulary: 60,000 words, count > 2. */
export const IMDB_VOCAB = { maxVocab: 60000, minFreq: 3 };

/**
 * The reviews of an `aclImdb` folder as records: `train` and `test` splits; `neg`/`pos` labels; `unsup`
 * reviews unlabelled (language model only).
 *
 * @param root the `aclImdb` folder
 * @param maxDocs at most this many files per split/class folder (0: all)
 */
export async function* imdbRecords(root: string, maxDocs = 0): AsyncGenerator<TextRecord> {
  for (const split of ["train", "test"]) {
    for (const cls of ["neg", "pos", "unsup"]) {
      try {
        await Deno.stat(`${root}/${split}/${cls}`);
      } catch {
        continue; // test/unsup does not exist in aclImdb
      }
      let n = 0;
      for await (const r of readFolderPerClass(root, { splits: [split], classes: [cls] })) {
        if (maxDocs > 0 && n++ >= maxDocs) break;
        const rec: TextRecord = { text: r.text, split, id: r.id ?? "" };
        if (cls !== "unsup") rec.label = cls;
        yield rec;
      }
    }
  }
}

/**
 * Ingest `aclImdb` into a store and build the seeds' vocabulary.
 *
 * @param root the `aclImdb` folder
 * @param store an open store
 * @returns documents (vocabulary ids, labels, splits) and the vocabulary
 */
export async function ingestImdb(
  root: string,
  store: CorpusStore,
  { name = "imdb", maxDocs = 0 }: { name?: string; maxDocs?: number } = {},
): Promise<{ itos: string[]; docs: { ids: Int32Array; label?: string; split?: string }[] }> {
  try {
    await Deno.stat(`${root}/train`);
  } catch {
    throw new Error(`${root}: not an aclImdb folder (no train/ inside)`);
  }
  await store.ingest(name, imdbRecords(root, maxDocs), { source: `folder:${root}` });
  const { itos } = await store.vocab(name, IMDB_VOCAB);
  return { itos, docs: [...store.documents(name, { vocab: IMDB_VOCAB })] };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      store: { type: "string", default: "./imdb.sqlite" },
      out: { type: "string", default: "./imdb-models" },
      metrics: { type: "string" },
      backend: { type: "string", default: "auto" },
      seed: { type: "string", default: "42" },
      "lm-epochs": { type: "string", default: String(IMDB_LM.epochs) },
      "clas-epochs": { type: "string", default: String(IMDB_CLAS.epochs) },
      "max-docs": { type: "string", default: "0" },
    },
  });
  const root = positionals[0];
  if (!root) {
    throw new Error("usage: examples/ulmfit_imdb.ts <path to aclImdb> [--store FILE] [--backend webgpu]");
  }
  const seed = Number(values.seed);
  await useBackend(values.backend as "cpu" | "webgpu" | "auto");
  const store = CorpusStore.open(values.store);
  let corpus;
  try {
    corpus = await ingestImdb(root, store, { maxDocs: Number(values["max-docs"]) });
  } finally {
    store.close();
  }
  const { itos, docs } = corpus;
  console.log(`${docs.length} reviews, vocabulary ${itos.length}`);
  await Deno.mkdir(values.out, { recursive: true });

  // language model: every review, 90/10; the last layer group first, then everything (fastai v0.7 CLR)
  const run = new TrainingRun({ seed, ...(values.metrics !== undefined ? { metrics: values.metrics } : {}) });
  const lmSplit = splitIndices(docs.length, 0.1, seed);
  const model = { embSize: IMDB_LM.emSz, nHid: IMDB_LM.nh, nLayers: IMDB_LM.nl };
  const lmLearn = languageModelLearner(
    lmSplit.train.map((i) => docs[i]!.ids),
    lmSplit.valid.map((i) => docs[i]!.ids),
    {
      vocabSize: itos.length,
      model: { base: AWD_LSTM_LM_CONFIG_V07, ...model },
      bs: IMDB_LM.bs,
      bptt: IMDB_LM.bptt,
      seed,
      wd: IMDB_LM.wd,
      clip: IMDB_LM.clip,
      opt: (groups) => new Adam(groups, { beta1: IMDB_LM.betas[0], beta2: IMDB_LM.betas[1], eps: 1e-8 }),
    },
  );
  const lmStages: FitStage[] = [
    {
      name: "lm-last-layer",
      epochs: 1,
      freezeTo: -1,
      lr: IMDB_LM.lr / 2,
      schedule: { kind: "clr", div: 32, cutDiv: 2 },
      perplexity: true,
    },
    {
      name: "lm-unfrozen",
      epochs: Number(values["lm-epochs"]),
      freezeTo: 0,
      lr: IMDB_LM.lr,
      schedule: { kind: "clr", div: 20, cutDiv: 10 },
      perplexity: true,
    },
  ];
  await run.fit(lmLearn, lmStages);
  await saveLanguageModel(lmLearn.model, `${values.out}/lm.safetensors`, { itos });
  const encoder = await tensorsToHost(lmLearn.model.encoder.stateDict());

  // classifier: train (neg/pos) -> test, gradual unfreezing with lrs = lr / 2.6^k in every stage
  const classes = ["neg", "pos"];
  const part = (split: string) => {
    const sel = docs.filter((d) => d.split === split && d.label !== undefined);
    return { docs: sel.map((d) => d.ids), labels: Int32Array.from(sel, (d) => classes.indexOf(d.label!)) };
  };
  const learn = textClassifierLearner(part("train"), part("test"), {
    vocabSize: itos.length,
    nClass: 2,
    model: { base: AWD_LSTM_CLAS_CONFIG_V07, ...model },
    encoder,
    bs: IMDB_CLAS.bs,
    bptt: IMDB_CLAS.bptt,
    seed,
    wd: IMDB_CLAS.wd,
    clip: IMDB_CLAS.clip,
    opt: (groups) => new Adam(groups, { beta1: IMDB_CLAS.betas[0], beta2: IMDB_CLAS.betas[1], eps: 1e-8 }),
  });
  const lrs = [4, 3, 2, 1, 0].map((k) => IMDB_CLAS.lr / IMDB_CLAS.lrDiv ** k);
  await run.fit(learn, [
    {
      name: "clas-last-layer",
      epochs: 1,
      freezeTo: -1,
      lr: lrs,
      schedule: { kind: "clr", div: 8, cutDiv: 3 },
    },
    { name: "clas-last-2", epochs: 1, freezeTo: -2, lr: lrs, schedule: { kind: "clr", div: 8, cutDiv: 3 } },
    {
      name: "clas-unfrozen",
      epochs: Number(values["clas-epochs"]),
      freezeTo: 0,
      lr: lrs,
      schedule: { kind: "clr", div: 32, cutDiv: 10 },
    },
  ]);
  await saveTextClassifier(learn.model, `${values.out}/clas.safetensors`, { itos, classes });
  console.log(JSON.stringify({ example: "ulmfit_imdb", final: run.log.records.at(-1) }));
}

if (import.meta.main) await main();
