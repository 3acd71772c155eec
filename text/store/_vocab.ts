/**
 * The corpus store's default vocabulary builder: {@linkcode Vocab.fromCounts} over the stored term counts
 * (terms arrive in first-seen order, so ties break as Python's Counter does).
 *
 * @module
 */
import { Vocab } from "../vocab.ts";
import type { VocabBuilder } from "./store.ts";

/** Build a {@linkcode Vocab} from term counts and map every term to its id (xxunk for the rare ones). */
export const defaultVocabBuilder: VocabBuilder = (terms, counts, params) => {
  const m = new Map<string, number>();
  terms.forEach((t, i) => m.set(t, counts[i]!));
  const vocab = Vocab.fromCounts(m, params);
  return Promise.resolve({ itos: [...vocab.itos], idsOf: (ts: string[]) => vocab.numericalize(ts) });
};
