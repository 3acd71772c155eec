/**
 * Text processing: fix-up and rules, word and subword tokenizers, vocab, the SQLite corpus store, readers,
 * loaders and the text models.
 *
 * @module
 */
export {};
export * from "./human_numbers.ts";
export * from "./readers/mod.ts";
export * from "./lm_loader.ts";
export * from "./samplers.ts";
export * from "./padding.ts";
export * from "./parallel.ts";
export * from "./subword.ts";
export * from "./fixup.ts";
export * from "./special_tokens.ts";
export * from "./rules.ts";
export * from "./word_tokenizer.ts";
export * from "./vocab.ts";
export * from "./store.ts";
export * from "./clas_loader.ts";
export * from "./models/mod.ts";
export * from "./generate.ts";
export * from "./bleu.ts";
export * from "./bleu_metric.ts";
export * from "./vectors/mod.ts";
export * from "./seq2seq/mod.ts";
