/**
 * Skip-gram word vectors on French text (`deno task bench skipgram`): ours (`text/vectors/skipgram.ts`) side by
 * side with Debian's fastText (`fasttext skipgram`, skipped with a note when `/usr/bin/fasttext` is missing),
 * on the same tokenized file with the same hyper-parameters (dim 100, ws 5, neg 5, t 1e-4, lr 0.025, minCount 5,
 * 5 epochs, word vectors only: `-maxn 0`; negatives from unigram^0.5 as fastText, plus one run of our default
 * 0.75).
 *
 * Text: the French sides of the LibreOffice help (`LO_HELP_DIR`, default `data/libreoffice-help`, when present)
 * and of `/usr/share/locale/fr/LC_MESSAGES/*.mo`, unique segments, tokenized with our French tokenizer and
 * lowercased, one segment per line.
 *
 * Speed: training tokens per second per thread (fastText's own "words/sec/thread", and ours counted the same
 * way: every token of every epoch, `</s>` included), 1 and 2 threads. Quality, two measures on 1-thread runs:
 * category precision (for words of closed classes — days, months, colours, numbers — the share of each word's
 * nearest neighbours that are of its class) and the top-10 neighbour overlap with fastText's vectors, next to
 * the overlap of two fastText runs that differ only in their seed (the noise floor of "same quality").
 *
 * Environment: `SKIPGRAM_EPOCHS` (default 5), `LO_HELP_DIR`.
 *
 * @module
 */
import { emit } from "./_report.ts";
import {
  CosineIndex,
  loadVectorsText,
  readLibreOfficeHelp,
  readMo,
  type SkipGramOptions,
  tokenize,
  trainSkipGram,
  type WordVectors,
} from "../text/mod.ts";

const FASTTEXT = "/usr/bin/fasttext";
const GROUPS: Record<string, string[]> = {
  days: "lundi mardi mercredi jeudi vendredi samedi dimanche".split(" "),
  months: "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split(" "),
  colours: "rouge vert bleu jaune noir blanc gris orange violet".split(" "),
  numbers: "deux trois quatre cinq six sept huit neuf dix".split(" "),
};
const SHOW = ["fichier", "cellule", "ouvrir", "tableau", "lundi", "rouge", "police", "imprimer"];

async function frenchText(
  dir: string,
): Promise<{ path: string; lines: number; tokens: number; sources: string[] }> {
  const seen = new Set<string>();
  const sources: string[] = [];
  try {
    for await (const p of readLibreOfficeHelp(Deno.env.get("LO_HELP_DIR") ?? "data/libreoffice-help")) {
      seen.add(p.target);
    }
    sources.push("libreoffice-help-fr");
  } catch { /* not downloaded */ }
  const mo = "/usr/share/locale/fr/LC_MESSAGES";
  for await (const e of Deno.readDir(mo)) {
    if (!e.name.endsWith(".mo")) continue;
    for await (const p of readMo(`${mo}/${e.name}`, { onError: "skip" })) seen.add(p.target);
  }
  sources.push("locale/fr/*.mo");
  let out = "", lines = 0, tokens = 0;
  for (const s of seen) {
    const toks = tokenize(s.replace(/\s+/g, " "), { lang: "fr" }).map((t) => t.toLowerCase());
    if (toks.length === 0) continue;
    out += toks.join(" ") + "\n";
    lines++;
    tokens += toks.length;
  }
  const path = `${dir}/fr.txt`;
  await Deno.writeTextFile(path, out);
  return { path, lines, tokens, sources };
}

const COMMON = { dim: 100, window: 5, negatives: 5, sample: 1e-4, lr: 0.025, minCount: 5 };

async function fastText(input: string, out: string, threads: number, seed: number, epochs: number) {
  const args = [
    "skipgram",
    "-input",
    input,
    "-output",
    out,
    "-dim",
    "100",
    "-ws",
    "5",
    "-neg",
    "5",
    "-t",
    "1e-4",
    "-lr",
    "0.025",
    "-minCount",
    "5",
    "-epoch",
    String(epochs),
    "-maxn",
    "0",
    "-thread",
    String(threads),
    "-seed",
    String(seed),
    "-verbose",
    "2",
  ];
  const t0 = performance.now();
  const r = await new Deno.Command(FASTTEXT, { args, stdout: "piped", stderr: "piped" }).output();
  const seconds = (performance.now() - t0) / 1000;
  const log = new TextDecoder().decode(r.stderr) + new TextDecoder().decode(r.stdout);
  if (!r.success) throw new Error(`fasttext failed: ${log.slice(-500)}`);
  const wst = [...log.matchAll(/words\/sec\/thread:\s*(\d+)/g)].map((m) => Number(m[1]));
  return {
    seconds,
    wordsPerSecondPerThread: wst.at(-1) ?? NaN,
    vectors: await loadVectorsText(`${out}.vec`),
  };
}

function categoryPrecision(wv: WordVectors): Record<string, number> {
  const index = new CosineIndex(wv);
  const out: Record<string, number> = {};
  let all = 0, n = 0;
  for (const [name, words] of Object.entries(GROUPS)) {
    const present = words.filter((w) => wv.has(w));
    if (present.length < 3) continue;
    let sum = 0;
    for (const w of present) {
      const nn = index.nearest(w, { k: present.length - 1 });
      sum += nn.filter((x) => present.includes(x.word)).length / nn.length;
    }
    out[name] = sum / present.length;
    all += sum;
    n += present.length;
  }
  out.all = all / n;
  return out;
}

function overlap(a: WordVectors, b: WordVectors, queries: string[], k = 10): number {
  const ia = new CosineIndex(a), ib = new CosineIndex(b);
  let s = 0;
  for (const q of queries) {
    const na = new Set(ia.nearest(q, { k }).map((x) => x.word));
    s += ib.nearest(q, { k }).filter((x) => na.has(x.word)).length / k;
  }
  return s / queries.length;
}

function neighbours(wv: WordVectors): Record<string, string> {
  const index = new CosineIndex(wv);
  return Object.fromEntries(
    SHOW.filter((w) => wv.has(w)).map((w) => [w, index.nearest(w, { k: 5 }).map((x) => x.word).join(" ")]),
  );
}

/** Run the comparison; prints JSON lines. */
export async function run(): Promise<void> {
  const epochs = Number(Deno.env.get("SKIPGRAM_EPOCHS") ?? 5);
  const dir = await Deno.makeTempDir({ prefix: "skipgram_bench" });
  const text = await frenchText(dir);
  const machine = {
    cpu: (await Deno.readTextFile("/proc/cpuinfo")).match(/model name\s*:\s*(.*)/)?.[1] ?? "?",
    cores: navigator.hardwareConcurrency,
  };
  const base = {
    suite: "skipgram",
    corpus_lines: text.lines,
    corpus_tokens: text.tokens,
    sources: text.sources,
    epochs,
    ...machine,
  };
  const load = async () => (await Deno.readTextFile("/proc/loadavg")).split(" ")[0];
  const ours = async (threads: number, negativePower: number) => {
    const opts: SkipGramOptions = { ...COMMON, epochs, threads, seed: 1, negativePower };
    const r = await trainSkipGram(text.path, opts);
    emit({
      ...base,
      case: `ours_t${threads}_pow${negativePower}`,
      value: r.final.wordsPerSecondPerThread,
      unit: "tokens/s/thread",
      backend: "denofit",
      train_s: r.final.seconds,
      read_s: r.readSeconds,
      vocab: r.vectors.size,
      loss: r.final.loss,
      load: await load(),
    });
    return r.vectors;
  };
  // ours and fastText alternate, so each pair is measured under about the same machine load
  const hasFt = await Deno.stat(FASTTEXT).then(() => true, () => false);
  if (!hasFt) emit({ ...base, case: "fasttext", value: NaN, unit: "skipped", note: `${FASTTEXT} not found` });
  const peer = async (threads: number, seed: number) => {
    if (!hasFt) return undefined;
    const r = await fastText(text.path, `${dir}/ft_t${threads}_s${seed}`, threads, seed, epochs);
    emit({
      ...base,
      case: `fasttext_t${threads}_seed${seed}`,
      value: r.wordsPerSecondPerThread,
      unit: "tokens/s/thread",
      backend: "fasttext 0.9.2",
      process_s: r.seconds,
      vocab: r.vectors.size,
      load: await load(),
    });
    return r.vectors;
  };
  const o1 = await ours(1, 0.5);
  const f1 = await peer(1, 1);
  const o75 = await ours(1, 0.75);
  const f2 = await peer(1, 2);
  await ours(2, 0.5);
  await peer(2, 1);
  const queries = o1.words.slice(50, 250).filter((w) => /\p{L}{3,}/u.test(w) && (!f1 || f1.has(w)));
  const quality = (name: string, wv: WordVectors) =>
    emit({
      ...base,
      case: `quality_${name}`,
      value: categoryPrecision(wv).all!,
      unit: "category precision",
      per_group: categoryPrecision(wv),
      overlap_with_fasttext: f1 ? overlap(wv, f1, queries) : undefined,
      queries: queries.length,
      neighbours: neighbours(wv),
    });
  quality("ours_pow0.5", o1);
  quality("ours_pow0.75", o75);
  if (f1 && f2) quality("fasttext_seed2", f2);
  if (f1) {
    emit({
      ...base,
      case: "quality_fasttext_seed1",
      value: categoryPrecision(f1).all!,
      unit: "category precision",
      per_group: categoryPrecision(f1),
      neighbours: neighbours(f1),
    });
  }
  await Deno.remove(dir, { recursive: true });
}

if (import.meta.main) await run();
