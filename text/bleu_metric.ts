/**
 * Corpus BLEU as a per-epoch {@linkcode Learner} metric. The Learner's metrics are computed on device tensors
 * batch by batch, while BLEU needs decoded text; so {@linkcode bleuMetric} returns a metric (the `bleu` column)
 * and a callback that, when validation starts (the model is already in eval mode), calls your `translate`
 * function over the validation set and scores its output with {@linkcode corpusBleuScore}.
 *
 * @example The `bleu` column of a fit's table
 * ```ts
 * import { bleuMetric } from "./bleu_metric.ts";
 * const { metric, callback } = bleuMetric(() =>
 *   Promise.resolve({ hypotheses: ["Open the file now"], references: [["Open the file now"]] })
 * );
 * // new Learner(model, data, { loss, metrics: [metric], callbacks: [callback] })
 * await callback.beforeValidate!(undefined as never);
 * if (Math.abs(metric.fromLoss!(1.5) - 100) > 1e-9) throw new Error("bleu");
 * ```
 *
 * @module
 */
import type { Callback } from "../nn/callbacks.ts";
import type { Learner, Metric } from "../nn/learner.ts";
import { type BleuScore, type BleuScoreOptions, corpusBleuScore } from "./bleu.ts";

/** What a {@linkcode bleuMetric} `translate` function returns: system outputs and reference streams. */
export interface BleuEvaluation {
  /** One detokenized system output per validation segment. */
  hypotheses: string[];
  /** Reference streams as in {@linkcode corpusBleuScore}: `references[k][i]` (pass `[refs]` for one each). */
  references: (string | null)[][];
}

/** Options of {@linkcode bleuMetric}. */
export interface BleuMetricOptions extends BleuScoreOptions {
  /** Column name. @default {"bleu"} */
  name?: string;
}

/** The pair {@linkcode bleuMetric} returns, plus the last full score. */
export interface BleuMetric {
  /** Put in the Learner's `metrics`. */
  metric: Metric;
  /** Put in the Learner's `callbacks` (it computes the score). */
  callback: Callback;
  /** The last score with its statistics (undefined before the first validation). */
  last(): BleuScore | undefined;
}

/**
 * Make a BLEU metric for a {@linkcode Learner}: `translate(learn)` decodes the validation set (greedy or beam,
 * however the model translates) and the callback scores it once per validation.
 *
 * @param translate Decode the validation set with `learn.model` and return hypotheses and references.
 * @param options Column name and the BLEU options (sacreBLEU defaults).
 * @returns The metric, the callback that feeds it, and access to the last score.
 *
 * @example
 * ```ts
 * import { bleuMetric } from "./bleu_metric.ts";
 * const m = bleuMetric(() => Promise.resolve({ hypotheses: ["a b c d"], references: [["a b c e"]] }));
 * await m.callback.beforeValidate!(undefined as never);
 * if (m.last()!.sysLen !== 4) throw new Error("bleu");
 * ```
 */
export function bleuMetric(
  translate: (learn: Learner) => Promise<BleuEvaluation>,
  options: BleuMetricOptions = {},
): BleuMetric {
  const { name = "bleu", ...bleu } = options;
  let last: BleuScore | undefined;
  const callback: Callback = {
    name: `${name}Metric`,
    beforeValidate: async (learn: Learner) => {
      const { hypotheses, references } = await translate(learn);
      last = corpusBleuScore(hypotheses, references, bleu);
    },
  };
  const metric: Metric = { name, fromLoss: () => last?.score ?? NaN };
  return { metric, callback, last: () => last };
}
