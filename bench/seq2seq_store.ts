/**
 * `deno task bench seq2seq_store`: English -> French pair corpora through the store, as the translation recipe
 * uses them — the gettext catalogs of this machine (`/usr/share/locale/fr/LC_MESSAGES`) and the LibreOffice
 * help (`examples/get_libreoffice_help.sh`; folder from `LO_HELP_DIR`, default `data/libreoffice-help`; skipped
 * with a note when absent). Per corpus, on a fresh store file: ingest (read, clean, dedupe, tokenize both sides
 * on 2 workers, commit) wall and CPU time, a second ingest (reused), both vocabularies (the lesson's 40,000 /
 * every count), `loadPairCorpus` French -> English (eos, 97th/99th percentile cut, 90/10 split), and the
 * lesson's question pairs. CPU time and the load average are printed because the machine is shared.
 *
 * @module
 */
import process from "node:process";
import { emit } from "./_report.ts";
import {
  buildPairVocabs,
  ingestPairCorpus,
  LESSON_QUESTION_FR,
  loadPairCorpus,
  type PairRecord,
  readCatalogs,
  readLibreOfficeHelp,
  storeInfo,
  SYSTEM_FRENCH_CATALOGS,
} from "../text/mod.ts";

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const [t0, c0] = [performance.now(), cpuSeconds()];
  const value = await fn();
  return { value, wall: (performance.now() - t0) / 1000, cpu: cpuSeconds() - c0 };
}

async function measure(name: string, make: () => AsyncIterable<PairRecord>, desc: string): Promise<void> {
  const dir = await Deno.makeTempDir();
  const store = `${dir}/pairs.sqlite`;
  try {
    const ingest = await timed(() => ingestPairCorpus(store, name, { source: make, desc, workers: 2 }));
    const again = await timed(() => ingestPairCorpus(store, name, { source: make, desc }));
    const vocab = await timed(() => buildPairVocabs(store, name));
    const load = await timed(() => loadPairCorpus(store, name, { from: "fr" }));
    const wh = await loadPairCorpus(store, name, { from: "fr", questions: true, percentiles: false });
    const anyQ = await loadPairCorpus(store, name, {
      from: "fr",
      questions: { source: LESSON_QUESTION_FR },
      percentiles: false,
    });
    const tz = (await storeInfo(store, name)).pairCorpora[0]!.tokenizations[0]!;
    const d = load.value;
    emit({
      suite: "seq2seq_store",
      case: name,
      value: ingest.value.pairs,
      unit: "pairs",
      source: desc,
      read: ingest.value.report?.read,
      selection: ingest.value.report,
      tokens_en: tz.sourceTokens,
      tokens_fr: tz.targetTokens,
      distinct_en: tz.sourceTerms,
      distinct_fr: tz.targetTerms,
      ingest_s: +ingest.wall.toFixed(2),
      ingest_cpu_s: +ingest.cpu.toFixed(2),
      pairs_per_s: Math.round(ingest.value.pairs / ingest.wall),
      reingest_s: +again.wall.toFixed(3),
      reused: again.value.reused,
      vocab_en: vocab.value.source!.length,
      vocab_fr: vocab.value.target!.length,
      vocab_s: +vocab.wall.toFixed(2),
      load_s: +load.wall.toFixed(2),
      train_pairs: d.train.x.length,
      valid_pairs: d.valid.x.length,
      max_len_fr_in: d.maxLen.input,
      max_len_en_out: d.maxLen.output,
      cut_fr: d.counts.cutInputs,
      cut_en: d.counts.cutOutputs,
      questions_wh: wh.counts.kept,
      questions_any: anyQ.counts.kept,
      db_mb: +((await Deno.stat(store)).size / 2 ** 20).toFixed(1),
      loadavg: Deno.loadavg()[0],
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Measure both corpora (each skipped when absent). */
export async function run(): Promise<void> {
  const has = await Deno.stat(SYSTEM_FRENCH_CATALOGS).then(() => true, () => false);
  if (has) {
    await measure(
      "gettext_mo_fr",
      () => readCatalogs(SYSTEM_FRENCH_CATALOGS),
      `mo:${SYSTEM_FRENCH_CATALOGS}`,
    );
  } else {emit({
      suite: "seq2seq_store",
      case: "gettext_mo_fr",
      value: NaN,
      unit: "skipped",
      note: "no catalogs",
    });}
  const lo = Deno.env.get("LO_HELP_DIR") ?? "data/libreoffice-help";
  const hasLo = await Deno.stat(lo).then(() => true, () => false);
  if (hasLo) await measure("libreoffice_help_en_fr", () => readLibreOfficeHelp(lo), `libreoffice-help:${lo}`);
  else {
    emit({
      suite: "seq2seq_store",
      case: "libreoffice_help_en_fr",
      value: NaN,
      unit: "skipped",
      note: `no ${lo}; run examples/get_libreoffice_help.sh and set LO_HELP_DIR`,
    });
  }
}

if (import.meta.main) await run();
