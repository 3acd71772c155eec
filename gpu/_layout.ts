/**
 * Axis coalescing for strided elementwise kernels, shared by the CPU and WebGPU backends: size-1 axes are dropped
 * and adjacent axes merged where every operand steps through them as one, so a contiguous view becomes one flat
 * run and a row-vector broadcast becomes rows of contiguous runs.
 *
 * @module
 */

/** A coalesced iteration space shared by an output and its inputs. */
export interface Plan {
  /** Coalesced shape (at least one axis; `[0]` when empty). */
  shape: number[];
  /** Strides per operand (output first), one per coalesced axis. */
  strides: number[][];
  /** Start offset per operand (output first). */
  offsets: number[];
  /** Element count. */
  size: number;
}

/** Operand layout: strides and offset of one view. */
export interface Layout {
  /** Element stride per axis. */
  readonly strides: readonly number[];
  /** First element. */
  readonly offset: number;
}

/** Build the coalesced plan for `shape` over `layouts` (output first). */
export function makePlan(shape: readonly number[], layouts: readonly Layout[]): Plan {
  let size = 1;
  for (const s of shape) size *= s;
  const offsets = layouts.map((l) => l.offset);
  if (size === 0) return { shape: [0], strides: layouts.map(() => [0]), offsets, size: 0 };
  const outShape: number[] = [];
  const outStrides: number[][] = layouts.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && layouts.every((l, k) => outStrides[k]![last] === l.strides[d]! * n)) {
      outShape[last]! *= n;
      for (let k = 0; k < layouts.length; k++) outStrides[k]![last] = layouts[k]!.strides[d]!;
    } else {
      outShape.push(n);
      for (let k = 0; k < layouts.length; k++) outStrides[k]!.push(layouts[k]!.strides[d]!);
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    for (const s of outStrides) s.push(0);
  }
  return { shape: outShape, strides: outStrides, offsets, size };
}
