/**
 * Test helpers for the reader tests.
 *
 * @module
 */
import { strict as assert } from "node:assert";
import { ReaderError } from "./types.ts";

/** Await `fn()`, expect a {@linkcode ReaderError} whose message contains `part`, and return it. */
export async function rejectsReader(fn: () => Promise<unknown>, part: string): Promise<ReaderError> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof ReaderError, `expected a ReaderError, got ${e}`);
    assert.ok(e.message.includes(part), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(part)}`);
    return e;
  }
  throw new assert.AssertionError({ message: `expected a ReaderError containing ${JSON.stringify(part)}` });
}

/** Build a .mo file from (msgid, msgstr) pairs, in either byte order. */
export function buildMo(entries: [string, string][], le = true): Uint8Array {
  const enc = new TextEncoder();
  const n = entries.length;
  const origTable = 28;
  const transTable = origTable + n * 8;
  let off = transTable + n * 8;
  const strings: Uint8Array[] = [];
  const table: [number, number][] = [];
  for (const side of [0, 1]) {
    for (const e of entries) {
      const b = enc.encode(e[side]!);
      table.push([b.length, off]);
      strings.push(b);
      off += b.length + 1;
    }
  }
  const out = new Uint8Array(off);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0x950412de, le);
  dv.setUint32(4, 0, le);
  dv.setUint32(8, n, le);
  dv.setUint32(12, origTable, le);
  dv.setUint32(16, transTable, le);
  table.forEach(([len, o], i) => {
    dv.setUint32(origTable + i * 8, len, le);
    dv.setUint32(origTable + i * 8 + 4, o, le);
    out.set(strings[i]!, o);
  });
  return out;
}
