/** One benchmark measurement, printed as a JSON line. */
export interface Measurement {
  /** Suite name, e.g. `"gpu"`, `"text"`. */
  suite: string;
  /** Case name, e.g. `"matmul_1024"`. */
  case: string;
  /** Measured value. */
  value: number;
  /** Unit of `value`, e.g. `"GFLOP/s"`, `"tokens/s"`, `"s"`. */
  unit: string;
  /** Backend (`"cpu"`, `"webgpu"`, `"pytorch"`, `"sentencepiece"`...), where it applies. */
  backend?: string;
  /** Adapter or machine description. */
  adapter?: string;
  /** Anything else worth recording. */
  [extra: string]: unknown;
}

/** Print one measurement as a JSON line on stdout. */
export function emit(m: Measurement): void {
  console.log(JSON.stringify(m));
}

/** Median wall time in milliseconds of `fn` over `iters` runs after `warmup` runs. */
export async function timeMs(
  fn: () => unknown | Promise<unknown>,
  { iters = 5, warmup = 1 } = {},
): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
