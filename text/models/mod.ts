/**
 * Text models: the AWD-LSTM encoder, language model and ULMFiT classifier with fastai's presets, and the mapping
 * of fastai AWD-LSTM state dicts (v0.7, v1/v2) onto them with the vocab remap.
 *
 * @example The classifier's layer groups
 * ```ts
 * import { AwdLstmClassifier } from "./mod.ts";
 * const clf = new AwdLstmClassifier(50, 2, { embSize: 4, nHid: 6 });
 * if (clf.layerGroups().length !== 5) throw new Error("ULMFiT uses 5 classifier groups");
 * ```
 *
 * @module
 */
export * from "./awd_lstm.ts";
export * from "./awd_lstm_fastai.ts";
