/**
 * The pairs a pair corpus keeps, chosen while streaming from a reader: {@linkcode cleanParallel}'s rules chunk by
 * chunk, optionally the lesson's question filter, and duplicates dropped across the whole stream (by a 53-bit
 * hash of the pair, so memory stays ~40 bytes per unique pair: giga-fren's 22M pairs fit; the chance that two
 * different pairs share a hash is about n^2 / 2^54, ~3% for one lost pair among 22M). The settings are
 * canonical JSON the store records, so the same selection is recognised on a re-run.
 *
 * @example Clean a stream, keep the questions, count what went
 * ```ts
 * import { selectPairs, newSelectReport } from "./select.ts";
 * const raw = [
 *   { source: "Where is the _file?", target: "Où est le _fichier ?" },
 *   { source: "Where is the file?", target: "Où est le fichier ?" },
 *   { source: "Open", target: "Ouvrir" },
 * ];
 * const report = newSelectReport();
 * const kept = await Array.fromAsync(selectPairs(raw, { questions: true }, report));
 * if (kept.length !== 1 || report.duplicate !== 1 || report.notQuestion !== 1) throw new Error(JSON.stringify(report));
 * ```
 *
 * @module
 */
import type { PairRecord } from "../readers/types.ts";
import { chunked } from "../readers/csv.ts";
import {
  cleanParallel,
  type CleanParallelOptions,
  LESSON_QUESTION_EN,
  LESSON_QUESTION_FR,
  type QuestionOptions,
  questionPairs,
} from "./clean.ts";

/** Which pairs a pair corpus keeps. */
export interface PairSelection {
  /** Cleaning rules ({@linkcode cleanParallel}'s options; every rule on by default), or `false` for none. */
  clean?: CleanParallelOptions | false;
  /** Keep only question pairs, each side cut to its question: `true` for the lesson's patterns. @default {false} */
  questions?: boolean | QuestionOptions;
}

/** What a selection removed (a pair is counted under the first rule that removes it). */
export interface SelectReport {
  /** Pairs read from the source. */
  read: number;
  /** Pairs kept. */
  kept: number;
  /** An empty side. */
  empty: number;
  /** A line break in a side. */
  multiline: number;
  /** A format placeholder. */
  formatSpecifier: number;
  /** A side of punctuation only. */
  punctuationOnly: number;
  /** Both sides equal. */
  identical: number;
  /** A side over `maxChars`. */
  tooLong: number;
  /** Not a question pair (with `questions`). */
  notQuestion: number;
  /** Seen before. */
  duplicate: number;
}

/**
 * One line for a report: pairs read and kept, then each rule that removed pairs.
 *
 * @param r the report
 * @returns e.g. `"6 read, 3 kept; removed: formatSpecifier 1, identical 1, duplicate 1"`
 * @example
 * ```ts
 * import { newSelectReport, selectReportLine } from "./select.ts";
 * const line = selectReportLine({ ...newSelectReport(), read: 3, kept: 2, duplicate: 1 });
 * if (line !== "3 read, 2 kept; removed: duplicate 1") throw new Error(line);
 * ```
 */
export function selectReportLine(r: SelectReport): string {
  const removed = Object.entries(r).filter(([k, v]) => k !== "read" && k !== "kept" && v > 0);
  const list = removed.map(([k, v]) => `${k} ${v}`).join(", ");
  return `${r.read} read, ${r.kept} kept${list ? `; removed: ${list}` : ""}`;
}

/** A report with every count at zero. */
export function newSelectReport(): SelectReport {
  return {
    read: 0,
    kept: 0,
    empty: 0,
    multiline: 0,
    formatSpecifier: 0,
    punctuationOnly: 0,
    identical: 0,
    tooLong: 0,
    notQuestion: 0,
    duplicate: 0,
  };
}

/** Every cleaning option with its default filled in (`maxChars` 0: no limit), or false. */
function resolvedClean(
  clean: CleanParallelOptions | false | undefined,
): Required<CleanParallelOptions> | false {
  if (clean === false) return false;
  const c = clean ?? {};
  return {
    accelerators: c.accelerators ?? true,
    formatSpecifiers: c.formatSpecifiers ?? true,
    punctuationOnly: c.punctuationOnly ?? true,
    identical: c.identical ?? true,
    singleLine: c.singleLine ?? true,
    dedupe: c.dedupe ?? true,
    normalizeSpaces: c.normalizeSpaces ?? true,
    maxChars: c.maxChars === undefined || c.maxChars === Infinity ? 0 : c.maxChars,
  };
}

function resolvedQuestions(q: boolean | QuestionOptions | undefined): Required<QuestionOptions> | false {
  if (!q) return false;
  const o = q === true ? {} : q;
  return { source: o.source ?? LESSON_QUESTION_EN, target: o.target ?? LESSON_QUESTION_FR };
}

/**
 * The selection as the JSON a pair corpus records (every default filled in, patterns as strings): equal JSON
 * means the same pairs from the same source.
 *
 * @param selection the selection
 * @returns plain JSON values
 * @example
 * ```ts
 * import { selectionSettings } from "./select.ts";
 * const s = selectionSettings({ questions: true });
 * if ((s.questions as { source: string }).source !== "^(Wh[^?.!]+\\?)") throw new Error(JSON.stringify(s));
 * ```
 */
export function selectionSettings(selection: PairSelection): Record<string, unknown> {
  const q = resolvedQuestions(selection.questions);
  const pattern = (r: RegExp) => (r.flags ? `/${r.source}/${r.flags}` : r.source);
  return {
    select: 1,
    clean: resolvedClean(selection.clean),
    questions: q ? { source: pattern(q.source), target: pattern(q.target) } : false,
  };
}

/** cyrb53: a fast 53-bit string hash (public domain, bryc). */
function hash53(s: string): number {
  let h1 = 0xdeadbeef, h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * Stream the pairs a selection keeps, in source order, counting what each rule removed into `report`.
 *
 * @param source pairs from any pair reader
 * @param selection cleaning rules and the question filter
 * @param report counts, updated as pairs stream by
 * @returns the kept pairs (sides cleaned and, with `questions`, cut to the question)
 */
export async function* selectPairs(
  source: AsyncIterable<PairRecord> | Iterable<PairRecord>,
  selection: PairSelection,
  report: SelectReport = newSelectReport(),
): AsyncGenerator<PairRecord> {
  const clean = resolvedClean(selection.clean);
  const questions = resolvedQuestions(selection.questions);
  const seen = new Set<number>();
  for await (const chunk of chunked(source, 1000)) {
    report.read += chunk.length;
    let pairs = chunk;
    if (clean) {
      const opts = { ...clean, dedupe: false, maxChars: clean.maxChars || Infinity };
      const r = cleanParallel(chunk, opts);
      for (
        const k of [
          "empty",
          "multiline",
          "formatSpecifier",
          "punctuationOnly",
          "identical",
          "tooLong",
        ] as const
      ) {
        report[k] += r.report[k];
      }
      pairs = r.pairs;
    }
    if (questions) {
      const q = questionPairs(pairs, questions);
      report.notQuestion += pairs.length - q.length;
      pairs = q;
    }
    for (const p of pairs) {
      if (clean && clean.dedupe) {
        const key = hash53(`${p.source}\u0000${p.target}`);
        if (seen.has(key)) {
          report.duplicate++;
          continue;
        }
        seen.add(key);
      }
      report.kept++;
      yield p;
    }
  }
}
