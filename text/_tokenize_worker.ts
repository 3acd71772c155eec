/**
 * Worker side of {@linkcode TokenizerPool} (see `parallel.ts`): receives `init` with a tokenizer spec, then
 * chunks of texts; answers each chunk with its compact tokenization (buffers transferred, not copied).
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { loadTokenizer, tokenizeChunk, type TokenizeFn, type TokenizerSpec } from "./_tokenizers.ts";

let tok: Promise<TokenizeFn> | undefined;

self.onmessage = async (ev: MessageEvent) => {
  const msg = ev.data as { type: "init"; spec: TokenizerSpec } | {
    type: "chunk";
    id: number;
    texts: string[];
  };
  if (msg.type === "init") {
    tok = loadTokenizer(msg.spec);
    return;
  }
  try {
    if (!tok) throw new Error("tokenizer worker got a chunk before init");
    const c = tokenizeChunk(msg.texts, await tok);
    self.postMessage({ id: msg.id, chunk: c }, {
      transfer: [c.ids.buffer as ArrayBuffer, c.offsets.buffer as ArrayBuffer],
    });
  } catch (e) {
    self.postMessage({ id: msg.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
};
