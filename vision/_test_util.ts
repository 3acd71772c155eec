/**
 * Test helpers of the vision package: whether sharp loads (tests that decode are ignored with the reason when
 * it does not), small synthetic images, and error assertions.
 *
 * @module
 */
import { rejects, throws } from "node:assert/strict";
import { importSharp } from "./_deps.ts";
import type { RawImage } from "./image.ts";

async function probe(): Promise<string | null> {
  try {
    await importSharp();
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Why sharp cannot be used here, or null when it can. */
export const SHARP_MISSING: string | null = await probe();
if (SHARP_MISSING) console.warn(`image tests ignored: ${SHARP_MISSING}`);

/** Register a test that needs sharp; ignored (reason printed once) when it does not load. */
export function imageTest(name: string, fn: (t: Deno.TestContext) => void | Promise<void>): void {
  Deno.test({ name, ignore: SHARP_MISSING !== null, fn });
}

/** A `width x height` RGB image whose pixel (x, y) is `(x * 10, y * 10, (x + y) % 256)`. */
export function gradient(width: number, height: number): RawImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data.set([(x * 10) % 256, (y * 10) % 256, (x + y) % 256], (y * width + x) * 3);
    }
  }
  return { data, width, height, channels: 3 };
}

/** `fn` throws an instance of `cls` whose message contains `msg`. */
export function throwsWith(fn: () => unknown, cls: new (...a: never[]) => Error, msg: string): void {
  throws(fn, (e: unknown) => e instanceof cls && e.message.includes(msg) || fail(e, msg));
}

/** `fn` rejects with an Error whose message contains `msg`. */
export async function rejectsWith(fn: () => Promise<unknown>, msg: string): Promise<void> {
  await rejects(fn, (e: unknown) => e instanceof Error && e.message.includes(msg) || fail(e, msg));
}

function fail(e: unknown, msg: string): never {
  throw new Error(
    `expected an error containing "${msg}", got: ${e instanceof Error ? e.message : String(e)}`,
  );
}
