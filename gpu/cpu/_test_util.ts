/**
 * Test helpers for the CPU backend tests: random strided views and a naive element-by-element reader that the
 * references use (independent of the backend's coalescing and packing).
 *
 * @module
 */

import type { DType, Storage, TypedArray, View } from "../backend.ts";
import { Rng } from "../rng.ts";
import type { CpuBackend } from "./cpu_backend.ts";

/** Layouts a test view can take. */
export type Kind = "contig" | "colmajor" | "padded" | { broadcast: number };

/** A view plus its storage contents. */
export interface TestView {
  /** The view to pass to a kernel. */
  view: View;
  /** The storage (for freeing). */
  storage: Storage;
  /** Row-major logical values of the view, read naively. */
  values: Float64Array;
}

/** Fail with `msg` unless `cond`. */
export function assert(cond: boolean, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

/** Element count. */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Contiguous strides of `shape`. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) s[d] = acc, acc *= shape[d]!;
  return s;
}

/** Read a strided view element by element into a row-major array. */
export function readLogical(data: ArrayLike<number>, view: Omit<View, "storage">): Float64Array {
  const n = numel(view.shape);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let rem = i, p = view.offset;
    for (let d = view.shape.length - 1; d >= 0; d--) {
      const k = rem % view.shape[d]!;
      rem = (rem - k) / view.shape[d]!;
      p += k * view.strides[d]!;
    }
    out[i] = data[p]!;
  }
  return out;
}

/** Strides, offset and storage size of a layout of `shape`. */
export function layout(
  shape: readonly number[],
  kind: Kind,
): { strides: number[]; offset: number; size: number } {
  if (kind === "contig") return { strides: contiguousStrides(shape), offset: 0, size: numel(shape) };
  if (kind === "colmajor") {
    const strides: number[] = [];
    let acc = 1;
    for (const n of shape) strides.push(acc), acc *= n;
    return { strides, offset: 0, size: numel(shape) };
  }
  if (kind === "padded") {
    const strides = new Array<number>(shape.length);
    let acc = 1;
    for (let d = shape.length - 1; d >= 0; d--) {
      strides[d] = acc;
      acc = acc * shape[d]! + (d === shape.length - 1 ? 2 : 1);
    }
    return { strides, offset: 3, size: 3 + acc };
  }
  const small = shape.map((n, d) => (d === kind.broadcast ? 1 : n));
  const strides = contiguousStrides(small);
  strides[kind.broadcast] = 0;
  return { strides, offset: 0, size: numel(small) };
}

/** Random values in [lo, hi) from `rng`. */
export function randomValues(n: number, rng: Rng, lo = -2, hi = 2): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng.random();
  return out;
}

/** Allocate and fill a storage. */
export function store(cpu: CpuBackend, dtype: DType, data: ArrayLike<number>): Storage {
  const s = cpu.alloc(data.length, dtype);
  cpu.write(s, Float64Array.from(data));
  return s;
}

/** A random view of `shape` laid out as `kind`, values in [lo, hi) (integers when `dtype` is i32). */
export function randomView(
  cpu: CpuBackend,
  shape: readonly number[],
  { kind = "contig" as Kind, dtype = "f32" as DType, rng = new Rng(1), lo = -2, hi = 2 } = {},
): TestView {
  const { strides, offset, size } = layout(shape, kind);
  let raw = randomValues(size, rng, lo, hi);
  if (dtype === "i32") raw = raw.map(Math.floor);
  const storage = store(cpu, dtype, raw);
  const view: View = { storage, shape: [...shape], strides, offset };
  return { view, storage, values: readLogical(cpu.readSync(storage), view) };
}

/** A zeroed contiguous output view. */
export function outView(cpu: CpuBackend, shape: readonly number[], dtype: DType = "f32"): View {
  return {
    storage: cpu.alloc(numel(shape), dtype),
    shape: [...shape],
    strides: contiguousStrides(shape),
    offset: 0,
  };
}

/** Read a view's logical values. */
export function readView(cpu: CpuBackend, view: View): Float64Array {
  return readLogical(cpu.readSync(view.storage), view);
}

/** Round like the dtype stores. */
export function roundTo(dtype: DType, x: number): number {
  if (dtype === "f32") return Math.fround(x);
  if (dtype === "i32") return x | 0;
  return x;
}

/** Assert `got` matches `want` elementwise within `rtol * |want| + atol` (NaNs must match). */
export function assertClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  what: string,
  { rtol = 1e-6, atol = 1e-6 } = {},
): void {
  assert(got.length === want.length, `${what}: length ${got.length} != ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (g === w) continue;
    assert(Math.abs(g - w) <= rtol * Math.abs(w) + atol, `${what}: element ${i} is ${g}, expected ${w}`);
  }
}

/** Assert `fn` throws an error whose message contains every one of `parts`. */
export function assertThrows(fn: () => unknown, parts: string[]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert(err instanceof Error, `expected an error mentioning ${parts.join(", ")}`);
  for (const p of parts) assert(err.message.includes(p), `error "${err.message}" does not mention "${p}"`);
}

/** A typed array of `dtype` from numbers. */
export function typed(dtype: DType, data: ArrayLike<number>): TypedArray {
  return dtype === "f32"
    ? Float32Array.from(data)
    : dtype === "i32"
    ? Int32Array.from(data)
    : Float64Array.from(data);
}
