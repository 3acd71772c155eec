/**
 * Parallel-corpus readers: aligned files (`giga-fren.release2.fixed.en` / `.fr`, line i of one is the
 * translation of line i of the other) and tab-separated pairs.
 *
 * @module
 */
import { countRead, handleBad, readLines } from "./_common.ts";
import { type PairRecord, ReaderError, type ReaderOptions } from "./types.ts";

/**
 * Stream two aligned files as pairs (`id` = line number). Files with different line counts are an error
 * naming the shorter file and the line where it ended (always thrown: alignment is lost). A line with invalid
 * UTF-8 on either side is malformed (error or skipped per `onError`). Pairs with an empty side are dropped
 * when `skipEmpty` is true (not counted as malformed).
 *
 * @param sourcePath File of source sentences.
 * @param targetPath File of target sentences, aligned line by line.
 * @param options `skipEmpty` (drop pairs with an empty side, default true) and the error policy.
 * @returns An async iterable of pairs.
 *
 * @example English and French files
 * ```ts
 * import { readParallel } from "./pairs.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/c.en`, "Hello\nThank you\n");
 * await Deno.writeTextFile(`${dir}/c.fr`, "Bonjour\nMerci\n");
 * const pairs = await Array.fromAsync(readParallel(`${dir}/c.en`, `${dir}/c.fr`));
 * if (pairs.length !== 2 || pairs[1]!.target !== "Merci") throw new Error("bad");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function* readParallel(
  sourcePath: string,
  targetPath: string,
  options: ReaderOptions & { skipEmpty?: boolean } = {},
): AsyncGenerator<PairRecord> {
  const { skipEmpty = true } = options;
  const a = readLines(sourcePath);
  const b = readLines(targetPath);
  try {
    for (;;) {
      const [x, y] = await Promise.all([a.next(), b.next()]);
      if (x.done && y.done) return;
      if (x.done || y.done) {
        const [short, long, line] = x.done
          ? [sourcePath, targetPath, y.value!]
          : [targetPath, sourcePath, x.value!];
        throw new ReaderError(short, line.n, `ends before ${long} (files are not aligned)`);
      }
      const s = x.value;
      const t = y.value;
      if (s.bad || t.bad) {
        handleBad(new ReaderError(s.bad ? sourcePath : targetPath, s.n, "invalid UTF-8"), options);
        continue;
      }
      if (skipEmpty && (s.text.trim() === "" || t.text.trim() === "")) continue;
      countRead(options);
      yield { source: s.text, target: t.text, id: String(s.n) };
    }
  } finally {
    await a.return(undefined);
    await b.return(undefined);
  }
}

/** Options of {@linkcode readTsvPairs}. */
export interface TsvPairsOptions extends ReaderOptions {
  /** Column of the source side. @default {0} */
  sourceCol?: number;
  /** Column of the target side. @default {1} */
  targetCol?: number;
  /** Skip the first line (a header). @default {false} */
  header?: boolean;
}

/**
 * Stream a tab-separated file of pairs (e.g. Tatoeba / manythings `eng\tfra\tattribution`). Tabs are not
 * quoted in TSV, so a row with too few columns or invalid UTF-8 is malformed (error naming file and line, or
 * skipped per `onError`); blank lines are ignored.
 *
 * @param path File to read.
 * @param options Which columns, a header line, the error policy.
 * @returns An async iterable of pairs.
 *
 * @example
 * ```ts
 * import { readTsvPairs } from "./pairs.ts";
 * const p = await Deno.makeTempFile();
 * await Deno.writeTextFile(p, "Go.\tVa !\tCC-BY\nHi.\tSalut !\n");
 * const pairs = await Array.fromAsync(readTsvPairs(p));
 * if (pairs[0]!.target !== "Va !" || pairs[1]!.source !== "Hi.") throw new Error("bad");
 * await Deno.remove(p);
 * ```
 */
export async function* readTsvPairs(path: string, options: TsvPairsOptions = {}): AsyncGenerator<PairRecord> {
  const { sourceCol = 0, targetCol = 1, header = false } = options;
  const need = Math.max(sourceCol, targetCol) + 1;
  for await (const line of readLines(path)) {
    if (header && line.n === 1) continue;
    if (line.bad) {
      handleBad(new ReaderError(path, line.n, "invalid UTF-8"), options);
      continue;
    }
    if (line.text.trim() === "") continue;
    const cols = line.text.split("\t");
    if (cols.length < need) {
      handleBad(
        new ReaderError(path, line.n, `expected at least ${need} tab-separated columns, got ${cols.length}`),
        options,
      );
      continue;
    }
    countRead(options);
    yield { source: cols[sourceCol]!, target: cols[targetCol]!, id: String(line.n) };
  }
}

/** Options of {@linkcode cleanPairs}. */
export interface CleanPairsOptions {
  /** Drop pairs with a newline on either side. @default {true} */
  singleLine?: boolean;
  /** Drop pairs whose two sides are equal (untranslated). @default {true} */
  differentSides?: boolean;
  /** Keep the first of pairs with the same source and target. @default {true} */
  unique?: boolean;
  /** Drop pairs with a side longer than this many characters. @default {Infinity} */
  maxChars?: number;
  /** Drop pairs containing gettext format placeholders (`%s`, `%d`, `%1$s`, `{0}`). @default {false} */
  noPlaceholders?: boolean;
}

const PLACEHOLDER = /%(?:\d+\$)?[-+ #0]*\d*(?:\.\d+)?[hlLqjzt]*[diouxXeEfgGcsp%]|\{\d+\}/;

/**
 * Filter a stream of pairs into a clean parallel corpus (the gettext catalogs hold menu items, format strings
 * and untranslated entries): single-line, both sides different, unique, not too long, optionally without
 * format placeholders. Sides are trimmed.
 *
 * @param pairs Pairs from any pair reader.
 * @param options Which filters to apply.
 * @returns The kept pairs.
 *
 * @example
 * ```ts
 * import { cleanPairs } from "./pairs.ts";
 * const raw = [
 *   { source: "Open", target: "Ouvrir" },
 *   { source: "Open", target: "Ouvrir" },
 *   { source: "OK", target: "OK" },
 *   { source: "Line one\nLine two", target: "Ligne un\nLigne deux" },
 * ];
 * const kept = await Array.fromAsync(cleanPairs(raw));
 * if (kept.length !== 1 || kept[0]!.target !== "Ouvrir") throw new Error("bad filter");
 * ```
 */
export async function* cleanPairs(
  pairs: AsyncIterable<PairRecord> | Iterable<PairRecord>,
  options: CleanPairsOptions = {},
): AsyncGenerator<PairRecord> {
  const {
    singleLine = true,
    differentSides = true,
    unique = true,
    maxChars = Infinity,
    noPlaceholders = false,
  } = options;
  const seen = new Set<string>();
  for await (const p of pairs) {
    const source = p.source.trim();
    const target = p.target.trim();
    if (source === "" || target === "") continue;
    if (singleLine && (/[\r\n]/.test(source) || /[\r\n]/.test(target))) continue;
    if (differentSides && source === target) continue;
    if (source.length > maxChars || target.length > maxChars) continue;
    if (noPlaceholders && (PLACEHOLDER.test(source) || PLACEHOLDER.test(target))) continue;
    if (unique) {
      const key = `${source}\u0000${target}`;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    yield { ...p, source, target };
  }
}
