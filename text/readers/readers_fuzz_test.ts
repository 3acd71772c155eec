/**
 * Property-based tests of the readers (fast-check, seeded and time-bounded: see `nn/_fuzz.ts`): files written
 * from random records read back exactly; the same files mutated at random (bits flipped, bytes inserted,
 * ranges deleted, truncated) give records or a {@linkcode ReaderError} naming the file, never another error,
 * under both `onError` policies.
 */
import { fc, fuzzParams } from "../../nn/_fuzz.ts";
import { buildMo } from "./_test_helpers.ts";
import { readCsv } from "./csv.ts";
import { readMo, readPo } from "./gettext.ts";
import { readJsonl } from "./lines.ts";
import { newStats, ReaderError } from "./types.ts";

type Rec = { label: string; text: string };

const text = fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }).filter((s) =>
  s.trim() !== "" && !s.includes("\0")
);
const label = fc.constantFrom("neg", "pos", "x y", 'q"uote', "ü");
const records = fc.array(fc.record({ label, text }), { minLength: 1, maxLength: 12 });

const quote = (s: string) => `"${s.replaceAll('"', '""')}"`;
const poString = (s: string) =>
  `"${
    s.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n").replaceAll("\t", "\\t")
      .replaceAll("\r", "\\r")
  }"`;

interface Format {
  name: string;
  write: (rs: Rec[]) => Uint8Array;
  read: (path: string, onError: "throw" | "skip") => AsyncIterable<unknown>;
  /** What a valid file must read back as. */
  expect: (rs: Rec[]) => unknown[];
  got: (r: unknown) => unknown;
  /** Errors of a damaged whole file, which stop a read under `onError: "skip"` too (row 0 always does). */
  fatal?: RegExp;
}

const enc = new TextEncoder();
const FORMATS: Format[] = [
  {
    name: "CSV",
    write: (rs) => enc.encode(rs.map((r) => `${quote(r.label)},${quote(r.text)}`).join("\n") + "\n"),
    read: (p, onError) => readCsv(p, { onError, stats: newStats() }),
    expect: (rs) => rs.map((r) => [r.label, r.text]),
    got: (r) => [(r as Rec).label, (r as Rec).text],
  },
  {
    name: "JSONL",
    write: (rs) => enc.encode(rs.map((r) => JSON.stringify(r)).join("\n") + "\n"),
    read: (p, onError) => readJsonl(p, { onError, stats: newStats() }),
    expect: (rs) => rs.map((r) => [r.label, r.text]),
    got: (r) => [(r as Rec).label, (r as Rec).text],
  },
  {
    name: ".po",
    write: (rs) =>
      enc.encode(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n' +
          rs.map((r, i) => `msgid ${poString(`${i} ${r.label}`)}\nmsgstr ${poString(r.text)}\n`).join("\n"),
      ),
    read: (p, onError) => readPo(p, { onError, stats: newStats() }),
    expect: (rs) => rs.map((r, i) => [`${i} ${r.label}`, r.text]),
    got: (r) => [(r as { source: string }).source, (r as { target: string }).target],
  },
  {
    name: ".mo",
    write: (rs) =>
      buildMo([
        ["", "Content-Type: text/plain; charset=UTF-8\n"],
        ...rs.map((r, i) => [`${i} ${r.label}`, r.text] as [string, string]),
      ]),
    read: (p, onError) => readMo(p, { onError, stats: newStats() }),
    expect: (rs) => rs.map((r, i) => [`${i} ${r.label}`, r.text]).sort(),
    fatal: /: (truncated \.mo|not a \.mo file|unsupported \.mo|unknown charset)/,
    got: (r) => [(r as { source: string }).source, (r as { target: string }).target],
  },
];

type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; len: number }
  | { kind: "truncate"; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 6 }),
      fc.constantFrom(...'",\n\r\\{}[]:\0\u00ff'.split("")).map((c) => enc.encode(c)),
    ),
  }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
);

function mutate(bytes: Uint8Array, ms: Mutation[]): Uint8Array {
  let b = bytes;
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    if (m.kind === "flip" && b.length > 0) {
      b = b.slice();
      b[at % b.length]! ^= 1 << m.bit;
    } else if (m.kind === "insert") b = new Uint8Array([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]);
    else if (m.kind === "delete") b = new Uint8Array([...b.subarray(0, at), ...b.subarray(at + m.len)]);
    else if (m.kind === "truncate") b = b.subarray(0, at);
  }
  return b;
}

async function readAll(f: Format, path: string, onError: "throw" | "skip"): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const r of f.read(path, onError)) out.push(f.got(r));
  return out;
}

const dir = await Deno.makeTempDir({ prefix: "denofit_fuzz_readers_" });
let n = 0;
async function fileOf(bytes: Uint8Array): Promise<string> {
  const p = `${dir}/f${n++ % 16}`;
  await Deno.writeFile(p, bytes);
  return p;
}

for (const f of FORMATS) {
  Deno.test(`fuzz: ${f.name} reader: random records read back exactly`, async () => {
    await fc.assert(
      fc.asyncProperty(records, async (rs) => {
        const got = await readAll(f, await fileOf(f.write(rs)), "throw");
        const a = JSON.stringify(f.name === ".mo" ? got.sort() : got), b = JSON.stringify(f.expect(rs));
        if (a !== b) throw new Error(`wrote ${b}\nread  ${a}`);
      }),
      fuzzParams(0.5),
    );
  });

  Deno.test(`fuzz: ${f.name} reader: a mutated file gives records or a ReaderError naming it, never another error`, async () => {
    await fc.assert(
      fc.asyncProperty(
        records,
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.constantFrom("throw" as const, "skip" as const),
        async (rs, ms, onError) => {
          const path = await fileOf(mutate(f.write(rs), ms));
          try {
            await readAll(f, path, onError);
          } catch (e) {
            if (!(e instanceof ReaderError) || e.file !== path || !e.message.startsWith(path)) {
              throw new Error(
                `${onError}: not a ReaderError naming the file: ${e instanceof Error ? e.stack : e}`,
              );
            }
            // under "skip" only a damaged whole file (row 0, or the format's fatal errors) may stop the read
            if (onError === "skip" && e.row !== 0 && !f.fatal?.test(e.message)) {
              throw new Error(`skip mode threw for row ${e.row}: ${e.message}`);
            }
          }
        },
      ),
      fuzzParams(),
    );
  });
}

Deno.test("fuzz: reader temp files are removed", async () => {
  await Deno.remove(dir, { recursive: true });
});
