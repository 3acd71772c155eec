import { strict as assert } from "node:assert";
import { fastTextHash, loadFastTextBin, readFastTextBinInfo } from "./fasttext_bin.ts";
import { loadVectorsText } from "./text_format.ts";
import { rejectsReader } from "../readers/_test_helpers.ts";

// Made by tests/fixtures/make_fasttext.sh with Debian's fasttext 0.9.2 (minn 2, maxn 4, bucket 40, dim 8).
const DIR = new URL("../../tests/fixtures/fasttext/", import.meta.url).pathname;
const BIN = `${DIR}tiny.bin`;

/** fastText prints 5 significant digits: compare within half a unit of the 5th digit. */
function close5(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) {
    assert.ok(
      Math.abs(got[i]! - want[i]!) <= 5e-5 * Math.abs(want[i]!) + 1e-9,
      `${what}[${i}]: ${got[i]} vs ${want[i]}`,
    );
  }
}

Deno.test("fastTextHash() is fastText's FNV-1a with sign-extended bytes", () => {
  const enc = new TextEncoder();
  assert.equal(fastTextHash(enc.encode("")), 2166136261);
  assert.equal(fastTextHash(enc.encode("a")), 0xe40c292c); // plain FNV-1a for ASCII
  // "é" = c3 a9: bytes >= 0x80 are xored as 0xffffffc3, 0xffffffa9
  let h = 2166136261;
  for (const b of [0xffffffc3, 0xffffffa9]) h = Math.imul((h ^ b) >>> 0, 16777619) >>> 0;
  assert.equal(fastTextHash(enc.encode("é")), h);
});

Deno.test("loadFastTextBin() gives fastText's own word vectors", async (t) => {
  const info = await readFastTextBinInfo(BIN);
  await t.step("arguments and dictionary", () => {
    assert.deepEqual(
      [info.args.dim, info.args.minn, info.args.maxn, info.args.bucket, info.args.model, info.args.minCount],
      [8, 2, 4, 40, 2, 2],
    );
    assert.equal(info.words[0], "</s>");
    assert.equal(info.words.length, 32);
    assert.ok(info.counts.every((c, i) => i === 0 || c <= info.counts[i - 1]!));
  });
  await t.step("every vocabulary word equals the .vec fastText wrote", async () => {
    const vec = await loadVectorsText(`${DIR}tiny.vec`);
    const bin = await loadFastTextBin(BIN);
    assert.deepEqual(bin.words, vec.words);
    for (const w of vec.words) close5(bin.get(w)!, vec.get(w)!, w);
  });
  await t.step("in- and out-of-vocabulary words equal `fasttext print-word-vectors`", async () => {
    const lines = (await Deno.readTextFile(`${DIR}words.vectors.txt`)).trimEnd().split("\n");
    const want = new Map(lines.map((l) => {
      const p = l.trimEnd().split(" ");
      return [p[0]!, p.slice(1).map(Number)] as const;
    }));
    const words = [...want.keys()];
    assert.ok(words.includes("東京") && words.includes("fichiers!") && words.includes("</s>"));
    const wv = await loadFastTextBin(BIN, { words });
    for (const w of words) close5(wv.get(w)!, want.get(w)!, w);
  });
  await t.step("a limit keeps the most frequent words", async () => {
    assert.deepEqual((await loadFastTextBin(BIN, { limit: 3 })).words, info.words.slice(0, 3));
  });
});

Deno.test("loadFastTextBin() rejects bad files naming the file", async (t) => {
  const bytes = await Deno.readFile(BIN);
  const dir = await Deno.makeTempDir();
  const write = async (name: string, b: Uint8Array) => {
    await Deno.writeFile(`${dir}/${name}`, b);
    return `${dir}/${name}`;
  };
  await t.step("truncated anywhere", async () => {
    for (const cut of [3, 40, 100, 600, bytes.length - 1]) {
      const p = await write(`cut${cut}.bin`, bytes.subarray(0, cut));
      await rejectsReader(() => loadFastTextBin(p), "truncated");
    }
  });
  await t.step("bad magic, bad version", async () => {
    const m = bytes.slice();
    m[0] = 0;
    await rejectsReader(async () => loadFastTextBin(await write("m.bin", m)), "not a fastText model");
    const v = bytes.slice();
    new DataView(v.buffer).setInt32(4, 99, true);
    await rejectsReader(
      async () => loadFastTextBin(await write("v.bin", v)),
      "unsupported fastText format version 99",
    );
  });
  await t.step("a quantized model", async () => {
    // the quant flag is the byte after the dictionary: find it from the parsed layout
    const info = await readFastTextBinInfo(BIN);
    let off = 8 + 12 * 4 + 8 + 12 + 16;
    for (const w of info.words) off += new TextEncoder().encode(w).length + 1 + 8 + 1;
    const q = bytes.slice();
    assert.equal(q[off], 0);
    q[off] = 1;
    await rejectsReader(
      async () => loadFastTextBin(await write("q.bin", q)),
      "quantized fastText models (.ftz)",
    );
  });
  await t.step("a huge dimension in the arguments", async () => {
    const d = bytes.slice();
    new DataView(d.buffer).setInt32(8, 1 << 30, true);
    await rejectsReader(async () => loadFastTextBin(await write("d.bin", d)), "bad model arguments: dim");
  });
  await t.step("not a file", async () => {
    await rejectsReader(() => loadFastTextBin(`${dir}/none.bin`), "file not found");
  });
  await Deno.remove(dir, { recursive: true });
});
