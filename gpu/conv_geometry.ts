/**
 * Output sizes of 2-D sliding windows (convolution and pooling) and the windows of adaptive pooling, with
 * PyTorch's formulas. The conv and pooling kernels of both backends and the ops of `nn/ops_conv.ts` use them.
 *
 * @example A 7x7 stride-2 convolution with padding 3 halves 224 pixels; ceil mode keeps a partial window
 * ```ts
 * import { adaptiveWindow, windowOutputSize } from "./conv_geometry.ts";
 * if (windowOutputSize(224, { kernel: 7, stride: 2, padding: 3 }) !== 112) throw new Error("conv size");
 * if (windowOutputSize(5, { kernel: 2, stride: 2, ceilMode: true }) !== 3) throw new Error("ceil size");
 * const [start, end] = adaptiveWindow(1, 7, 3); // the middle of three windows over 7 pixels
 * if (start !== 2 || end !== 5) throw new Error(`window [${start}, ${end})`);
 * ```
 *
 * @module
 */

/** One axis of a sliding window. */
export interface WindowAxis {
  /** Taps of the window. */
  kernel: number;
  /** Step between windows. @default 1 */
  stride?: number;
  /** Zeros (or ignored positions) added on each side. @default 0 */
  padding?: number;
  /** Spacing of the taps. @default 1 */
  dilation?: number;
  /** Round up, keeping a last window that starts inside the input or its left padding. @default false */
  ceilMode?: boolean;
}

/**
 * Number of window positions along an axis of `size` (PyTorch's `conv` / `pooling_output_shape`); 0 or less
 * when the window does not fit.
 *
 * @param size Input length along the axis.
 * @param axis Window geometry along the axis.
 * @returns The output length.
 */
export function windowOutputSize(
  size: number,
  { kernel, stride = 1, padding = 0, dilation = 1, ceilMode = false }: WindowAxis,
): number {
  const span = size + 2 * padding - dilation * (kernel - 1) - 1;
  if (span < 0) return 0;
  let out = Math.floor((span + (ceilMode ? stride - 1 : 0)) / stride) + 1;
  if (ceilMode && (out - 1) * stride >= size + padding) out--;
  return out;
}

/**
 * Window `i` of adaptive pooling from `inSize` to `outSize` positions: `[floor(i * in / out), ceil((i + 1) * in
 * / out))`.
 *
 * @param i Output position.
 * @param inSize Input length.
 * @param outSize Output length.
 * @returns Start (inclusive) and end (exclusive) input positions.
 */
export function adaptiveWindow(i: number, inSize: number, outSize: number): [number, number] {
  return [Math.floor((i * inSize) / outSize), Math.ceil(((i + 1) * inSize) / outSize)];
}
