/**
 * The seam between the tensor front end (`nn/`) and the compute backends (`cpu`, `webgpu`).
 *
 * A backend only stores and moves numbers and runs kernels by name; it knows nothing about autograd.
 * The front end converts inputs, allocates outputs, and calls {@linkcode Backend.run}.
 *
 * Conventions every backend follows:
 * - Storage is a flat array of `size` elements of one {@linkcode DType}.
 * - A {@linkcode View} is `(storage, shape, strides, offset)` in elements. Inputs may be any strided view
 *   (stride 0 = broadcast, permuted strides = transposed). Outputs are contiguous (row-major) unless a
 *   kernel says otherwise (`copy` writes into any strided view, which is how slices, concat and stack work).
 * - Kernels enqueue work; nothing is read back until {@linkcode Backend.read}.
 * - Outputs may alias inputs only where a kernel says so (optimizer steps update in place).
 *
 * @module
 */

import type { KernelName } from "./kernel_names.ts";

/** Element types. `f64` exists on the CPU backend only (gradient checks). */
export type DType = "f32" | "i32" | "f64";

/** The typed array that holds elements of each dtype. */
export type TypedArray = Float32Array | Int32Array | Float64Array;

/** An opaque handle to backend memory; `size` counts elements. */
export interface Storage {
  /** Unique id within its backend. */
  readonly id: number;
  /** Number of elements. */
  readonly size: number;
  /** Element type. */
  readonly dtype: DType;
}

/** A strided window onto a storage. `strides` and `offset` count elements. */
export interface View {
  /** The storage this view reads or writes. */
  readonly storage: Storage;
  /** Logical shape. */
  readonly shape: readonly number[];
  /** Element stride of each axis (0 for a broadcast axis). */
  readonly strides: readonly number[];
  /** Element offset of the first element. */
  readonly offset: number;
}

/** Memory statistics, for tests and benchmarks. */
export interface MemoryStats {
  /** Storages currently allocated and not freed. */
  liveStorages: number;
  /** Bytes held by live storages. */
  liveBytes: number;
  /** Highest `liveBytes` seen since the backend started. */
  peakBytes: number;
}

/** Unary elementwise operations (`unary` kernel). */
export type UnaryOp =
  | "neg"
  | "exp"
  | "log"
  | "sqrt"
  | "rsqrt"
  | "tanh"
  | "sigmoid"
  | "relu"
  | "abs"
  | "sign"
  | "square"
  | "recip"
  | "sin"
  | "cos"
  | "clamp" // alpha = min, beta = max
  | "powScalar" // x ** alpha
  | "mulScalar" // x * alpha
  | "addScalar" // x + alpha
  | "reluGrad" // 1 where x > 0 else 0
  | "cast"; // convert to the output dtype

/** Binary elementwise operations (`binary` kernel); comparisons write 1/0 in the output dtype. */
export type BinaryOp =
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "pow"
  | "max"
  | "min"
  | "eq"
  | "ne"
  | "lt"
  | "le"
  | "gt"
  | "ge";

/** Reductions over the last axis of a `(rows, cols)` input (`reduce` kernel). */
export type ReduceOp = "sum" | "mean" | "max" | "min" | "argmax" | "argmin" | "sumSquares";

/** Geometry of a 2-D convolution, each pair `[height, width]`: step, zero padding on both sides, dilation. */
export interface Conv2dAttrs {
  /** Step between windows. */
  stride: readonly [number, number];
  /** Zeros added on each side. */
  padding: readonly [number, number];
  /** Spacing of the kernel taps. */
  dilation: readonly [number, number];
}

/** Geometry of a max pooling window (`[height, width]` pairs); padded positions never win. */
export interface MaxPool2dAttrs extends Conv2dAttrs {
  /** Window size. */
  kernel: readonly [number, number];
  /** Round the output size up (PyTorch `ceil_mode`; a window must start inside the input or its left padding). */
  ceilMode: boolean;
}

/** Geometry of an average pooling window (`[height, width]` pairs). */
export interface AvgPool2dAttrs {
  /** Window size. */
  kernel: readonly [number, number];
  /** Step between windows. */
  stride: readonly [number, number];
  /** Zeros added on each side. */
  padding: readonly [number, number];
  /** Round the output size up, as {@linkcode MaxPool2dAttrs.ceilMode}. */
  ceilMode: boolean;
  /** Divide by the whole window including padding (but not past the padded input), else by the taps inside. */
  countIncludePad: boolean;
  /** Divide every window by this instead (0 = no override). */
  divisorOverride: number;
}

/** Distributions of the counter-based generator (`random` kernel). */
export type RandomDist = "uniform" | "normal" | "bernoulli";

/**
 * Attributes of each kernel. Inputs/outputs are listed as `in: [...] -> out: [...]`.
 * Shapes: `B` batch, `M,K,N` matmul dims, `H` hidden size, `R` rows, `C` columns.
 */
export interface KernelAttrs {
  /** in: [x] -> out: [y]; same shape; `alpha`/`beta` as {@linkcode UnaryOp} says. */
  unary: { op: UnaryOp; alpha?: number; beta?: number };
  /** in: [a, b] (already broadcast to the output shape by strides) -> out: [y]. */
  binary: { op: BinaryOp };
  /** in: [cond, a, b] broadcast views -> out: [y]; y = cond != 0 ? a : b. */
  where: Record<string, never>;
  /** in: [x] any view -> out: [y] any view of the same shape (strided write; used for slices/concat). */
  copy: Record<string, never>;
  /**
   * in: [x (R, C)] any non-negative strides -> out: [y (R)]; argmax/argmin write i32. Ties pick the first index; NaN propagates
   * through max/min (argmax/argmin return the first NaN's index); max/min/argmax/argmin of empty rows (C = 0) are
   * kernel errors on CPU.
   */
  reduce: { op: ReduceOp };
  /** in: [x (R, C)] contiguous -> out: [y (R, C)]; softmax or log-softmax over the last axis. */
  softmax: { log: boolean };
  /**
   * in: [a (B, M, K), b (B, K, N)] views whose two inner axes are row-major or transposed (unit stride on
   * one of them) and whose batch stride may be 0 -> out: [c (B, M, N)] contiguous. `accumulate`: c += a@b.
   */
  matmul: { accumulate?: boolean };
  /** in: [table (V, D), ids i32 (N)] -> out: [y (N, D)]; an id outside [0, V) is a kernel error on CPU, zeros on GPU. */
  gather: Record<string, never>;
  /** in: [src (N, D), ids i32 (N)] -> out: [table (V, D)] accumulated in place (caller zero-fills first). */
  scatterAdd: Record<string, never>;
  /**
   * in: [logits (R, C), targets i32 (R)] -> out: [loss (R), logSumExp (R)]; rows whose target equals
   * `ignoreIndex` get loss 0.
   */
  crossEntropy: { ignoreIndex: number };
  /**
   * in: [logits (R, C), targets i32 (R), logSumExp (R), gradLoss (R)] -> out: [gradLogits (R, C)];
   * gradLogits = gradLoss * (softmax - onehot), zero on ignored rows.
   */
  crossEntropyBackward: { ignoreIndex: number };
  /**
   * in: [] -> out: [y]; element i of the output draws from the counter-based generator at
   * `(seed, counter + i)` so both backends produce identical streams (see `gpu/rng.ts`).
   * uniform: [a, b); normal: mean a, std b; bernoulli: 1 with probability a else 0. Exactly, with `i` the
   * row-major index of the output element and `u(i) = uniformFromKey(streamKey(seed, 0), counter + i)`:
   * uniform `a + (b - a) * u(i)`; normal `a + b * normalAt(seed, counter + i)`; bernoulli `u(i) < a ? 1 : 0`.
   */
  random: { dist: RandomDist; seed: number; counter: number; a: number; b: number };
  /**
   * in: [x] -> out: [y]; y = x * keep(i) / (1 - p) with keep drawn as bernoulli(1 - p) at `(seed, counter + i)`.
   * Backward is the same kernel with the same seed/counter applied to the gradient. Exactly: `i` is the row-major
   * index into x's logical shape, `keep(i) = uniformFromKey(streamKey(seed, 0), counter + i) < 1 - p`; p = 1 gives
   * zeros; p outside [0, 1] is a kernel error.
   */
  dropout: { p: number; seed: number; counter: number };
  /**
   * LSTM cell, PyTorch gate order (i, f, g, o).
   * in: [gates (B, 4H) pre-activations = x@W_ih^T + h@W_hh^T + b, cPrev (B, H)]
   * -> out: [h (B, H), c (B, H), act (B, 4H) activated gates saved for backward].
   */
  lstmCell: Record<string, never>;
  /**
   * in: [act (B, 4H), cPrev (B, H), c (B, H), dh (B, H), dc (B, H)] -> out: [dGates (B, 4H), dcPrev (B, H)].
   */
  lstmCellBackward: Record<string, never>;
  /**
   * GRU cell, PyTorch gate order (r, z, n): n = tanh(gi_n + r * gh_n), h' = (1 - z) * n + z * h.
   * in: [gi (B, 3H) = x@W_ih^T + b_ih, gh (B, 3H) = h@W_hh^T + b_hh, hPrev (B, H)]
   * -> out: [h (B, H), act (B, 3H) = (r, z, n) saved for backward].
   */
  gruCell: Record<string, never>;
  /**
   * in: [act (B, 3H), gh (B, 3H), hPrev (B, H), dh (B, H)] -> out: [dgi (B, 3H), dgh (B, 3H), dhPrev (B, H)].
   * `dhPrev` is only the direct path `dh * z`; the path through `gh = hPrev @ W_hh^T` is the caller's matmul of
   * `dgh`. `dgh` = (dr, dz, dn * r) and `dgi` = (dr, dz, dn) where dr, dz, dn are pre-activation gradients.
   */
  gruCellBackward: Record<string, never>;
  /**
   * Adam / AdamW step, in place. in: [param, grad, expAvg, expAvgSq] -> out: [param, expAvg, expAvgSq] (aliases).
   * `decoupled`: AdamW (`p -= lr*wd*p`), else L2 added to the gradient. `step` is 1-based (bias correction).
   */
  adam: {
    lr: number;
    beta1: number;
    beta2: number;
    eps: number;
    weightDecay: number;
    decoupled: boolean;
    step: number;
  };
  /**
   * SGD with momentum, in place. in: [param, grad, momentumBuf] -> out: [param, momentumBuf].
   * `g = grad + weightDecay * p`; if momentum != 0: `buf = momentum * buf + (1 - dampening) * g`,
   * `g = nesterov ? g + momentum * buf : buf` (momentumBuf untouched when momentum is 0); `p -= lr * g`.
   * The caller zero-fills momentumBuf, which equals PyTorch's first step `buf = g` when dampening is 0.
   */
  sgd: { lr: number; momentum: number; weightDecay: number; dampening: number; nesterov: boolean };
  /**
   * 2-D convolution (cross-correlation, as PyTorch), NCHW, one group.
   * in: [x (B, C, H, W), w (O, C, KH, KW), bias (O)?] -> out: [y (B, O, OH, OW)]; x, w and y contiguous, bias any
   * 1-D view. `OH = floor((H + 2 ph - dh (KH - 1) - 1) / sh) + 1`, likewise OW; the output shape must match.
   */
  conv2d: Conv2dAttrs;
  /** in: [dy (B, O, OH, OW), w (O, C, KH, KW)] -> out: [dx (B, C, H, W)] overwritten; all contiguous. */
  conv2dBackwardInput: Conv2dAttrs;
  /**
   * in: [x (B, C, H, W), dy (B, O, OH, OW)] -> out: [dw (O, C, KH, KW), db (O)?] overwritten; all contiguous
   * (db any 1-D view); `db` is the sum of dy over batch and positions.
   */
  conv2dBackwardWeight: Conv2dAttrs;
  /**
   * in: [x (B, C, H, W)] contiguous -> out: [y (B, C, OH, OW), indices i32 (B, C, OH, OW)]; an index is the
   * argmax's flat position `h * W + w` in its plane (the first maximum; a NaN wins, the last one in
   * row-major window order, as PyTorch's CPU kernel).
   */
  maxPool2d: MaxPool2dAttrs;
  /**
   * in: [dy (B, C, OH, OW), indices i32] contiguous -> out: [dx (B, C, H, W)] overwritten with the scatter-sum;
   * attributes as the forward's.
   */
  maxPool2dBackward: MaxPool2dAttrs;
  /** in: [x (B, C, H, W)] contiguous -> out: [y (B, C, OH, OW)] (sizes as max pooling with dilation 1). */
  avgPool2d: AvgPool2dAttrs;
  /** in: [dy (B, C, OH, OW)] contiguous -> out: [dx (B, C, H, W)] overwritten. */
  avgPool2dBackward: AvgPool2dAttrs;
  /**
   * in: [x (B, C, H, W)] contiguous -> out: [y (B, C, OH, OW)], any OH, OW >= 1: window `i` along an axis of
   * size `n` to `m` covers `[floor(i n / m), ceil((i + 1) n / m))` (PyTorch `adaptive_avg_pool2d`).
   */
  adaptiveAvgPool2d: Record<string, never>;
  /** in: [dy (B, C, OH, OW)] contiguous -> out: [dx (B, C, H, W)] overwritten. */
  adaptiveAvgPool2dBackward: Record<string, never>;
}

/** Options for a kernel launch: the name, views in and out, and attributes. */
export interface Backend {
  /** `"cpu"` or `"webgpu"`. */
  readonly name: string;
  /** Human description (adapter name for WebGPU). */
  readonly description: string;
  /** Dtypes this backend stores. */
  readonly dtypes: readonly DType[];
  /** Allocate `size` elements of `dtype` (contents unspecified until written). */
  alloc(size: number, dtype: DType): Storage;
  /** Release a storage; using it afterwards is an error. */
  free(storage: Storage): void;
  /** Copy `data` into `storage` starting at element `offset`. */
  write(storage: Storage, data: TypedArray, offset?: number): void;
  /** Read a whole storage back (the only way data leaves the device). */
  read(storage: Storage): Promise<TypedArray>;
  /** Synchronous read, where the backend can do it (CPU only). */
  readSync?(storage: Storage): TypedArray;
  /** Enqueue kernel `name`. */
  run<K extends KernelName>(
    name: K,
    inputs: readonly View[],
    outputs: readonly View[],
    attrs: KernelAttrs[K],
  ): void;
  /** Submit queued work (a no-op on CPU). */
  flush(): void;
  /** Memory statistics. */
  stats(): MemoryStats;
  /** Release every resource. */
  dispose(): void;
}
