/**
 * Subword tokenization: a SentencePiece-style unigram / BPE tokenizer with an exact encode/decode round trip,
 * trainable here or loaded from a SentencePiece `.model` file.
 *
 * @example Train a tiny unigram model
 * ```ts
 * import { SubwordTokenizer } from "./mod.ts";
 * const text = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"];
 * const tok = SubwordTokenizer.train(text, { vocabSize: 300, characterCoverage: 1 });
 * if (tok.decode(tok.encode("a cat")) !== "a cat") throw new Error("round trip");
 * ```
 *
 * @module
 */
export * from "./subword.ts";
