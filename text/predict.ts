/**
 * Inference with ULMFiT models: class probabilities of documents ({@linkcode predictProbs}), texts classified
 * by one classifier or the forward + backwards ensemble ({@linkcode classifyTexts}, model files or loaded
 * models), and samples from a language model file ({@linkcode generateSamples}).
 *
 * @example Accuracy of probabilities
 * ```ts
 * import { accuracyOf } from "./predict.ts";
 * const probs = Float32Array.of(0.9, 0.1, 0.2, 0.8, 0.6, 0.4); // 3 texts, 2 classes
 * if (accuracyOf(probs, Int32Array.of(0, 1, 1), 2) !== 2 / 3) throw new Error("accuracy");
 * ```
 *
 * @module
 */
import { fromArray, noGrad, softmax, tidy } from "../nn/mod.ts";
import { ClassifierLoader } from "./clas_loader.ts";
import { countUnknownOnly, reverseDocs } from "./documents.ts";
import { generate, type GenerateOptions } from "./generate.ts";
import type { AwdLstmClassifier } from "./models/awd_lstm.ts";
import {
  type LoadedClassifier,
  type LoadedLanguageModel,
  loadLanguageModel,
  loadTextClassifier,
} from "./model_file.ts";
import { UNK } from "./special_tokens.ts";
import { tokenizeDocument } from "./word_tokenizer.ts";

/**
 * Class probabilities of documents, `(n, nClass)` row-major, in input order (batches sorted by length).
 *
 * @param model a classifier
 * @param docs numericalized documents (already reversed for a backwards model)
 * @param options `nClass` and the batch size (default 64)
 * @returns the probabilities
 */
export async function predictProbs(
  model: AwdLstmClassifier,
  docs: readonly Int32Array[],
  { bs = 64, nClass }: { bs?: number; nClass: number },
): Promise<Float32Array> {
  model.eval();
  const out = new Float32Array(docs.length * nClass);
  const dl = new ClassifierLoader(docs, new Int32Array(docs.length), { bs, shuffle: false });
  for (const b of dl.batches()) {
    const probs = noGrad(() =>
      tidy(() => {
        const x = fromArray(b.data, [b.rows, b.cols], { dtype: "i32" });
        return softmax(model.forward(x).output, -1);
      })
    );
    const data = await probs.data();
    probs.dispose();
    if (data.some((v) => !Number.isFinite(v))) {
      throw new Error(
        "the classifier gave non-finite probabilities: its weights are not finite; retrain it with a lower " +
          "learning rate",
      );
    }
    b.indices.forEach((doc, r) => out.set(data.subarray(r * nClass, (r + 1) * nClass), doc * nClass));
  }
  model.reset();
  return out;
}

/**
 * Accuracy of `(n, nClass)` probabilities against labels.
 *
 * @param probs row-major probabilities
 * @param labels class ids
 * @param nClass number of classes
 * @returns the fraction of rows whose most likely class is the label (NaN for no rows)
 */
export function accuracyOf(probs: Float32Array, labels: Int32Array, nClass: number): number {
  let hits = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 1; c < nClass; c++) if (probs[i * nClass + c]! > probs[i * nClass + best]!) best = c;
    if (best === labels[i]) hits++;
  }
  return labels.length === 0 ? NaN : hits / labels.length;
}

/** One prediction. */
export interface Prediction {
  /** The most likely class. */
  label: string;
  /** Probability of each class. */
  probs: Record<string, number>;
}

/**
 * Classify texts with one classifier or the mean of several (forward + backwards ensemble).
 *
 * @param models classifier files or loaded classifiers (same classes and vocabulary); files are loaded first
 * @param texts raw texts (tokenized like the corpus store's default tokenizer)
 * @returns one prediction per text
 */
export async function classifyTexts(
  models: readonly (LoadedClassifier | string)[],
  texts: readonly string[],
): Promise<Prediction[]> {
  const loaded: LoadedClassifier[] = [];
  for (const m of models) loaded.push(typeof m === "string" ? await loadTextClassifier(m) : m);
  const first = loaded[0]!;
  for (const m of loaded) {
    if (m.classes.join() !== first.classes.join() || m.itos.length !== first.itos.length) {
      throw new Error("clas predict: the models have different classes or vocabularies");
    }
  }
  const stoi = new Map(first.itos.map((w, i) => [w, i]));
  const unk = stoi.get(UNK) ?? 0;
  const docs = texts.map((t, i) => {
    const ids = Int32Array.from(tokenizeDocument(t), (w) => stoi.get(w) ?? unk);
    if (countUnknownOnly([ids]) === 1) {
      throw new Error(
        `text ${i + 1} (${JSON.stringify(t.slice(0, 40))}): only unknown tokens, nothing to classify`,
      );
    }
    return ids;
  });
  const n = first.classes.length;
  const sum = new Float32Array(docs.length * n);
  for (const m of loaded) {
    const p = await predictProbs(m.model, m.backwards ? reverseDocs(docs) : docs, { nClass: n });
    for (let i = 0; i < sum.length; i++) sum[i]! += p[i]! / loaded.length;
  }
  return docs.map((_, i) => {
    const probs: Record<string, number> = {};
    let best = 0;
    first.classes.forEach((c, k) => {
      probs[c] = sum[i * n + k]!;
      if (sum[i * n + k]! > sum[i * n + best]!) best = k;
    });
    return { label: first.classes[best]!, probs };
  });
}

/** Options of {@linkcode generateSamples}. */
export type GenerateSamplesOptions = Omit<GenerateOptions, "itos" | "backwards"> & {
  /** How many samples; sample `s` uses seed `seed + s`. @default 1 */
  samples?: number;
};

/**
 * Samples continuing `prompt` from a language model (a file, or a loaded model), one at a time.
 *
 * @param model a language model file or a loaded language model
 * @param prompt the start of the text
 * @param options samples, length, temperature, noUnk, minP, seed
 * @returns the decoded samples, in order
 */
export async function* generateSamples(
  model: LoadedLanguageModel | string,
  prompt: string,
  options: GenerateSamplesOptions = {},
): AsyncGenerator<string> {
  const { samples = 1, seed = 42, ...rest } = options;
  const lm = typeof model === "string" ? await loadLanguageModel(model) : model;
  for (let s = 0; s < samples; s++) {
    const g = await generate(lm.model, prompt, {
      ...rest,
      itos: lm.itos,
      seed: seed + s,
      backwards: lm.backwards,
    });
    yield g.text;
  }
}
