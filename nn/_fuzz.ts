/**
 * Settings of the property-based (fuzz) tests, which use fast-check: seeded and time-bounded so the CI suite
 * stays fast, longer on demand (`deno task fuzz`).
 *
 * - `DENOFIT_FUZZ_SEED`: the seed (default 13; a failure prints the seed and path that reproduce it);
 * - `DENOFIT_FUZZ_RUNS`: runs per property (default 200);
 * - `DENOFIT_FUZZ_SECONDS`: time limit per property (default 3; a property stops early, passing, when it is
 *   reached).
 *
 * @module
 */
// deno-lint-ignore no-import-prefix
import fc from "npm:fast-check@4.10.2";

export { fc };

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: the defaults
  }
}

/**
 * The `fc.assert` parameters of this run: seed, number of runs, time limit.
 *
 * @param scale runs of this property relative to the default (a slow property: < 1)
 * @returns parameters for `fc.assert` / `fc.check`
 */
export function fuzzParams(
  scale = 1,
): { seed: number; numRuns: number; interruptAfterTimeLimit: number; markInterruptAsFailure: false } {
  const seed = Number(env("DENOFIT_FUZZ_SEED") ?? 13);
  const runs = Number(env("DENOFIT_FUZZ_RUNS") ?? 200);
  const seconds = Number(env("DENOFIT_FUZZ_SECONDS") ?? 3);
  return {
    seed,
    numRuns: Math.max(1, Math.round(runs * scale)),
    interruptAfterTimeLimit: seconds * 1000,
    markInterruptAsFailure: false,
  };
}
