/**
 * CPU `reduce` kernel: sum, mean, sum of squares, max, min, argmax, argmin over the last axis of a strided
 * `(R, C)` view, in double precision.
 *
 * @module
 */

import type { KernelAttrs } from "../../backend.ts";
import {
  type Arg,
  type CpuKernels,
  expectArity,
  expectDtype,
  expectShape,
  KernelError,
  mat,
  rowsCols,
  shapeStr,
  vec,
} from "../_args.ts";

let colAcc = new Float64Array(1024);

/** A zeroed accumulator of `n` doubles (reused between calls). */
function colScratch(n: number): Float64Array {
  if (colAcc.length < n) colAcc = new Float64Array(n);
  else colAcc.fill(0, 0, n);
  return colAcc;
}

/** `reduce` kernel over the last axis of `(R, C)`. */
export function reduce(ins: readonly Arg[], outs: readonly Arg[], attrs: KernelAttrs["reduce"]): void {
  const k = `reduce ${attrs.op}`;
  expectArity(k, ins, outs, 1, 1);
  const [R, C] = rowsCols(k, ins[0]!);
  const y = outs[0]!;
  expectShape(k, "output", y, [R]);
  const { data: x, off, rs, cs } = mat(ins[0]!);
  const { data: out, off: yo, s: ys } = vec(y);
  const op = attrs.op;
  if (op === "argmax" || op === "argmin") expectDtype(k, "output", y, "i32");
  if (C === 0 && R > 0 && op !== "sum" && op !== "mean" && op !== "sumSquares") {
    throw new KernelError(k, `cannot take ${op} of empty rows: input shape ${shapeStr(ins[0]!.shape)}`);
  }
  if ((op === "sum" || op === "mean" || op === "sumSquares") && R > 1 && Math.abs(rs) < Math.abs(cs)) {
    // Rows run down the memory (a column sum, e.g. a bias gradient): sweep the columns in the outer loop so every
    // pass reads memory in order, eight columns per sweep (an eighth of the accumulator loads and stores). Each
    // row still adds its columns one after another in order 0..C-1, so the result is the same.
    const acc = colScratch(R);
    let c = 0;
    if (op === "sumSquares") {
      for (; c < C; c++) {
        let p = off + c * cs;
        for (let r = 0; r < R; r++, p += rs) acc[r] = acc[r]! + x[p]! * x[p]!;
      }
    }
    for (; c + 8 <= C; c += 8) {
      const p0 = off + c * cs, p1 = p0 + cs, p2 = p1 + cs, p3 = p2 + cs;
      const p4 = p3 + cs, p5 = p4 + cs, p6 = p5 + cs, p7 = p6 + cs;
      for (let r = 0, q = 0; r < R; r++, q += rs) {
        acc[r] = acc[r]! + x[p0 + q]! + x[p1 + q]! + x[p2 + q]! + x[p3 + q]! + x[p4 + q]! + x[p5 + q]! +
          x[p6 + q]! +
          x[p7 + q]!;
      }
    }
    for (; c < C; c++) {
      let p = off + c * cs;
      for (let r = 0; r < R; r++, p += rs) acc[r] = acc[r]! + x[p]!;
    }
    for (let r = 0; r < R; r++) out[yo + r * ys] = op === "mean" ? acc[r]! / C : acc[r]!;
    return;
  }
  for (let r = 0; r < R; r++) {
    let p = off + r * rs;
    let acc: number;
    switch (op) {
      case "sum":
      case "mean":
        acc = 0;
        for (let c = 0; c < C; c++, p += cs) acc += x[p]!;
        if (op === "mean") acc /= C;
        break;
      case "sumSquares":
        acc = 0;
        for (let c = 0; c < C; c++, p += cs) acc += x[p]! * x[p]!;
        break;
      case "max":
        acc = -Infinity;
        for (let c = 0; c < C; c++, p += cs) {
          const v = x[p]!;
          if (v > acc || v !== v) acc = v;
          if (v !== v) break;
        }
        break;
      case "min":
        acc = Infinity;
        for (let c = 0; c < C; c++, p += cs) {
          const v = x[p]!;
          if (v < acc || v !== v) acc = v;
          if (v !== v) break;
        }
        break;
      case "argmax":
      case "argmin": {
        const sign = op === "argmax" ? 1 : -1;
        let best = -Infinity;
        acc = 0;
        for (let c = 0; c < C; c++, p += cs) {
          const v = x[p]! * sign;
          if (v !== v) {
            acc = c;
            break;
          }
          if (v > best) best = v, acc = c;
        }
        break;
      }
      default:
        throw new KernelError("reduce", `unknown op "${op}"`);
    }
    out[yo + r * ys] = acc;
  }
}

/** The reduce family. */
export const REDUCE_KERNELS: CpuKernels<"reduce"> = { reduce };
