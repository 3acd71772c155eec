/**
 * Test helper for `pair_store_test.ts`: ingests a deterministic synthetic parallel corpus into the store at
 * `Deno.args[0]` and prints `progress <pairs>` after every committed chunk, so the test can SIGKILL it
 * mid-ingest. Usage: `deno run -A text/store/testdata/pair_crash_child.ts <db> <nPairs> <chunkSize>`.
 *
 * @module
 */
import { CorpusStore } from "../store.ts";
import { PairStore } from "../pair_store.ts";
import type { PairRecord } from "../../readers/types.ts";

/** Whitespace tokenizers on both sides (fast, and the same in the test). */
export const WS_PAIR = { source: { name: "whitespace" }, target: { name: "whitespace" } } as const;

/** Pair `i` of the synthetic corpus: sides of different lengths and vocabularies. */
export function syntheticPair(i: number): PairRecord {
  const src: string[] = [], tgt: string[] = [];
  for (let k = 0; k < 3 + (i % 17); k++) src.push(`e${(i * 7 + k * 13) % 2000}`);
  for (let k = 0; k < 2 + (i % 23); k++) tgt.push(`f${(i * 11 + k * 5) % 2500}`);
  return { source: src.join(" "), target: tgt.join(" "), id: `line${i + 1}` };
}

/** The synthetic corpus of `n` pairs, generated lazily. */
export function* syntheticPairs(n: number): Generator<PairRecord> {
  for (let i = 0; i < n; i++) yield syntheticPair(i);
}

if (import.meta.main) {
  const [db, n, chunk] = [Deno.args[0]!, Number(Deno.args[1]), Number(Deno.args[2])];
  const store = CorpusStore.open(db);
  await new PairStore(store).ingest("synthetic", syntheticPairs(n), {
    tokenizers: WS_PAIR,
    settings: { synthetic: 1 },
    source: "synthetic",
    workers: 2,
    chunkSize: chunk,
    onProgress: (p) => console.log(`progress ${p.pairs}`),
  });
  console.log("done");
  store.close();
}
