/**
 * Shared by the search engines: input checks and empty results.
 *
 * @module
 */
import type { SearchResult } from "./types.ts";

/**
 * Check that `data` holds whole rows of `dim` finite numbers.
 * @param what names the data in the error message
 * @returns the number of rows
 */
export function rowCount(data: ArrayLike<number>, dim: number, what: string): number {
  if (!Number.isInteger(dim) || dim <= 0) {
    throw new RangeError(`${what}: dimension must be a positive integer, got ${dim}`);
  }
  if (data.length % dim !== 0) {
    throw new RangeError(`${what}: ${data.length} numbers are not whole rows of ${dim}`);
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      throw new RangeError(
        `${what}: element ${i % dim} of row ${Math.floor(i / dim)} is ${data[i]} (not finite)`,
      );
    }
  }
  return data.length / dim;
}

/** A result of `queries x k` empty slots (id -1, score -Infinity). */
export function emptyResult(queries: number, k: number): SearchResult {
  return {
    queries,
    k,
    ids: new Int32Array(queries * k).fill(-1),
    scores: new Float32Array(queries * k).fill(-Infinity),
  };
}
