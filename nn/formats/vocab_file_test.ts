// Vocabulary files: hand-assembled pickles (the Python-made fastai fixtures are read in tests/), JSON, lines.
import { deepStrictEqual, ok, rejects, throws } from "node:assert/strict";
import { decodeItos, decodeItosPickle, looksLikePickle, readItos } from "./vocab_file.ts";
import { PickleError, VocabFileError } from "./errors.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const u32 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24];
/** BINUNICODE (0x58) with a 4-byte length. */
const str = (s: string) => [0x58, ...u32(utf8(s).length), ...utf8(s)];
/** A protocol-2 list pickle of the given item opcodes: PROTO 2, EMPTY_LIST, MARK, items, APPENDS, STOP. */
const list2 = (...items: number[][]) => new Uint8Array([0x80, 2, 0x5d, 0x28, ...items.flat(), 0x65, 0x2e]);

function code(c: string, cls: typeof PickleError | typeof VocabFileError, ...needles: RegExp[]) {
  return (e: unknown) => {
    ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    ok((e as PickleError).code === c, `code ${(e as PickleError).code}, expected ${c}: ${e}`);
    for (const n of needles) ok(n.test((e as Error).message), `${n} not in: ${(e as Error).message}`);
    return true;
  };
}

Deno.test("decodeItosPickle() reads a pickled list of str and refuses everything else", async (t) => {
  await t.step("strings: BINUNICODE, SHORT_BINUNICODE, memo (BINPUT / BINGET), 4-byte UTF-8, empty", () => {
    const words = ["xxunk", "", "日本", "😀", "x".repeat(300)];
    const bytes = list2(...words.map(str), [0x71, 7], [0x8c, 2, ...utf8("ab")], [0x68, 7]);
    deepStrictEqual(decodeItosPickle(bytes), [...words, "ab", "x".repeat(300)]);
  });
  await t.step("a tuple of str is accepted too", () => {
    const bytes = new Uint8Array([0x80, 2, ...str("a"), ...str("b"), 0x86, 0x2e]); // TUPLE2
    deepStrictEqual(decodeItosPickle(bytes), ["a", "b"]);
  });
  await t.step("a dict names its size and first keys and suggests the itos", () => {
    const dict = new Uint8Array([
      0x80,
      2,
      0x7d,
      0x28,
      ...str("the"),
      0x4b,
      3,
      ...str("a"),
      0x4b,
      4,
      0x75,
      0x2e,
    ]);
    throws(
      () => decodeItosPickle(dict, { file: "stoi.pkl" }),
      code("not_a_list", VocabFileError, /^stoi\.pkl: holds a dict of 2 entries \(keys "the", "a"\)/, /stoi/),
    );
  });
  await t.step("an int item names its index and value", () => {
    throws(
      () => decodeItosPickle(list2(str("a"), str("b"), [0x4b, 42]), { file: "v.pkl" }),
      code("not_a_string", VocabFileError, /item 2 of the list is an int \(42\), expected a str/),
    );
    throws(() => decodeItosPickle(list2()), code("empty", VocabFileError, /empty list/));
    throws(
      () => decodeItosPickle(new Uint8Array([0x80, 2, 0x4b, 7, 0x2e])),
      code("not_a_list", VocabFileError, /holds an int \(7\)/),
    );
  });
  await t.step("any global is refused, even the ones a state dict may use, and nothing is run", () => {
    // GLOBAL collections OrderedDict, EMPTY_TUPLE, REDUCE: fine in a state dict, not in a vocabulary
    const od = new Uint8Array([0x80, 2, 0x63, ...utf8("collections\nOrderedDict\n"), 0x29, 0x52, 0x2e]);
    throws(
      () => decodeItosPickle(od, { file: "v.pkl" }),
      code(
        "forbidden_global",
        PickleError,
        /collections\.OrderedDict/,
        /plain list of str/,
        /pickle byte 2\)/,
      ),
    );
    const evil = new Uint8Array([
      0x80,
      2,
      0x63,
      ...utf8("posix\nsystem\n"),
      ...str("touch /tmp/x"),
      0x85,
      0x52,
      0x2e,
    ]);
    throws(() => decodeItosPickle(evil), code("forbidden_global", PickleError, /posix\.system/));
  });
  await t.step("truncated: inside a string, and right before STOP", () => {
    const whole = list2(str("hello"), str("world"));
    throws(
      () => decodeItosPickle(whole.subarray(0, 12), { file: "cut.pkl" }),
      code(
        "truncated",
        PickleError,
        /^cut\.pkl: BINUNICODE string needs 5 bytes but only 3 remain: the file is cut short \(pickle byte 4\)/,
      ),
    );
    throws(
      () => decodeItosPickle(whole.subarray(0, whole.length - 1)),
      code("truncated", PickleError, /ends before its STOP opcode/),
    );
  });
  await t.step("a lone surrogate (not UTF-8) is an error naming the byte", () => {
    const bad = list2([0x58, ...u32(3), 0xed, 0xa0, 0x80]);
    throws(() => decodeItosPickle(bad), code("malformed", PickleError, /not valid UTF-8/, /pickle byte 4\)/));
  });
});

Deno.test("decodeItos() picks the format by extension or content", async (t) => {
  await t.step("looksLikePickle() checks PROTO and a version of 2 to 5", () => {
    deepStrictEqual(
      [[0x80, 2], [0x80, 5], [0x80, 6], [0x5b, 0x22], [0x80]].map((b) => looksLikePickle(new Uint8Array(b))),
      [true, true, false, false, false],
    );
  });
  await t.step("a pickle without a .pkl name is sniffed; .pkl forces the pickle reader", () => {
    deepStrictEqual(decodeItos(list2(str("a")), { file: "lm.vocab" }), ["a"]);
    throws(
      () => decodeItos(utf8('["a"]'), { file: "itos.pkl" }),
      code(
        "unknown_opcode",
        PickleError,
        /^itos\.pkl: is not a pickle of protocol 1 to 5 \(it starts with byte 0x5b \("\["\)\)/,
      ),
    );
    deepStrictEqual(decodeItos(utf8('["a"]'), { file: "itos.pkl", format: "json" }), ["a"]);
  });
  await t.step("a zip (torch.save checkpoint) given as the vocabulary says so", () => {
    throws(
      () => decodeItos(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0]), { file: "lm.pth" }),
      code("wrong_format", VocabFileError, /^lm\.pth: is a zip archive \(a torch\.save checkpoint\?\)/),
    );
  });
  await t.step("JSON: an array of strings; other JSON names what it holds", () => {
    deepStrictEqual(decodeItos(utf8('\ufeff ["a", "", "é"]')), ["a", "", "é"]);
    throws(
      () => decodeItos(utf8('{"itos": []}'), { file: "v.json" }),
      code("not_a_list", VocabFileError, /^v\.json: holds a JSON object/),
    );
    throws(
      () => decodeItos(utf8('["a", 3]'), { file: "v.json" }),
      code("not_a_string", VocabFileError, /item 1 of the JSON array is number 3/),
    );
    throws(() => decodeItos(utf8('["a",'), { file: "v.json" }), code("bad_json", VocabFileError, /v\.json/));
  });
  await t.step("lines: LF or CRLF, one trailing newline dropped, inner empty lines kept", () => {
    deepStrictEqual(decodeItos(utf8("a\n\nb\n")), ["a", "", "b"]);
    deepStrictEqual(decodeItos(utf8("a\r\nb")), ["a", "b"]);
    throws(
      () => decodeItos(utf8(""), { file: "v.txt" }),
      code("empty", VocabFileError, /v\.txt: holds an empty/),
    );
    throws(
      () => decodeItos(new Uint8Array([0x61, 0xff, 0x0a]), { file: "v.txt" }),
      code("bad_utf8", VocabFileError, /^v\.txt: is not UTF-8/),
    );
  });
  await t.step("readItos() names a missing file", async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeFile(`${dir}/itos.pkl`, list2(str("xxunk"), str("the")));
      deepStrictEqual(await readItos(`${dir}/itos.pkl`), ["xxunk", "the"]);
      await rejects(
        readItos(`${dir}/none.pkl`),
        code("unreadable", VocabFileError, /none\.pkl: cannot be read/),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});
