/**
 * Elementwise ops with NumPy broadcasting: arithmetic, math functions, comparisons, `where`, `clamp`, `cast`.
 * Binary ops take a tensor or a number on either side (at least one tensor); dtypes of two tensors must match.
 * Comparisons return 1/0 in the inputs' dtype and have no gradient.
 *
 * @example Broadcast a row over a matrix
 * ```ts
 * import { add, tensor } from "./mod.ts";
 * const m = tensor([[1, 2], [3, 4]]), row = tensor([10, 20]);
 * const y = add(m, row);
 * if (Array.from(y.dataSync()).join() !== "11,22,13,24") throw new Error("bad broadcast");
 * for (const t of [m, row, y]) t.dispose();
 * ```
 *
 * @module
 */

import type { BinaryOp, DType, UnaryOp } from "../gpu/backend.ts";
import { needsGrad, record } from "./autograd.ts";
import { backendOf, broadcastView, launch, needFloat, sameDtype, scalarLike, sumToRaw } from "./_kernel.ts";
import { broadcastShapes, fmt } from "./_shape.ts";
import { full, Tensor } from "./_tensor_core.ts";

/** An operand of a binary op: a tensor, or a number broadcast as a 0-d tensor of the other side's dtype. */
export type Operand = Tensor | number;

function unaryRaw(
  op: UnaryOp,
  x: Tensor,
  name: string,
  attrs: { alpha?: number; beta?: number } = {},
): Tensor {
  const backend = backendOf(name, [x]);
  return launch(backend, "unary", [x.view], [[x.shape, x.dtype]], { op, ...attrs })[0]!;
}

function binaryRaw(op: BinaryOp, a: Operand, b: Operand, name: string): Tensor {
  const like = a instanceof Tensor ? a : b;
  if (!(like instanceof Tensor)) throw new TypeError(`${name}: needs at least one tensor operand`);
  const at = scalarLike(a, like, name), bt = scalarLike(b, like, name);
  try {
    const backend = backendOf(name, [at, bt]);
    const dtype = sameDtype(name, [at, bt]);
    const shape = broadcastShapes(at.shape, bt.shape, name);
    return launch(backend, "binary", [broadcastView(at, shape), broadcastView(bt, shape)], [[shape, dtype]], {
      op,
    })[0]!;
  } finally {
    if (at !== a) at.dispose();
    if (bt !== b) bt.dispose();
  }
}

function isFloat(x: Operand): boolean {
  return typeof x === "number" || x.dtype !== "i32";
}

function tensorsOf(...xs: Operand[]): Tensor[] {
  return xs.filter((x): x is Tensor => x instanceof Tensor);
}

/** Record a binary op; `grad` returns gradients for (a, b) before reduction to their shapes. */
function recordBinary(
  name: string,
  a: Operand,
  b: Operand,
  out: Tensor,
  grad: (g: Tensor) => [() => Tensor, () => Tensor],
): Tensor {
  const inputs = tensorsOf(a, b);
  return record(name, inputs, [out], ([g]) => {
    const [ga, gb] = grad(g!);
    const res: (Tensor | null)[] = [];
    if (a instanceof Tensor) res.push(a.requiresGrad ? sumToRaw(ga(), a.shape) : null);
    if (b instanceof Tensor) res.push(b.requiresGrad ? sumToRaw(gb(), b.shape) : null);
    return res;
  });
}

/** `a + b` with broadcasting. */
export function add(a: Operand, b: Operand): Tensor {
  if (typeof b === "number" && a instanceof Tensor && isFloat(a)) {
    const out = unaryRaw("addScalar", a, "add", { alpha: b });
    return record("add", [a], [out], ([g]) => [g!]);
  }
  if (typeof a === "number" && b instanceof Tensor) return add(b, a);
  const out = binaryRaw("add", a, b, "add");
  return recordBinary("add", a, b, out, (g) => [() => g, () => g]);
}

/** `a - b` with broadcasting. */
export function sub(a: Operand, b: Operand): Tensor {
  if (typeof b === "number" && a instanceof Tensor && isFloat(a)) return add(a, -b);
  const out = binaryRaw("sub", a, b, "sub");
  return recordBinary("sub", a, b, out, (g) => [() => g, () => neg(g)]);
}

/** `a * b` with broadcasting. */
export function mul(a: Operand, b: Operand): Tensor {
  if (typeof b === "number" && a instanceof Tensor && isFloat(a)) {
    const out = unaryRaw("mulScalar", a, "mul", { alpha: b });
    return record("mul", [a], [out], ([g]) => [mul(g!, b)]);
  }
  if (typeof a === "number" && b instanceof Tensor) return mul(b, a);
  const out = binaryRaw("mul", a, b, "mul");
  return recordBinary("mul", a, b, out, (g) => [() => mul(g, b), () => mul(g, a)]);
}

/** `a / b` with broadcasting. */
export function div(a: Operand, b: Operand): Tensor {
  if (typeof b === "number" && a instanceof Tensor && isFloat(a)) return mul(a, 1 / b);
  const out = binaryRaw("div", a, b, "div");
  return recordBinary("div", a, b, out, (g) => [() => div(g, b), () => neg(div(mul(g, out), b))]);
}

/** `a ** b` with broadcasting. */
export function pow(a: Operand, b: Operand): Tensor {
  if (typeof b === "number" && a instanceof Tensor) {
    needFloat("pow", a);
    const out = unaryRaw("powScalar", a, "pow", { alpha: b });
    return record("pow", [a], [out], ([g]) => [mul(g!, mul(pow(a, b - 1), b))]);
  }
  const out = binaryRaw("pow", a, b, "pow");
  return recordBinary("pow", a, b, out, (g) => [
    () => mul(g, mul(pow(a, sub(b, 1)), b)),
    () => mul(g, mul(out, log(scalarOrSelf(a, out)))),
  ]);
}

function scalarOrSelf(a: Operand, like: Tensor): Tensor {
  return a instanceof Tensor ? a : scalarLike(a, like);
}

/** Elementwise maximum of `a` and `b` (ties split the gradient equally). */
export function maximum(a: Operand, b: Operand): Tensor {
  const out = binaryRaw("max", a, b, "maximum");
  return recordBinary("maximum", a, b, out, (g) => [
    () => mul(g, add(gt(a, b), mul(eq(a, b), 0.5))),
    () => mul(g, add(lt(a, b), mul(eq(a, b), 0.5))),
  ]);
}

/** Elementwise minimum of `a` and `b` (ties split the gradient equally). */
export function minimum(a: Operand, b: Operand): Tensor {
  const out = binaryRaw("min", a, b, "minimum");
  return recordBinary("minimum", a, b, out, (g) => [
    () => mul(g, add(lt(a, b), mul(eq(a, b), 0.5))),
    () => mul(g, add(gt(a, b), mul(eq(a, b), 0.5))),
  ]);
}

/** `a == b` as 1/0. */
export function eq(a: Operand, b: Operand): Tensor {
  return binaryRaw("eq", a, b, "eq");
}
/** `a != b` as 1/0. */
export function ne(a: Operand, b: Operand): Tensor {
  return binaryRaw("ne", a, b, "ne");
}
/** `a < b` as 1/0. */
export function lt(a: Operand, b: Operand): Tensor {
  return binaryRaw("lt", a, b, "lt");
}
/** `a <= b` as 1/0. */
export function le(a: Operand, b: Operand): Tensor {
  return binaryRaw("le", a, b, "le");
}
/** `a > b` as 1/0. */
export function gt(a: Operand, b: Operand): Tensor {
  return binaryRaw("gt", a, b, "gt");
}
/** `a >= b` as 1/0. */
export function ge(a: Operand, b: Operand): Tensor {
  return binaryRaw("ge", a, b, "ge");
}

function unary(op: UnaryOp, x: Tensor, grad: ((g: Tensor, y: Tensor) => Tensor) | null): Tensor {
  if (grad !== null) needFloat(op, x);
  const y = unaryRaw(op, x, op);
  return grad === null ? y : record(op, [x], [y], ([g]) => [grad(g!, y)]);
}

/** `-x`. */
export function neg(x: Tensor): Tensor {
  if (x.dtype === "i32") return unaryRaw("neg", x, "neg");
  return unary("neg", x, (g) => neg(g));
}
/** `e^x`. */
export function exp(x: Tensor): Tensor {
  return unary("exp", x, (g, y) => mul(g, y));
}
/** Natural logarithm. */
export function log(x: Tensor): Tensor {
  return unary("log", x, (g) => div(g, x));
}
/** Square root. */
export function sqrt(x: Tensor): Tensor {
  return unary("sqrt", x, (g, y) => div(mul(g, 0.5), y));
}
/** `x * x`. */
export function square(x: Tensor): Tensor {
  return unary("square", x, (g) => mul(g, mul(x, 2)));
}
/** `1 / sqrt(x)`. */
export function rsqrt(x: Tensor): Tensor {
  return unary("rsqrt", x, (g, y) => mul(g, mul(pow(y, 3), -0.5)));
}
/** `1 / x`. */
export function reciprocal(x: Tensor): Tensor {
  return unary("recip", x, (g, y) => neg(mul(g, mul(y, y))));
}
/** Sine. */
export function sin(x: Tensor): Tensor {
  return unary("sin", x, (g) => mul(g, unaryRaw("cos", x, "sin")));
}
/** Cosine. */
export function cos(x: Tensor): Tensor {
  return unary("cos", x, (g) => neg(mul(g, unaryRaw("sin", x, "cos"))));
}
/** Hyperbolic tangent. */
export function tanh(x: Tensor): Tensor {
  return unary("tanh", x, (g, y) => mul(g, sub(1, mul(y, y))));
}
/** Logistic sigmoid `1 / (1 + e^-x)`. */
export function sigmoid(x: Tensor): Tensor {
  return unary("sigmoid", x, (g, y) => mul(g, mul(y, sub(1, y))));
}
/** `max(x, 0)`. */
export function relu(x: Tensor): Tensor {
  return unary("relu", x, (g) => mul(g, unaryRaw("reluGrad", x, "relu")));
}
/** Absolute value (gradient `sign(x)`, 0 at 0). */
export function abs(x: Tensor): Tensor {
  if (x.dtype === "i32") return unaryRaw("abs", x, "abs");
  return unary("abs", x, (g) => mul(g, unaryRaw("sign", x, "abs")));
}
/** Sign: -1, 0 or 1 (no gradient). */
export function sign(x: Tensor): Tensor {
  return unaryRaw("sign", x, "sign");
}

/** Options of {@linkcode clamp}. */
export interface ClampOptions {
  /** Lower bound. @default -Infinity */
  min?: number;
  /** Upper bound. @default Infinity */
  max?: number;
}

/** Clamp into `[min, max]`; the gradient passes where `min <= x <= max`. */
export function clamp(x: Tensor, options: ClampOptions = {}): Tensor {
  const lo = options.min ?? -Infinity, hi = options.max ?? Infinity;
  if (lo > hi) throw new RangeError(`clamp: min ${lo} > max ${hi}`);
  const y = unaryRaw("clamp", x, "clamp", { alpha: lo, beta: hi });
  return record("clamp", [x], [y], ([g]) => [mul(g!, mul(ge(x, lo), le(x, hi)))]);
}

/** Convert to another dtype (float casts carry the gradient back). */
export function cast(x: Tensor, dtype: DType): Tensor {
  const backend = backendOf("cast", [x]);
  if (x.dtype === dtype) {
    const y = x._viewAs(x.shape, x.strides, x.offset);
    return record("cast", [x], [y], ([g]) => [g!]);
  }
  const y = launch(backend, "unary", [x.view], [[x.shape, dtype]], { op: "cast" })[0]!;
  if (dtype === "i32" || x.dtype === "i32") return y;
  return record("cast", [x], [y], ([g]) => [cast(g!, x.dtype)]);
}

/** The two branches of {@linkcode where}. */
export interface WhereBranches {
  /** Value where the condition is non-zero. */
  then: Operand;
  /** Value where the condition is zero. */
  else: Operand;
}

/** Pick `then` where `cond != 0`, else `else` (all three broadcast together). */
export function where(cond: Tensor, branches: WhereBranches): Tensor {
  const a = branches.then, b = branches.else;
  const like = a instanceof Tensor ? a : b instanceof Tensor ? b : null;
  const dtype: DType = like?.dtype ?? (cond.dtype === "i32" ? "f32" : cond.dtype);
  const mk = (v: Operand): Tensor => v instanceof Tensor ? v : full([], v, { dtype, backend: cond.backend });
  const at = mk(a), bt = mk(b);
  let out: Tensor;
  try {
    const backend = backendOf("where", [cond, at, bt]);
    sameDtype("where", [at, bt]);
    const shape = broadcastShapes(broadcastShapes(cond.shape, at.shape, "where"), bt.shape, "where");
    out = launch(
      backend,
      "where",
      [cond, at, bt].map((t) => broadcastView(t, shape)),
      [[shape, dtype]],
      {},
    )[0]!;
  } finally {
    if (at !== a) at.dispose();
    if (bt !== b) bt.dispose();
  }
  const inputs = tensorsOf(a, b);
  if (!needsGrad(...inputs)) return out;
  return record("where", inputs, [out], ([g]) => {
    const res: (Tensor | null)[] = [];
    if (a instanceof Tensor) {
      res.push(a.requiresGrad ? sumToRaw(where(cond, { then: g!, else: 0 }), a.shape) : null);
    }
    if (b instanceof Tensor) {
      res.push(b.requiresGrad ? sumToRaw(where(cond, { then: 0, else: g! }), b.shape) : null);
    }
    return res;
  });
}

/** Throw naming `op` unless `a` and `b` have exactly the same shape. */
export function assertSameShape(op: string, a: Tensor, b: Tensor): void {
  if (fmt(a.shape) !== fmt(b.shape)) {
    throw new RangeError(`${op}: shapes ${fmt(a.shape)} and ${fmt(b.shape)} differ`);
  }
}
