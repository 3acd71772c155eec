/**
 * Layers: the {@linkcode Module} base, Linear, Embedding, the AWD-LSTM dropouts, LSTM / GRU / RNN,
 * BatchNorm1d, activations and Sequential, additive attention, and Conv2d / pooling / BatchNorm2d.
 *
 * @example An embedding followed by an LSTM
 * ```ts
 * import { Embedding, LSTM } from "./mod.ts";
 * import { fromArray } from "../tensor.ts";
 * const emb = new Embedding(10, 4, { paddingIdx: 1 }), lstm = new LSTM(4, 6);
 * const { output } = lstm.forward(emb.forward(fromArray([2, 3, 1], [1, 3], { dtype: "i32" })));
 * if (output.shape.join() !== "1,3,6") throw new Error("shape");
 * ```
 *
 * @module
 */
export * from "./module.ts";
export * from "./linear.ts";
export * from "./dropout.ts";
export * from "./rnn.ts";
export * from "./batchnorm.ts";
export * from "./containers.ts";
export * from "./attention.ts";
export * from "./conv.ts";
