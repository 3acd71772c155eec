/**
 * The `denofit` subcommands as a user runs them: every `--help`, then bad input — empty corpus, a single-class
 * label column, a missing store / vocabulary / encoder, a mismatched vocabulary, a model file of another kind,
 * texts made only of unknown tokens, unknown options, an existing output — each a clear error, nothing stored
 * overwritten.
 */
import { deepStrictEqual as assertEquals, match as assertMatch, ok as assert } from "node:assert/strict";

function assertStringIncludes(text: string, needle: string, what = ""): void {
  if (!text.includes(needle)) {
    throw new Error(`${what ? what + ": " : ""}expected ${JSON.stringify(needle)} in:\n${text}`);
  }
}

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
let workDir = Deno.cwd();

async function cli(args: string[], stdin?: string): Promise<{ code: number; out: string; stdout: string }> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-env", "--allow-ffi", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: stdin === undefined ? "null" : "piped",
    cwd: workDir, // default output paths (clas.safetensors, denofit.sqlite) land in the temp folder
  });
  const child = cmd.spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const { code, stdout, stderr } = await child.output();
  const so = new TextDecoder().decode(stdout);
  return { code, out: so + new TextDecoder().decode(stderr), stdout: so };
}

function tinyCsv(n: number, classes: string[]): string {
  const good = ["great", "lovely", "superb", "wonderful"], bad = ["awful", "boring", "dull", "terrible"];
  const filler = ["the", "movie", "was", "and", "it", "a", "film", "story"];
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = classes[i % classes.length]!;
    const words = [0, 1, 2, 3, 4, 5].map((k) => filler[(i * 7 + k * 3) % filler.length]!);
    const w = c === classes[0] ? bad : good;
    words.splice(i % 5, 0, w[i % 4]!, w[(i + 1) % 4]!);
    rows.push(`${c},"${words.join(" ")}"`);
  }
  return rows.join("\n") + "\n";
}

Deno.test("denofit subcommands: help and bad input", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denofit_cli_" });
  workDir = dir;
  const store = `${dir}/s.sqlite`;
  try {
    await t.step("every subcommand has --help with its defaults", async () => {
      const cases: [string[], string][] = [
        [["corpus", "ingest", "--help"], "--spam-assassin"],
        [["corpus", "info", "--help"], "--store"],
        [["vocab", "build", "--help"], "default: 60000"],
        [["lm", "train", "--help"], "default: 1152"],
        [["lm", "generate", "--help"], "default: 0.75"],
        [["clas", "train", "--help"], "--bwd-encoder"],
        [["clas", "predict", "--help"], "--json"],
        [["lr-find", "--help"], "--plot"],
        [["info", "--help"], "[file]"],
      ];
      for (const [args, needle] of cases) {
        const r = await cli(args);
        assertEquals(r.code, 0, r.out);
        assertStringIncludes(r.out, needle, args.join(" "));
        assertStringIncludes(r.out, "--help");
      }
    });
    await t.step("info --backend says which backend and CPU matmul kernel are used, and why", async () => {
      const r = await cli(["info", "--backend"]);
      assertEquals(r.code, 0, r.out);
      assertMatch(r.stdout, /^backend \(auto\): (webgpu|cpu) — .+$/m);
      // BLAS where the machine has one (the CLI runs with --allow-ffi), else WebAssembly with the reason.
      assertMatch(
        r.stdout,
        /^cpu matmul: (blas — BLAS: .+ loaded from .+|wasm — WebAssembly SIMD matmul: .+)$/m,
      );
      const none = await cli(["info"]);
      assert(none.code !== 0 && none.out.includes("--backend"), none.out);
    });

    await t.step("unknown options and missing sources are errors naming them", async () => {
      const r = await cli(["corpus", "ingest", "--no-such-flag"]);
      assert(r.code !== 0);
      assertStringIncludes(r.out, "--no-such-flag");
      const r2 = await cli(["corpus", "ingest", "--store", store]);
      assert(r2.code !== 0);
      assertStringIncludes(r2.out, "give a source");
      const r3 = await cli(["lm", "train", "--name", "x", "--bs", "zero"]);
      assert(r3.code !== 0);
      assertStringIncludes(r3.out, "expected an integer");
    });

    await t.step("an empty corpus is refused and nothing is stored", async () => {
      await Deno.writeTextFile(`${dir}/empty.csv`, "");
      const r = await cli(["corpus", "ingest", "--csv", `${dir}/empty.csv`, "--clas", "--store", store]);
      assert(r.code !== 0);
      assertStringIncludes(r.out, "holds no documents");
      await Deno.stat(store).then(() => assert(false, "store was created"), () => {});
    });

    await t.step("a label column with a single class is refused for --clas", async () => {
      await Deno.writeTextFile(`${dir}/one.csv`, tinyCsv(20, ["pos"]));
      const r = await cli(["corpus", "ingest", "--csv", `${dir}/one.csv`, "--clas", "--store", store]);
      assert(r.code !== 0);
      assertStringIncludes(r.out, "single class");
    });

    await t.step("commands on a store that does not exist say so", async () => {
      for (
        const args of [["corpus", "info"], ["vocab", "build", "--name", "tiny"], [
          "lm",
          "train",
          "--name",
          "tiny",
        ]]
      ) {
        const r = await cli([...args, "--store", `${dir}/nope.sqlite`]);
        assert(r.code !== 0, args.join(" "));
        assertStringIncludes(r.out, "no corpus store");
      }
    });

    await t.step("ingest, info, vocab: the happy path and a missing vocabulary", async () => {
      await Deno.writeTextFile(`${dir}/tiny.csv`, tinyCsv(120, ["neg", "pos"]));
      const r = await cli(["corpus", "ingest", "--csv", `${dir}/tiny.csv`, "--clas", "--store", store]);
      assertEquals(r.code, 0, r.out);
      assertMatch(r.out, /120 documents added/);
      const again = await cli(["corpus", "ingest", "--csv", `${dir}/tiny.csv`, "--clas", "--store", store]);
      assertStringIncludes(again.out, "reused");
      const info = await cli(["corpus", "info", "--store", store]);
      assertMatch(info.out, /corpus "tiny": 120 documents/);
      assertMatch(info.out, /split valid, label pos: \d+/);
      const noVocab = await cli(["lm", "train", "--name", "tiny", "--store", store, "--min-freq", "2"]);
      assert(noVocab.code !== 0);
      assertStringIncludes(noVocab.out, "denofit vocab build");
      const noCorpus = await cli(["vocab", "build", "--name", "other", "--store", store]);
      assert(noCorpus.code !== 0);
      assertStringIncludes(noCorpus.out, 'no corpus "other"');
      const v = await cli(["vocab", "build", "--name", "tiny", "--store", store, "--min-freq", "2"]);
      assertEquals(v.code, 0, v.out);
      assertMatch(v.out, /vocab of "tiny": 2\d tokens/);
    });

    const common = [
      "--name",
      "tiny",
      "--store",
      store,
      "--min-freq",
      "2",
      "--quiet",
      "--bs",
      "8",
      "--bptt",
      "8",
    ];
    const lmPath = `${dir}/lm.safetensors`;
    await t.step("lm train writes the LM and its encoder; refuses to overwrite without --force", async () => {
      const args = ["lm", "train", ...common, "--emb", "8", "--hid", "16", "--layers", "2", "--out", lmPath];
      const r = await cli([...args, "--metrics", `${dir}/m.jsonl`]);
      assertEquals(r.code, 0, r.out);
      const lines = (await Deno.readTextFile(`${dir}/m.jsonl`)).trim().split("\n").map((l) => JSON.parse(l));
      assertEquals(lines.length, 1);
      for (
        const k of ["stage", "epoch", "train_loss", "valid_loss", "accuracy", "perplexity", "lr", "seconds"]
      ) {
        assert(k in lines[0], `metrics line lacks ${k}`);
      }
      const before = await Deno.readFile(lmPath);
      const again = await cli(args);
      assert(again.code !== 0);
      assertStringIncludes(again.out, "--force");
      assertEquals(await Deno.readFile(lmPath), before);
    });

    await t.step(
      "lm train fine-tunes a fastai .pth: vocab remap, last layer first, then unfrozen",
      async () => {
        const specials = ["xxunk", "xxpad", "xxbos", "xxeos", "xxfld", "xxrep", "xxwrep", "xxup", "xxmaj"];
        const words = ["the", "movie", "was", "and", "it", "a", "film", "story", "great", "awful", "zebra"];
        await Deno.writeTextFile(`${dir}/itos.json`, JSON.stringify([...specials, ...words]));
        const pth = new URL("./fixtures/checkpoint/awd_v2.pt", import.meta.url).pathname;
        const args = ["lm", "train", ...common, "--pretrained", pth, "--out", `${dir}/ft.safetensors`];
        const r = await cli([
          ...args,
          "--pretrained-vocab",
          `${dir}/itos.json`,
          "--metrics",
          `${dir}/ft.jsonl`,
        ]);
        assertEquals(r.code, 0, r.out);
        assertMatch(r.out, /pre-trained .*awd_v2\.pt: \d+ of \d+ words found/);
        const stages = (await Deno.readTextFile(`${dir}/ft.jsonl`)).trim().split("\n").map((l) =>
          JSON.parse(l).stage
        );
        assertEquals(stages, ["lm-fwd-last-layer", "lm-fwd-unfrozen"]);
        const info = await cli(["info", `${dir}/ft.safetensors`]);
        assertMatch(info.out, /"embSize":8/);
        await Deno.writeTextFile(`${dir}/itos19.json`, JSON.stringify([...specials, ...words.slice(1)]));
        const bad = await cli([...args, "--pretrained-vocab", `${dir}/itos19.json`, "--force"]);
        assert(bad.code !== 0);
        assertStringIncludes(bad.out, "mismatched vocab");
        const none = await cli([...args, "--force"]);
        assert(none.code !== 0);
        assertStringIncludes(none.out, "--pretrained-vocab");
      },
    );

    await t.step("lr-find writes the plot and prints a suggestion", async () => {
      const plot = `${dir}/lr.svg`;
      const r = await cli([
        "lr-find",
        ...common,
        "--emb",
        "8",
        "--hid",
        "16",
        "--layers",
        "1",
        "--iters",
        "20",
        "--plot",
        plot,
      ]);
      assertEquals(r.code, 0, r.out);
      assertMatch(r.out, /suggestion: steepest \d\.\d+e[-+]\d+/);
      assert((await Deno.readTextFile(plot)).startsWith("<svg"));
    });

    await t.step(
      "clas train with a backwards encoder reports forwards, backwards and ensemble accuracy",
      async () => {
        const bwd = `${dir}/lm_bwd.safetensors`;
        const lmArgs = [
          "lm",
          "train",
          ...common,
          "--emb",
          "8",
          "--hid",
          "16",
          "--layers",
          "2",
          "--backwards",
        ];
        const l = await cli([...lmArgs, "--out", bwd]);
        assertEquals(l.code, 0, l.out);
        const enc = ["--encoder", `${dir}/lm_encoder.safetensors`];
        const swapped = await cli([
          "clas",
          "train",
          ...common,
          ...enc,
          "--bwd-encoder",
          `${dir}/lm_encoder.safetensors`,
          "--out",
          `${dir}/sw.safetensors`,
        ]);
        assert(swapped.code !== 0);
        await Deno.stat(`${dir}/sw.safetensors`).then(
          () => assert(false, "trained before checking"),
          () => {},
        );
        assertStringIncludes(swapped.out, "forwards encoder given for the backwards model");
        const out = `${dir}/fb.safetensors`;
        const r = await cli([
          "clas",
          "train",
          ...common,
          ...enc,
          "--bwd-encoder",
          `${dir}/lm_bwd_encoder.safetensors`,
          "--stages",
          "1,0,1",
          "--out",
          out,
        ]);
        assertEquals(r.code, 0, r.out);
        assertMatch(r.out, /forwards classifier .* accuracy 0\.\d{4}/);
        assertMatch(r.out, /backwards classifier .* accuracy 0\.\d{4}/);
        assertMatch(r.out, /ensemble \(mean of probabilities\): valid accuracy 0\.\d{4}/);
        const p = await cli([
          "clas",
          "predict",
          "--model",
          out,
          "--bwd-model",
          `${dir}/fb_bwd.safetensors`,
          "--json",
          "a great film",
        ]);
        assertEquals(p.code, 0, p.out);
        const j = JSON.parse(p.stdout.trim());
        assert(Math.abs(j.probs.neg + j.probs.pos - 1) < 1e-5);
        const info = await cli(["info", `${dir}/fb_bwd.safetensors`]);
        assertStringIncludes(info.out, "reads text backwards");
      },
    );

    await t.step("info describes a model file; a non-model file is an error", async () => {
      const r = await cli(["info", lmPath]);
      assertEquals(r.code, 0, r.out);
      assertStringIncludes(r.out, "denofit lm model");
      await Deno.writeTextFile(`${dir}/junk.bin`, "not a model at all");
      const bad = await cli(["info", `${dir}/junk.bin`]);
      assert(bad.code !== 0);
      assertStringIncludes(bad.out, "neither safetensors nor a PyTorch checkpoint");
    });

    await t.step(
      "clas train: missing and mismatched encoders; predict: wrong kind, unknown-only text",
      async () => {
        const missing = await cli(["clas", "train", ...common, "--encoder", `${dir}/none.safetensors`]);
        assert(missing.code !== 0);
        assertStringIncludes(missing.out, "no such model file");
        // a vocabulary built with other settings does not match the encoder
        const v2 = await cli([
          "vocab",
          "build",
          "--name",
          "tiny",
          "--store",
          store,
          "--min-freq",
          "2",
          "--max-vocab",
          "15",
        ]);
        assertEquals(v2.code, 0, v2.out);
        const common1 = [...common, "--max-vocab", "15"];
        const mism = await cli([
          "clas",
          "train",
          ...common1,
          "--encoder",
          `${dir}/lm_encoder.safetensors`,
          "--out",
          `${dir}/c.safetensors`,
        ]);
        assert(mism.code !== 0);
        assertStringIncludes(mism.out, "mismatched vocab");
        await Deno.stat(`${dir}/c.safetensors`).then(() => assert(false, "wrote a classifier"), () => {});
        const ok = await cli([
          "clas",
          "train",
          ...common,
          "--encoder",
          `${dir}/lm_encoder.safetensors`,
          "--stages",
          "1,0,1",
          "--out",
          `${dir}/c.safetensors`,
        ]);
        assertEquals(ok.code, 0, ok.out);
        const kind = await cli(["clas", "predict", "--model", lmPath, "a great film"]);
        assert(kind.code !== 0);
        assertStringIncludes(kind.out, "holds a lm model, expected classifier");
        const unk = await cli(["clas", "predict", "--model", `${dir}/c.safetensors`, "zzz qqq xyzzy"]);
        assert(unk.code !== 0);
        assertStringIncludes(unk.out, "only unknown tokens");
        const piped = await cli(
          ["clas", "predict", "--model", `${dir}/c.safetensors`, "--json"],
          "a great film",
        );
        assertEquals(piped.code, 0, piped.out);
        const p = JSON.parse(piped.stdout.trim());
        assert(p.label === "neg" || p.label === "pos");
        assert(Math.abs(p.probs.neg + p.probs.pos - 1) < 1e-5);
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("denofit info and lr-find: regressions found on the SpamAssassin walk-through", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denofit_cli_walk_" });
  workDir = dir;
  try {
    await t.step(
      "info quotes whitespace tokens of the vocabulary, keeping the preview on one line",
      async () => {
        const { writeSafetensors } = await import("../nn/formats/safetensors.ts");
        const { f32Tensor } = await import("../nn/formats/tensor_map.ts");
        const specials = ["xxunk", "xxpad", "xxbos", "xxeos", "xxfld", "xxrep", "xxwrep", "xxup", "xxmaj"];
        const itos = [...specials, "\n", " ", "the", "\n\n", "spam"];
        await writeSafetensors(
          `${dir}/ws.safetensors`,
          new Map([["encoder.weight", f32Tensor([14, 2], new Float32Array(28))]]),
          {
            metadata: { "denofit.kind": "lm", "denofit.itos": JSON.stringify(itos) },
          },
        );
        const r = await cli(["info", `${dir}/ws.safetensors`]);
        assertEquals(r.code, 0, r.out);
        assertStringIncludes(r.out, 'vocabulary 14 tokens: "\\n" " " the "\\n\\n" spam ...');
        const lines = r.stdout.trimEnd().split("\n");
        assert(lines.every((l) => l.trim() !== ""), `blank lines in:\n${r.stdout}`);
        assertEquals(lines.length, 5, r.stdout); // header, kind, vocabulary, tensor count, one tensor
      },
    );

    await t.step("lr-find refuses --metrics (it has no epochs) and does not list it", async () => {
      const r = await cli(["lr-find", "--name", "spam", "--metrics", `${dir}/m.jsonl`]);
      assert(r.code !== 0);
      assertStringIncludes(r.out, "lr-find: --metrics is for lm train and clas train");
      await Deno.stat(`${dir}/m.jsonl`).then(() => assert(false, "wrote a metrics file"), () => {});
      const help = await cli(["lr-find", "--help"]);
      assertEquals(help.code, 0, help.out);
      assert(!help.out.includes("--metrics"), help.out);
      assertStringIncludes(help.out, "--plot");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
