/**
 * Settings of the property-based (fuzz) tests, which use fast-check: seeded and time-bounded so the CI suite
 * stays fast, longer on demand (`deno task fuzz`).
 *
 * - `DENOFIT_FUZZ_SEED`: the seed (default 13; a failure prints the seed and path that reproduce it);
 * - `DENOFIT_FUZZ_RUNS`: runs per property (default 200; 1,000,000 with `DENOFIT_FUZZ_LONG=1`);
 * - `DENOFIT_FUZZ_SECONDS`: time limit per property (default 3; 60 with `DENOFIT_FUZZ_LONG=1`); a property
 *   stops early, passing, when it is reached;
 * - `DENOFIT_FUZZ_LONG=1`: the long run of `deno task fuzz`.
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
  const long = env("DENOFIT_FUZZ_LONG") === "1";
  const num = (name: string, fallback: number) => {
    const v = Number(env(name) ?? fallback);
    if (!(Number.isFinite(v) && v > 0)) {
      throw new Error(`${name} must be a positive number, got "${env(name)}"`);
    }
    return v;
  };
  const seed = Math.floor(num("DENOFIT_FUZZ_SEED", 13));
  const runs = num("DENOFIT_FUZZ_RUNS", long ? 1_000_000 : 200);
  const seconds = num("DENOFIT_FUZZ_SECONDS", long ? 60 : 3);
  return {
    seed,
    numRuns: Math.max(1, Math.round(runs * scale)),
    interruptAfterTimeLimit: seconds * 1000,
    markInterruptAsFailure: false,
  };
}
