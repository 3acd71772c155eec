import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors } from "./safetensors.ts";
import { SafetensorsError, type SafetensorsErrorCode } from "./errors.ts";
import { decodeBF16, decodeF16, floatToBF16Bits, floatToHalfBits } from "./_float.ts";
import type { TensorMap } from "./tensor_map.ts";

/** Builds a safetensors buffer from a raw header value (string = verbatim) and a data section. */
function build(header: unknown, data: Uint8Array = new Uint8Array(0), headerLen?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function expectCode(bytes: Uint8Array, code: SafetensorsErrorCode, tensor?: string): void {
  throws(() => decodeSafetensors(bytes, { file: "t.safetensors" }), (e: unknown) => {
    ok(e instanceof SafetensorsError, `expected SafetensorsError, got ${e}`);
    strictEqual(e.code, code, e.message);
    strictEqual(e.file, "t.safetensors");
    ok(e.message.includes("t.safetensors"), e.message);
    if (tensor !== undefined) {
      strictEqual(e.tensor, tensor);
      ok(e.message.includes(`"${tensor}"`), e.message);
    }
    return true;
  });
}

function sample(): TensorMap {
  return new Map([
    ["emb.weight", {
      dtype: "f32" as const,
      shape: [3, 2],
      data: new Float32Array([1, -2, 3.5, 0, -0.25, 1e-8]),
    }],
    ["ids", { dtype: "i32" as const, shape: [4], data: new Int32Array([0, -1, 2 ** 31 - 1, -(2 ** 31)]) }],
    ["scalar", { dtype: "f32" as const, shape: [], data: new Float32Array([7]) }],
    ["empty", { dtype: "f32" as const, shape: [0, 5], data: new Float32Array(0) }],
  ]);
}

const f32 = (xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);

Deno.test("decodeSafetensors() rejects every malformed file with a typed error", async (t) => {
  await t.step("header shorter than 8 bytes", () => expectCode(new Uint8Array(5), "header_too_small"));
  await t.step(
    "header length over 100 MB",
    () => expectCode(build("{}", undefined, 100_000_001), "header_too_large"),
  );
  await t.step(
    "header length past the end",
    () => expectCode(build("{}", undefined, 64), "invalid_header_length"),
  );
  await t.step("non-UTF-8 header", () => {
    const b = build('{"a":1}');
    b[10] = 0xff;
    expectCode(b, "invalid_header_utf8");
  });
  await t.step("header not starting with {", () => expectCode(build("[1, 2]"), "invalid_header_start"));
  await t.step("non-JSON header", () => expectCode(build("{nope"), "invalid_header_json"));
  await t.step("malformed tensor entries", () => {
    expectCode(build({ a: 5 }), "invalid_tensor_entry", "a");
    expectCode(build({ a: { shape: [1], data_offsets: [0, 4] } }), "invalid_tensor_entry", "a");
    expectCode(build({ a: { dtype: "Q7", shape: [1], data_offsets: [0, 4] } }), "invalid_tensor_entry", "a");
    expectCode(
      build({ a: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }),
      "invalid_tensor_entry",
      "a",
    );
    expectCode(build({ a: { dtype: "F32", shape: [1], data_offsets: [0] } }), "invalid_tensor_entry", "a");
  });
  await t.step("dtype we cannot convert", () => {
    expectCode(
      build({ a: { dtype: "U16", shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)),
      "unsupported_dtype",
      "a",
    );
  });
  await t.step("__metadata__ not string-to-string", () => {
    expectCode(build({ __metadata__: { v: 1 } }), "invalid_metadata");
    expectCode(build({ __metadata__: ["x"] }), "invalid_metadata");
    expectCode(build({ __metadata__: { v: null } }), "invalid_metadata");
  });
  await t.step("offsets not starting at 0, gaps, overlaps, reversed", () => {
    const e = (o: number[]) => ({ dtype: "F32", shape: [1], data_offsets: o });
    expectCode(build({ a: e([4, 8]) }, new Uint8Array(8)), "invalid_offset", "a");
    expectCode(build({ a: e([0, 4]), b: e([8, 12]) }, new Uint8Array(12)), "invalid_offset", "b");
    expectCode(build({ a: e([0, 4]), b: e([2, 6]) }, new Uint8Array(6)), "invalid_offset", "b");
    expectCode(build({ a: e([0, 4]), b: e([4, 0]) }, new Uint8Array(4)), "invalid_offset", "b");
  });
  await t.step("shape products that overflow", () => {
    expectCode(
      build(
        { a: { dtype: "F32", shape: [2 ** 30, 2 ** 30, 2 ** 30], data_offsets: [0, 4] } },
        new Uint8Array(4),
      ),
      "validation_overflow",
      "a",
    );
  });
  await t.step("size not matching dtype x shape", () => {
    expectCode(
      build({ a: { dtype: "F32", shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)),
      "tensor_invalid_info",
      "a",
    );
    expectCode(
      build({ a: { dtype: "I64", shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)),
      "tensor_invalid_info",
      "a",
    );
  });
  await t.step("trailing bytes and a short data section", () => {
    const h = { a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } };
    expectCode(build(h, new Uint8Array(5)), "metadata_incomplete_buffer");
    expectCode(build(h, new Uint8Array(3)), "metadata_incomplete_buffer");
  });
  await t.step("I64 outside the i32 range", () => {
    const data = new Uint8Array(new BigInt64Array([5n, 2n ** 40n]).buffer);
    expectCode(
      build({ big: { dtype: "I64", shape: [2], data_offsets: [0, 16] } }, data),
      "value_out_of_range",
      "big",
    );
  });
  await t.step("writing a tensor whose data does not fill its shape", () => {
    const bad: TensorMap = new Map([["w", { dtype: "f32", shape: [3], data: new Float32Array(2) }]]);
    throws(
      () => encodeSafetensors(bad),
      (e: unknown) => e instanceof SafetensorsError && e.code === "invalid_tensor_map" && e.tensor === "w",
    );
    const wrong: TensorMap = new Map([["w", { dtype: "f32", shape: [2], data: new Int32Array(2) }]]);
    throws(
      () => encodeSafetensors(wrong),
      (e: unknown) => e instanceof SafetensorsError && e.code === "invalid_tensor_map",
    );
  });
});

Deno.test("decodeSafetensors() accepts what the reference accepts", async (t) => {
  await t.step("empty file {} and padded header", () => {
    deepStrictEqual(decodeSafetensors(build("{}")).tensors.size, 0);
    deepStrictEqual(decodeSafetensors(build("{}      ")).metadata, {});
  });
  await t.step("tensors listed out of offset order", () => {
    const e = (o: number[]) => ({ dtype: "F32", shape: [1], data_offsets: o });
    const file = decodeSafetensors(build({ b: e([4, 8]), a: e([0, 4]) }, f32([1, 2])));
    deepStrictEqual([...file.tensors.keys()], ["a", "b"]);
    deepStrictEqual(file.tensors.get("b")?.data, new Float32Array([2]));
  });
  await t.step("I64 in range narrows to i32, BOOL/U8/I8/I16/F64 widen or narrow", () => {
    const i64 = new Uint8Array(new BigInt64Array([-(2n ** 31n), 2n ** 31n - 1n, 0n]).buffer);
    const f64 = new Uint8Array(new Float64Array([0.1, -3]).buffer);
    const data = new Uint8Array([...i64, ...f64, 1, 0, 255, 0xfe, 0xff]);
    const file = decodeSafetensors(build({
      i: { dtype: "I64", shape: [3], data_offsets: [0, 24] },
      d: { dtype: "F64", shape: [2], data_offsets: [24, 40] },
      b: { dtype: "BOOL", shape: [2], data_offsets: [40, 42] },
      u: { dtype: "U8", shape: [1], data_offsets: [42, 43] },
      s: { dtype: "I16", shape: [1], data_offsets: [43, 45] },
    }, data));
    deepStrictEqual(file.tensors.get("i"), {
      dtype: "i32",
      shape: [3],
      data: new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0]),
    });
    deepStrictEqual(file.tensors.get("d")?.data, new Float32Array([0.1, -3]));
    deepStrictEqual(file.tensors.get("b")?.data, new Int32Array([1, 0]));
    deepStrictEqual(file.tensors.get("u")?.data, new Int32Array([255]));
    deepStrictEqual(file.tensors.get("s")?.data, new Int32Array([-2]));
  });
});

Deno.test("encodeSafetensors() round-trips through decodeSafetensors()", async (t) => {
  await t.step("F32 and I32 exactly, with metadata, header 8-aligned", () => {
    const bytes = encodeSafetensors(sample(), { metadata: { a: "1", "ü": "ß" } });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    strictEqual(n % 8, 0);
    const file = decodeSafetensors(bytes);
    deepStrictEqual(file.tensors, sample());
    deepStrictEqual(file.metadata, { a: "1", "ü": "ß" });
  });
  await t.step("F16 and BF16 round to nearest even", () => {
    const t: TensorMap = new Map([["x", {
      dtype: "f32",
      shape: [4],
      data: new Float32Array([1 / 3, 65504, -2, 1e-7]),
    }]]);
    const h = decodeSafetensors(encodeSafetensors(t, { floatFormat: "F16" })).tensors.get("x")!;
    deepStrictEqual(h.data, new Float32Array([0.333251953125, 65504, -2, 1.1920928955078125e-7]));
    const b = decodeSafetensors(encodeSafetensors(t, { floatFormat: "BF16" })).tensors.get("x")!;
    deepStrictEqual(b.data, new Float32Array([0.333984375, 65536, -2, 1.0011717677116394e-7]));
  });
});

Deno.test("half-precision conversions match the runtime's Float16Array and bit truncation", () => {
  // deno-lint-ignore no-explicit-any
  const F16 = (globalThis as any).Float16Array as {
    new (n: number): ArrayLike<number> & { [i: number]: number };
  };
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const values = [0, -0, 1, 65504, 65519, 65520, 1e-8, 6e-8, 3e-5, Infinity, -Infinity, NaN];
  for (let i = 0; i < 20000; i++) values.push((rnd() - 0.5) * 2 ** (rnd() * 40 - 25));
  const ref = new F16(values.length);
  const ours = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    ref[i] = values[i]!;
    ours[i] = floatToHalfBits(values[i]!);
  }
  const refBits = new Uint16Array((ref as unknown as Uint16Array).buffer);
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) ok((ours[i]! & 0x7c00) === 0x7c00 && (ours[i]! & 0x3ff) !== 0);
    else strictEqual(ours[i], refBits[i], `f16 of ${values[i]}`);
  }
  const decoded = decodeF16(new Uint8Array(refBits.buffer), values.length);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isNaN(values[i])) strictEqual(decoded[i], ref[i], `decode f16 of ${values[i]}`);
  }
  // bf16 of an exactly representable value is exact; of 1 + 2^-8 (a tie) rounds to even (1).
  const b = new Uint16Array([
    floatToBF16Bits(1.5),
    floatToBF16Bits(1 + 2 ** -8),
    floatToBF16Bits(1 + 3 * 2 ** -8),
  ]);
  deepStrictEqual(decodeBF16(new Uint8Array(b.buffer), 3), new Float32Array([1.5, 1, 1 + 4 * 2 ** -8]));
});

Deno.test("decodeSafetensors() turns every truncation of a valid file into a typed error", () => {
  const bytes = encodeSafetensors(sample(), { metadata: { config: '{"emb":2}' } });
  let checked = 0;
  for (let len = 0; len < bytes.length; len++) {
    throws(
      () => decodeSafetensors(bytes.subarray(0, len), { file: "cut" }),
      (e: unknown) => e instanceof SafetensorsError,
      `length ${len}`,
    );
    checked++;
  }
  strictEqual(checked, bytes.length);
  deepStrictEqual(decodeSafetensors(bytes).tensors, sample());
});

Deno.test("writeSafetensors() / readSafetensors() round-trip a file and name it in errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/m.safetensors`;
    await writeSafetensors(path, sample(), { metadata: { k: "v" } });
    const file = await readSafetensors(path);
    deepStrictEqual(file.tensors, sample());
    deepStrictEqual(file.metadata, { k: "v" });
    const bytes = await Deno.readFile(path);
    await Deno.writeFile(path, bytes.subarray(0, bytes.length - 3));
    try {
      await readSafetensors(path);
      throw new Error("truncated file loaded");
    } catch (e) {
      ok(
        e instanceof SafetensorsError && e.code === "metadata_incomplete_buffer" && e.message.includes(path),
        String(e),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
