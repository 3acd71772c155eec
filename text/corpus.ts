/**
 * Corpora in a store file, as the ULMFiT recipe uses them: ingest a source for a language model or a classifier
 * (checked first: an empty source, missing labels or a single class is refused before anything is stored; a
 * classifier corpus gets a seeded validation split), build the vocabulary, read the numericalized documents
 * back for training, and say what a store holds. Messages name the store, the corpus and the `denofit` command
 * that fixes the problem.
 *
 * @example Ingest a tiny labelled corpus, build its vocabulary, read it back
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { buildVocab, ingestCorpus, loadTrainingCorpus } from "./corpus.ts";
 * const store = `${await Deno.makeTempDir()}/c.sqlite`;
 * const texts = Array.from({ length: 20 }, (_, i) => ({ text: i % 2 ? "good fun film" : "bad dull film", label: i % 2 ? "pos" : "neg" }));
 * await ingestCorpus(store, "tiny", { source: () => texts, purpose: "clas", workers: 1 });
 * const vocab = { maxVocab: 100, minFreq: 2, padToMultiple: 0 };
 * await buildVocab(store, "tiny", vocab);
 * const { docs } = await loadTrainingCorpus(store, "tiny", vocab);
 * strictEqual(docs.length, 20);
 * ```
 *
 * @module
 */
import { uniformAt } from "../gpu/rng.ts";
import type { TextRecord } from "./readers/types.ts";
import {
  CorpusStore,
  type CorpusSummary,
  PairStore,
  RecordHasher,
  type SourceInfo,
  type StoredDoc,
  type VocabParams,
} from "./store/mod.ts";

/**
 * Open an existing corpus store (never creates one by accident), or create it with `create`; `readOnly` opens
 * it for reading only (nothing in the file changes: what read-only commands use).
 *
 * @param path the store file
 * @param options `create`: make the file when missing; `readOnly`: never write
 * @returns the open store
 */
export async function openCorpusStore(
  path: string,
  { create = false, readOnly = false } = {},
): Promise<CorpusStore> {
  if (!create) {
    try {
      await Deno.stat(path);
    } catch {
      throw new Error(`${path}: no corpus store here; run \`denofit corpus ingest\` first (or pass --store)`);
    }
  }
  return CorpusStore.open(path, readOnly ? { readOnly: true } : {});
}

/** What a pre-pass over a source found. */
export interface SourceSummary {
  /** Documents. */
  docs: number;
  /** Documents per label (unlabelled ones under ""). */
  labels: Map<string, number>;
  /** Documents per given split. */
  splits: Map<string, number>;
  /** Documents with no text. */
  empty: number;
}

/**
 * Count the documents, labels and splits of a source without storing anything.
 *
 * @param source records
 * @returns the counts
 */
export async function summarizeSource(
  source: AsyncIterable<TextRecord> | Iterable<TextRecord>,
): Promise<SourceSummary> {
  const s: SourceSummary = { docs: 0, labels: new Map(), splits: new Map(), empty: 0 };
  for await (const r of source) {
    s.docs++;
    s.labels.set(r.label ?? "", (s.labels.get(r.label ?? "") ?? 0) + 1);
    if (r.split !== undefined) s.splits.set(r.split, (s.splits.get(r.split) ?? 0) + 1);
    if (r.text.trim() === "") s.empty++;
  }
  return s;
}

/**
 * Whether document `idx` falls in the validation part of a seeded split (streaming: no shuffle, no state).
 *
 * @param idx position of the document in its source
 * @param validPct validation fraction
 * @param seed seed of the split
 * @returns true for validation
 */
export function inValidSplit(idx: number, validPct: number, seed: number): boolean {
  return uniformAt(seed >>> 0, idx) < validPct;
}

/** Options of {@linkcode ingestCorpus}. */
export interface IngestCorpusOptions {
  /** Makes the records (called twice: a counting pass, then the ingest). */
  source: () => AsyncIterable<TextRecord> | Iterable<TextRecord>;
  /** Description of the source stored with the corpus and named in messages. @default "the source" */
  desc?: string;
  /** `lm`: any texts; `clas`: labels required (two classes at least), a validation split made. @default "lm" */
  purpose?: "lm" | "clas";
  /** Classifier: validation fraction for documents without a split. @default 0.2 */
  validPct?: number;
  /** Classifier: seed of that split. @default 42 */
  seed?: number;
  /** Keep at most this many characters of each text (0: all). @default 0 */
  maxChars?: number;
  /** Tokenizer workers. @default all cores */
  workers?: number;
  /** Progress notes. */
  onNote?: (line: string) => void;
  /** The source file or folder (its size and modification time are recorded with the content hash). */
  sourcePath?: string;
  /** Replace a stored corpus of this name that came from another source. @default false */
  replace?: boolean;
  /** How long to wait for another process writing the same corpus (ms). @default 60_000 */
  waitMs?: number;
}

/** What {@linkcode ingestCorpus} did. */
export interface IngestCorpusResult {
  /** Documents in the source. */
  docs: number;
  /** Documents added now. */
  added: number;
  /** Documents tokenized now. */
  tokenized: number;
  /** Tokens produced now. */
  tokens: number;
  /** Everything was already stored: nothing was done. */
  reused: boolean;
  /** A stored corpus of another source was replaced (`replace`). */
  replaced: boolean;
  /** Seconds. */
  seconds: number;
  /** Documents per class (labelled documents only), classes sorted as first seen. */
  labels: [string, number][];
}

/**
 * Check a source, then read it into the store and tokenize it (resumable; an identical second run reuses what
 * is stored). For a classifier corpus, documents without a split go to `valid` with probability `validPct`.
 *
 * @param storePath the store file (created when missing)
 * @param name corpus name
 * @param options source, purpose, split, limits
 * @returns counts
 */
export async function ingestCorpus(
  storePath: string,
  name: string,
  options: IngestCorpusOptions,
): Promise<IngestCorpusResult> {
  const { desc = "the source", purpose = "lm", validPct = 0.2, seed = 42, maxChars = 0 } = options;
  const note = options.onNote ?? (() => {});
  const clas = purpose === "clas";
  // the records exactly as they will be stored (texts cut, splits made): counted and hashed in a first pass
  const records = async function* () {
    let idx = 0;
    for await (const r of options.source()) {
      const rec: TextRecord = { ...r };
      if (maxChars > 0 && rec.text.length > maxChars) rec.text = rec.text.slice(0, maxChars);
      if (clas && rec.split === undefined) rec.split = inValidSplit(idx, validPct, seed) ? "valid" : "train";
      idx++;
      yield rec;
    }
  };
  const hasher = new RecordHasher();
  const summary = await summarizeSource((async function* () {
    for await (const r of records()) {
      hasher.add(r);
      yield r;
    }
  })());
  if (summary.docs === 0 || summary.empty === summary.docs) {
    throw new Error(`corpus ingest: ${desc} holds no documents (empty corpus); nothing was stored`);
  }
  const classes = [...summary.labels.keys()].filter((l) => l !== "");
  if (purpose === "clas") checkClassifierLabels(summary, classes, desc, note);
  const sourceInfo: SourceInfo = {
    hash: hasher.digest(),
    nDocs: hasher.count,
    desc,
    ...await fileFacts(options.sourcePath),
  };
  const store = await openCorpusStore(storePath, { create: true });
  try {
    if (new PairStore(store).names().includes(name)) {
      throw new Error(`${storePath}: "${name}" is a pair corpus; give the text corpus another --name`);
    }
    const t0 = performance.now();
    const r = await store.ingest(name, records(), {
      source: desc,
      sourceInfo,
      ...(options.replace ? { replace: true } : {}),
      ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}),
      onWait: note,
      ...(options.workers ? { workers: options.workers } : {}),
      onProgress: (p) => note(`  ${p.docs} documents, ${p.tokens} tokens, ${p.seconds.toFixed(1)}s`),
    });
    return {
      docs: summary.docs,
      added: r.added,
      tokenized: r.tokenized,
      tokens: r.tokens,
      reused: r.reused,
      replaced: r.replaced ?? false,
      seconds: (performance.now() - t0) / 1000,
      labels: classes.map((c) => [c, summary.labels.get(c)!]),
    };
  } finally {
    store.close();
  }
}

/** Size (files) and modification time of a source path, when there is one. */
async function fileFacts(path: string | undefined): Promise<{ size?: number; mtime?: string }> {
  if (path === undefined) return {};
  const st = await Deno.stat(path).catch(() => undefined);
  if (!st) return {};
  return { ...(st.isFile ? { size: st.size } : {}), ...(st.mtime ? { mtime: st.mtime.toISOString() } : {}) };
}

function checkClassifierLabels(
  summary: SourceSummary,
  classes: string[],
  desc: string,
  note: (line: string) => void,
): void {
  if (classes.length === 0) {
    throw new Error(`corpus ingest --clas: ${desc} has no labels; use --lm for unlabelled text`);
  }
  if (classes.length === 1) {
    throw new Error(
      `corpus ingest --clas: the label column of ${desc} has a single class ("${classes[0]}"); ` +
        "a classifier needs at least two",
    );
  }
  const unlabelled = summary.labels.get("") ?? 0;
  if (unlabelled > 0) note(`note: ${unlabelled} unlabelled documents are kept (language model only)`);
}

function requireCorpus(store: CorpusStore, name: string): void {
  const known = store.corpusNames();
  if (!known.includes(name)) {
    throw new Error(`${store.path}: no corpus "${name}" (it holds: ${known.join(", ") || "none"})`);
  }
}

/** Vocabulary parameters, all given (as the commands pass them). */
export type VocabSettings = Required<VocabParams>;

/**
 * Build (or reuse) the vocabulary of a stored corpus and numericalize its documents; tokens made by another
 * tokenizer version are not reused: the stored texts are tokenized again first.
 *
 * @param storePath the store file
 * @param name corpus name
 * @param params vocabulary parameters
 * @param options `onNote` hears when stored texts are tokenized again
 * @returns the vocabulary
 */
export async function buildVocab(
  storePath: string,
  name: string,
  params: VocabSettings,
  options: { onNote?: (line: string) => void } = {},
): Promise<{ itos: string[] }> {
  const store = await openCorpusStore(storePath);
  try {
    requireCorpus(store, name);
    const tok = await store.ingest(name, undefined);
    if (!tok.reused) {
      options.onNote?.(`re-tokenized ${tok.tokenized} stored documents with the current tokenizer`);
    }
    const v = await store.vocab(name, params);
    const specials = v.itos.filter((t) => t.startsWith("xx")).length;
    if (v.itos.length <= specials) {
      throw new Error(
        `vocab build: no token of "${name}" occurs ${params.minFreq} times or more; lower --min-freq or add text`,
      );
    }
    return { itos: v.itos };
  } finally {
    store.close();
  }
}

/** A corpus read back from the store for training. */
export interface TrainingCorpus {
  /** The vocabulary. */
  itos: string[];
  /** Documents with ids, labels and splits. */
  docs: StoredDoc[];
}

/**
 * Read a corpus's documents as vocabulary ids; the corpus must be tokenized with the current tokenizer and the
 * vocabulary built (`denofit vocab build`, {@linkcode buildVocab}).
 *
 * @param storePath the store file
 * @param name corpus name
 * @param params the vocabulary's parameters
 * @returns the vocabulary and the documents
 */
export async function loadTrainingCorpus(
  storePath: string,
  name: string,
  params: VocabSettings,
): Promise<TrainingCorpus> {
  const s = await openCorpusStore(storePath, { readOnly: true });
  try {
    requireCorpus(s, name);
    if (!s.isTokenized(name)) {
      throw new Error(
        `corpus "${name}" is not tokenized with the current tokenizer (an older version, or an unfinished ingest); ` +
          `run \`denofit vocab build --name ${name}\` (it re-tokenizes the stored texts) or \`corpus ingest\` again`,
      );
    }
    const itos = s.completeVocab(name, params);
    if (!itos) {
      throw new Error(
        `no vocabulary of "${name}" with --max-vocab ${params.maxVocab} --min-freq ${params.minFreq} ` +
          `--pad-to ${params.padToMultiple} in ${storePath}; run \`denofit vocab build --name ${name}\` with the ` +
          "same values first",
      );
    }
    const docs = [...s.documents(name, { vocab: params })];
    if (docs.length === 0) throw new Error(`corpus "${name}" is empty`);
    return { itos, docs };
  } finally {
    s.close();
  }
}

/**
 * What a store holds: every corpus (or only `name`) with its documents per split and label, tokenizations and
 * vocabularies.
 *
 * @param storePath the store file
 * @param name only this corpus
 * @returns one summary per corpus
 */
export async function corpusInfo(storePath: string, name?: string): Promise<CorpusSummary[]> {
  const store = await openCorpusStore(storePath, { readOnly: true });
  try {
    if (name !== undefined) requireCorpus(store, name);
    return store.describe().filter((c) => name === undefined || c.name === name);
  } finally {
    store.close();
  }
}
