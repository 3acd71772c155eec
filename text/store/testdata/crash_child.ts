/**
 * Test helper for `store_test.ts`: ingests a deterministic synthetic corpus into the store at `Deno.args[0]`
 * and prints `progress <docs>` after every committed chunk, so the test can SIGKILL it mid-ingest.
 * Usage: `deno run -A text/store/testdata/crash_child.ts <db> <nDocs> <chunkSize>`.
 *
 * @module
 */
import { CorpusStore } from "../store.ts";
import type { TextRecord } from "../../readers/types.ts";

/** Document `i` of the synthetic corpus. */
export function syntheticDoc(i: number): TextRecord {
  const words: string[] = [];
  for (let k = 0; k < 10 + (i % 40); k++) words.push(`w${(i * 7 + k * 13) % 3000}`);
  return {
    text: words.join(" "),
    label: i % 3 === 0 ? "spam" : "ham",
    split: i % 10 === 0 ? "valid" : "train",
    id: `doc${i}`,
  };
}

/** The synthetic corpus of `n` documents, generated lazily. */
export function* syntheticCorpus(n: number): Generator<TextRecord> {
  for (let i = 0; i < n; i++) yield syntheticDoc(i);
}

if (import.meta.main) {
  const [db, n, chunk] = [Deno.args[0]!, Number(Deno.args[1]), Number(Deno.args[2])];
  const store = CorpusStore.open(db);
  await store.ingest("synthetic", syntheticCorpus(n), {
    tokenizer: { name: "whitespace" },
    workers: 1,
    chunkSize: chunk,
    onProgress: (p) => console.log(`progress ${p.docs}`),
  });
  console.log("done");
  store.close();
}
