/**
 * Small transforms of numericalized documents (vocabulary ids) that the ULMFiT recipe applies before batching:
 * reading backwards, cutting to a length, and finding documents with no known word.
 *
 * @example A backwards copy of the first three tokens
 * ```ts
 * import { reverseDocs, truncateDocs } from "./documents.ts";
 * const [d] = reverseDocs(truncateDocs([Int32Array.of(9, 10, 11, 12)], 3));
 * if (d!.join() !== "11,10,9") throw new Error(d!.join());
 * ```
 *
 * @module
 */
import { SPECIAL_TOKENS } from "./special_tokens.ts";

/**
 * Reverse each document (for a backwards model); the input is not changed.
 *
 * @param docs documents
 * @returns reversed copies
 */
export function reverseDocs(docs: readonly Int32Array[]): Int32Array[] {
  return docs.map((d) => d.slice().reverse());
}

/**
 * Keep at most the first `maxTokens` tokens of each document.
 *
 * @param docs documents
 * @param maxTokens the limit (0: keep all)
 * @returns the documents, cut where longer
 */
export function truncateDocs(docs: readonly Int32Array[], maxTokens: number): Int32Array[] {
  return docs.map((d) => (maxTokens > 0 && d.length > maxTokens ? d.slice(0, maxTokens) : d));
}

/**
 * How many documents hold no known word (only `xxunk` and other special tokens); such documents carry no
 * signal.
 *
 * @param docs documents
 * @param nSpecial ids below this are special tokens @default {SPECIAL_TOKENS.length}
 * @returns the number of such documents
 */
export function countUnknownOnly(docs: readonly Int32Array[], nSpecial = SPECIAL_TOKENS.length): number {
  let n = 0;
  for (const d of docs) {
    let known = false;
    for (const id of d) {
      if (id >= nSpecial) {
        known = true;
        break;
      }
    }
    if (!known) n++;
  }
  return n;
}
