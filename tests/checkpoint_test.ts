// PyTorch fixture suite for nn/formats (and the fastai AWD-LSTM mapping of text/models): files made by tests/fixtures/make_checkpoints.py with Debian's torch.
import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import {
  CheckpointError,
  decodeSafetensors,
  decodeTorchCheckpoint,
  encodeSafetensors,
  type HostTensor,
  PickleError,
  readSafetensors,
  readTorchCheckpoint,
  type TensorMap,
  ZipError,
} from "../nn/formats/mod.ts";
import { mapFastaiAwdLstm, remapVocab } from "../text/models/mod.ts";

const DIR = new URL("./fixtures/checkpoint/", import.meta.url);
const fixture = (name: string) => new URL(name, DIR).pathname;
const MARKER = "/tmp/denofit_checkpoint_pwned";

interface Expected {
  dtype: "f32" | "i32";
  shape: number[];
  values: number[];
}

function assertMatches(got: HostTensor | undefined, want: Expected, name: string): void {
  ok(got, `missing tensor ${name}`);
  strictEqual(got.dtype, want.dtype, name);
  deepStrictEqual(got.shape, want.shape, name);
  const exp = want.dtype === "f32" ? Float32Array.from(want.values) : Int32Array.from(want.values);
  deepStrictEqual(got.data, exp, name);
}

Deno.test("readTorchCheckpoint() reads torch.save state dicts exactly", async (t) => {
  const expected: Record<string, Expected> = JSON.parse(await Deno.readTextFile(fixture("basic.json")));
  for (const [file, format] of [["basic.pt", "zip"], ["basic_legacy.pt", "legacy"]] as const) {
    await t.step(`${file} (${format} format)`, async () => {
      const ck = await readTorchCheckpoint(fixture(file));
      strictEqual(ck.format, format);
      deepStrictEqual([...ck.tensors.keys()], Object.keys(expected));
      for (const [name, want] of Object.entries(expected)) assertMatches(ck.tensors.get(name), want, name);
      deepStrictEqual(ck.stateDictMetadata, { "": { version: 1 } });
      // the transposed view really is the transpose of w, and row / col are w's row 1 / column 2
      const w = ck.tensors.get("w")!.data;
      const wt = ck.tensors.get("w_t")!.data;
      for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) strictEqual(wt[j * 3 + i], w[i * 4 + j]);
      deepStrictEqual(ck.tensors.get("row")!.data, w.slice(4, 8));
      deepStrictEqual([...ck.tensors.get("col")!.data], [w[2], w[6], w[10]]);
    });
  }
  await t.step("nested dicts and plain values flatten with dots", async () => {
    const ck = await readTorchCheckpoint(fixture("nested.pt"));
    deepStrictEqual([...ck.tensors.keys()], ["model.weight", "model.bias"]);
    deepStrictEqual([...ck.values], [["epoch", 3], ["name", "lm"], ["flags.0", true], ["flags.1", null]]);
  });
});

Deno.test("readTorchCheckpoint() rejects malicious files with no side effect", async (t) => {
  await Deno.remove(MARKER).catch(() => {});
  const cases: [string, typeof ZipError | typeof PickleError, string, RegExp][] = [
    ["evil_os_system.pt", PickleError, "forbidden_global", /posix\.system/],
    ["evil_eval.pt", PickleError, "forbidden_global", /__builtin__\.eval/],
    ["evil_opcode.pt", PickleError, "unknown_opcode", /opcode 0x69/],
    ["evil_persid.pt", PickleError, "bad_persistent_id", /'module'/],
    ["evil_long_string.pt", PickleError, "truncated", /65535 bytes/],
    ["evil_storage_size.pt", PickleError, "storage_size_mismatch", /48 bytes but its record holds 40/],
    ["evil_deflated.pt", ZipError, "compressed_entry", /deflate/],
  ];
  for (const [file, cls, code, message] of cases) {
    await t.step(file, async () => {
      let caught: unknown;
      await readTorchCheckpoint(fixture(file)).catch((e) => (caught = e));
      ok(caught instanceof cls, `${file}: got ${caught}`);
      strictEqual((caught as CheckpointError).code, code);
      ok(message.test((caught as Error).message), (caught as Error).message);
      ok((caught as Error).message.includes(file), "error names the file");
    });
  }
  let exists = true;
  await Deno.stat(MARKER).catch(() => (exists = false));
  ok(!exists, `${MARKER} was created: a payload ran`);
});

Deno.test("readTorchCheckpoint() turns truncated or corrupted files into typed errors", async (t) => {
  for (const file of ["basic.pt", "basic_legacy.pt", "awd_v2.pt"]) {
    await t.step(`${file}: every truncation`, async () => {
      const bytes = await Deno.readFile(fixture(file));
      const step = Math.max(1, Math.floor(bytes.length / 1500));
      for (let len = 0; len < bytes.length; len += step) {
        throws(() => decodeTorchCheckpoint(bytes.subarray(0, len)), CheckpointError, `${file} cut at ${len}`);
      }
    });
  }
  await t.step("random byte corruption never escapes as an untyped error", async () => {
    let seed = 99;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const file of ["basic.pt", "basic_legacy.pt"]) {
      const clean = await Deno.readFile(fixture(file));
      let rejected = 0;
      for (let i = 0; i < 400; i++) {
        const bytes = clean.slice();
        const at = Math.floor(rnd() * bytes.length);
        bytes[at] = bytes[at]! ^ (1 + Math.floor(rnd() * 255));
        try {
          decodeTorchCheckpoint(bytes);
        } catch (e) {
          ok(e instanceof CheckpointError, `${file}: untyped ${e}`);
          rejected++;
        }
      }
      ok(rejected > 100, `${file}: only ${rejected} of 400 corruptions detected`);
    }
  });
});

/** A plain-TS LSTM layer (PyTorch gate order i, f, g, o), zero initial state. x: (seq, batch, in). */
function lstm(x: number[][][], w: TensorMap, layer: number) {
  const get = (n: string) => w.get(`rnns.${layer}.${n}`)!.data;
  const [wih, whh, bih, bhh] = [get("weightIH"), get("weightHH"), get("biasIH"), get("biasHH")];
  const nIn = x[0]![0]!.length;
  const nh = w.get(`rnns.${layer}.weightHH`)!.shape[1]!;
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const out: number[][][] = [];
  let h = x[0]!.map(() => new Array<number>(nh).fill(0));
  let c = x[0]!.map(() => new Array<number>(nh).fill(0));
  for (const xt of x) {
    const step = xt.map((xb, b) => {
      const g = new Array<number>(4 * nh);
      for (let r = 0; r < 4 * nh; r++) {
        let s = bih[r]! + bhh[r]!;
        for (let k = 0; k < nIn; k++) s += wih[r * nIn + k]! * xb[k]!;
        for (let k = 0; k < nh; k++) s += whh[r * nh + k]! * h[b]![k]!;
        g[r] = s;
      }
      const cb = c[b]!.map((cv, j) => sig(g[nh + j]!) * cv + sig(g[j]!) * Math.tanh(g[2 * nh + j]!));
      const hb = cb.map((cv, j) => sig(g[3 * nh + j]!) * Math.tanh(cv));
      return { hb, cb };
    });
    h = step.map((s) => s.hb);
    c = step.map((s) => s.cb);
    out.push(h);
  }
  return { out, h, c };
}

function maxDiff(a: unknown, b: unknown): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    strictEqual(a.length, b.length);
    return a.reduce((m: number, x, i) => Math.max(m, maxDiff(x, b[i])), 0);
  }
  return Math.abs((a as number) - (b as number));
}

Deno.test("mapFastaiAwdLstm() maps v0.7 and v2 state dicts onto weights that reproduce PyTorch's outputs", async (t) => {
  const ref = JSON.parse(await Deno.readTextFile(fixture("awd_lstm_outputs.json")));
  for (
    const [file, format, logitsKey] of [["awd_v07.pt", "v0.7", "logits_v07"], [
      "awd_v2.pt",
      "v2",
      "logits_v2",
    ]] as const
  ) {
    await t.step(file, async () => {
      const ck = await readTorchCheckpoint(fixture(file));
      const m = mapFastaiAwdLstm(ck.tensors, { file });
      strictEqual(m.format, format);
      strictEqual(m.layers, 3);
      deepStrictEqual(m.unused, []);
      deepStrictEqual(m.tensors.get("rnns.2.weightHH")!.shape, [32, 8]);
      const raw = format === "v2" ? "0.rnns.1.weight_hh_l0_raw" : "0.rnns.1.module.weight_hh_l0_raw";
      strictEqual(
        m.tensors.get("rnns.1.weightHH")!.data,
        ck.tensors.get(raw)!.data,
        "the _raw weights are used",
      );
      const enc = m.tensors.get("encoder.weight")!;
      let x: number[][][] = ref.tokens.map((row: number[]) =>
        row.map((tok) => [...enc.data.slice(tok * 8, tok * 8 + 8)])
      );
      for (let l = 0; l < 3; l++) {
        const r = lstm(x, m.tensors, l);
        ok(
          maxDiff(r.out, ref.layers[l].output) < 1e-5,
          `layer ${l} output differs by ${maxDiff(r.out, ref.layers[l].output)}`,
        );
        ok(
          maxDiff(r.h, ref.layers[l].h) < 1e-5 && maxDiff(r.c, ref.layers[l].c) < 1e-5,
          `layer ${l} final state`,
        );
        x = r.out;
      }
      const dec = m.tensors.get("decoder.weight")!.data;
      const bias = m.tensors.get("decoder.bias")!.data;
      const logits = x.map((xt) =>
        xt.map((xb) => [...bias].map((bv, v) => xb.reduce((s, xv, k) => s + xv * dec[v * 8 + k]!, bv)))
      );
      ok(maxDiff(logits, ref[logitsKey]) < 1e-5, `logits differ by ${maxDiff(logits, ref[logitsKey])}`);
    });
  }
  await t.step("a wrong layer shape is a name_mapping error naming the tensor", async () => {
    const ck = await readTorchCheckpoint(fixture("awd_v2.pt"));
    const bad = new Map(ck.tensors);
    bad.set("0.rnns.1.module.weight_ih_l0", {
      dtype: "f32",
      shape: [48, 11],
      data: new Float32Array(48 * 11),
    });
    throws(
      () => mapFastaiAwdLstm(bad, { file: "awd_v2.pt" }),
      /awd_v2\.pt, tensor "0\.rnns\.1\.module\.weight_ih_l0": shape \[48,11\], expected \[48,12\] \[name_mapping\]/,
    );
  });
});

Deno.test("remapVocab() copies shared rows and gives new words the mean row and bias", async () => {
  const m = mapFastaiAwdLstm((await readTorchCheckpoint(fixture("awd_v2.pt"))).tensors);
  const oldItos = Array.from({ length: 20 }, (_, i) => `w${i}`);
  const newItos = ["w3", "new1", "w0", "w19", "new2"];
  const r = remapVocab(m.tensors, { oldItos, newItos });
  deepStrictEqual([r.matched, r.missing], [3, ["new1", "new2"]]);
  const enc = m.tensors.get("encoder.weight")!.data;
  const got = r.tensors.get("encoder.weight")!;
  deepStrictEqual(got.shape, [5, 8]);
  deepStrictEqual(got.data.slice(0, 8), enc.slice(24, 32));
  deepStrictEqual(got.data.slice(24, 32), enc.slice(152, 160));
  for (let j = 0; j < 8; j++) {
    let mean = 0;
    for (let i = 0; i < 20; i++) mean += enc[i * 8 + j]! / 20;
    ok(Math.abs(got.data[8 + j]! - mean) < 1e-6 && got.data[32 + j] === got.data[8 + j]);
  }
  const bias = m.tensors.get("decoder.bias")!.data;
  const nb = r.tensors.get("decoder.bias")!.data;
  strictEqual(nb[2], bias[0]);
  ok(Math.abs(nb[1]! - [...bias].reduce((a, b) => a + b, 0) / 20) < 1e-6);
  strictEqual(r.tensors.get("rnns.0.weightIH"), m.tensors.get("rnns.0.weightIH"));
});

Deno.test("safetensors written by Python decode to torch's values, and torch weights round-trip", async () => {
  const expected: Record<string, Expected> = JSON.parse(await Deno.readTextFile(fixture("python.json")));
  const file = await readSafetensors(fixture("python.safetensors"));
  for (const [name, want] of Object.entries(expected)) assertMatches(file.tensors.get(name), want, name);
  deepStrictEqual(file.metadata, { format: "pt", who: "make_checkpoints.py" });
  const m = mapFastaiAwdLstm((await readTorchCheckpoint(fixture("awd_v07.pt"))).tensors);
  deepStrictEqual(decodeSafetensors(encodeSafetensors(m.tensors)).tensors, m.tensors);
});
