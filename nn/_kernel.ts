/**
 * Kernel launch helpers shared by the ops (private): allocate outputs, check inputs, call `Backend.run`.
 *
 * @module
 */

import type { Backend, DType, KernelAttrs, View } from "../gpu/backend.ts";
import type { KernelName } from "../gpu/kernel_names.ts";
import { getBackend } from "./engine.ts";
import { _empty, full, Tensor } from "./tensor.ts";
import { fmt, numel } from "./_shape.ts";

/** The common backend of `inputs` (the active one when there are none); throws naming `op` on a mix. */
export function backendOf(op: string, inputs: readonly Tensor[]): Backend {
  const b = inputs[0]?.backend ?? getBackend();
  for (const t of inputs) {
    t.assertAlive(op);
    if (t.backend !== b) {
      throw new Error(`${op}: inputs live on different backends ("${b.name}" and "${t.backend.name}")`);
    }
  }
  return b;
}

/** Throw naming `op` and the shapes when the dtypes of `inputs` differ. */
export function sameDtype(op: string, inputs: readonly Tensor[]): DType {
  const d = inputs[0]!.dtype;
  for (const t of inputs) {
    if (t.dtype !== d) {
      throw new TypeError(
        `${op}: dtype mismatch: ${inputs.map((x) => `${fmt(x.shape)} ${x.dtype}`).join(" vs ")}`,
      );
    }
  }
  return d;
}

/** Throw naming `op` unless `t` has a float dtype. */
export function needFloat(op: string, t: Tensor): void {
  if (t.dtype === "i32") throw new TypeError(`${op}: needs a float tensor, got ${fmt(t.shape)} i32`);
}

/** Throw naming `op` unless `t` is i32. */
export function needInt(op: string, t: Tensor, what = "indices"): void {
  if (t.dtype !== "i32") throw new TypeError(`${op}: ${what} must be i32, got ${fmt(t.shape)} ${t.dtype}`);
}

/** A view of `t` broadcast to `shape` (stride 0 on broadcast axes); `shape` must be a valid broadcast. */
export function broadcastView(t: Tensor, shape: readonly number[]): View {
  const v = t.view;
  const lead = shape.length - t.rank;
  const strides = shape.map((d, i) => {
    if (i < lead) return 0;
    const td = t.shape[i - lead]!;
    return td === 1 && d !== 1 ? 0 : t.strides[i - lead]!;
  });
  return { storage: v.storage, shape, strides, offset: v.offset };
}

/**
 * Run kernel `name` over input views and fresh contiguous outputs of the given shapes and dtypes.
 * Skips the launch when every output is empty.
 */
export function launch<K extends KernelName>(
  backend: Backend,
  name: K,
  inputs: readonly View[],
  outputs: readonly (readonly [readonly number[], DType])[],
  attrs: KernelAttrs[K],
): Tensor[] {
  const outs = outputs.map(([shape, dtype]) => _empty(shape, dtype, backend));
  if (outs.some((o) => o.size > 0)) backend.run(name, inputs, outs.map((o) => o.view), attrs);
  return outs;
}

/** A tensor for `v`: the tensor itself, or a 0-d tensor of `like`'s dtype and backend (caller disposes). */
export function scalarLike(v: Tensor | number, like: Tensor, op = "op"): Tensor {
  if (v instanceof Tensor) return v;
  if (like.dtype === "i32" && !Number.isInteger(v)) {
    throw new TypeError(
      `${op}: number ${v} is not an integer but the tensor ${fmt(like.shape)} is i32; cast it first`,
    );
  }
  return full([], v, { dtype: like.dtype, backend: like.backend });
}

/** Element count helper re-exported for ops. */
export { numel };
