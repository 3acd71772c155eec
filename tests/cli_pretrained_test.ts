/**
 * The fastai pre-trained LM path, with fixtures made by Python's pickle and torch (tests/fixtures/make_fastai.py):
 * the pickled vocabularies of protocols 1 to 5 decode to the same 60 words, bad pickles are refused with errors
 * naming the file and what was found, and `denofit lm train --pretrained lm_learn_save.pth --pretrained-vocab
 * itos_p3.pkl` remaps the embedding the way fastai does (shared words keep their rows, new words get the mean row
 * and the mean decoder bias) — checked on the saved LM — or refuses a vocabulary of another size, writing nothing.
 * A real `learn.save` file holds its optimizer's hyper-parameters in a fastcore `L` with np.float64 learning rates:
 * both are read as plain data.
 */
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { PickleError, readItos, readSafetensors, readTorchCheckpoint, VocabFileError } from "../nn/mod.ts";

const FIX = new URL("./fixtures/fastai/", import.meta.url).pathname;
const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;

async function cli(args: string[], cwd: string): Promise<{ code: number; out: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-env", "--allow-ffi", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    cwd,
  }).output();
  return { code, out: new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr) };
}

function has(text: string, ...needles: string[]): void {
  for (const n of needles) ok(text.includes(n), `expected ${JSON.stringify(n)} in:\n${text}`);
}

const expectedItos = async (): Promise<string[]> => JSON.parse(await Deno.readTextFile(`${FIX}itos.json`));

Deno.test("fastai vocabulary pickles made by Python decode, and bad ones are refused", async (t) => {
  const itos = await expectedItos();
  await t.step("protocols 1 to 5 and a fastcore L give the 60 words of itos.json", async () => {
    strictEqual(itos.length, 60);
    ok(itos.includes("") && itos.includes("😀") && itos.includes("z".repeat(300)));
    for (const p of [1, 2, 3, 4, 5]) {
      deepStrictEqual(await readItos(`${FIX}itos_p${p}.pkl`), itos, `protocol ${p}`);
    }
    deepStrictEqual(await readItos(`${FIX}itos_L.pkl`), itos, "a fastcore L");
  });
  const refused = async (
    name: string,
    cls: typeof PickleError | typeof VocabFileError,
    code: string,
    re: RegExp,
  ) =>
    await rejects(readItos(`${FIX}${name}`), (e: unknown) => {
      ok(e instanceof cls, String(e));
      strictEqual((e as PickleError).code, code, String(e));
      ok((e as Error).message.startsWith(`${FIX}${name}: `), String(e));
      ok(re.test((e as Error).message), `${re} not in ${e}`);
      return true;
    });
  await t.step("a dict, an int item, an object, a truncated file, a lone surrogate, protocol 0", async () => {
    await refused("bad_dict.pkl", VocabFileError, "not_a_list", /holds a dict of 10 entries \(keys "_unk_"/);
    await refused("bad_ints.pkl", VocabFileError, "not_a_string", /item 3 of the list is an int \(42\)/);
    await refused(
      "bad_object.pkl",
      PickleError,
      "forbidden_global",
      /global __main__\.Vocab .*nothing was run/,
    );
    await refused(
      "bad_truncated.pkl",
      PickleError,
      "truncated",
      /needs 300 bytes but only 36 remain: the file is cut short/,
    );
    await refused("bad_surrogate.pkl", PickleError, "malformed", /not valid UTF-8/);
    await refused(
      "bad_protocol0.pkl",
      PickleError,
      "unknown_opcode",
      /not a pickle of protocol 1 to 5 .*"\("/,
    );
  });
});

Deno.test("torch.save files with numpy scalars (fastai's optimizer state) are read, ndarrays refused", async (t) => {
  await t.step("every scalar kind, protocols 2 and 4", async () => {
    for (const f of ["numpy_scalars.pt", "numpy_scalars_p4.pt"]) {
      const ck = await readTorchCheckpoint(`${FIX}${f}`);
      deepStrictEqual(Object.fromEntries(ck.values), {
        f8: 0.1,
        f4: 0.5,
        f2: -1.5,
        i8: -3,
        big: 2n ** 60n,
        i4: -70000,
        u1: 200,
        u8: 7,
        b: true,
      }, f);
      deepStrictEqual(ck.tensors.get("w")!.data, new Float32Array([0, 1, 2]));
    }
  });
  await t.step(
    "learn.save: hypers in a fastcore L, np.float64 learning rates, Python floats and ints",
    async () => {
      const ck = await readTorchCheckpoint(`${FIX}lm_learn_save.pth`);
      deepStrictEqual([0, 1, 2, 3].map((g) => ck.values.get(`opt.hypers.${g}.lr`)), [
        1e-4,
        2.5e-4,
        5e-4,
        2e-3,
      ]);
      strictEqual(ck.values.get("opt.hypers.3.mom"), 0.8);
      strictEqual(ck.values.get("opt.state.0.step"), 12);
      deepStrictEqual(ck.tensors.get("opt.state.0.grad_avg")!.shape, [60, 8]);
    },
  );
  await t.step("an ndarray names numpy's _reconstruct and is not run", async () => {
    await rejects(readTorchCheckpoint(`${FIX}numpy_array.pt`), (e: unknown) => {
      ok(e instanceof PickleError && e.code === "forbidden_global", String(e));
      ok(/numpy\.core\.multiarray\._reconstruct/.test((e as Error).message), String(e));
      return true;
    });
  });
});

/** `n` lines of words drawn in turn from `words` (each line 8 words). */
function lines(words: string[], n: number): string {
  return Array.from(
    { length: n },
    (_, i) =>
      Array.from({ length: 8 }, (_, k) => words[(i * 3 + k) % words.length])
        .join(" "),
  ).join("\n") + "\n";
}

Deno.test("denofit lm train --pretrained <fastai learn.save .pth> --pretrained-vocab <.pkl>", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denofit_pretrained_" });
  const store = `${dir}/s.sqlite`;
  // in the fixture's vocab: 10 of these words (and xxbos); "zebra", "quokka", "wombat" are not
  const shared = ["the", "movie", "film", "was", "great", "awful", "story", "and", "plot", "acting"];
  const fresh = ["zebra", "quokka", "wombat"];
  const common = ["--name", "c", "--store", store, "--min-freq", "2", "--quiet", "--bs", "4", "--bptt", "8"];
  const pth = `${FIX}lm_learn_save.pth`;
  try {
    await Deno.writeTextFile(`${dir}/c.txt`, lines([...shared, ...fresh], 40));
    const ing = await cli(
      ["corpus", "ingest", "--lines", `${dir}/c.txt`, "--name", "c", "--store", store],
      dir,
    );
    strictEqual(ing.code, 0, ing.out);
    const voc = await cli(["vocab", "build", "--name", "c", "--store", store, "--min-freq", "2"], dir);
    strictEqual(voc.code, 0, voc.out);

    await t.step("matched rows are the fixture's, new words get the mean row and mean bias", async () => {
      const out = `${dir}/lm.safetensors`;
      const r = await cli([
        "lm",
        "train",
        ...common,
        "--pretrained",
        pth,
        "--pretrained-vocab",
        `${FIX}itos_p3.pkl`,
        "--frozen-epochs",
        "0",
        "--epochs",
        "0",
        "--out",
        out,
      ], dir);
      strictEqual(r.code, 0, r.out);
      // the corpus vocab: 9 specials + 13 words; found: xxbos + the 10 shared words
      has(r.out, `pre-trained ${pth}: 11 of 22 words found`);
      const saved = await readSafetensors(out);
      const newItos: string[] = JSON.parse(saved.metadata["denofit.itos"]!);
      deepStrictEqual(
        [...newItos].sort(),
        [
          ...["xxunk", "xxpad", "xxbos", "xxeos", "xxfld", "xxrep", "xxwrep", "xxup", "xxmaj"],
          ...shared,
          ...fresh,
        ].sort(),
      );
      const oldItos = await expectedItos();
      const ck = (await readTorchCheckpoint(pth)).tensors;
      const enc = ck.get("model.0.encoder.weight")!, bias = ck.get("model.1.decoder.bias")!;
      deepStrictEqual(enc.shape, [60, 8]);
      const mean = Array.from({ length: 8 }, (_, j) => {
        let s = 0;
        for (let r = 0; r < 60; r++) s += enc.data[r * 8 + j]!;
        return s / 60;
      });
      const meanBias = Array.from(bias.data).reduce((a, b) => a + b, 0) / 60;
      const got = saved.tensors.get("encoder.weight")!, gotDec = saved.tensors.get("decoder.weight")!;
      const gotBias = saved.tensors.get("decoder.bias")!;
      deepStrictEqual(got.shape, [22, 8]);
      let matched = 0;
      newItos.forEach((w, i) => {
        const old = oldItos.indexOf(w);
        const row = Array.from(got.data.subarray(i * 8, i * 8 + 8));
        deepStrictEqual(
          Array.from(gotDec.data.subarray(i * 8, i * 8 + 8)),
          row,
          `decoder row of ${w} is tied`,
        );
        if (old >= 0) {
          matched++;
          deepStrictEqual(row, Array.from(enc.data.subarray(old * 8, old * 8 + 8)), `row of ${w}`);
          strictEqual(gotBias.data[i], bias.data[old], `bias of ${w}`);
        } else {
          row.forEach((v, j) => ok(Math.abs(v - mean[j]!) < 1e-6, `${w}[${j}] = ${v}, mean ${mean[j]}`));
          ok(Math.abs(gotBias.data[i]! - meanBias) < 1e-6, `bias of ${w}`);
        }
      });
      strictEqual(matched, 11);
      // the LSTM weights pass through unchanged: fastai v2's undropped `_raw` hidden weights
      deepStrictEqual(
        saved.tensors.get("rnns.1.weightHH")!.data,
        ck.get("model.0.rnns.1.weight_hh_l0_raw")!.data,
      );
    });

    await t.step(
      "bad vocabularies: an error naming both files and sizes, or the pickle; nothing written",
      async () => {
        const out = `${dir}/bad.safetensors`;
        const base = ["lm", "train", ...common, "--frozen-epochs", "0", "--epochs", "0", "--out", out];
        const short = await cli([
          ...base,
          "--pretrained",
          new URL("./fixtures/checkpoint/awd_v2.pt", import.meta.url).pathname,
          "--pretrained-vocab",
          `${FIX}itos_p4.pkl`,
        ], dir);
        ok(short.code !== 0);
        has(
          short.out,
          "awd_v2.pt: its embedding has 20 rows",
          `vocabulary from ${FIX}itos_p4.pkl has 60 words`,
        );
        for (
          const [name, needle] of [
            ["bad_dict.pkl", "holds a dict of 10 entries"],
            ["bad_truncated.pkl", "cut short (pickle byte 374) [truncated]"],
            ["bad_object.pkl", "__main__.Vocab"],
          ] as const
        ) {
          const r = await cli([...base, "--pretrained", pth, "--pretrained-vocab", `${FIX}${name}`], dir);
          ok(r.code !== 0, name);
          has(r.out, `--pretrained-vocab ${FIX}${name}: `, needle);
        }
        await Deno.stat(out).then(() => ok(false, "an LM was written"), () => {});
        await Deno.stat(`${dir}/bad_encoder.safetensors`).then(
          () => ok(false, "an encoder was written"),
          () => {},
        );
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
