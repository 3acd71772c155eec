/**
 * Worker side of {@linkcode ImageFileLoader} (see `image_loader.ts`): receives batch jobs (paths, per-image
 * seeds, the transform), decodes and augments them into one `(n, c, h, w)` float32 array, and answers with it
 * transferred (not copied), or with the error naming the file.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { type BatchJob, decodeBatch } from "./_decode_batch.ts";

self.onmessage = async (ev: MessageEvent) => {
  const job = ev.data as BatchJob & { id: number };
  try {
    const x = await decodeBatch(job);
    self.postMessage({ id: job.id, x }, { transfer: [x.buffer as ArrayBuffer] });
  } catch (e) {
    self.postMessage({ id: job.id, error: e instanceof Error ? e.message : String(e) });
  }
};
