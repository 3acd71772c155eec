/**
 * The SQLite corpus store: documents, labels, splits, token ids, vocabularies and the settings that produced
 * them in one file (the only place in denofit that speaks SQL; users may query the file with plain SQL).
 *
 * @example Ingest and read back
 * ```ts
 * import { CorpusStore } from "./mod.ts";
 * const store = CorpusStore.open(":memory:");
 * await store.ingest("tiny", [{ text: "a b a" }], { tokenizer: { name: "whitespace" }, workers: 0 });
 * const [doc] = store.documents("tiny", { tokenizer: { name: "whitespace" } });
 * if (doc!.ids.join() !== "0,1,0") throw new Error("bad ids");
 * store.close();
 * ```
 *
 * @module
 */
export * from "./store.ts";
export * from "./pair_types.ts";
export * from "./pair_store.ts";
