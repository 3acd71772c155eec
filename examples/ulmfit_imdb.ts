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
import { useBackend } from "../nn/engine.ts";
import { Learner } from "../nn/learner.ts";
import { accuracyMetric, perplexityMetric } from "../nn/learner.ts";
import { GradientClipping, ModelResetter, RNNRegularizer } from "../nn/callbacks.ts";
import { crossEntropyFlat } from "../nn/losses.ts";
import { Adam } from "../nn/optim.ts";
import { seed as seedRng } from "../gpu/rng.ts";
import { CorpusStore } from "../text/store/store.ts";
import { readFolderPerClass } from "../text/readers/folder.ts";
import type { TextRecord } from "../text/readers/types.ts";
import { LanguageModelLoader } from "../text/lm_loader.ts";
import { ClassifierLoader } from "../text/clas_loader.ts";
import {
  AWD_LSTM_CLAS_CONFIG_V07,
  AWD_LSTM_LM_CONFIG_V07,
  AwdLstmClassifier,
  AwdLstmLM,
  encoderCheckpointTensors,
} from "../text/models/awd_lstm.ts";
import {
  clasDataLoader,
  classifierTensors,
  fromHost,
  lmDataLoader,
  MetricsLog,
  saveModel,
  splitIndices,
  toHost,
} from "../cli/ulmfit.ts";

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
  const log = new MetricsLog(values.metrics);
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

  // language model: every review, 90/10
  seedRng(seed);
  const lmSplit = splitIndices(docs.length, 0.1, seed);
  const lm = new AwdLstmLM(itos.length, {
    base: AWD_LSTM_LM_CONFIG_V07,
    embSize: IMDB_LM.emSz,
    nHid: IMDB_LM.nh,
    nLayers: IMDB_LM.nl,
  });
  const lmOpt = { beta1: IMDB_LM.betas[0], beta2: IMDB_LM.betas[1], eps: 1e-8 };
  const lmLearn = new Learner(lm, {
    train: lmDataLoader(
      new LanguageModelLoader(lmSplit.train.map((i) => docs[i]!.ids), {
        bs: IMDB_LM.bs,
        bptt: IMDB_LM.bptt,
        seed,
      }),
    ),
    valid: lmDataLoader(
      new LanguageModelLoader(lmSplit.valid.map((i) => docs[i]!.ids), {
        bs: IMDB_LM.bs,
        bptt: IMDB_LM.bptt,
        randomBptt: false,
      }),
    ),
  }, {
    loss: (p, y) => crossEntropyFlat(p, y),
    opt: (groups) => new Adam(groups, lmOpt),
    metrics: [accuracyMetric(), perplexityMetric()],
    wd: IMDB_LM.wd,
    callbacks: [new ModelResetter(), new RNNRegularizer({ alpha: 2, beta: 1 }), new GradientClipping(0.3)],
  });
  lmLearn.freezeTo(-1);
  lmLearn.addCallback(log.callback("lm-last-layer", { perplexity: true }));
  await lmLearn.fitClr(1, IMDB_LM.lr / 2, { div: 32, cutDiv: 2 });
  lmLearn.callbacks.pop();
  lmLearn.unfreeze();
  lmLearn.addCallback(log.callback("lm-unfrozen", { perplexity: true }));
  await lmLearn.fitClr(Number(values["lm-epochs"]), IMDB_LM.lr, { div: 20, cutDiv: 10 });
  const config = { ...lm.config, vocabSize: itos.length };
  await saveModel(`${values.out}/lm.safetensors`, lm.checkpointTensors(), { kind: "lm", config, itos });
  const encoder = await toHost(encoderCheckpointTensors(lm.encoder));

  // classifier: train (neg/pos) -> test
  const classes = ["neg", "pos"];
  const part = (split: string) => {
    const sel = docs.filter((d) => d.split === split && d.label !== undefined);
    return { docs: sel.map((d) => d.ids), labels: Int32Array.from(sel, (d) => classes.indexOf(d.label!)) };
  };
  const train = part("train"), test = part("test");
  seedRng(seed);
  const clas = new AwdLstmClassifier(itos.length, 2, {
    base: AWD_LSTM_CLAS_CONFIG_V07,
    embSize: IMDB_LM.emSz,
    nHid: IMDB_LM.nh,
    nLayers: IMDB_LM.nl,
    bptt: IMDB_CLAS.bptt,
  });
  fromHost(encoderCheckpointTensors(clas.encoder), encoder, "encoder");
  const learn = new Learner(clas, {
    train: clasDataLoader(new ClassifierLoader(train.docs, train.labels, { bs: IMDB_CLAS.bs, seed })),
    valid: clasDataLoader(new ClassifierLoader(test.docs, test.labels, { bs: IMDB_CLAS.bs, shuffle: false })),
  }, {
    loss: (p, y) => crossEntropyFlat(p, y),
    opt: (groups) => new Adam(groups, { beta1: IMDB_CLAS.betas[0], beta2: IMDB_CLAS.betas[1], eps: 1e-8 }),
    metrics: [accuracyMetric()],
    wd: IMDB_CLAS.wd,
    callbacks: [
      new ModelResetter(),
      new RNNRegularizer({ alpha: 2, beta: 1 }),
      new GradientClipping(IMDB_CLAS.clip),
    ],
  });
  const lrs = [4, 3, 2, 1, 0].map((k) => IMDB_CLAS.lr / IMDB_CLAS.lrDiv ** k);
  const stages: [number, number, string, { div: number; cutDiv: number }][] = [
    [-1, 1, "clas-last-layer", { div: 8, cutDiv: 3 }],
    [-2, 1, "clas-last-2", { div: 8, cutDiv: 3 }],
    [0, Number(values["clas-epochs"]), "clas-unfrozen", { div: 32, cutDiv: 10 }],
  ];
  for (const [freeze, epochs, name, clr] of stages) {
    learn.freezeTo(freeze);
    learn.addCallback(log.callback(name));
    await learn.fitClr(epochs, lrs, clr);
    learn.callbacks.pop();
  }
  await saveModel(`${values.out}/clas.safetensors`, classifierTensors(clas), {
    kind: "classifier",
    config: { ...clas.config, vocabSize: itos.length, bptt: IMDB_CLAS.bptt, nClass: 2 },
    itos,
    classes,
  });
  console.log(JSON.stringify({ example: "ulmfit_imdb", final: log.records.at(-1) }));
}

if (import.meta.main) await main();
