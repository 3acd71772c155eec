/**
 * Data preparation for sequence-to-sequence translation (lesson 11): cleaning parallel corpora (accelerators,
 * format strings, punctuation-only and untranslated entries, duplicates), the lesson's question filters,
 * length truncation at a percentile and the seeded train/validation split; pair corpora in the store (`corpus.ts`:
 * ingest with the selection recorded, a vocabulary per side), read back for training (`data.ts`:
 * {@linkcode loadPairCorpus}, {@linkcode pairDataLoaders}) as time-major batches padded at the end (`loader.ts`).
 *
 * @example Questions from a cleaned corpus, split 90/10
 * ```ts
 * import { cleanParallel, questionPairs, splitTrainValid } from "./mod.ts";
 * const raw = [
 *   { source: "Where is the _file?", target: "Où est le _fichier ?" },
 *   { source: "Where is the file?", target: "Où est le fichier ?" },
 *   { source: "Open", target: "Ouvrir" },
 * ];
 * const qs = questionPairs(cleanParallel(raw).pairs);
 * const { train, valid } = splitTrainValid(qs, { seed: 1 });
 * if (qs.length !== 1 || train.length + valid.length !== 1) throw new Error("prep");
 * ```
 *
 * @module
 */
export * from "./clean.ts";
export * from "./split.ts";
export * from "./loader.ts";
export * from "./select.ts";
export * from "./corpus.ts";
export * from "./data.ts";
