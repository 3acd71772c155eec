/**
 * The tensor core (private; the public face is `tensor.ts`): the {@linkcode Tensor} class (a strided view onto
 * backend storage, with the autograd fields `requiresGrad`, `grad`, `gradFn`), the autograd {@linkcode Node}
 * type, the creation functions and the memory scopes (`tidy`, `keep`, `liveTensors`).
 *
 * This module imports no op and no autograd code, so every op can import it without a cycle. The op methods
 * of `Tensor` (`x.add(y)`, `x.sum()`, `x.backward()`, ...) are declared here and attached to the prototype in
 * one place, `tensor.ts`, which every public entry point loads.
 *
 * Memory rule: device memory is not reclaimed by the JS garbage collector. Free tensors with `dispose()` or
 * create them inside `tidy(fn)`, which frees everything made inside that `fn` does not return. Run `backward()`
 * inside the same `tidy` as the forward pass that built the graph: the graph reads the intermediates.
 *
 * @module
 */

import type { Backend, DType, Storage, TypedArray, View } from "../gpu/backend.ts";
import { getRng } from "../gpu/rng.ts";
import { getBackend } from "./engine.ts";
import { contiguousStrides, fmt, isContiguous, numel, type ReduceOptions } from "./_shape.ts";

/** Maps the gradients of a node's outputs (null where an output got none) to gradients of its inputs. */
export type BackwardFn = (grads: readonly (Tensor | null)[]) => readonly (Tensor | null)[];

/** One recorded op of the autograd graph (see `autograd.ts`). */
export interface Node {
  /** Op name, used in error messages. */
  readonly name: string;
  /** Inputs in op order. */
  readonly inputs: readonly Tensor[];
  /** Outputs in op order. */
  readonly outputs: readonly Tensor[];
  /** Gradient function; runs with grad mode off. */
  readonly backward: BackwardFn;
}

/** Nested arrays of numbers (any depth), as accepted by {@linkcode tensor}. */
export type NestedArray = number | boolean | readonly NestedArray[];

/** A storage shared by every view onto it; freed when the last view is disposed. */
class StorageRef {
  refs = 1;
  constructor(readonly backend: Backend, readonly storage: Storage) {}
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs === 0) this.backend.free(this.storage);
  }
}

let live = 0;
let nextId = 1;
let finalized = 0;
const scopes: Set<Tensor>[] = [];

/**
 * Safety net: a tensor that is garbage-collected without `dispose()` still releases its storage (device
 * memory would otherwise leak for good). It stays counted by {@linkcode liveTensors} so leak tests see it.
 */
const registry = new FinalizationRegistry<StorageRef>((ref) => {
  finalized++;
  ref.release();
});

/** Number of tensors created and not yet disposed (for leak tests). */
export function liveTensors(): number {
  return live;
}

/** Number of tensors whose storage was released by the garbage collector because nobody disposed them. */
export function finalizedTensors(): number {
  return finalized;
}

/**
 * An n-dimensional array on a backend. Ops are plain functions (`add(a, b)`); the methods here are
 * conveniences that call them.
 */
export class Tensor {
  /** Unique id (creation order). */
  readonly id: number = nextId++;
  /** Logical shape. */
  readonly shape: readonly number[];
  /** Element stride of each axis. */
  readonly strides: readonly number[];
  /** Element offset into the storage. */
  readonly offset: number;
  /** Element type. */
  readonly dtype: DType;
  /** Whether gradients flow to this tensor. Set it on leaves (parameters) before using them. */
  requiresGrad = false;
  /** Accumulated gradient of a leaf after `backward()` (kept outside every `tidy` scope). */
  grad: Tensor | null = null;
  /** The autograd node that produced this tensor (null for leaves and tensors made without grad). */
  gradFn: Node | null = null;
  /** Which output of `gradFn` this tensor is. */
  outputIndex = 0;
  #ref: StorageRef;
  #disposed = false;
  #scope: Set<Tensor> | undefined;

  /** @internal Use the creation functions (`tensor`, `zeros`, ...) instead. */
  constructor(ref: StorageRef, shape: readonly number[], strides: readonly number[], offset: number) {
    this.#ref = ref;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze([...strides]);
    this.offset = offset;
    this.dtype = ref.storage.dtype;
    live++;
    registry.register(this, ref, this);
    this.#scope = scopes[scopes.length - 1];
    this.#scope?.add(this);
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }
  /** Number of elements. */
  get size(): number {
    return numel(this.shape);
  }
  /** The backend holding the storage. */
  get backend(): Backend {
    return this.#ref.backend;
  }
  /** Whether `dispose()` was called. */
  get disposed(): boolean {
    return this.#disposed;
  }
  /** Whether the elements are laid out row-major without gaps. */
  get isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }
  /** The backend view `(storage, shape, strides, offset)`, for kernels. Throws after dispose. */
  get view(): View {
    this.assertAlive("view");
    return { storage: this.#ref.storage, shape: this.shape, strides: this.strides, offset: this.offset };
  }

  /** Throw a clear error when this tensor was disposed; `op` names the caller. */
  assertAlive(op: string): void {
    if (this.#disposed) {
      throw new Error(`${op}: tensor ${fmt(this.shape)} ${this.dtype} was used after dispose()`);
    }
  }

  /** @internal A new tensor object sharing this storage with another layout (a view). */
  _viewAs(shape: readonly number[], strides: readonly number[], offset: number): Tensor {
    this.assertAlive("view");
    return new Tensor(this.#ref.retain(), shape, strides, offset);
  }

  /** Free this tensor's hold on its storage (and its leaf gradient). Disposing twice is a no-op. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    live--;
    registry.unregister(this);
    this.#scope?.delete(this);
    this.#scope = undefined;
    this.#ref.release();
    this.grad?.dispose();
    this.grad = null;
  }

  /** @internal Whether no other tensor shares this storage. */
  get _exclusive(): boolean {
    return this.#ref.refs === 1;
  }

  /** @internal Remove from the scope that would free it (used by `tidy` and `keep`). */
  _unscope(): Set<Tensor> | undefined {
    const s = this.#scope;
    s?.delete(this);
    this.#scope = undefined;
    return s;
  }
  /** @internal Put into a scope. */
  _scopeInto(scope: Set<Tensor> | undefined): void {
    this.#scope = scope;
    scope?.add(this);
  }

  /** Copy the elements to a row-major typed array (waits for the device). */
  async data(): Promise<TypedArray> {
    this.assertAlive("data");
    const whole = await this.backend.read(this.#ref.storage);
    return extract(whole, this);
  }
  /** Synchronous {@linkcode data}; only backends that can read synchronously (CPU) support it. */
  dataSync(): TypedArray {
    this.assertAlive("dataSync");
    const b = this.backend;
    if (!b.readSync) {
      throw new Error(`dataSync: backend "${b.name}" cannot read synchronously; use await data()`);
    }
    return extract(b.readSync(this.#ref.storage), this);
  }
  /** The single element of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) {
      throw new RangeError(`item: tensor ${fmt(this.shape)} has ${this.size} elements, not 1`);
    }
    return (await this.data())[0]!;
  }
  /** Nested JS arrays of the elements (CPU only; see {@linkcode data} for other backends). */
  toArray(): NestedArray {
    const flat = Array.from(this.dataSync());
    const build = (axis: number, start: number): NestedArray => {
      if (axis === this.rank) return flat[start]!;
      const inner = numel(this.shape.slice(axis + 1));
      return Array.from({ length: this.shape[axis]! }, (_, i) => build(axis + 1, start + i * inner));
    };
    return build(0, 0);
  }

  /** A tensor sharing this storage, cut from the graph (no `gradFn`, `requiresGrad` false). */
  detach(): Tensor {
    return this._viewAs(this.shape, this.strides, this.offset);
  }
  /** Mark as a leaf that collects gradients; returns `this`. */
  requireGrad(on = true): this {
    if (on && this.dtype === "i32") {
      throw new TypeError(`requireGrad: an i32 tensor ${fmt(this.shape)} has no gradient`);
    }
    this.requiresGrad = on;
    return this;
  }
  /** Drop the accumulated gradient. */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }
  /** Short description, e.g. `Tensor([2, 3], f32)`. */
  toString(): string {
    return `Tensor(${fmt(this.shape)}, ${this.dtype}${this.requiresGrad ? ", requiresGrad" : ""})`;
  }

  // The op methods below are declared here and attached to the prototype by `tensor.ts` (the one place that
  // imports every op), so this file needs no op. Each calls the op function of the same name with `this` first.
  /**
   * Back-propagate from this tensor: leaves with `requiresGrad` get `grad += d(this)/d(leaf)`.
   * @param grad gradient of the final objective w.r.t. this tensor; defaults to 1 for a one-element tensor
   */
  declare backward: (grad?: Tensor) => void;
  /** `add(this, b)`: sum with broadcasting. */
  declare add: (b: Tensor | number) => Tensor;
  /** `sub(this, b)`: difference with broadcasting. */
  declare sub: (b: Tensor | number) => Tensor;
  /** `mul(this, b)`: product with broadcasting. */
  declare mul: (b: Tensor | number) => Tensor;
  /** `div(this, b)`: quotient with broadcasting. */
  declare div: (b: Tensor | number) => Tensor;
  /** `neg(this)`. */
  declare neg: () => Tensor;
  /** `pow(this, b)`. */
  declare pow: (b: Tensor | number) => Tensor;
  /** `exp(this)`. */
  declare exp: () => Tensor;
  /** `log(this)`. */
  declare log: () => Tensor;
  /** `tanh(this)`. */
  declare tanh: () => Tensor;
  /** `sigmoid(this)`. */
  declare sigmoid: () => Tensor;
  /** `relu(this)`. */
  declare relu: () => Tensor;
  /** `matmul(this, b)`. */
  declare matmul: (b: Tensor) => Tensor;
  /** `sum(this, options)`: sum over axes (all by default). */
  declare sum: (options?: ReduceOptions) => Tensor;
  /** `mean(this, options)`: mean over axes (all by default). */
  declare mean: (options?: ReduceOptions) => Tensor;
  /** `reshape(this, shape)`. */
  declare reshape: (shape: readonly number[]) => Tensor;
  /** `transpose(this, axes)`: swap two axes (default the last two). */
  declare transpose: (axes?: readonly [number, number]) => Tensor;
  /** `permute(this, axes)`. */
  declare permute: (axes: readonly number[]) => Tensor;
  /** `expand(this, shape)`. */
  declare expand: (shape: readonly number[]) => Tensor;
  /** `contiguous(this)`. */
  declare contiguous: () => Tensor;
  /** `softmax(this, axis)` (default the last axis). */
  declare softmax: (axis?: number) => Tensor;
  /** `logSoftmax(this, axis)` (default the last axis). */
  declare logSoftmax: (axis?: number) => Tensor;
  /** `cast(this, dtype)`. */
  declare cast: (dtype: DType) => Tensor;
}

function extract(whole: TypedArray, t: Tensor): TypedArray {
  const n = t.size;
  if (t.isContiguous) return whole.slice(t.offset, t.offset + n);
  const out = new (whole.constructor as { new (n: number): TypedArray })(n);
  const rank = t.rank, shape = t.shape, strides = t.strides;
  const idx = new Array<number>(rank).fill(0);
  let src = t.offset;
  for (let i = 0; i < n; i++) {
    out[i] = whole[src]!;
    for (let a = rank - 1; a >= 0; a--) {
      idx[a]!++;
      src += strides[a]!;
      if (idx[a]! < shape[a]!) break;
      src -= strides[a]! * shape[a]!;
      idx[a] = 0;
    }
  }
  return out;
}

/**
 * Run `fn` and free every tensor it created that is not part of its result (a tensor, or arrays, maps,
 * sets and objects holding tensors, up to 5 levels deep). Scopes nest; returned tensors move to the enclosing
 * scope.
 * @param fn synchronous work (an async function is an error: its tensors would escape the scope)
 * @returns what `fn` returns
 * @example Intermediates are freed
 * ```ts
 * import { liveTensors, ones, tidy } from "./tensor.ts";
 * const before = liveTensors();
 * const y = tidy(() => ones([3]).add(1).mul(2));
 * if (liveTensors() !== before + 1) throw new Error("tidy leaked");
 * y.dispose();
 * ```
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    scopes.pop();
    for (const t of [...scope]) t.dispose();
    throw err;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of [...scope]) t.dispose();
    throw new TypeError("tidy: fn returned a Promise; tidy() only supports synchronous functions");
  }
  const kept = new Set<Tensor>();
  collect(result, kept, 0);
  const parent = scopes[scopes.length - 1];
  for (const t of [...scope]) {
    if (kept.has(t)) {
      t._unscope();
      t._scopeInto(parent);
    } else t.dispose();
  }
  return result;
}

function collect(v: unknown, out: Set<Tensor>, depth: number): void {
  if (v instanceof Tensor) out.add(v);
  else if (depth > 4 || v === null || typeof v !== "object" || ArrayBuffer.isView(v)) return;
  else if (Array.isArray(v) || v instanceof Set) { for (const x of v) collect(x, out, depth + 1); }
  else if (v instanceof Map) { for (const x of v.values()) collect(x, out, depth + 1); }
  else for (const x of Object.values(v)) collect(x, out, depth + 1); // plain objects and class instances
}

/**
 * Exempt `t` from every enclosing `tidy` (parameters, optimizer state, hidden state carried across batches).
 * @returns `t`
 */
export function keep<T extends Tensor>(t: T): T {
  t._unscope();
  return t;
}

/** @internal Wrap fresh storage in a tensor (contiguous). */
export function _fromStorage(backend: Backend, storage: Storage, shape: readonly number[]): Tensor {
  return new Tensor(new StorageRef(backend, storage), shape, contiguousStrides(shape), 0);
}

/** @internal Allocate a contiguous, uninitialised tensor. */
export function _empty(shape: readonly number[], dtype: DType, backend: Backend = getBackend()): Tensor {
  if (!backend.dtypes.includes(dtype)) {
    throw new TypeError(
      `backend "${backend.name}" does not support dtype ${dtype} (it has ${backend.dtypes})`,
    );
  }
  const n = numel(shape);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`invalid shape ${fmt(shape)}`);
  }
  return _fromStorage(backend, backend.alloc(Math.max(n, 1), dtype), shape);
}

/** Options shared by the creation functions. */
export interface CreateOptions {
  /** Element type. @default "f32" (i32 for integer data given as Int32Array) */
  dtype?: DType;
  /** Mark the new tensor as a leaf that collects gradients. @default false */
  requiresGrad?: boolean;
  /** Backend to allocate on. @default getBackend() */
  backend?: Backend;
}

function arrayFor(dtype: DType, n: number): TypedArray {
  return dtype === "f32" ? new Float32Array(n) : dtype === "i32" ? new Int32Array(n) : new Float64Array(n);
}

function finish(t: Tensor, options: CreateOptions): Tensor {
  if (options.requiresGrad) t.requireGrad();
  return t;
}

const I32_MIN = -(2 ** 31), I32_MAX = 2 ** 31 - 1;

/**
 * Make a tensor from a typed array or plain array with an explicit shape. For dtype i32 every value must be an
 * integer in the i32 range (a RangeError names the first one that is not: nothing wraps around).
 * @param data elements in row-major order
 * @param shape shape; its element count must equal `data.length`
 */
export function fromArray(
  data: ArrayLike<number>,
  shape: readonly number[],
  options: CreateOptions = {},
): Tensor {
  const dtype = options.dtype ??
    (data instanceof Int32Array ? "i32" : data instanceof Float64Array ? "f64" : "f32");
  if (numel(shape) !== data.length) {
    throw new RangeError(`fromArray: ${data.length} elements do not fill shape ${fmt(shape)}`);
  }
  const t = _empty(shape, dtype, options.backend);
  if (data.length > 0) {
    const arr = arrayFor(dtype, data.length);
    if (dtype === "i32" && data instanceof Int32Array) arr.set(data);
    else if (dtype === "i32") {
      for (let i = 0; i < data.length; i++) {
        const v = data[i]!;
        if (!Number.isInteger(v)) {
          throw new TypeError(`fromArray: element ${i} = ${v} is not an integer (dtype i32)`);
        }
        if (v < I32_MIN || v > I32_MAX) {
          throw new RangeError(`fromArray: element ${i} = ${v} is outside the i32 range [-2^31, 2^31 - 1]`);
        }
        arr[i] = v;
      }
    } else arr.set(data);
    t.backend.write(t.view.storage, arr);
  }
  return finish(t, options);
}

/**
 * Make a tensor from nested arrays (shape inferred) or a scalar.
 * @param data nested arrays of numbers, or one number for a 0-d tensor
 * @example A 2x2 matrix
 * ```ts
 * import { tensor } from "./tensor.ts";
 * const t = tensor([[1, 2], [3, 4]]);
 * if (t.shape.join() !== "2,2") throw new Error("bad shape");
 * t.dispose();
 * ```
 */
export function tensor(data: NestedArray | ArrayLike<number>, options: CreateOptions = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    return fromArray(data as ArrayLike<number>, [(data as TypedArray).length], options);
  }
  const shape: number[] = [];
  let probe: unknown = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const flat: number[] = [];
  const walk = (v: unknown, axis: number): void => {
    if (axis === shape.length) {
      if (typeof v !== "number" && typeof v !== "boolean") {
        throw new TypeError(`tensor: ragged or non-numeric nested array (shape ${fmt(shape)})`);
      }
      flat.push(Number(v));
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[axis]) {
      throw new TypeError(`tensor: ragged nested array; axis ${axis} should have length ${shape[axis]}`);
    }
    for (const x of v) walk(x, axis + 1);
  };
  walk(data, 0);
  return fromArray(flat, shape, options);
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: readonly number[], value: number, options: CreateOptions = {}): Tensor {
  if (options.dtype === "i32" && !(Number.isInteger(value) && value >= I32_MIN && value <= I32_MAX)) {
    throw new RangeError(`full: ${value} is not an i32 value (an integer in [-2^31, 2^31 - 1])`);
  }
  const t = _empty(shape, options.dtype ?? "f32", options.backend);
  const n = t.size;
  if (n > 0) t.backend.write(t.view.storage, arrayFor(t.dtype, n).fill(value));
  return finish(t, options);
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return full(shape, 0, options);
}

/** A tensor of ones. */
export function ones(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return full(shape, 1, options);
}

/** Zeros with the shape, dtype and backend of `t`. */
export function zerosLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, backend: t.backend, ...options });
}

/** Ones with the shape, dtype and backend of `t`. */
export function onesLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, backend: t.backend, ...options });
}

/** Options of {@linkcode arange}. */
export interface ArangeOptions extends CreateOptions {
  /** Exclusive end; when given, the first argument is the start. */
  end?: number;
  /** Step. @default 1 */
  step?: number;
}

/**
 * Evenly spaced values: `arange(n)` is `0..n-1`; `arange(start, {end, step})` as NumPy.
 * @returns an i32 tensor when every value is an integer and no dtype is given, else f32
 */
export function arange(startOrEnd: number, options: ArangeOptions = {}): Tensor {
  const { step = 1 } = options;
  const start = options.end === undefined ? 0 : startOrEnd;
  const end = options.end === undefined ? startOrEnd : options.end;
  if (step === 0) throw new RangeError("arange: step must not be 0");
  const n = Math.max(0, Math.ceil((end - start) / step));
  const values = Array.from({ length: n }, (_, i) => start + i * step);
  const dtype = options.dtype ?? (Number.isInteger(start) && Number.isInteger(step) ? "i32" : "f32");
  return fromArray(values, [n], { ...options, dtype });
}

function randomTensor(
  shape: readonly number[],
  attrs: { dist: "uniform" | "normal" | "bernoulli"; a: number; b: number },
  options: CreateOptions,
): Tensor {
  const t = _empty(shape, options.dtype ?? "f32", options.backend);
  const n = t.size;
  if (n > 0) {
    const rng = getRng();
    t.backend.run("random", [], [t.view], { ...attrs, seed: rng.seed, counter: rng.take(n) });
  }
  return finish(t, options);
}

/** Options of {@linkcode rand}. */
export interface RandOptions extends CreateOptions {
  /** Lower bound. @default 0 */
  low?: number;
  /** Upper bound (exclusive). @default 1 */
  high?: number;
}

/** Uniform numbers in `[low, high)` from the seeded generator (`seed(n)` makes them reproducible). */
export function rand(shape: readonly number[], options: RandOptions = {}): Tensor {
  return randomTensor(shape, { dist: "uniform", a: options.low ?? 0, b: options.high ?? 1 }, options);
}

/** Options of {@linkcode randn}. */
export interface RandnOptions extends CreateOptions {
  /** Mean. @default 0 */
  mean?: number;
  /** Standard deviation. @default 1 */
  std?: number;
}

/** Normal numbers from the seeded generator. */
export function randn(shape: readonly number[], options: RandnOptions = {}): Tensor {
  return randomTensor(shape, { dist: "normal", a: options.mean ?? 0, b: options.std ?? 1 }, options);
}

/** 1 with probability `p`, else 0, from the seeded generator. */
export function bernoulli(shape: readonly number[], p: number, options: CreateOptions = {}): Tensor {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`bernoulli: p = ${p} must be in [0, 1]`);
  return randomTensor(shape, { dist: "bernoulli", a: p, b: 0 }, options);
}
