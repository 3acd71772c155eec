/**
 * The counter-based random generator shared by both backends: element `i` of a draw with `(seed, counter)`
 * depends only on `(seed, counter + i)`, so the CPU and WebGPU backends produce the same numbers and a run can
 * be reproduced from a seed. The hash is PCG's output permutation ("Hash Functions for GPU Rendering",
 * Jarzynski & Olano 2020, https://jcgt.org/published/0009/03/02/).
 *
 * @example Same seed, same numbers
 * ```ts
 * import { uniformAt } from "./rng.ts";
 * if (uniformAt(7, 3) !== uniformAt(7, 3)) throw new Error("not reproducible");
 * ```
 *
 * @module
 */

/** One PCG hash round on a u32. */
export function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** Key derived from a seed (first stream). */
export function streamKey(seed: number, stream = 0): number {
  return pcgHash((seed ^ Math.imul(stream, 0x9e3779b9)) >>> 0);
}

/** Uniform in [0, 1) with 24 random bits at index `index` of stream `key`. */
export function uniformFromKey(key: number, index: number): number {
  return (pcgHash(((index >>> 0) + key) >>> 0) >>> 8) * (1 / 16777216);
}

/** Uniform in [0, 1) at `(seed, index)`. */
export function uniformAt(seed: number, index: number): number {
  return uniformFromKey(streamKey(seed, 0), index);
}

/** Standard normal at `(seed, index)` by Box-Muller over streams 0 and 1. */
export function normalAt(seed: number, index: number): number {
  const u1 = uniformFromKey(streamKey(seed, 0), index);
  const u2 = uniformFromKey(streamKey(seed, 1), index);
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
}

/** The same generator in WGSL, for kernels that draw numbers (`u32` arithmetic wraps as in `Math.imul`). */
export const RNG_WGSL = /* wgsl */ `
fn pcg_hash(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}
fn stream_key(seed: u32, stream: u32) -> u32 { return pcg_hash(seed ^ (stream * 0x9e3779b9u)); }
fn uniform_from_key(key: u32, index: u32) -> f32 {
  return f32(pcg_hash(index + key) >> 8u) * (1.0 / 16777216.0);
}
fn normal_at(seed: u32, index: u32) -> f32 {
  let u1 = uniform_from_key(stream_key(seed, 0u), index);
  let u2 = uniform_from_key(stream_key(seed, 1u), index);
  return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
}
`;

/**
 * A small seeded generator for host-side randomness (shuffles, sampling, bptt lengths): a counter over
 * {@linkcode uniformAt}, so its state is two integers that checkpoints can save.
 */
export class Rng {
  /** Seed of the stream. */
  seed: number;
  /** Number of draws so far. */
  counter: number;
  /** Make a generator for `seed`. */
  constructor(seed = 42, counter = 0) {
    this.seed = seed >>> 0;
    this.counter = counter;
  }
  /** Uniform in [0, 1). */
  random(): number {
    return uniformAt(this.seed, this.counter++);
  }
  /** Standard normal. */
  normal(): number {
    return normalAt(this.seed, this.counter++);
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  /** Fisher-Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t;
    }
    return items;
  }
  /** Reserve `n` consecutive counters (for a device draw of `n` numbers) and return the first. */
  take(n: number): number {
    const c = this.counter;
    this.counter += n;
    return c;
  }
}

let globalRng = new Rng(42);

/** Seed the library-wide generator (dropout masks, shuffles, initialisation). */
export function seed(n: number): void {
  globalRng = new Rng(n);
}

/** The library-wide generator. */
export function getRng(): Rng {
  return globalRng;
}
