/**
 * Hyper-parameter schedules as pure functions of the training position, composed the way fastai composes
 * them (`sched_lin`, `sched_cos`, `combine_scheds`): a {@linkcode SchedFn} maps `(start, end, pos)` to a value
 * and a {@linkcode Schedule} maps `pos` in [0, 1] (fraction of training done) to a value.
 *
 * Ready-made schedules: ULMFiT's slanted triangular learning rate ({@linkcode slantedTriangular},
 * https://arxiv.org/abs/1801.06146), fastai v0.7's `use_clr=(div, cut_div)` ({@linkcode clrSchedule}),
 * fastai v2's `fit_one_cycle` ({@linkcode oneCycleSchedules}) and cosine annealing
 * ({@linkcode cosineAnnealing}).
 *
 * @example One-cycle learning rate at the start, peak and end
 * ```ts
 * import { oneCycleSchedules } from "./schedule.ts";
 * const { lr } = oneCycleSchedules(1e-2);
 * if (Math.abs(lr(0) - 1e-2 / 25) > 1e-12) throw new Error("start");
 * if (Math.abs(lr(0.25) - 1e-2) > 1e-12) throw new Error("peak");
 * if (Math.abs(lr(1) - 1e-2 / 1e5) > 1e-12) throw new Error("end");
 * ```
 *
 * @module
 */

/** A schedule shape: value at `pos` in [0, 1] going from `start` to `end`. */
export type SchedFn = (start: number, end: number, pos: number) => number;

/** A schedule: value at `pos` in [0, 1], the fraction of training done. */
export type Schedule = (pos: number) => number;

/** Linear: `start + pos * (end - start)` (fastai `sched_lin`). */
export function schedLin(start: number, end: number, pos: number): number {
  return start + pos * (end - start);
}

/** Cosine from `start` to `end`: `start + (1 + cos(pi * (1 - pos))) * (end - start) / 2` (fastai `sched_cos`). */
export function schedCos(start: number, end: number, pos: number): number {
  return start + (1 + Math.cos(Math.PI * (1 - pos))) * (end - start) / 2;
}

/** Constant `start` (fastai `sched_no`). */
export function schedNo(start: number, _end?: number, _pos?: number): number {
  return start;
}

/** Exponential: `start * (end / start) ** pos` (fastai `sched_exp`). */
export function schedExp(start: number, end: number, pos: number): number {
  return start * (end / start) ** pos;
}

/** Polynomial: `start + (end - start) * pos ** power` (fastai `sched_poly`). */
export function schedPoly(power: number): SchedFn {
  return (start, end, pos) => start + (end - start) * pos ** power;
}

/** Bind a shape to its end points: the fastai `SchedLin(start, end)` style constructor. */
export function sched(fn: SchedFn, start: number, end: number): Schedule {
  return (pos) => fn(start, end, pos);
}

/**
 * Chain schedules: `scheds[i]` runs over the fraction `pcts[i]` of training (fastai `combine_scheds`).
 *
 * @param pcts fractions of training, non-negative, summing to 1
 * @param scheds one schedule per fraction, each seeing its own position in [0, 1]
 * @returns the combined schedule
 */
export function combineScheds(pcts: readonly number[], scheds: readonly Schedule[]): Schedule {
  if (pcts.length !== scheds.length || pcts.length === 0) {
    throw new Error(
      `combineScheds: ${pcts.length} fractions for ${scheds.length} schedules (need equal, >= 1)`,
    );
  }
  if (pcts.some((p) => p < 0)) throw new Error(`combineScheds: negative fraction in [${pcts.join(", ")}]`);
  const total = pcts.reduce((a, b) => a + b, 0);
  if (Math.abs(total - 1) > 1e-9) throw new Error(`combineScheds: fractions sum to ${total}, not 1`);
  const bounds = [0];
  for (const p of pcts) bounds.push(bounds[bounds.length - 1]! + p);
  const last = pcts.length - 1;
  return (pos) => {
    // index of the last boundary <= pos, capped at the last schedule (fastai's `pct_lim`)
    let idx = 0;
    for (let i = 0; i < bounds.length; i++) if (pos >= bounds[i]!) idx = i;
    idx = Math.min(idx, last);
    const width = bounds[idx + 1]! - bounds[idx]!;
    const actual = width > 0 ? (pos - bounds[idx]!) / width : 1;
    return scheds[idx]!(actual);
  };
}

/** Two cosine halves `start -> middle` over `pct`, `middle -> end` over the rest (fastai `combined_cos`). */
export function combinedCos(pct: number, start: number, middle: number, end: number): Schedule {
  return combineScheds([pct, 1 - pct], [sched(schedCos, start, middle), sched(schedCos, middle, end)]);
}

/** Options of {@linkcode oneCycleSchedules}. */
export interface OneCycleOptions {
  /** lr starts at `lrMax / div`. @default 25 */
  div?: number;
  /** lr ends at `lrMax / divFinal`. @default 1e5 */
  divFinal?: number;
  /** Fraction of training spent warming up. @default 0.25 */
  pctStart?: number;
  /** Momentum (start, middle, end); fastai text uses (0.8, 0.7, 0.8). @default [0.95, 0.85, 0.95] */
  moms?: readonly [number, number, number];
}

/**
 * fastai v2 `fit_one_cycle` schedules: cosine warm-up of the learning rate from `lrMax/div` to `lrMax`, then
 * cosine decay to `lrMax/divFinal`; momentum goes the opposite way (https://arxiv.org/abs/1803.09820).
 *
 * @param lrMax peak learning rate
 * @returns `{ lr, mom }` schedules over the fraction of training done
 */
export function oneCycleSchedules(
  lrMax: number,
  { div = 25, divFinal = 1e5, pctStart = 0.25, moms = [0.95, 0.85, 0.95] }: OneCycleOptions = {},
): { lr: Schedule; mom: Schedule } {
  return {
    lr: combinedCos(pctStart, lrMax / div, lrMax, lrMax / divFinal),
    mom: combinedCos(pctStart, moms[0], moms[1], moms[2]),
  };
}

/** Options of {@linkcode slantedTriangular}. */
export interface SlantedTriangularOptions {
  /** Fraction of iterations spent increasing the learning rate. @default 0.1 */
  cutFrac?: number;
  /** How much smaller the lowest learning rate is than the peak. @default 32 */
  ratio?: number;
}

/**
 * ULMFiT's slanted triangular learning rate over `total` iterations (Howard & Ruder 2018, eq. 3):
 * `cut = floor(T * cutFrac)`, `p = t/cut` before the cut, else `1 - (t - cut) / (cut * (1/cutFrac - 1))`,
 * `lr = lrMax * (1 + p * (ratio - 1)) / ratio`.
 *
 * @param lrMax peak learning rate
 * @param total number of iterations T
 * @returns the learning rate at iteration `t` (0-based)
 */
export function slantedTriangular(
  lrMax: number,
  total: number,
  { cutFrac = 0.1, ratio = 32 }: SlantedTriangularOptions = {},
): (t: number) => number {
  const cut = Math.floor(total * cutFrac);
  if (cut < 1) {
    throw new Error(`slantedTriangular: total ${total} * cutFrac ${cutFrac} leaves no warm-up step`);
  }
  return (t) => {
    const p = t < cut ? t / cut : 1 - (t - cut) / (cut * (1 / cutFrac - 1));
    return lrMax * (1 + p * (ratio - 1)) / ratio;
  };
}

/** Options of {@linkcode clrSchedule}. */
export interface ClrOptions {
  /** Momentum `[high, low]`: falls from high to low while the lr rises, then climbs back. */
  moms?: readonly [number, number];
}

/**
 * fastai v0.7 `use_clr=(div, cutDiv)` (`CircularLR`) over a cycle of `nb` iterations: the learning rate rises
 * linearly from `lrMax/div` to `lrMax` for `floor(nb/cutDiv)` iterations, then falls linearly back to
 * `lrMax/div` at the end of the cycle.
 *
 * @param lrMax peak learning rate
 * @param nb iterations per cycle (`len(train_dl) * cycle_len`)
 * @returns `{ lr, mom }` as functions of the iteration (0-based; wraps every `nb`); `mom` is `undefined`
 *   unless `moms` is given
 */
export function clrSchedule(
  lrMax: number,
  nb: number,
  div: number,
  cutDiv: number,
  { moms }: ClrOptions = {},
): { lr: (iter: number) => number; mom: ((iter: number) => number) | undefined } {
  const cut = Math.floor(nb / cutDiv);
  if (cut < 1) throw new Error(`clrSchedule: nb ${nb} / cutDiv ${cutDiv} leaves no warm-up iteration`);
  const up = (it: number) => {
    const i = it % nb;
    return i > cut ? 1 - (i - cut) / (nb - cut) : i / cut;
  };
  return {
    lr: (it) => lrMax * (1 + up(it) * (div - 1)) / div,
    mom: moms ? (it) => moms[1] + (1 - up(it)) * (moms[0] - moms[1]) : undefined,
  };
}

/** Options of {@linkcode cosineAnnealing}. */
export interface CosineAnnealingOptions {
  /** Lowest learning rate. @default 0 */
  lrMin?: number;
  /** Number of restarts-free cycles (SGDR); each cycle is `cycleMult` times longer than the previous. @default 1 */
  cycles?: number;
  /** Length multiplier of each next cycle. @default 1 */
  cycleMult?: number;
}

/**
 * Cosine annealing (SGDR, https://arxiv.org/abs/1608.03983): `lrMin + (lrMax - lrMin) * (1 + cos(pi * x)) / 2`
 * with `x` the position inside the current cycle; with several cycles the learning rate restarts at `lrMax`.
 *
 * @param lrMax learning rate at the start of each cycle
 * @returns a schedule over the fraction of training done
 */
export function cosineAnnealing(
  lrMax: number,
  { lrMin = 0, cycles = 1, cycleMult = 1 }: CosineAnnealingOptions = {},
): Schedule {
  const lens = Array.from({ length: cycles }, (_, i) => cycleMult ** i);
  const total = lens.reduce((a, b) => a + b, 0);
  return combineScheds(lens.map((l) => l / total), lens.map(() => sched(schedCos, lrMax, lrMin)));
}

/** A constant schedule. */
export function constant(value: number): Schedule {
  return () => value;
}

/**
 * Discriminative learning rates (ULMFiT): the last of `nGroups` layer groups gets `lr`, each earlier group
 * `factor` times less (`lr / 2.6^k` in the paper).
 *
 * @param lr learning rate of the last group
 * @param nGroups number of layer groups
 * @returns one learning rate per group, first group first
 */
export function discriminativeLrs(
  lr: number,
  nGroups: number,
  { factor = 2.6 }: { factor?: number } = {},
): number[] {
  return Array.from({ length: nGroups }, (_, i) => lr / factor ** (nGroups - 1 - i));
}
