/**
 * Class name -> word vector, for DeViSE targets and zero-shot labels. Each class name is resolved, in order:
 *
 * 1. **direct**: the whole name is a word of the table (`"sneaker"`, `"t-shirt"`);
 * 2. **averaged**: alternatives split on `/` and `,` (`"t-shirt/top"`) and multi-word names split on spaces,
 *    underscores and hyphens (`"ankle boot"`) are averaged over the words the table has;
 * 3. **wordnet-synonym**: the name is missing, so the other lemmas of its WordNet noun synsets are tried, most
 *    frequent sense first (`"plimsoll"` -> `"sneaker"`); a WordNet id (`n03477658`) resolves through its lemmas;
 * 4. **wordnet-hypernym**: else the lemmas of the senses' hypernyms, sense by sense (`"clog"` -> `"shoe"`);
 * 5. **missing**: a zero vector, reported.
 *
 * Averages are of L2-normalised word vectors (every word counts the same). {@linkcode classWordVectors} returns
 * the vectors and one {@linkcode ClassWordMapping} per class; {@linkcode formatClassWordReport} prints them.
 *
 * @example Fashion-MNIST-like names against a tiny table
 * ```ts
 * import { classWordVectors, wordVectorTable } from "./class_words.ts";
 * const table = wordVectorTable(["t-shirt", "top", "ankle", "boot"], Float32Array.of(1, 0, 0, 1, 1, 1, -1, 1));
 * const r = classWordVectors(["t-shirt/top", "ankle boot", "bag"], table);
 * if (r.mappings.map((m) => m.how).join() !== "averaged,averaged,missing") throw new Error("bad mapping");
 * ```
 *
 * @module
 */
import type { WordNet } from "./wordnet.ts";

/** Word vectors looked up by word. */
export interface WordVectorTable {
  /** Vector size. */
  readonly dim: number;
  /** The vector of `word` (exact key), or undefined. */
  get(word: string): Float32Array | undefined;
}

/**
 * A {@linkcode WordVectorTable} over parallel arrays (the first occurrence of a word wins).
 * @param words the words
 * @param vectors `words.length x dim` numbers, row-major
 * @param dim vector size @default {vectors.length / words.length}
 */
export function wordVectorTable(
  words: readonly string[],
  vectors: Float32Array,
  dim?: number,
): WordVectorTable {
  const d = dim ?? vectors.length / Math.max(1, words.length);
  if (!Number.isInteger(d) || d < 1 || vectors.length < words.length * d) {
    throw new RangeError(`wordVectorTable: ${vectors.length} numbers for ${words.length} words of size ${d}`);
  }
  const rows = new Map<string, number>();
  words.forEach((w, i) => rows.has(w) || rows.set(w, i));
  return {
    dim: d,
    get: (w) => {
      const i = rows.get(w);
      return i === undefined ? undefined : vectors.subarray(i * d, (i + 1) * d);
    },
  };
}

/** How a class name was resolved. */
export type ClassWordHow = "direct" | "averaged" | "wordnet-synonym" | "wordnet-hypernym" | "missing";

/** How one class got its vector. */
export interface ClassWordMapping {
  /** The class name as given. */
  name: string;
  /** The rule that resolved it. */
  how: ClassWordHow;
  /** The table words whose vectors were used (averaged when several). */
  words: string[];
  /** Words of the chosen phrase that the table lacks (left out of the average). */
  missingWords: string[];
  /** The WordNet synset used, for the wordnet rules and WordNet ids. */
  synset?: string;
}

/** Vectors of the classes and how each was found. */
export interface ClassWordVectors {
  /** Vector size. */
  dim: number;
  /** `classes x dim` (zero rows for missing classes). */
  vectors: Float32Array;
  /** One entry per class. */
  mappings: ClassWordMapping[];
}

/** Words of a phrase found in the table: the whole phrase, else its alternatives and parts. */
function resolvePhrase(
  phrase: string,
  table: WordVectorTable,
): { words: string[]; missing: string[]; whole: boolean } {
  const key = phrase.trim().toLowerCase();
  if (key !== "" && table.get(key)) return { words: [key], missing: [], whole: true };
  const words: string[] = [], missing: string[] = [];
  for (const alt of key.split(/[/,]/).map((s) => s.trim()).filter((s) => s !== "")) {
    const variants = [alt, alt.replace(/[\s_]+/g, "-"), alt.replace(/[\s_-]+/g, "")];
    const hit = variants.find((v) => table.get(v));
    if (hit) {
      words.push(hit);
      continue;
    }
    for (const part of alt.split(/[\s_-]+/).filter((s) => s !== "")) {
      (table.get(part) ? words : missing).push(part);
    }
  }
  return { words: [...new Set(words)], missing, whole: false };
}

/** The first lemma the table has as a whole word, else the first that resolves to an average of parts. */
function fromLemmas(
  lemmas: readonly string[],
  table: WordVectorTable,
  skip: string,
): { words: string[]; missing: string[]; lemma: string } | null {
  let partial: { words: string[]; missing: string[]; lemma: string } | null = null;
  for (const lemma of lemmas) {
    if (lemma === skip) continue;
    const r = resolvePhrase(lemma, table);
    if (r.whole) return { ...r, lemma };
    if (r.words.length > 0) partial ??= { ...r, lemma };
  }
  return partial;
}

function resolveClass(name: string, table: WordVectorTable, wordnet?: WordNet): ClassWordMapping {
  const base = { name, missingWords: [] as string[] };
  if (wordnet && /^n\d{8}$/.test(name)) {
    const s = wordnet.synset(name);
    const hit = s && fromLemmas(s.lemmas, table, "");
    if (!s || !hit) return { ...base, how: "missing", words: [], ...(s ? { synset: s.id } : {}) };
    const how = hit.lemma === s.lemmas[0]
      ? (hit.words.length > 1 ? "averaged" : "direct")
      : "wordnet-synonym";
    return { name, how, words: hit.words, missingWords: hit.missing, synset: s.id };
  }
  const r = resolvePhrase(name, table);
  if (r.words.length > 0) {
    return { name, how: r.whole ? "direct" : "averaged", words: r.words, missingWords: r.missing };
  }
  if (!wordnet) return { ...base, how: "missing", words: [], missingWords: r.missing };
  const senses = wordnet.synsetsOf(name);
  for (const s of senses) {
    const hit = fromLemmas(s.lemmas, table, name.trim().toLowerCase());
    if (hit) {
      return { name, how: "wordnet-synonym", words: hit.words, missingWords: hit.missing, synset: s.id };
    }
  }
  for (const h of senses.flatMap((s) => s.hypernyms)) {
    const s = wordnet.synset(h);
    const hit = s && fromLemmas(s.lemmas, table, "");
    if (hit) {
      return { name, how: "wordnet-hypernym", words: hit.words, missingWords: hit.missing, synset: s.id };
    }
  }
  return { ...base, how: "missing", words: [], missingWords: r.missing };
}

/**
 * Resolve class names to word vectors (see the module doc for the rules).
 * @param names class names (or WordNet 3.1 ids `n########`)
 * @param table the word vectors
 * @param options `wordnet` enables the synonym and hypernym rules and WordNet ids
 */
export function classWordVectors(
  names: readonly string[],
  table: WordVectorTable,
  { wordnet }: { wordnet?: WordNet } = {},
): ClassWordVectors {
  const dim = table.dim, vectors = new Float32Array(names.length * dim);
  const mappings = names.map((name, c) => {
    const m = resolveClass(name, table, wordnet);
    const row = vectors.subarray(c * dim, (c + 1) * dim);
    for (const w of m.words) {
      const v = table.get(w)!;
      let n = 0;
      for (let d = 0; d < dim; d++) n += v[d]! * v[d]!;
      const inv = n > 0 ? 1 / Math.sqrt(n) / m.words.length : 0;
      for (let d = 0; d < dim; d++) row[d]! += v[d]! * inv;
    }
    return m;
  });
  return { dim, vectors, mappings };
}

/**
 * A readable report: one line per class (`how: name -> words`), then the count of each rule.
 * @param mappings from {@linkcode classWordVectors}
 */
export function formatClassWordReport(mappings: readonly ClassWordMapping[]): string {
  const lines = mappings.map((m) =>
    `${m.how.padEnd(16)} ${m.name} -> ${m.words.join(" + ") || "(none)"}` +
    (m.synset ? ` [${m.synset}]` : "") +
    (m.missingWords.length ? ` (not in the table: ${m.missingWords.join(", ")})` : "")
  );
  const counts = new Map<string, number>();
  for (const m of mappings) counts.set(m.how, (counts.get(m.how) ?? 0) + 1);
  lines.push([...counts].map(([k, v]) => `${k} ${v}`).join(", "));
  return lines.join("\n");
}
