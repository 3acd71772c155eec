/**
 * CPU kernels: elementwise, copy, reductions, softmax, gather/scatter, cross-entropy, random and dropout.
 * Each takes resolved inputs and outputs plus the kernel attributes documented on `KernelAttrs` in
 * `../backend.ts`, checks shapes, and computes in double precision before storing.
 *
 * @module
 */

import type { KernelAttrs, TypedArray } from "../backend.ts";
import { normalAt, streamKey, uniformFromKey } from "../rng.ts";
import {
  type Arg,
  expectArity,
  expectContiguous,
  expectDtype,
  expectRank,
  expectShape,
  KernelError,
  mat,
  shapeStr,
  sizeOf,
  vec,
} from "./_args.ts";
import { wasmBinaryF32, wasmRowsLogSumExp, wasmRowsSoftmax, wasmRowsSoftmaxGrad } from "./_wasm_exp.ts";
import { WASM_BINARY_OPS } from "./_wasm/exp_wat.ts";
import { BINARY_EXPR, COPY_EXPR, elementwiseLoop, makePlan, UNARY_EXPR, WHERE_EXPR } from "./_strided.ts";

function runElementwise(
  kernel: string,
  ins: readonly Arg[],
  y: Arg,
  expr: string,
  A = 0,
  B = 0,
  simd?: string,
): void {
  for (let k = 0; k < ins.length; k++) expectShape(kernel, `input ${k}`, ins[k]!, y.shape);
  const plan = makePlan(y.shape, [y, ...ins]);
  const X = ins.map((x) => x.data);
  if (
    simd !== undefined && y.data instanceof Float32Array && X.every((x) => x instanceof Float32Array) &&
    wasmBinaryF32(simd, y.data, X as Float32Array[], [y.id, ...ins.map((x) => x.id)], plan)
  ) return;
  elementwiseLoop(ins.length, expr)(y.data, X, plan, A, B);
}

/** Binary ops with a WebAssembly SIMD path for large f32 operands (bitwise the same results). */
const SIMD_BINARY = new Set<string>(WASM_BINARY_OPS);

/** `unary` kernel. */
export function unary(ins: readonly Arg[], outs: readonly Arg[], attrs: KernelAttrs["unary"]): void {
  expectArity("unary", ins, outs, 1, 1);
  const expr = UNARY_EXPR[attrs.op];
  if (expr === undefined) throw new KernelError("unary", `unknown op "${attrs.op}"`);
  const y = outs[0]!;
  expectContiguous("unary", "output", y);
  let A = attrs.alpha ?? 0, B = attrs.beta ?? 0;
  if (attrs.op === "clamp") A = attrs.alpha ?? -Infinity, B = attrs.beta ?? Infinity;
  runElementwise(`unary ${attrs.op}`, ins, y, expr, A, B);
}

/** `binary` kernel. */
export function binary(ins: readonly Arg[], outs: readonly Arg[], attrs: KernelAttrs["binary"]): void {
  expectArity("binary", ins, outs, 2, 1);
  const expr = BINARY_EXPR[attrs.op];
  if (expr === undefined) throw new KernelError("binary", `unknown op "${attrs.op}"`);
  expectContiguous("binary", "output", outs[0]!);
  runElementwise(
    `binary ${attrs.op}`,
    ins,
    outs[0]!,
    expr,
    0,
    0,
    SIMD_BINARY.has(attrs.op) ? attrs.op : undefined,
  );
}

/** `where` kernel. */
export function where(ins: readonly Arg[], outs: readonly Arg[]): void {
  expectArity("where", ins, outs, 3, 1);
  expectContiguous("where", "output", outs[0]!);
  runElementwise("where", ins, outs[0]!, WHERE_EXPR);
}

/** `copy` kernel: any view to any view of the same shape (an overlapping source is read before writing). */
export function copy(ins: readonly Arg[], outs: readonly Arg[]): void {
  expectArity("copy", ins, outs, 1, 1);
  const x = ins[0]!, y = outs[0]!;
  const src = x.id === y.id ? { ...x, data: x.data.slice() } : x;
  expectShape("copy", "input 0", src, y.shape);
  const plan = makePlan(y.shape, [y, src]);
  if (src.data.constructor === y.data.constructor && copyRuns(y.data, src.data, plan)) return;
  runElementwise("copy", [src], y, COPY_EXPR);
}

/**
 * Copy as `TypedArray.set` runs (a memcpy each) when both sides step by 1 along the coalesced last axis and runs
 * are at least 16 long; false (nothing copied) otherwise. Same dtype only, so the values are those of the loop.
 */
function copyRuns(Y: TypedArray, X: TypedArray, plan: ReturnType<typeof makePlan>): boolean {
  const { shape, strides: S, offsets: O } = plan, r = shape.length, n = shape[r - 1]!;
  if (plan.size === 0 || n < 16 || S[0]![r - 1] !== 1 || S[1]![r - 1] !== 1) return false;
  const idx = new Array<number>(r).fill(0);
  let yo = O[0]!, xo = O[1]!;
  for (let t = 0, runs = plan.size / n; t < runs; t++) {
    Y.set(X.subarray(xo, xo + n), yo);
    for (let d = r - 2; d >= 0; d--) {
      yo += S[0]![d]!, xo += S[1]![d]!;
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
      yo -= S[0]![d]! * shape[d]!, xo -= S[1]![d]! * shape[d]!;
    }
  }
  return true;
}

function rowsCols(kernel: string, x: Arg): [number, number] {
  const s = expectRank(kernel, "input 0", x, 2);
  return [s[0]!, s[1]!];
}

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

/** `softmax` kernel over the last axis of `(R, C)`. */
export function softmax(ins: readonly Arg[], outs: readonly Arg[], attrs: KernelAttrs["softmax"]): void {
  expectArity("softmax", ins, outs, 1, 1);
  const [R, C] = rowsCols("softmax", ins[0]!);
  const y = outs[0]!;
  expectShape("softmax", "output", y, [R, C]);
  expectContiguous("softmax", "output", y);
  const { data: x, off, rs, cs } = mat(ins[0]!);
  const out = y.data, yo = y.offset;
  const simd = x instanceof Float32Array && out instanceof Float32Array && cs === 1 && ins[0]!.id !== y.id;
  if (attrs.log) {
    // log-sum-exp rows from the WebAssembly kernel when it applies (NaN where a row's max is not finite).
    const lse = lseScratch(R);
    const fast = simd && wasmRowsLogSumExp(x, off, rs, R, C, lse);
    for (let r = 0; r < R; r++) {
      const p0 = off + r * rs, q0 = yo + r * C;
      let l = lse[r]!;
      if (!fast || l !== l) l = rowLogSumExp(x, p0, cs, C);
      for (let c = 0, p = p0; c < C; c++, p += cs) out[q0 + c] = x[p]! - l;
    }
    return;
  }
  if (
    simd &&
    wasmRowsSoftmax(x, off, rs, R, C, out, yo, (r) => softmaxRow(x, off + r * rs, cs, C, out, yo + r * C))
  ) {
    return;
  }
  for (let r = 0; r < R; r++) softmaxRow(x, off + r * rs, cs, C, out, yo + r * C);
}

/** One softmax row in double precision: `C` elements from `x[p0]` (stride `cs`) to `out[q0..]`. */
function softmaxRow(x: TypedArray, p0: number, cs: number, C: number, out: TypedArray, q0: number): void {
  // One exp per element: keep exp(x - max) in double precision while summing, then scale.
  let max = -Infinity;
  for (let c = 0, p = p0; c < C; c++, p += cs) if (x[p]! > max) max = x[p]!;
  if (max === -Infinity || max === Infinity || max !== max) {
    const lse = rowLogSumExp(x, p0, cs, C);
    for (let c = 0, p = p0; c < C; c++, p += cs) out[q0 + c] = Math.exp(x[p]! - lse);
    return;
  }
  const e = rowScratch(C);
  let sum = 0;
  for (let c = 0, p = p0; c < C; c++, p += cs) {
    const v = Math.exp(x[p]! - max);
    e[c] = v;
    sum += v;
  }
  const inv = 1 / sum;
  for (let c = 0; c < C; c++) out[q0 + c] = e[c]! * inv;
}

let scratch = new Float64Array(1024);

function rowScratch(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(n);
  return scratch;
}

function rowLogSumExp(x: TypedArray, p: number, cs: number, C: number): number {
  let max = -Infinity;
  for (let c = 0, q = p; c < C; c++, q += cs) if (x[q]! > max) max = x[q]!;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let c = 0, q = p; c < C; c++, q += cs) sum += Math.exp(x[q]! - max);
  return max + Math.log(sum);
}

function checkId(kernel: string, id: number, i: number, V: number, shapes: string): void {
  if (!(id >= 0 && id < V)) {
    throw new KernelError(kernel, `id ${id} at position ${i} is outside [0, ${V}) (shapes ${shapes})`);
  }
}

/** `gather` kernel: rows of a `(V, D)` table by i32 ids. */
export function gather(ins: readonly Arg[], outs: readonly Arg[]): void {
  expectArity("gather", ins, outs, 2, 1);
  const [V, D] = rowsCols("gather", ins[0]!);
  const ids = ins[1]!, y = outs[0]!;
  expectRank("gather", "ids", ids, 1);
  expectDtype("gather", "ids", ids, "i32");
  const N = ids.shape[0]!;
  expectShape("gather", "output", y, [N, D]);
  expectContiguous("gather", "output", y);
  const t = mat(ins[0]!), iv = vec(ids), out = y.data;
  const shapes = `table ${shapeStr(ins[0]!.shape)}, ids ${shapeStr(ids.shape)}`;
  // Rows with unit stride in a table of the output's dtype are copied with `set` (a memcpy each).
  const rows = t.cs === 1 && t.data.constructor === out.constructor;
  for (let i = 0; i < N; i++) {
    const id = iv.data[iv.off + i * iv.s]!;
    checkId("gather", id, i, V, shapes);
    let p = t.off + id * t.rs, q = y.offset + i * D;
    if (rows) out.set(t.data.subarray(p, p + D), q);
    else for (let d = 0; d < D; d++, p += t.cs) out[q++] = t.data[p]!;
  }
}

/** `scatterAdd` kernel: `table[ids[i]] += src[i]`. */
export function scatterAdd(ins: readonly Arg[], outs: readonly Arg[]): void {
  expectArity("scatterAdd", ins, outs, 2, 1);
  const [N, D] = rowsCols("scatterAdd", ins[0]!);
  const ids = ins[1]!, table = outs[0]!;
  expectDtype("scatterAdd", "ids", ids, "i32");
  expectShape("scatterAdd", "ids", ids, [N]);
  const tshape = expectRank("scatterAdd", "output table", table, 2);
  const V = tshape[0]!;
  if (tshape[1] !== D) {
    throw new KernelError(
      "scatterAdd",
      `src ${shapeStr(ins[0]!.shape)} and table ${shapeStr(tshape)} differ in the last axis`,
    );
  }
  const s = mat(ins[0]!), iv = vec(ids), t = mat(table);
  const shapes = `src ${shapeStr(ins[0]!.shape)}, ids ${shapeStr(ids.shape)}, table ${shapeStr(tshape)}`;
  for (let i = 0; i < N; i++) checkId("scatterAdd", iv.data[iv.off + i * iv.s]!, i, V, shapes);
  for (let i = 0; i < N; i++) {
    const id = iv.data[iv.off + i * iv.s]!;
    let p = s.off + i * s.rs, q = t.off + id * t.rs;
    for (let d = 0; d < D; d++, p += s.cs, q += t.cs) t.data[q] = t.data[q]! + s.data[p]!;
  }
}

function checkTargets(kernel: string, logits: Arg, targets: Arg): [number, number] {
  const [R, C] = rowsCols(kernel, logits);
  expectDtype(kernel, "targets", targets, "i32");
  expectShape(kernel, "targets", targets, [R]);
  return [R, C];
}

function target(kernel: string, tv: ReturnType<typeof vec>, r: number, C: number, ignore: number): number {
  const t = tv.data[tv.off + r * tv.s]!;
  if (t !== ignore && !(t >= 0 && t < C)) {
    throw new KernelError(
      kernel,
      `target ${t} at row ${r} is outside [0, ${C}) and is not ignoreIndex ${ignore}`,
    );
  }
  return t;
}

/** `crossEntropy` kernel: per-row loss and log-sum-exp. */
export function crossEntropy(
  ins: readonly Arg[],
  outs: readonly Arg[],
  attrs: KernelAttrs["crossEntropy"],
): void {
  const k = "crossEntropy";
  expectArity(k, ins, outs, 2, 2);
  const [R, C] = checkTargets(k, ins[0]!, ins[1]!);
  expectShape(k, "output loss", outs[0]!, [R]);
  expectShape(k, "output logSumExp", outs[1]!, [R]);
  const x = mat(ins[0]!), tv = vec(ins[1]!), loss = vec(outs[0]!), lseOut = vec(outs[1]!);
  for (let r = 0; r < R; r++) target(k, tv, r, C, attrs.ignoreIndex);
  const lse = lseScratch(R);
  const fast = x.data instanceof Float32Array && x.cs === 1 &&
    wasmRowsLogSumExp(x.data, x.off, x.rs, R, C, lse);
  for (let r = 0; r < R; r++) {
    const t = tv.data[tv.off + r * tv.s]!;
    let l = lse[r]!;
    if (!fast || l !== l) l = rowLogSumExp(x.data, x.off + r * x.rs, x.cs, C);
    lseOut.data[lseOut.off + r * lseOut.s] = l;
    loss.data[loss.off + r * loss.s] = t === attrs.ignoreIndex ? 0 : l - x.data[x.off + r * x.rs + t * x.cs]!;
  }
}

let lseBuf = new Float64Array(1024), gBuf = new Float64Array(1024);

function lseScratch(n: number): Float64Array {
  if (lseBuf.length < n) lseBuf = new Float64Array(n);
  return lseBuf;
}

function gScratch(n: number): Float64Array {
  if (gBuf.length < n) gBuf = new Float64Array(n);
  return gBuf;
}

/** `crossEntropyBackward` kernel: `gradLoss * (softmax - onehot)`, zero on ignored rows. */
export function crossEntropyBackward(
  ins: readonly Arg[],
  outs: readonly Arg[],
  attrs: KernelAttrs["crossEntropyBackward"],
): void {
  const k = "crossEntropyBackward";
  expectArity(k, ins, outs, 4, 1);
  const [R, C] = checkTargets(k, ins[0]!, ins[1]!);
  expectShape(k, "logSumExp", ins[2]!, [R]);
  expectShape(k, "gradLoss", ins[3]!, [R]);
  const y = outs[0]!;
  expectShape(k, "output", y, [R, C]);
  expectContiguous(k, "output", y);
  const x = mat(ins[0]!), tv = vec(ins[1]!), lv = vec(ins[2]!), gv = vec(ins[3]!), out = y.data;
  const ignore = attrs.ignoreIndex;
  /** Row r in double precision: the reference the WebAssembly path matches to f32 rounding. */
  const slow = (r: number) => {
    const t = tv.data[tv.off + r * tv.s]!;
    const q = y.offset + r * C;
    if (t === ignore) {
      out.fill(0, q, q + C);
      return;
    }
    const lse = lv.data[lv.off + r * lv.s]!, g = gv.data[gv.off + r * gv.s]!;
    let p = x.off + r * x.rs;
    for (let c = 0; c < C; c++, p += x.cs) out[q + c] = g * (Math.exp(x.data[p]! - lse) - (c === t ? 1 : 0));
  };
  for (let r = 0; r < R; r++) target(k, tv, r, C, ignore);
  if (x.data instanceof Float32Array && out instanceof Float32Array && x.cs === 1 && ins[0]!.id !== y.id) {
    const lse = lseScratch(R), g = gScratch(R);
    for (let r = 0; r < R; r++) {
      const t = tv.data[tv.off + r * tv.s]!;
      lse[r] = t === ignore ? 0 : lv.data[lv.off + r * lv.s]!;
      g[r] = t === ignore ? 0 : gv.data[gv.off + r * gv.s]!;
    }
    if (wasmRowsSoftmaxGrad(x.data, x.off, x.rs, R, C, lse, g, out, y.offset, slow)) {
      for (let r = 0; r < R; r++) {
        const t = tv.data[tv.off + r * tv.s]!, q = y.offset + r * C;
        if (t === ignore) out.fill(0, q, q + C);
        else out[q + t] = g[r]! * (Math.exp(x.data[x.off + r * x.rs + t]! - lse[r]!) - 1);
      }
      return;
    }
  }
  for (let r = 0; r < R; r++) slow(r);
}

/** `random` kernel: element i draws at `(seed, counter + i)`. */
export function random(ins: readonly Arg[], outs: readonly Arg[], attrs: KernelAttrs["random"]): void {
  expectArity("random", ins, outs, 0, 1);
  const y = outs[0]!;
  expectContiguous("random", "output", y);
  const n = sizeOf(y.shape), out = y.data, o = y.offset;
  const { seed, counter, a, b } = attrs;
  const key = streamKey(seed >>> 0, 0);
  switch (attrs.dist) {
    case "uniform":
      for (let i = 0; i < n; i++) out[o + i] = a + (b - a) * uniformFromKey(key, counter + i);
      break;
    case "normal":
      for (let i = 0; i < n; i++) out[o + i] = a + b * normalAt(seed >>> 0, counter + i);
      break;
    case "bernoulli":
      for (let i = 0; i < n; i++) out[o + i] = uniformFromKey(key, counter + i) < a ? 1 : 0;
      break;
    default:
      throw new KernelError("random", `unknown dist "${attrs.dist}"`);
  }
}

/** `dropout` kernel: `y = x * keep(i) / (1 - p)` with `keep(i) = uniform(seed, counter + i) < 1 - p`. */
export function dropout(ins: readonly Arg[], outs: readonly Arg[], attrs: KernelAttrs["dropout"]): void {
  expectArity("dropout", ins, outs, 1, 1);
  const { p, seed, counter } = attrs;
  if (!(p >= 0 && p <= 1)) throw new KernelError("dropout", `p must be in [0, 1], got ${p}`);
  const y = outs[0]!;
  expectContiguous("dropout", "output", y);
  runElementwise("dropout", ins, y, COPY_EXPR);
  const n = sizeOf(y.shape), out = y.data, o = y.offset;
  const keepP = 1 - p, scale = p === 1 ? 0 : 1 / keepP;
  const key = streamKey(seed >>> 0, 0);
  for (let i = 0; i < n; i++) out[o + i] = uniformFromKey(key, counter + i) < keepP ? out[o + i]! * scale : 0;
}
