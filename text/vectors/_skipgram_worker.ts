/**
 * Worker side of {@linkcode trainSkipGram} (see `skipgram.ts`): receives the shared arrays and its job, runs
 * it, and answers `done` (or the error).
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { type SkipGramJob, type SkipGramShared, trainSkipGramLines } from "./_skipgram_core.ts";

self.onmessage = (ev: MessageEvent) => {
  const { shared, job } = ev.data as { shared: SkipGramShared; job: SkipGramJob };
  try {
    trainSkipGramLines(shared, job);
    self.postMessage({ done: true });
  } catch (e) {
    self.postMessage({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
};
