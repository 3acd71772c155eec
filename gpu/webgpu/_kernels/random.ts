/**
 * WebGPU `random` and `dropout` kernels on the shared counter-based generator (`RNG_WGSL` of `../../rng.ts`):
 * element `i` draws at `(seed, counter + i)`, so the numbers equal the CPU backend's. Dropout is an elementwise
 * launch (`elementwise.ts`) with the keep test after the load.
 *
 * @module
 */

import type { KernelAttrs, RandomDist, View } from "../../backend.ts";
import { RNG_WGSL, streamKey } from "../../rng.ts";
import type { GpuContext, GpuKernels } from "../_context.ts";
import { UniformWriter } from "../_exec.ts";
import { fail, sizeOf } from "../_storage.ts";
import { elementwise, type EwOp, flatMain, MATH_WGSL } from "./elementwise.ts";

/** `random`. Uniforms: n, yOff, key0, key1, seed, counter, a, b, threshold. */
export function randomCode(dist: RandomDist, outIsInt: boolean): { key: string; code: () => string } {
  const expr = dist === "uniform"
    ? "uf(6u) + uf(7u) * uniform_from_key(uu(2u), uu(5u) + i)"
    : dist === "normal"
    ? "uf(6u) + uf(7u) * normal_at(uu(4u), uu(5u) + i)"
    : dist === "bernoulli"
    ? "select(0.0, 1.0, (pcg_hash(uu(5u) + i + uu(2u)) >> 8u) < uu(8u))"
    : undefined;
  if (expr === undefined) throw new Error(`webgpu random: unknown dist "${dist}"`);
  const code = () =>
    `${MATH_WGSL}${RNG_WGSL}${flatMain("uu(0u)")}
  let v = ${expr};
  $0[ui(1u) + i32(i)] = ${outIsInt ? "f2i(v)" : "v"};
}`;
  return { key: `random|${dist}|${outIsInt}`, code };
}

/** `dropout`: keep element i when the 24-bit uniform at `(seed, counter + i)` is below `threshold`. */
export function dropoutOp(p: number, counter: number, streamKey: number): EwOp {
  const keep = 1 - p;
  const threshold = Math.min(16777216, Math.max(0, Math.ceil(keep * 16777216)));
  const scale = p === 1 ? 0 : 1 / keep;
  return {
    name: "dropout",
    expr: "x0",
    ct: "f32",
    params: (u) => {
      u.f32(scale), u.u32(threshold), u.u32(streamKey), u.u32(counter >>> 0);
    },
    post: "r = select(0.0, r * uf(P), (pcg_hash(i + uu(P + 3u) + uu(P + 2u)) >> 8u) < uu(P + 1u));",
    extra: RNG_WGSL,
  };
}

function random(
  ins: readonly View[],
  outs: readonly View[],
  attrs: KernelAttrs["random"],
  ctx: GpuContext,
): void {
  ctx.arity("random", ins, outs, 0, 1);
  const y = outs[0]!;
  ctx.contiguous("random", "output", y);
  const n = sizeOf(y.shape);
  if (n === 0) return;
  const { dist, seed, counter, a, b } = attrs;
  const u = new UniformWriter();
  u.u32(n), u.i32(y.offset), u.u32(streamKey(seed >>> 0, 0)), u.u32(streamKey(seed >>> 0, 1));
  u.u32(seed >>> 0), u.u32(counter >>> 0);
  if (dist === "uniform") u.f32(a), u.f32(b - a);
  else u.f32(a), u.f32(b);
  u.u32(Math.min(16777216, Math.max(0, Math.ceil(a * 16777216) || 0)));
  const { key, code } = randomCode(dist, y.storage.dtype === "i32");
  ctx.launch({
    key,
    code,
    operands: [ctx.buf(y, true)],
    uniforms: u.words().slice(),
    workgroups: Math.ceil(n / 64),
  });
  ctx.touch(y);
}

/** `dropout` kernel. */
function dropout(
  ins: readonly View[],
  outs: readonly View[],
  attrs: KernelAttrs["dropout"],
  ctx: GpuContext,
): void {
  ctx.arity("dropout", ins, outs, 1, 1);
  const { p, seed, counter } = attrs;
  if (!(p >= 0 && p <= 1)) fail("dropout", `p must be in [0, 1], got ${p}`);
  ctx.contiguous("dropout", "output", outs[0]!);
  elementwise(ctx, "dropout", dropoutOp(p, counter, streamKey(seed >>> 0, 0)), ins, outs[0]!);
}

/** The random family. */
export const RANDOM_KERNELS: GpuKernels<"random" | "dropout"> = { random, dropout };
