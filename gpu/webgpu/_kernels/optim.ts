/**
 * WebGPU optimizer steps, in place: Adam / AdamW and SGD with momentum (PyTorch formulas), one invocation per
 * element over contiguous f32 views.
 *
 * @module
 */

import type { KernelAttrs, View } from "../../backend.ts";
import type { GpuContext, GpuKernels } from "../_context.ts";
import { UniformWriter } from "../_exec.ts";
import { fail, sizeOf } from "../_storage.ts";
import { flatMain } from "./elementwise.ts";

/**
 * `adam` in place. Operands: $0 param, $1 grad, $2 expAvg, $3 expAvgSq, $4 paramOut, $5 expAvgOut,
 * $6 expAvgSqOut. Uniforms: n, 7 offsets, beta1, beta2, eps, stepSize, decay, l2, sqrtBc2.
 */
export function adamCode(): { key: string; code: () => string } {
  const code = () =>
    `${flatMain("uu(0u)")}
  let k = i32(i);
  var p = $0[ui(1u) + k];
  let g = $1[ui(2u) + k] + uf(13u) * p;
  p = p * uf(12u);
  let m = uf(8u) * $2[ui(3u) + k] + (1.0 - uf(8u)) * g;
  let v = uf(9u) * $3[ui(4u) + k] + (1.0 - uf(9u)) * g * g;
  $5[ui(6u) + k] = m;
  $6[ui(7u) + k] = v;
  $4[ui(5u) + k] = p - uf(11u) * m / (sqrt(v) / uf(14u) + uf(10u));
}`;
  return { key: "adam", code };
}

/**
 * `sgd` in place. Operands: $0 param, $1 grad, $2 buf, $3 paramOut, $4 bufOut. Uniforms: n, 5 offsets, lr,
 * momentum, wd, dampening, nesterov.
 */
export function sgdCode(): { key: string; code: () => string } {
  const code = () =>
    `${flatMain("uu(0u)")}
  let k = i32(i);
  let p = $0[ui(1u) + k];
  var g = $1[ui(2u) + k] + uf(8u) * p;
  let mom = uf(7u);
  if (mom != 0.0) {
    let bb = mom * $2[ui(3u) + k] + (1.0 - uf(9u)) * g;
    $4[ui(5u) + k] = bb;
    if (uu(10u) != 0u) { g = g + mom * bb; } else { g = bb; }
  }
  $3[ui(4u) + k] = p - uf(6u) * g;
}`;
  return { key: "sgd", code };
}

function optimCheck(
  ctx: GpuContext,
  kernel: string,
  ins: readonly View[],
  outs: readonly View[],
  nIn: number,
  nOut: number,
): number {
  ctx.arity(kernel, ins, outs, nIn, nOut);
  const shape = ins[0]!.shape;
  [...ins, ...outs].forEach((v, i) => {
    const what = i < nIn ? `input ${i}` : `output ${i - nIn}`;
    ctx.shape(kernel, what, v, shape);
    ctx.contiguous(kernel, what, v);
    ctx.dtype(kernel, what, v, "f32");
  });
  return sizeOf(shape);
}

function adam(
  ins: readonly View[],
  outs: readonly View[],
  attrs: KernelAttrs["adam"],
  ctx: GpuContext,
): void {
  const n = optimCheck(ctx, "adam", ins, outs, 4, 3);
  const { lr, beta1, beta2, eps, weightDecay: wd, decoupled, step } = attrs;
  if (!(step >= 1)) fail("adam", `step is 1-based, got ${step}`);
  if (n === 0) return;
  const bc1 = 1 - Math.pow(beta1, step), sqrtBc2 = Math.sqrt(1 - Math.pow(beta2, step));
  optimLaunch(ctx, ins, outs, n, adamCode(), (u) => {
    u.f32(beta1), u.f32(beta2), u.f32(eps), u.f32(lr / bc1), u.f32(decoupled ? 1 - lr * wd : 1);
    u.f32(decoupled ? 0 : wd), u.f32(sqrtBc2);
  });
}

function sgd(ins: readonly View[], outs: readonly View[], attrs: KernelAttrs["sgd"], ctx: GpuContext): void {
  const n = optimCheck(ctx, "sgd", ins, outs, 3, 2);
  if (n === 0) return;
  optimLaunch(ctx, ins, outs, n, sgdCode(), (u) => {
    u.f32(attrs.lr), u.f32(attrs.momentum), u.f32(attrs.weightDecay), u.f32(attrs.dampening);
    u.u32(attrs.nesterov ? 1 : 0);
  });
}

/** Launch an in-place optimizer kernel: uniforms are the element count, every offset, then `scalars`. */
function optimLaunch(
  ctx: GpuContext,
  ins: readonly View[],
  outs: readonly View[],
  n: number,
  { key, code }: { key: string; code: () => string },
  scalars: (u: UniformWriter) => void,
): void {
  const u = new UniformWriter();
  u.u32(n);
  for (const v of [...ins, ...outs]) u.i32(v.offset);
  scalars(u);
  ctx.launch({
    key,
    code,
    operands: [...ins.map((v) => ctx.buf(v)), ...outs.map((v) => ctx.buf(v, true))],
    uniforms: u.words().slice(),
    workgroups: Math.ceil(n / 64),
  });
  ctx.touch(...outs);
}

/** The optimizer family. */
export const OPTIM_KERNELS: GpuKernels<"adam" | "sgd"> = { adam, sgd };
