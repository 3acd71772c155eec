/**
 * `TensorMap`: the plain, framework-free form every checkpoint reader returns and every writer takes — named
 * host arrays with a shape. Model code adapts it to Tensors; the checkpoint code never needs the engine.
 *
 * @module
 */

/** Element type of a host tensor: 32-bit float or 32-bit signed int. */
export type HostDType = "f32" | "i32";

/** One named tensor on the host, row-major (C-contiguous). */
export interface HostTensor {
  /** Element type; `data` is a Float32Array for `"f32"` and an Int32Array for `"i32"`. */
  dtype: HostDType;
  /** Dimensions, outermost first; `[]` is a scalar holding one element. */
  shape: number[];
  /**
   * The elements, row-major; its length is the product of `shape`. Readers may return views into the file's
   * bytes (`byteOffset` not 0) or one array shared by tied tensors: use `data.length` / `byteOffset`, not
   * `data.buffer` alone, and copy before mutating in place.
   */
  data: Float32Array | Int32Array;
}

/** Named host tensors, in insertion order. */
export type TensorMap = Map<string, HostTensor>;

/**
 * Number of elements of a shape (1 for a scalar), or throws on a negative / non-integer dimension.
 *
 * @param shape dimensions
 * @returns the product of the dimensions
 * @example Element count
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { shapeSize } from "./tensor_map.ts";
 * strictEqual(shapeSize([2, 3, 4]), 24);
 * ```
 */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`bad dimension ${d} in shape [${shape}]`);
    n *= d;
  }
  return n;
}

/**
 * Builds a f32 host tensor, checking that the data length matches the shape.
 *
 * @param shape dimensions
 * @param data elements, row-major (copied from a plain array)
 * @returns a HostTensor
 */
export function f32Tensor(shape: number[], data: Float32Array | readonly number[]): HostTensor {
  const arr = data instanceof Float32Array ? data : Float32Array.from(data);
  if (arr.length !== shapeSize(shape)) {
    throw new RangeError(`f32Tensor: ${arr.length} values do not fill shape [${shape}]`);
  }
  return { dtype: "f32", shape, data: arr };
}

/**
 * Builds an i32 host tensor, checking that the data length matches the shape.
 *
 * @param shape dimensions
 * @param data elements, row-major (copied from a plain array)
 * @returns a HostTensor
 */
export function i32Tensor(shape: number[], data: Int32Array | readonly number[]): HostTensor {
  const arr = data instanceof Int32Array ? data : Int32Array.from(data);
  if (arr.length !== shapeSize(shape)) {
    throw new RangeError(`i32Tensor: ${arr.length} values do not fill shape [${shape}]`);
  }
  return { dtype: "i32", shape, data: arr };
}
