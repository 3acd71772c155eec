/**
 * Parallel-data figures for the translation recipe (`deno task bench seq2seq_data`): English -> French pairs
 * from the gettext catalogs of this machine (`/usr/share/locale/fr/LC_MESSAGES/*.mo`) and from the LibreOffice
 * help (`examples/get_libreoffice_help.sh`; folder from `LO_HELP_DIR`, default `data/libreoffice-help`;
 * skipped with a note when absent): pairs read, what each cleaning rule removed, unique pairs, the lesson's
 * questions before and after cleaning, and sentence lengths. Prints JSON lines.
 *
 * @module
 */
import { emit } from "./_report.ts";
import {
  cleanParallel,
  LESSON_QUESTION_FR,
  type PairRecord,
  questionPairs,
  readLibreOfficeHelp,
  readMo,
  tokenize,
} from "../text/mod.ts";

const MO_DIR = "/usr/share/locale/fr/LC_MESSAGES";

async function moPairs(): Promise<{ pairs: PairRecord[]; files: number }> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(MO_DIR)) if (e.isFile && e.name.endsWith(".mo")) names.push(e.name);
  } catch {
    return { pairs: [], files: 0 };
  }
  names.sort();
  const pairs: PairRecord[] = [];
  for (const n of names) {
    for await (const p of readMo(`${MO_DIR}/${n}`, { onError: "skip" })) {
      pairs.push({ ...p, id: `${n}#${p.id}` });
    }
  }
  return { pairs, files: names.length };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1]! : NaN;
}

function figures(name: string, raw: PairRecord[], extra: Record<string, unknown>): void {
  const unique = new Set(raw.map((p) => `${p.source}\u0000${p.target}`)).size;
  const different = raw.filter((p) => p.source.trim() !== p.target.trim()).length;
  const { pairs, report } = cleanParallel(raw);
  const words = pairs.map((p) => tokenize(p.source, { lang: "en" }).length);
  emit({
    suite: "seq2seq_data",
    case: name,
    value: pairs.length,
    unit: "clean pairs",
    raw_pairs: raw.length,
    raw_unique: unique,
    raw_different_sides: different,
    clean: report,
    questions_raw: questionPairs(raw).length,
    questions_clean: questionPairs(pairs).length,
    questions_clean_unique: new Set(questionPairs(pairs).map((p) => `${p.source}\u0000${p.target}`)).size,
    // any question (the French pattern on both sides), not only "Wh..." ones
    questions_any_clean: questionPairs(pairs, { source: LESSON_QUESTION_FR }).length,
    median_en_tokens: median(words),
    en_3_to_40_tokens: words.filter((n) => n >= 3 && n <= 40).length,
    ...extra,
  });
}

/** Measure both corpora (each skipped when absent). */
export async function run(): Promise<void> {
  const mo = await moPairs();
  if (mo.files > 0) figures("gettext_mo_fr", mo.pairs, { files: mo.files });
  else {emit({
      suite: "seq2seq_data",
      case: "gettext_mo_fr",
      value: NaN,
      unit: "skipped",
      note: `no ${MO_DIR}`,
    });}
  const dir = Deno.env.get("LO_HELP_DIR") ?? "data/libreoffice-help";
  try {
    const lo = await Array.fromAsync(readLibreOfficeHelp(dir));
    figures("libreoffice_help_en_fr", lo, { dir });
    if (mo.files > 0) figures("both", [...mo.pairs, ...lo], {});
  } catch (e) {
    emit({
      suite: "seq2seq_data",
      case: "libreoffice_help_en_fr",
      value: NaN,
      unit: "skipped",
      note: `${(e as Error).message}; run examples/get_libreoffice_help.sh and set LO_HELP_DIR`,
    });
  }
}

if (import.meta.main) await run();
