/**
 * Reads PyTorch `.pt` / `.pth` checkpoints (`torch.save` zip format since 1.6, and the older "legacy" format)
 * WITHOUT executing the pickle: an allow-list interpreter only understands the opcodes and globals a state dict
 * needs (`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2` / `_rebuild_parameter`, `torch.*Storage`,
 * and numpy scalars — `numpy.dtype` + `numpy.core.multiarray.scalar`, with protocol 2's `_codecs.encode(s,
 * "latin1")` bytes — which become plain numbers: fastai's `learn.save` keeps np.float64 learning rates in its
 * optimizer state) and rejects anything else — `os.system`, `builtins.eval`, other calls, persistent ids that are not
 * `('storage', ...)`, unknown opcodes — with a {@linkcode PickleError} before it has any effect. Compressed zip
 * entries are refused ({@linkcode ZipError}); storages must match their declared size; strided views (transposed
 * or sliced tensors) are materialised row-major. Memory stays bounded by the file size (see `maxOutputBytes`).
 *
 * Nested containers are flattened with dots: `{"model": {"w": t}, "epoch": 3}` gives tensor `model.w` and value
 * `epoch`. Floating storages become `f32`; integer ones `i32` (int64 values outside the i32 range are an error).
 *
 * @module
 */
import { decodeBF16, decodeF16 } from "./_float.ts";
import {
  NumpyDType,
  PyBytes,
  PyDict,
  PyGlobal,
  PyTuple,
  type PyValue,
  STORAGE_ITEM_SIZE,
  storageDType,
  StorageRef,
  TensorRef,
  unpickle,
} from "./_pickle.ts";
import { looksLikeZip, readZipDirectory, zipEntryData } from "./_zip.ts";
import { PickleError, ZipError } from "./errors.ts";
import { narrowI64 } from "./safetensors.ts";
import type { HostTensor, TensorMap } from "./tensor_map.ts";

/** A plain value stored next to the tensors (ints, floats, strings, booleans, None). */
export type TorchScalar = number | bigint | string | boolean | null;

/** What {@linkcode readTorchCheckpoint} returns. */
export interface TorchCheckpoint {
  /** Every tensor, by dotted path, materialised row-major. */
  tensors: TensorMap;
  /** Every non-tensor leaf value, by dotted path. */
  values: Map<string, TorchScalar>;
  /** The top-level state dict's `_metadata` (module versions), as plain objects, when present. */
  stateDictMetadata: unknown;
  /** Which container format the file used. */
  format: "zip" | "legacy";
}

/** Options of {@linkcode decodeTorchCheckpoint}. */
export interface DecodeTorchOptions {
  /** File name for error messages. @default "<bytes>" */
  file?: string;
  /**
   * Refuse to materialise more than this many bytes of tensors (tensors sharing a storage, or expanded views,
   * can otherwise multiply a small file). @default 8 * file size + 1 MiB
   */
  maxOutputBytes?: number;
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

function zipStorages(
  bytes: Uint8Array,
  file: string,
): { pkl: Uint8Array; load: (pid: PyTuple, at: number) => PyValue } {
  const entries = readZipDirectory(bytes, file);
  const pklName = [...entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pklName) {
    throw new ZipError("missing_entry", "no <archive>/data.pkl entry: not a torch.save checkpoint", { file });
  }
  const prefix = pklName.slice(0, -"data.pkl".length);
  const order = entries.get(`${prefix}byteorder`);
  if (order) {
    const text = new TextDecoder().decode(zipEntryData(bytes, order, file)).trim();
    if (text !== "little") throw new ZipError("bad_entry", `byte order "${text}" is not supported`, { file });
  }
  const pkl = zipEntryData(bytes, entries.get(pklName)!, file);
  const cache = new Map<string, StorageRef>();
  const load = (pid: PyTuple, at: number): PyValue => {
    const { dtype, key, numel } = parseStoragePid(pid, 5, at, file);
    const hit = cache.get(key);
    if (hit) return sameStorage(hit, dtype, numel, key, file);
    const entry = entries.get(`${prefix}data/${key}`);
    if (!entry) throw new ZipError("missing_entry", `storage record data/${key} is missing`, { file });
    const data = zipEntryData(bytes, entry, file);
    const want = numel * STORAGE_ITEM_SIZE[dtype];
    if (data.length !== want) {
      throw new PickleError(
        "storage_size_mismatch",
        `storage ${key}: the pickle declares ${numel} x ${dtype} = ${want} bytes but its record holds ${data.length}`,
        { file },
      );
    }
    const ref = new StorageRef(key, dtype, numel);
    ref.bytes = data;
    cache.set(key, ref);
    return ref;
  };
  return { pkl, load };
}

function sameStorage(hit: StorageRef, dtype: string, numel: number, key: string, file: string): StorageRef {
  if (hit.dtype !== dtype || hit.numel !== numel) {
    throw new PickleError(
      "bad_persistent_id",
      `storage ${key} is referenced with two different types or sizes`,
      { file },
    );
  }
  return hit;
}

function parseStoragePid(pid: PyTuple, length: number, at: number, file: string) {
  const [tag, cls, key, , numel, view] = pid.items;
  const bad = (why: string): never => {
    throw new PickleError("bad_persistent_id", `${why} (pickle byte ${at})`, { file });
  };
  if (tag !== "storage") {
    bad(`persistent id (${describe(tag ?? null)}, ...) is not a ('storage', ...) record`);
  }
  if (pid.items.length !== length) {
    bad(`storage persistent id has ${pid.items.length} fields, expected ${length}`);
  }
  const dtype = storageDType(cls ?? null);
  if (!dtype) bad(`storage type ${describe(cls ?? null)} is not a torch.*Storage class`);
  if (typeof key !== "string") bad("storage key is not a string");
  if (typeof numel !== "number" || !Number.isSafeInteger(numel) || numel < 0) {
    bad("storage size is not a count");
  }
  if (length === 6 && view !== null) bad("legacy storage views (view_metadata) are not supported");
  return { dtype: dtype!, key: key as string, numel: numel as number };
}

function describe(v: PyValue): string {
  if (v instanceof PyGlobal) return v.qualified;
  if (typeof v === "string") return `'${v}'`;
  return v === null ? "None" : typeof v;
}

function legacy(bytes: Uint8Array, file: string): PyValue {
  const first = unpickle(bytes, { file });
  if (first.value !== LEGACY_MAGIC) {
    throw new PickleError(
      "malformed",
      "not a PyTorch checkpoint: neither a zip archive nor the legacy magic number",
      {
        file,
      },
    );
  }
  let r = unpickle(bytes, { file, start: first.end });
  if (r.value !== 1001) {
    throw new PickleError("malformed", `legacy protocol version ${r.value} is not 1001`, { file });
  }
  r = unpickle(bytes, { file, start: r.end });
  const sys = r.value instanceof PyDict ? r.value.map : undefined;
  if (sys?.get("little_endian") === false) {
    throw new PickleError("malformed", "big-endian checkpoints are not supported", { file });
  }
  const cache = new Map<string, StorageRef>();
  const main = unpickle(bytes, {
    file,
    start: r.end,
    persistentLoad: (pid, at) => {
      const { dtype, key, numel } = parseStoragePid(pid, 6, at, file);
      const hit = cache.get(key);
      if (hit) return sameStorage(hit, dtype, numel, key, file);
      const ref = new StorageRef(key, dtype, numel);
      cache.set(key, ref);
      return ref;
    },
  });
  const keys = unpickle(bytes, { file, start: main.end });
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === "string")) {
    throw new PickleError("malformed", "legacy storage key list is not a list of strings", { file });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = keys.end;
  for (const key of keys.value as string[]) {
    const ref = cache.get(key);
    if (!ref) throw new PickleError("malformed", `storage ${key} is listed but never referenced`, { file });
    if (pos + 8 > bytes.length) {
      throw new PickleError("truncated", `storage ${key} header past the end of the file`, { file });
    }
    const n = view.getBigInt64(pos, true);
    if (n !== BigInt(ref.numel)) {
      throw new PickleError(
        "storage_size_mismatch",
        `storage ${key}: the pickle declares ${ref.numel} elements, its record ${n}`,
        { file },
      );
    }
    const size = ref.numel * STORAGE_ITEM_SIZE[ref.dtype];
    if (pos + 8 + size > bytes.length) {
      throw new PickleError("truncated", `storage ${key} (${size} bytes) runs past the end of the file`, {
        file,
      });
    }
    ref.bytes = bytes.subarray(pos + 8, pos + 8 + size);
    pos += 8 + size;
  }
  return main.value;
}

interface Budget {
  left: number;
  visits: number;
  /** Materialised data by (storage, offset, shape, stride): tied weights share one array, as they do in torch. */
  views: Map<string, Float32Array | Int32Array>;
}

function decodeRegion(
  s: StorageRef,
  lo: number,
  hi: number,
  name: string,
  file: string,
): Float32Array | Int32Array {
  const size = STORAGE_ITEM_SIZE[s.dtype];
  const raw = s.bytes!.subarray(lo * size, hi * size);
  const n = hi - lo;
  const copy = () => raw.slice().buffer;
  const aligned = raw.byteOffset % 4 === 0; // torch aligns zip records to 64 bytes: read f32 / i32 in place
  switch (s.dtype) {
    case "f32":
      return aligned ? new Float32Array(raw.buffer, raw.byteOffset, n) : new Float32Array(copy());
    case "f16":
      return decodeF16(raw, n);
    case "bf16":
      return decodeBF16(raw, n);
    case "f64":
      return Float32Array.from(new Float64Array(copy()));
    case "i64":
      return narrowI64(raw, n, (i, v) => {
        throw new PickleError(
          "value_out_of_range",
          `int64 value ${v} at storage element ${lo + i} does not fit in i32`,
          {
            file,
            tensor: name,
          },
        );
      });
    case "i32":
      return aligned ? new Int32Array(raw.buffer, raw.byteOffset, n) : new Int32Array(copy());
    case "i16":
      return Int32Array.from(new Int16Array(copy()));
    case "i8":
      return Int32Array.from(new Int8Array(copy()));
    case "u8":
    case "bool":
      return Int32Array.from(raw);
  }
}

function materialize(name: string, t: TensorRef, file: string, budget: Budget): HostTensor {
  const s = t.storage;
  const dtype = ["f32", "f16", "bf16", "f64"].includes(s.dtype) ? "f32" as const : "i32" as const;
  const bad = (code: PickleError["code"], why: string): never => {
    throw new PickleError(code, why, { file, tensor: name });
  };
  if (!s.bytes) bad("malformed", `storage ${s.key} has no data in the file`);
  let numel = 1;
  for (const d of t.shape) numel *= d;
  if (!Number.isSafeInteger(numel)) bad("bad_tensor", `shape [${t.shape}] overflows`);
  if (numel === 0) {
    return { dtype, shape: t.shape, data: dtype === "f32" ? new Float32Array(0) : new Int32Array(0) };
  }
  let hi = t.offset;
  for (let i = 0; i < t.shape.length; i++) hi += (t.shape[i]! - 1) * t.stride[i]!;
  if (hi >= s.numel) {
    bad("bad_tensor", `view reaches element ${hi} of storage ${s.key}, which has ${s.numel}`);
  }
  const viewKey = `${s.key}|${t.offset}|${t.shape}|${t.stride}`;
  const shared = budget.views.get(viewKey);
  if (shared) return { dtype, shape: [...t.shape], data: shared };
  budget.left -= numel * 4;
  if (budget.left < 0) bad("too_large", "tensors would take more memory than maxOutputBytes allows");
  const region = decodeRegion(s, t.offset, hi + 1, name, file);
  let expect = 1;
  let contiguous = true;
  for (let i = t.shape.length - 1; i >= 0; i--) {
    if (t.shape[i] !== 1 && t.stride[i] !== expect) contiguous = false;
    expect *= t.shape[i]!;
  }
  if (contiguous) {
    budget.views.set(viewKey, region);
    return { dtype, shape: t.shape, data: region };
  }
  const out = dtype === "f32" ? new Float32Array(numel) : new Int32Array(numel);
  const nd = t.shape.length;
  const idx = new Array<number>(nd).fill(0);
  let src = 0;
  for (let i = 0; i < numel; i++) {
    out[i] = region[src]!;
    for (let d = nd - 1; d >= 0; d--) {
      src += t.stride[d]!;
      if (++idx[d]! < t.shape[d]!) break;
      src -= t.stride[d]! * t.shape[d]!;
      idx[d] = 0;
    }
  }
  budget.views.set(viewKey, out);
  return { dtype, shape: t.shape, data: out };
}

/** Containers nested deeper than this are refused (a state dict nests a few levels; recursion must not overflow). */
const MAX_DEPTH = 256;

function toPlain(v: PyValue, budget: Budget, file: string, depth = 0): unknown {
  if (--budget.visits < 0 || depth > MAX_DEPTH) {
    throw new PickleError("too_large", "_metadata is too deeply shared or nested", { file });
  }
  if (v instanceof PyDict) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v.map) o[String(k)] = toPlain(x, budget, file, depth + 1);
    return o;
  }
  if (Array.isArray(v) || v instanceof PyTuple) {
    return (Array.isArray(v) ? v : v.items).map((x) => toPlain(x, budget, file, depth + 1));
  }
  if (v instanceof PyBytes) return [...v.bytes];
  if (v instanceof NumpyDType) return `numpy.${v.code}`;
  return typeof v === "bigint" ? String(v) : v instanceof PyGlobal ? v.qualified : v;
}

function flatten(
  v: PyValue,
  name: string,
  out: TorchCheckpoint,
  file: string,
  budget: Budget,
  seen: Set<object>,
  depth = 0,
) {
  if (--budget.visits < 0) {
    throw new PickleError("too_large", "the pickle's containers are shared too often", { file });
  }
  if (depth > MAX_DEPTH) {
    throw new PickleError("too_large", `containers nested more than ${MAX_DEPTH} deep`, {
      file,
      tensor: name,
    });
  }
  const join = (k: string | number) => (name === "" ? String(k) : `${name}.${k}`);
  if (v instanceof TensorRef) {
    if (out.tensors.has(name)) {
      throw new PickleError("malformed", "two entries flatten to the same name", { file, tensor: name });
    }
    out.tensors.set(name, materialize(name, v, file, budget));
  } else if (v instanceof PyDict || Array.isArray(v) || v instanceof PyTuple) {
    if (seen.has(v)) {
      throw new PickleError("malformed", `container at "${name}" appears twice (cycle or shared)`, { file });
    }
    seen.add(v);
    if (v instanceof PyDict) {
      for (const [k, x] of v.map) flatten(x, join(String(k)), out, file, budget, seen, depth + 1);
    } else {
      (Array.isArray(v) ? v : v.items).forEach((x, i) =>
        flatten(x, join(i), out, file, budget, seen, depth + 1)
      );
    }
  } else if (v === null || ["number", "bigint", "string", "boolean"].includes(typeof v)) {
    out.values.set(name, v as TorchScalar);
  }
  // Bare storages, dtype globals, bytes and numpy dtypes carry no weights of their own: skipped.
}

/**
 * Decodes a PyTorch checkpoint from bytes without executing it. Aligned f32 / i32 tensors of the zip format are
 * views into `bytes` (no copy), and tensors that are the same view of one storage (tied weights) share one array —
 * copy before mutating if that matters.
 *
 * @param bytes the file contents
 * @param options file name, memory cap
 * @returns tensors, plain values, `_metadata`, format
 * @example Rejecting a pickle that calls os.system
 * ```ts
 * import { throws } from "node:assert/strict";
 * import { decodeTorchCheckpoint } from "./torch.ts";
 * // protocol 2: GLOBAL posix.system, ("touch /tmp/x",), REDUCE, STOP
 * const evil = new Uint8Array([0x80, 2, ...new TextEncoder().encode("cposix\nsystem\nX\x0c\x00\x00\x00touch /tmp/x\x85R.")]);
 * throws(() => decodeTorchCheckpoint(evil), /forbidden_global/);
 * ```
 */
export function decodeTorchCheckpoint(bytes: Uint8Array, options: DecodeTorchOptions = {}): TorchCheckpoint {
  const { file = "<bytes>", maxOutputBytes = 8 * bytes.length + (1 << 20) } = options;
  let root: PyValue;
  let format: TorchCheckpoint["format"];
  if (looksLikeZip(bytes)) {
    const { pkl, load } = zipStorages(bytes, file);
    root = unpickle(pkl, { file, persistentLoad: load }).value;
    format = "zip";
  } else {
    root = legacy(bytes, file);
    format = "legacy";
  }
  const budget: Budget = { left: maxOutputBytes, visits: bytes.length + 1024, views: new Map() };
  const out: TorchCheckpoint = {
    tensors: new Map(),
    values: new Map(),
    stateDictMetadata: undefined,
    format,
  };
  flatten(root, "", out, file, budget, new Set());
  const meta = root instanceof PyDict ? root.attrs?.map.get("_metadata") : undefined;
  if (meta !== undefined) out.stateDictMetadata = toPlain(meta, budget, file);
  return out;
}

/**
 * Reads a PyTorch `.pt`/`.pth` file without executing it.
 *
 * @param path the file
 * @param options memory cap
 * @returns tensors, plain values, `_metadata`, format
 */
export async function readTorchCheckpoint(
  path: string | URL,
  options: Omit<DecodeTorchOptions, "file"> = {},
): Promise<TorchCheckpoint> {
  return decodeTorchCheckpoint(await Deno.readFile(path), { ...options, file: String(path) });
}
