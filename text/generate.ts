/**
 * Text generation from a language model (fastai `LMLearner.predict`): the prompt is tokenized like the corpus,
 * run through the model once, then one word at a time is sampled from `softmax(logits)` with `xxunk` removed
 * (`noUnk`), words below `minP` removed, and the probabilities raised to `1 / temperature`. The model's state
 * carries over between steps, so each new word costs one time step.
 *
 * @example Two seeded samples from an untrained model are reproducible
 * ```ts
 * import { generate } from "./generate.ts";
 * import { AwdLstmLM } from "./models/awd_lstm.ts";
 * import { SPECIAL_TOKENS } from "./special_tokens.ts";
 * const itos = [...SPECIAL_TOKENS, "the", "cat", "sat", "on", "mat", "."];
 * const lm = new AwdLstmLM(itos.length, { embSize: 8, nHid: 16, nLayers: 2 });
 * const a = await generate(lm, "the cat", { itos, nWords: 5, seed: 1 });
 * const b = await generate(lm, "the cat", { itos, nWords: 5, seed: 1 });
 * if (a.text !== b.text || a.tokens.length !== 5) throw new Error(`${a.text} / ${b.text}`);
 * ```
 *
 * @module
 */
import { noGrad } from "../nn/engine.ts";
import { fromArray, type Tensor, tidy } from "../nn/tensor.ts";
import { softmax } from "../nn/ops_reduce.ts";
import { slice } from "../nn/ops_shape.ts";
import { Rng } from "../gpu/rng.ts";
import { decodeDocument, tokenizeDocument } from "./word_tokenizer.ts";
import { BOS, MAJ, PAD, UNK, UP } from "./special_tokens.ts";

/** A language model: `(1, T)` ids -> `{ output: (1, T, vocab) logits }`, stateful between calls. */
export interface GeneratingModel {
  /** Forward pass. */
  forward(ids: Tensor): { output: Tensor };
  /** Clear the hidden state. */
  reset(): void;
  /** Evaluation mode. */
  eval(): unknown;
}

/** Options of {@linkcode generate}. */
export interface GenerateOptions {
  /** The model's vocabulary, id order. */
  itos: readonly string[];
  /** Words to add. @default 40 */
  nWords?: number;
  /** Sampling temperature (lower: safer words). @default 1 */
  temperature?: number;
  /** Never sample `xxunk`. @default true */
  noUnk?: boolean;
  /** Drop words whose probability is below this (ignored when it would drop all). @default 0 */
  minP?: number;
  /** Seed of the sampler. @default 42 */
  seed?: number;
  /** The model reads text backwards (the prompt is fed reversed; the sample is returned in reading order). */
  backwards?: boolean;
  /** Tokenizer of the prompt. @default fastai-style English word tokens with rules and xxbos */
  tokenize?: (text: string) => string[];
  /** Turns tokens back into text. @default decodeDocument */
  decode?: (tokens: string[]) => string;
}

/** A generated sample. */
export interface Generated {
  /** The prompt and the new words, decoded. */
  text: string;
  /** The new tokens only. */
  tokens: string[];
}

/**
 * Continue `prompt` with `nWords` sampled tokens (fastai `predict(text, n_words, temperature, no_unk, min_p)`).
 *
 * @param model a stateful language model (reset first and after)
 * @param prompt the start of the text
 * @param options vocabulary, length, temperature, noUnk, minP, seed
 * @returns the decoded text and the new tokens
 */
export async function generate(
  model: GeneratingModel,
  prompt: string,
  options: GenerateOptions,
): Promise<Generated> {
  const { itos, nWords = 40, temperature = 1, noUnk = true, minP = 0, seed = 42, backwards = false } =
    options;
  if (!(temperature > 0)) throw new Error(`generate: temperature must be > 0, got ${temperature}`);
  if (!(minP >= 0 && minP <= 1)) throw new Error(`generate: minP must be in [0, 1], got ${minP}`);
  const stoi = new Map(itos.map((w, i) => [w, i]));
  const unk = stoi.get(UNK) ?? 0, pad = stoi.get(PAD);
  const promptToks = (options.tokenize ?? ((t: string) => tokenizeDocument(t)))(prompt);
  if (promptToks.length === 0) promptToks.push(BOS);
  let ids = promptToks.map((t) => stoi.get(t) ?? unk);
  if (backwards) ids = ids.reverse();
  const rng = new Rng(seed);
  model.eval();
  model.reset();
  const out: string[] = [];
  try {
    let input = ids;
    for (let n = 0; n < nWords; n++) {
      const probs = noGrad(() =>
        tidy(() => {
          const x = fromArray(Int32Array.from(input), [1, input.length], { dtype: "i32" });
          const logits = model.forward(x).output; // (1, T, V)
          const last = slice(logits, [0, input.length - 1]); // (V)
          return softmax(last, -1);
        })
      );
      const p = Float64Array.from(await probs.data());
      probs.dispose();
      const bad = p.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) {
        throw new Error(
          `generate: the model gave word ${n + 1} a probability of ${p[bad]} (for "${itos[bad] ?? bad}"): ` +
            "its weights are not finite; retrain it with a lower learning rate",
        );
      }
      if (noUnk) p[unk] = 0;
      if (pad !== undefined) p[pad] = 0;
      if (minP > 0) {
        let kept = 0;
        for (const v of p) if (v >= minP) kept++;
        if (kept > 0) { for (let i = 0; i < p.length; i++) if (p[i]! < minP) p[i] = 0; }
      }
      let total = 0;
      for (let i = 0; i < p.length; i++) {
        total += p[i] = temperature === 1 ? p[i]! : p[i]! ** (1 / temperature);
      }
      let r = rng.random() * total, idx = p.length - 1;
      for (let i = 0; i < p.length; i++) {
        r -= p[i]!;
        if (r < 0) {
          idx = i;
          break;
        }
      }
      out.push(itos[idx] ?? UNK);
      input = [idx];
    }
  } finally {
    model.reset();
  }
  const all = backwards ? [...out.slice().reverse(), ...promptToks] : [...promptToks, ...out];
  // a sample cut right after a case marker: the marker has no word to apply to (fastai's decoding drops it)
  if (!backwards && (all.at(-1) === MAJ || all.at(-1) === UP)) all.pop();
  const text = (options.decode ?? ((t: string[]) => decodeDocument(t)))(all.filter((t) => t !== BOS));
  return { text, tokens: out };
}
