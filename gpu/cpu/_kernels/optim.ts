/**
 * Optimizer steps (PyTorch `torch.optim.Adam`/`AdamW`/`SGD` formulas), elementwise over contiguous views.
 * Outputs normally alias the inputs (in-place update); each element is read before it is written.
 *
 * @module
 */

import type { KernelAttrs } from "../../backend.ts";
import {
  type Arg,
  type CpuKernels,
  expectArity,
  expectContiguous,
  expectShape,
  KernelError,
  sizeOf,
} from "../_args.ts";

function checkAll(kernel: string, ins: readonly Arg[], outs: readonly Arg[]): number {
  const shape = ins[0]!.shape;
  ins.forEach((a, i) => {
    expectShape(kernel, `input ${i}`, a, shape);
    expectContiguous(kernel, `input ${i}`, a);
  });
  outs.forEach((a, i) => {
    expectShape(kernel, `output ${i}`, a, shape);
    expectContiguous(kernel, `output ${i}`, a);
  });
  return sizeOf(shape);
}

/**
 * `adam` kernel: in [param, grad, expAvg, expAvgSq] -> out [param, expAvg, expAvgSq].
 * `g = grad (+ wd * p unless decoupled)`, `p *= 1 - lr * wd if decoupled`, `m = b1 m + (1 - b1) g`,
 * `v = b2 v + (1 - b2) g^2`, `p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`.
 */
export function adam(ins: readonly Arg[], outs: readonly Arg[], attrs: KernelAttrs["adam"]): void {
  expectArity("adam", ins, outs, 4, 3);
  const n = checkAll("adam", ins, outs);
  const { lr, beta1, beta2, eps, weightDecay: wd, decoupled, step } = attrs;
  if (!(step >= 1)) throw new KernelError("adam", `step is 1-based, got ${step}`);
  const [p, g, m, v] = ins as [Arg, Arg, Arg, Arg];
  const [pOut, mOut, vOut] = outs as [Arg, Arg, Arg];
  const bc1 = 1 - Math.pow(beta1, step), sqrtBc2 = Math.sqrt(1 - Math.pow(beta2, step));
  const stepSize = lr / bc1, decay = decoupled ? 1 - lr * wd : 1, l2 = decoupled ? 0 : wd;
  for (let i = 0; i < n; i++) {
    let pi = p.data[p.offset + i]!;
    const gi = g.data[g.offset + i]! + l2 * pi;
    pi *= decay;
    const mi = beta1 * m.data[m.offset + i]! + (1 - beta1) * gi;
    const vi = beta2 * v.data[v.offset + i]! + (1 - beta2) * gi * gi;
    mOut.data[mOut.offset + i] = mi;
    vOut.data[vOut.offset + i] = vi;
    pOut.data[pOut.offset + i] = pi - stepSize * mi / (Math.sqrt(vi) / sqrtBc2 + eps);
  }
}

/**
 * `sgd` kernel: in [param, grad, momentumBuf] -> out [param, momentumBuf].
 * `g = grad + wd * p`; with momentum `buf = momentum * buf + (1 - dampening) * g` and `g = nesterov ?
 * g + momentum * buf : buf`; `p -= lr * g`. The buffer starts at zero (the caller zero-fills it), which equals
 * PyTorch's first step `buf = g` when `dampening` is 0.
 */
export function sgd(ins: readonly Arg[], outs: readonly Arg[], attrs: KernelAttrs["sgd"]): void {
  expectArity("sgd", ins, outs, 3, 2);
  const n = checkAll("sgd", ins, outs);
  const { lr, momentum, weightDecay: wd, dampening, nesterov } = attrs;
  const [p, g, buf] = ins as [Arg, Arg, Arg];
  const [pOut, bufOut] = outs as [Arg, Arg];
  for (let i = 0; i < n; i++) {
    const pi = p.data[p.offset + i]!;
    let gi = g.data[g.offset + i]! + wd * pi;
    if (momentum !== 0) {
      const b = momentum * buf.data[buf.offset + i]! + (1 - dampening) * gi;
      bufOut.data[bufOut.offset + i] = b;
      gi = nesterov ? gi + momentum * b : b;
    }
    pOut.data[pOut.offset + i] = pi - lr * gi;
  }
}

/** The optimizer family. */
export const OPTIM_KERNELS: CpuKernels<"adam" | "sgd"> = { adam, sgd };
