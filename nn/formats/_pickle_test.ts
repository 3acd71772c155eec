// The allow-list interpreter's numpy scalars, bytes and fastcore L, on hand-assembled protocol-2/4 pickles (files made by
// Python's torch.save are read in tests/cli_pretrained_test.ts).
import { deepStrictEqual, ok, throws } from "node:assert/strict";
import { PyBytes, unpickle } from "./_pickle.ts";
import { PickleError } from "./errors.ts";

const utf8 = (s: string) => [...new TextEncoder().encode(s)];
const str = (s: string) => [0x58, utf8(s).length, 0, 0, 0, ...utf8(s)]; // BINUNICODE
const glob = (m: string, n: string) => [0x63, ...utf8(`${m}\n${n}\n`)]; // GLOBAL
const BININT_M1 = [0x4a, 255, 255, 255, 255];
/** numpy.dtype(code, False, True) REDUCE, then BUILD with state (3, order, None, None, None, -1, -1, 0). */
const dtype = (code: string, order: string) => {
  const args = [...str(code), 0x89, 0x88, 0x87]; // NEWFALSE, NEWTRUE, TUPLE3
  const state = [0x28, 0x4b, 3, ...str(order), 0x4e, 0x4e, 0x4e, ...BININT_M1, ...BININT_M1, 0x4b, 0, 0x74];
  return [...glob("numpy", "dtype"), ...args, 0x52, ...state, 0x62]; // REDUCE, MARK ... TUPLE, BUILD
};
/** scalar(dtype, raw) with raw as SHORT_BINBYTES (protocol 3+) or protocol 2's _codecs.encode(str, latin1). */
const scalar = (code: string, order: string, raw: number[], p2 = false) => {
  const bytes = p2
    ? [...glob("_codecs", "encode"), ...str(String.fromCharCode(...raw)), ...str("latin1"), 0x86, 0x52]
    : [0x43, raw.length, ...raw];
  const head = [0x80, p2 ? 2 : 4, ...glob("numpy.core.multiarray", "scalar")];
  return new Uint8Array([...head, ...dtype(code, order), ...bytes, 0x86, 0x52, 0x2e]); // TUPLE2, REDUCE, STOP
};
const f64 = (x: number) => [...new Uint8Array(new Float64Array([x]).buffer)];
const run = (b: Uint8Array) => unpickle(b, { file: "t.pt" }).value;

function rejectsWith(code: string, re: RegExp) {
  return (e: unknown) => {
    ok(e instanceof PickleError && e.code === code, String(e));
    ok(re.test((e as Error).message), `${re} not in ${e}`);
    return true;
  };
}

Deno.test("unpickle() reads numpy scalars and bytes as plain values", async (t) => {
  await t.step(
    "float64 through protocol 2's latin-1 bytes (bytes above 0x7f included) and protocol 4",
    () => {
      for (const x of [0.1, -2.5e-300, 2e-3]) {
        deepStrictEqual(run(scalar("f8", "<", f64(x), true)), x);
        deepStrictEqual(run(scalar("f8", "<", f64(x))), x);
      }
    },
  );
  await t.step("ints, int64 beyond 2^53 as bigint, bool, float16", () => {
    deepStrictEqual(run(scalar("i4", "<", [0x90, 0xee, 0xfe, 0xff])), -70000);
    deepStrictEqual(run(scalar("u1", "|", [200])), 200);
    deepStrictEqual(run(scalar("i8", "<", [0, 0, 0, 0, 0, 0, 0, 0x10])), 1n << 60n);
    deepStrictEqual(run(scalar("b1", "|", [1])), true);
    deepStrictEqual(run(scalar("f2", "<", [0x00, 0xbe])), -1.5);
  });
  await t.step("BINBYTES and SHORT_BINBYTES give PyBytes", () => {
    const v = run(new Uint8Array([0x80, 4, 0x42, 2, 0, 0, 0, 7, 8, 0x2e]));
    ok(v instanceof PyBytes);
    deepStrictEqual([...v.bytes], [7, 8]);
  });
  await t.step("refused: big-endian, wrong size, object dtype, other encodings, other numpy calls", () => {
    throws(() => run(scalar("f8", ">", f64(1))), rejectsWith("malformed", /big-endian/));
    throws(
      () => run(scalar("f8", "<", [1, 2, 3])),
      rejectsWith("malformed", /f8 scalar has 3 bytes, expected 8/),
    );
    throws(() => run(scalar("O8", "|", f64(1))), rejectsWith("forbidden_call", /numpy\.dtype\("O8"\)/));
    const utf16 = new Uint8Array([
      0x80,
      2,
      ...glob("_codecs", "encode"),
      ...str("ab"),
      ...str("utf-16"),
      0x86,
      0x52,
      0x2e,
    ]);
    throws(() => run(utf16), rejectsWith("forbidden_call", /only accepted as \(str, 'latin1'\)/));
    const arr = new Uint8Array([0x80, 2, ...glob("numpy.core.multiarray", "_reconstruct"), 0x2e]);
    throws(() => run(arr), rejectsWith("forbidden_global", /_reconstruct is not on the allow-list/));
  });
});

Deno.test("unpickle() reads a fastcore L as a list and creates no other object", async (t) => {
  // GLOBAL fastcore.foundation L, EMPTY_TUPLE, NEWOBJ, EMPTY_DICT, "items", [state], SETITEM, BUILD
  const newL = (
    state: number[],
  ) => [...glob("fastcore.foundation", "L"), 0x29, 0x81, 0x7d, ...str("items"), ...state];
  const list = (...items: number[][]) => [0x5d, 0x28, ...items.flat(), 0x65]; // EMPTY_LIST, MARK, ..., APPENDS
  await t.step("L of str, and an L inside an L", () => {
    deepStrictEqual(run(new Uint8Array([0x80, 2, ...newL(list(str("a"), str("b"))), 0x73, 0x62, 0x2e])), [
      "a",
      "b",
    ]);
    const inner = [...newL(list(str("x"))), 0x73, 0x62];
    deepStrictEqual(run(new Uint8Array([0x80, 2, ...newL(list(inner)), 0x73, 0x62, 0x2e])), [["x"]]);
  });
  await t.step("NEWOBJ of another class, an L with arguments or another state are refused", () => {
    const od = new Uint8Array([0x80, 2, ...glob("collections", "OrderedDict"), 0x29, 0x81, 0x2e]);
    throws(
      () => run(od),
      rejectsWith("forbidden_call", /NEWOBJ .* only accepted for fastcore\.foundation\.L/),
    );
    const withArgs = new Uint8Array([
      0x80,
      2,
      ...glob("fastcore.foundation", "L"),
      ...str("a"),
      0x85,
      0x81,
      0x2e,
    ]);
    throws(() => run(withArgs), rejectsWith("malformed", /NEWOBJ arguments are not \(\)/));
    const notList = new Uint8Array([0x80, 2, ...newL([0x4b, 1]), 0x73, 0x62, 0x2e]);
    throws(() => run(notList), rejectsWith("malformed", /state of an L is not \{'items': list\}/));
  });
});
