/**
 * Fused neural-network ops: cross-entropy, dropout and cosine similarity, each with its gradient (the fused
 * ones through the backend's backward kernels). The recurrent cells run inside the sequence ops of
 * `ops_rnn.ts`.
 *
 * @example Cross-entropy of two rows, one ignored
 * ```ts
 * import { crossEntropy, tensor } from "./mod.ts";
 * const logits = tensor([[0, 0], [5, 1]]);
 * const targets = tensor([1, -100], { dtype: "i32" });
 * const loss = crossEntropy(logits, targets); // mean over the one counted row: log(2)
 * if (Math.abs(loss.dataSync()[0]! - Math.LN2) > 1e-6) throw new Error("bad loss");
 * for (const t of [logits, targets, loss]) t.dispose();
 * ```
 *
 * @module
 */

import { getRng } from "../gpu/rng.ts";
import { _composite, needsGrad, record } from "./autograd.ts";
import { _contig, backendOf, launch, needFloat, needInt } from "./_kernel.ts";
import { fmt } from "./_shape.ts";
import type { Tensor } from "./_tensor_core.ts";
import { expand, reshape } from "./ops_shape.ts";
import { cast, clamp, div, mul, ne, sqrt } from "./ops_elementwise.ts";
import { sum } from "./ops_reduce.ts";

/** Options of {@linkcode crossEntropy}. */
export interface CrossEntropyOptions {
  /** Target value whose rows add no loss and no gradient. @default -100 */
  ignoreIndex?: number;
  /** `"mean"` over counted rows, `"sum"`, or `"none"` (per-row losses). @default "mean" */
  reduction?: "mean" | "sum" | "none";
}

/**
 * Softmax cross-entropy of `logits (..., C)` against i32 class `targets (...)`, fused (one kernel forward, one
 * backward); equals PyTorch's `F.cross_entropy` on the flattened rows.
 */
export function crossEntropy(logits: Tensor, targets: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const { ignoreIndex = -100, reduction = "mean" } = options;
  const backend = backendOf("crossEntropy", [logits, targets]);
  needFloat("crossEntropy", logits);
  needInt("crossEntropy", targets, "targets");
  if (logits.rank < 1 || fmt(targets.shape) !== fmt(logits.shape.slice(0, -1))) {
    throw new RangeError(
      `crossEntropy: targets ${fmt(targets.shape)} must be logits ${fmt(logits.shape)} without the last axis`,
    );
  }
  const C = logits.shape[logits.rank - 1]!, R = targets.size;
  const x = _contig(logits), t = _contig(targets);
  const xv = { ...x.view, shape: [R, C], strides: [C, 1] };
  const tv = { ...t.view, shape: [R], strides: [1] };
  const [loss, lse] = launch(backend, "crossEntropy", [xv, tv], [[[R], logits.dtype], [[R], logits.dtype]], {
    ignoreIndex,
  }) as [Tensor, Tensor];
  const recording = needsGrad(logits);
  let out: Tensor, count: Tensor | null = null;
  if (reduction === "none") {
    out = reshape(loss, targets.shape);
  } else {
    const total = sum(loss);
    if (reduction === "sum") out = total;
    else {
      const counted = ne(t, ignoreIndex);
      const c = cast(counted, logits.dtype);
      counted.dispose();
      count = sum(c);
      c.dispose();
      out = div(total, count);
      total.dispose();
    }
  }
  if (out !== loss) loss.dispose();
  if (!recording) {
    for (const tmp of [lse, count]) tmp?.dispose();
    if (x !== logits) x.dispose();
    if (t !== targets) t.dispose();
    return out;
  }
  return record("crossEntropy", [logits], [out], ([g]) => {
    let gl: Tensor;
    if (reduction === "none") gl = _contig(reshape(g!, [R]));
    else {
      const scaled = count === null ? g! : div(g!, count);
      gl = _contig(expand(reshape(scaled, [1]), [R]));
    }
    const glv = { ...gl.view, shape: [R], strides: [1] };
    const d = launch(backend, "crossEntropyBackward", [xv, tv, lse.view, glv], [[[R, C], logits.dtype]], {
      ignoreIndex,
    })[0]!;
    return [reshape(d, logits.shape)];
  });
}

/** Options of {@linkcode dropout}. */
export interface DropoutOptions {
  /** Apply the mask (training); when false the input passes through. @default true */
  training?: boolean;
}

/**
 * Zero each element with probability `p` and scale the rest by `1 / (1 - p)`. The mask comes from the seeded
 * generator's counter and is regenerated in backward from the same `(seed, counter)` (never stored).
 */
export function dropout(x: Tensor, p: number, options: DropoutOptions = {}): Tensor {
  const backend = backendOf("dropout", [x]);
  needFloat("dropout", x);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout: p = ${p} must be in [0, 1]`);
  if (options.training === false || p === 0) {
    const y = x._viewAs(x.shape, x.strides, x.offset);
    return record("dropout", [x], [y], ([g]) => [g!]);
  }
  const rng = getRng();
  const attrs = { p, seed: rng.seed, counter: rng.take(x.size) };
  const y = launch(backend, "dropout", [x.view], [[x.shape, x.dtype]], attrs)[0]!;
  return record(
    "dropout",
    [x],
    [y],
    ([g]) => [launch(backend, "dropout", [g!.view], [[x.shape, x.dtype]], attrs)[0]!],
  );
}

/** Options of {@linkcode cosineSimilarity}. */
export interface CosineOptions {
  /** Axis holding the vectors. @default -1 */
  axis?: number;
  /** Lower bound on `|a| |b|`. @default 1e-8 */
  eps?: number;
}

/** Cosine similarity `a.b / max(|a| |b|, eps)` along an axis (broadcasting `a` and `b`). */
export function cosineSimilarity(a: Tensor, b: Tensor, options: CosineOptions = {}): Tensor {
  const { axis = -1, eps = 1e-8 } = options;
  return _composite([a, b], () => {
    const dot = sum(mul(a, b), { axis });
    const na = sum(mul(a, a), { axis }), nb = sum(mul(b, b), { axis });
    return div(dot, sqrt(clamp(mul(na, nb), { min: eps * eps })));
  });
}
