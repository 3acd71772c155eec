import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { decodeTorchCheckpoint } from "./torch.ts";
import { cat, latin, zip } from "./_test_zip.ts";
import { crc32 } from "./_zip.ts";
import { CheckpointError, PickleError, ZipError } from "./errors.ts";

// --- tiny pickle and zip builders (protocol 2, the opcodes torch.save emits) ---------------------------------
const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const str = (s: string) => cat("X", u32(new TextEncoder().encode(s).length), new TextEncoder().encode(s));
const int = (n: number) => cat("J", new Uint8Array(new Int32Array([n]).buffer));
const tuple = (...xs: Uint8Array[]) => cat("(", ...xs, "t");
const G = (m: string, n: string) => `c${m}\n${n}\n`;
/** `('storage', torch.<cls>, key, 'cpu', numel)` as a BINPERSID. */
const storage = (cls: string, key: string, numel: number) =>
  cat(tuple(str("storage"), latin(G("torch", cls)), str(key), str("cpu"), int(numel)), "Q");
/** `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`. */
const tensor = (st: Uint8Array, offset: number, size: number[], stride: number[]) =>
  cat(
    G("torch._utils", "_rebuild_tensor_v2"),
    tuple(
      st,
      int(offset),
      tuple(...size.map(int)),
      tuple(...stride.map(int)),
      latin("\x89"),
      cat(G("collections", "OrderedDict"), ")R"),
    ),
    "R",
  );
/** `{k: v, ...}` then STOP. */
const dict = (...kv: [string, Uint8Array][]) =>
  cat("\x80\x02}(", ...kv.flatMap(([k, v]) => [str(k), v]), "u.");

const f32 = (...xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);
const ckpt = (pkl: Uint8Array, storages: Record<string, Uint8Array> = {}) =>
  zip({
    "m/data.pkl": pkl,
    ...Object.fromEntries(Object.entries(storages).map(([k, v]) => [`m/data/${k}`, v])),
  });

function rejects(
  bytes: Uint8Array,
  cls: typeof PickleError | typeof ZipError,
  code: string,
  message?: RegExp,
) {
  throws(() => decodeTorchCheckpoint(bytes, { file: "x.pt" }), (e: unknown) => {
    ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    strictEqual(e.code, code, e.message);
    if (message) ok(message.test(e.message), e.message);
    return true;
  });
}

Deno.test("decodeTorchCheckpoint() materialises strided views of storages", async (t) => {
  const st = cat(storage("FloatStorage", "0", 6), "q\x00"); // memoised like torch does; later views BINGET it
  const data = { "0": f32(0, 1, 2, 3, 4, 5) };
  await t.step("contiguous, transposed, offset, broadcast (stride 0) and scalar views", () => {
    const ck = decodeTorchCheckpoint(ckpt(
      dict(
        ["a", tensor(st, 0, [2, 3], [3, 1])],
        ["t", tensor(cat("h\x00"), 0, [3, 2], [1, 3])],
        ["o", tensor(cat("h\x00"), 4, [2], [1])],
        ["b", tensor(cat("h\x00"), 1, [2, 2], [0, 2])],
        ["s", tensor(cat("h\x00"), 5, [], [])],
      ),
      data,
    ));
    deepStrictEqual([...ck.tensors.get("a")!.data], [0, 1, 2, 3, 4, 5]);
    deepStrictEqual([...ck.tensors.get("t")!.data], [0, 3, 1, 4, 2, 5]);
    deepStrictEqual([...ck.tensors.get("o")!.data], [4, 5]);
    deepStrictEqual([...ck.tensors.get("b")!.data], [1, 3, 1, 3]);
    deepStrictEqual(ck.tensors.get("s"), { dtype: "f32", shape: [], data: new Float32Array([5]) });
  });
  await t.step("torch < 0.4 _rebuild_tensor (no requires_grad / hooks)", () => {
    const v1 = cat(
      G("torch._utils", "_rebuild_tensor"),
      tuple(st, int(2), tuple(int(2)), tuple(int(2))),
      "R",
    );
    deepStrictEqual([...decodeTorchCheckpoint(ckpt(dict(["a", v1]), data)).tensors.get("a")!.data], [2, 4]);
    const short = cat(
      G("torch._utils", "_rebuild_tensor_v2"),
      tuple(st, int(0), tuple(int(2)), tuple(int(1))),
      "R",
    );
    rejects(ckpt(dict(["a", short]), data), PickleError, "bad_tensor");
  });
  await t.step("zip64 end records are followed", () => {
    const pkl = dict(["a", tensor(st, 0, [2, 3], [3, 1])]);
    const ck = decodeTorchCheckpoint(zip({ "m/data.pkl": pkl, "m/data/0": data["0"] }, { zip64: true }));
    deepStrictEqual([...ck.tensors.get("a")!.data], [0, 1, 2, 3, 4, 5]);
  });
  await t.step("a view reaching past its storage is rejected", () => {
    rejects(
      ckpt(dict(["a", tensor(st, 1, [2, 3], [3, 1])]), data),
      PickleError,
      "bad_tensor",
      /reaches element 6/,
    );
  });
  await t.step("int64 outside i32 is rejected naming the tensor; inside narrows", () => {
    const big = new Uint8Array(new BigInt64Array([1n, 2n ** 33n]).buffer);
    const l = storage("LongStorage", "0", 2);
    rejects(
      ckpt(dict(["ids", tensor(l, 0, [2], [1])]), { "0": big }),
      PickleError,
      "value_out_of_range",
      /"ids"/,
    );
    const ok32 = decodeTorchCheckpoint(ckpt(dict(["ids", tensor(l, 0, [1], [1])]), { "0": big }));
    deepStrictEqual(ok32.tensors.get("ids"), { dtype: "i32", shape: [1], data: new Int32Array([1]) });
  });
  await t.step("maxOutputBytes bounds what shared storages may expand to", () => {
    const many = dict(
      ["a", tensor(st, 0, [6], [1])],
      ["b", tensor(cat("h\x00"), 0, [1000, 6], [0, 1])],
    );
    throws(
      () => decodeTorchCheckpoint(ckpt(many, data), { maxOutputBytes: 4096 }),
      (e: unknown) => e instanceof PickleError && e.code === "too_large",
    );
    strictEqual(decodeTorchCheckpoint(ckpt(many, data)).tensors.get("b")!.data.length, 6000);
  });
});

Deno.test("decodeTorchCheckpoint() rejects everything outside the allow-list", async (t) => {
  const st = storage("FloatStorage", "0", 2);
  const data = { "0": f32(1, 2) };
  await t.step("globals: os.system, builtins.eval via STACK_GLOBAL, subprocess", () => {
    rejects(
      ckpt(cat("\x80\x02", G("os", "system"), str("id"), "\x85R.")),
      PickleError,
      "forbidden_global",
      /os\.system/,
    );
    rejects(
      ckpt(cat("\x80\x04", str("builtins"), str("eval"), "\x93", str("1"), "\x85R.")),
      PickleError,
      "forbidden_global",
      /builtins\.eval/,
    );
    rejects(ckpt(cat("\x80\x02", G("subprocess", "Popen"), ".")), PickleError, "forbidden_global");
    rejects(ckpt(cat("\x80\x02", G("torch", "load"), ".")), PickleError, "forbidden_global");
  });
  await t.step("REDUCE on an allow-listed name that is not a constructor, or on a non-global", () => {
    rejects(
      ckpt(cat("\x80\x02", G("torch", "FloatStorage"), ")R.")),
      PickleError,
      "forbidden_call",
      /torch\.FloatStorage/,
    );
    rejects(ckpt(cat("\x80\x02", str("x"), ")R.")), PickleError, "forbidden_call");
    rejects(ckpt(cat("\x80\x02", G("collections", "OrderedDict"), "]\x85R.")), PickleError, "forbidden_call");
  });
  await t.step("BUILD on anything but an OrderedDict", () => {
    rejects(ckpt(cat("\x80\x02]}b.")), PickleError, "forbidden_call", /BUILD/);
  });
  await t.step("persistent ids that are not ('storage', torch.*Storage, key, loc, n)", () => {
    rejects(ckpt(dict(["a", cat(tuple(str("module"), str("os")), "Q")])), PickleError, "bad_persistent_id");
    rejects(ckpt(dict(["a", cat(str("storage"), "Q")])), PickleError, "bad_persistent_id");
    const wrongCls = cat(tuple(str("storage"), str("FloatStorage"), str("0"), str("cpu"), int(2)), "Q");
    rejects(ckpt(dict(["a", wrongCls]), data), PickleError, "bad_persistent_id", /not a torch\.\*Storage/);
    const twice = dict(["a", tensor(st, 0, [2], [1])], [
      "b",
      tensor(storage("HalfStorage", "0", 2), 0, [2], [1]),
    ]);
    rejects(ckpt(twice, data), PickleError, "bad_persistent_id", /two different/);
  });
  await t.step("storage records: size mismatch, missing record", () => {
    rejects(
      ckpt(dict(["a", tensor(st, 0, [2], [1])]), { "0": f32(1, 2, 3) }),
      PickleError,
      "storage_size_mismatch",
    );
    rejects(ckpt(dict(["a", tensor(st, 0, [2], [1])])), ZipError, "missing_entry", /data\/0/);
  });
  await t.step("unknown opcodes, over-long strings, bad memo, stack underflow, unterminated", () => {
    rejects(ckpt(cat("\x80\x02", "i", "os\nsystem\n.")), PickleError, "unknown_opcode", /0x69/);
    rejects(ckpt(cat("\x80\x02", "\xff")), PickleError, "unknown_opcode");
    rejects(ckpt(cat("\x80\x02X", u32(1 << 30), "ab.")), PickleError, "truncated");
    rejects(ckpt(cat("\x80\x02\x8c\x09abc.")), PickleError, "truncated");
    rejects(ckpt(cat("\x80\x02h\x05.")), PickleError, "malformed", /memo key 5/);
    rejects(ckpt(cat("\x80\x02s.")), PickleError, "malformed", /underflow/);
    rejects(ckpt(cat("\x80\x02}")), PickleError, "truncated");
  });
  await t.step("cycles and shared containers", () => {
    rejects(ckpt(cat("\x80\x02]q\x00h\x00a.")), PickleError, "malformed", /appears twice/);
  });
  await t.step("zip: deflated entries, bad CRC, big-endian, not a torch archive", () => {
    const pkl = dict(["a", tensor(st, 0, [2], [1])]);
    rejects(
      zip({ "m/data.pkl": pkl, "m/data/0": data["0"] }, { method: 8 }),
      ZipError,
      "compressed_entry",
      /deflate/,
    );
    const good = ckpt(pkl, data);
    const bad = good.slice();
    bad[30 + "m/data.pkl".length + 3] = bad[30 + "m/data.pkl".length + 3]! ^ 0x40; // flip a bit inside data.pkl
    rejects(bad, ZipError, "crc_mismatch");
    rejects(
      zip({ "m/data.pkl": pkl, "m/byteorder": latin("big"), "m/data/0": data["0"] }),
      ZipError,
      "bad_entry",
      /big/,
    );
    rejects(zip({ "hello.txt": latin("hi") }), ZipError, "missing_entry");
    rejects(new Uint8Array([1, 2, 3, 4, 5]), PickleError, "unknown_opcode");
  });
});

Deno.test("decodeTorchCheckpoint() keeps plain values and _metadata, reports errors as CheckpointErrors", () => {
  const st = storage("HalfStorage", "k", 1);
  const half = new Uint8Array(new Uint16Array([0x3c00]).buffer); // 1.0
  const meta = cat(
    "}",
    str("_metadata"),
    cat(G("collections", "OrderedDict"), ")R(", str(""), "}", str("version"), "K\x01su"),
    "s",
  );
  const pkl = cat(
    "\x80\x02",
    G("collections", "OrderedDict"),
    ")R(",
    str("w"),
    tensor(st, 0, [1], [1]),
    str("lr"),
    "G",
    new Uint8Array([0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]),
    str("step"),
    "\x8a\x05\x00\x00\x00\x00\x01", // LONG1 2^32
    "u",
    meta,
    "b.",
  );
  const ck = decodeTorchCheckpoint(ckpt(pkl, { k: half }));
  deepStrictEqual(ck.tensors.get("w")!.data, new Float32Array([1]));
  deepStrictEqual([...ck.values], [["lr", 0.1], ["step", 2 ** 32]]);
  deepStrictEqual(ck.stateDictMetadata, { "": { version: 1 } });
  throws(
    () => decodeTorchCheckpoint(new Uint8Array(0), { file: "empty.pt" }),
    (e: unknown) => e instanceof CheckpointError && e.message.startsWith("empty.pt: "),
  );
});

Deno.test("crc32() matches the standard check value and a bytewise reference at every length", () => {
  strictEqual(crc32(latin("123456789")), 0xcbf43926);
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c;
  });
  const bytewise = (d: Uint8Array) => {
    let c = -1;
    for (const x of d) c = table[(c ^ x) & 0xff]! ^ (c >>> 8);
    return (c ^ -1) >>> 0;
  };
  const data = Uint8Array.from({ length: 100 }, (_, i) => (i * 73 + 11) & 255);
  for (let n = 0; n <= data.length; n++) {
    strictEqual(crc32(data.subarray(0, n)), bytewise(data.subarray(0, n)), `length ${n}`);
  }
});

Deno.test("decodeTorchCheckpoint() reads and checks the legacy (pre-1.6) format", async (t) => {
  const magic = cat(
    "\x80\x02\x8a\x0a",
    new Uint8Array([0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]),
    ".",
  );
  const head = cat(magic, "\x80\x02M\xe9\x03.", "\x80\x02}.");
  const pid = (tag: string, numel: number) =>
    cat(
      tuple(str(tag), latin(G("torch", "FloatStorage")), str("k1"), str("cpu"), int(numel), latin("N")),
      "Q",
    );
  const keys = cat("\x80\x02](", str("k1"), "e.");
  const count = (n: bigint) => new Uint8Array(new BigInt64Array([n]).buffer);
  const file = (tag = "storage", declared = 2, recorded = 2n) =>
    cat(head, dict(["a", tensor(pid(tag, declared), 0, [2], [1])]), keys, count(recorded), f32(1.5, -2));
  await t.step("a well-formed file", () => {
    const ck = decodeTorchCheckpoint(file());
    strictEqual(ck.format, "legacy");
    deepStrictEqual(ck.tensors.get("a"), { dtype: "f32", shape: [2], data: new Float32Array([1.5, -2]) });
  });
  await t.step("bad persistent id, size mismatch, truncation, wrong magic", () => {
    rejects(file("module"), PickleError, "bad_persistent_id");
    rejects(
      file("storage", 2, 3n),
      PickleError,
      "storage_size_mismatch",
      /declares 2 elements, its record 3/,
    );
    const good = file();
    for (let len = 0; len < good.length; len++) {
      throws(() => decodeTorchCheckpoint(good.subarray(0, len)), CheckpointError, `cut at ${len}`);
    }
    rejects(cat("\x80\x02K\x07.", good.subarray(magic.length)), PickleError, "malformed", /legacy magic/);
  });
});
