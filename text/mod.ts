/**
 * Text processing and the ULMFiT recipe: fix-up and rules, word and subword tokenizers, vocab, the SQLite corpus
 * store, readers, loaders, the text models, and — like fastai's `text/learner.py` — the language-model and
 * classifier learners, their training plans, model files (save/load with the encoder), prediction and
 * generation, and the recipes the `denofit` commands run on a corpus store.
 *
 * @example A corpus's documents, read backwards and cut to a length
 * ```ts
 * import { reverseDocs, truncateDocs } from "./mod.ts";
 * if (reverseDocs(truncateDocs([Int32Array.of(9, 10, 11)], 2))[0]!.join() !== "10,9") throw new Error("docs");
 * ```
 *
 * @module
 */
export * from "./human_numbers.ts";
export * from "./readers/mod.ts";
export * from "./lm_loader.ts";
export * from "./samplers.ts";
export * from "./padding.ts";
export * from "./parallel.ts";
export * from "./subword/mod.ts";
export * from "./fixup.ts";
export * from "./special_tokens.ts";
export * from "./rules.ts";
export * from "./word_tokenizer.ts";
export * from "./vocab.ts";
export * from "./store/mod.ts";
export * from "./corpus.ts";
export * from "./documents.ts";
export * from "./clas_loader.ts";
export * from "./models/mod.ts";
export * from "./learner.ts";
export * from "./model_file.ts";
export * from "./pretrained.ts";
export * from "./predict.ts";
export * from "./generate.ts";
export * from "./ulmfit.ts";
export * from "./bleu.ts";
export * from "./bleu_metric.ts";
export * from "./vectors/mod.ts";
export * from "./seq2seq/mod.ts";
