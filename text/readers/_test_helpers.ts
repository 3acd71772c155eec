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
