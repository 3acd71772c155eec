/**
 * safetensors read and write ({@link https://github.com/huggingface/safetensors}), with every validation of the
 * reference implementation: an 8-byte little-endian header length, a UTF-8 JSON header starting with `{`,
 * tensors whose `data_offsets` tile the data section from 0 with no gap or overlap, sizes matching dtype x
 * shape, no overflow, no trailing bytes, and `__metadata__` a string-to-string map. Errors are
 * {@linkcode SafetensorsError}s naming the file and tensor.
 *
 * Reading converts F32/F16/BF16/F64 to `f32` and I64/I32/I16/I8/U8/BOOL to `i32` (I64 values outside the i32
 * range are an error). Writing stores `f32` as F32 (or F16/BF16 on request) and `i32` as I32.
 *
 * @module
 */
import { decodeBF16, decodeF16, floatToBF16Bits, floatToHalfBits } from "./_float.ts";
import { SafetensorsError } from "./errors.ts";
import { writeFileAtomic } from "./atomic.ts";
import type { HostTensor, TensorMap } from "./tensor_map.ts";

/** The largest header the reference implementation accepts (100 MB). */
export const SAFETENSORS_MAX_HEADER = 100_000_000;

const DTYPE_SIZES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** A decoded safetensors file: its tensors and its `__metadata__` (empty object when absent). */
export interface SafetensorsFile {
  /** The tensors, in data-offset order. */
  tensors: TensorMap;
  /** The string-to-string `__metadata__` map. */
  metadata: Record<string, string>;
}

/** Options of {@linkcode decodeSafetensors}. */
export interface DecodeSafetensorsOptions {
  /** File name used in error messages. @default "<bytes>" */
  file?: string;
}

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function fail(code: SafetensorsError["code"], detail: string, file: string, tensor?: string): never {
  throw new SafetensorsError(code, detail, tensor === undefined ? { file } : { file, tensor });
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function parseHeader(
  bytes: Uint8Array,
  file: string,
): { entries: Entry[]; metadata: Record<string, string>; dataStart: number } {
  if (bytes.length < 8) {
    fail("header_too_small", `file is ${bytes.length} bytes, shorter than the 8-byte header length`, file);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(SAFETENSORS_MAX_HEADER)) {
    fail("header_too_large", `header length ${n64} exceeds the ${SAFETENSORS_MAX_HEADER}-byte limit`, file);
  }
  const n = Number(n64);
  if (n + 8 > bytes.length) {
    fail(
      "invalid_header_length",
      `header length ${n} runs past the end of the ${bytes.length}-byte file (truncated?)`,
      file,
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch (e) {
    throw new SafetensorsError("invalid_header_utf8", "header is not valid UTF-8", { file, cause: e });
  }
  if (!text.startsWith("{")) fail("invalid_header_start", "header does not start with '{'", file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError("invalid_header_json", `header is not valid JSON (${(e as Error).message})`, {
      file,
      cause: e,
    });
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    fail("invalid_header_json", "header JSON is not an object", file);
  }
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
        fail("invalid_metadata", "__metadata__ is not a string-to-string object", file);
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") {
          fail("invalid_metadata", `__metadata__["${k}"] is ${JSON.stringify(v)}, not a string`, file);
        }
        metadata[k] = v;
      }
      continue;
    }
    entries.push(parseEntry(name, raw, file));
  }
  return { entries, metadata, dataStart: 8 + n };
}

function parseEntry(name: string, raw: unknown, file: string): Entry {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    fail("invalid_tensor_entry", "entry is not an object with dtype, shape and data_offsets", file, name);
  }
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (typeof dtype !== "string") fail("invalid_tensor_entry", "dtype is missing or not a string", file, name);
  if (!(dtype in DTYPE_SIZES)) fail("invalid_tensor_entry", `unknown dtype "${dtype}"`, file, name);
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    fail("invalid_tensor_entry", "shape is not an array of non-negative integers", file, name);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    fail("invalid_tensor_entry", "data_offsets is not [begin, end] of non-negative integers", file, name);
  }
  return { name, dtype, shape: shape as number[], begin: offsets[0] as number, end: offsets[1] as number };
}

function validate(entries: Entry[], dataLength: number, file: string): void {
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let start = 0;
  for (const e of entries) {
    if (e.begin !== start || e.end < e.begin) {
      const why = e.begin > start
        ? `leaves a gap (${start}..${e.begin})`
        : e.begin < start
        ? `overlaps the previous tensor (begins at ${e.begin}, previous ends at ${start})`
        : `ends before it begins`;
      fail("invalid_offset", `data_offsets [${e.begin}, ${e.end}] ${why}`, file, e.name);
    }
    start = e.end;
    let count = 1n;
    for (const d of e.shape) count *= BigInt(d);
    const bytes = count * BigInt(DTYPE_SIZES[e.dtype]!);
    if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) {
      fail(
        "validation_overflow",
        `shape [${e.shape}] of ${e.dtype} overflows the addressable size`,
        file,
        e.name,
      );
    }
    if (Number(bytes) !== e.end - e.begin) {
      fail(
        "tensor_invalid_info",
        `${e.dtype} [${e.shape}] needs ${bytes} bytes but data_offsets span ${e.end - e.begin}`,
        file,
        e.name,
      );
    }
  }
  if (start !== dataLength) {
    fail(
      "metadata_incomplete_buffer",
      start < dataLength
        ? `${dataLength - start} trailing bytes after the last tensor`
        : `data section is ${dataLength} bytes but the header describes ${start} (truncated?)`,
      file,
    );
  }
}

function convert(e: Entry, raw: Uint8Array, file: string): HostTensor {
  const count = e.shape.reduce((a, b) => a * b, 1);
  const copy = () => raw.slice().buffer;
  const aligned = raw.byteOffset % 4 === 0; // writers pad the header to 8 bytes: F32 / I32 are read in place
  switch (e.dtype) {
    case "F32":
      return {
        dtype: "f32",
        shape: e.shape,
        data: aligned ? new Float32Array(raw.buffer, raw.byteOffset, count) : new Float32Array(copy()),
      };
    case "F16":
      return { dtype: "f32", shape: e.shape, data: decodeF16(raw, count) };
    case "BF16":
      return { dtype: "f32", shape: e.shape, data: decodeBF16(raw, count) };
    case "F64":
      return { dtype: "f32", shape: e.shape, data: Float32Array.from(new Float64Array(copy())) };
    case "I32":
      return {
        dtype: "i32",
        shape: e.shape,
        data: aligned ? new Int32Array(raw.buffer, raw.byteOffset, count) : new Int32Array(copy()),
      };
    case "I16":
      return { dtype: "i32", shape: e.shape, data: Int32Array.from(new Int16Array(copy())) };
    case "I8":
      return { dtype: "i32", shape: e.shape, data: Int32Array.from(new Int8Array(copy())) };
    case "U8":
    case "BOOL":
      return { dtype: "i32", shape: e.shape, data: Int32Array.from(raw) };
    case "I64":
      return {
        dtype: "i32",
        shape: e.shape,
        data: narrowI64(
          raw,
          count,
          (i, v) =>
            fail("value_out_of_range", `I64 value ${v} at index ${i} does not fit in i32`, file, e.name),
        ),
      };
    default:
      fail("unsupported_dtype", `dtype ${e.dtype} cannot be converted to f32 or i32`, file, e.name);
  }
}

/**
 * Narrows little-endian int64 values to int32, calling `onOverflow` (which must throw) for the first value out of
 * range. Shared with the PyTorch reader.
 *
 * @param raw the 8 * count bytes
 * @param count number of values
 * @param onOverflow called with the index and value of the first out-of-range element
 * @returns the values as an Int32Array
 */
export function narrowI64(
  raw: Uint8Array,
  count: number,
  onOverflow: (index: number, value: bigint) => never,
): Int32Array {
  const out = new Int32Array(count);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < count; i++) {
    const lo = view.getInt32(8 * i, true);
    const hi = view.getInt32(8 * i + 4, true);
    if (hi !== (lo >> 31)) onOverflow(i, view.getBigInt64(8 * i, true));
    out[i] = lo;
  }
  return out;
}

/**
 * Parses and validates a safetensors buffer. Nothing is returned unless the whole file is valid. Aligned F32 / I32
 * tensors are views into `bytes` (no copy); other dtypes are converted into new arrays.
 *
 * @param bytes the file contents
 * @param options file name for error messages
 * @returns the tensors (converted to f32 / i32) and the metadata
 * @example Round trip through bytes
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
 * const tensors = new Map([["w", { dtype: "f32" as const, shape: [2], data: new Float32Array([1.5, -2]) }]]);
 * const file = decodeSafetensors(encodeSafetensors(tensors, { metadata: { note: "hi" } }));
 * deepStrictEqual(file.tensors.get("w")?.data, new Float32Array([1.5, -2]));
 * deepStrictEqual(file.metadata, { note: "hi" });
 * ```
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  options: DecodeSafetensorsOptions = {},
): SafetensorsFile {
  const { file = "<bytes>" } = options;
  const { entries, metadata, dataStart } = parseHeader(bytes, file);
  validate(entries, bytes.length - dataStart, file);
  const tensors: TensorMap = new Map();
  for (const e of entries) {
    tensors.set(e.name, convert(e, bytes.subarray(dataStart + e.begin, dataStart + e.end), file));
  }
  return { tensors, metadata };
}

/** How {@linkcode encodeSafetensors} stores `f32` tensors. */
export type FloatFormat = "F32" | "F16" | "BF16";

/** Options of {@linkcode encodeSafetensors} / {@linkcode writeSafetensors}. */
export interface EncodeSafetensorsOptions {
  /** String-to-string `__metadata__`. @default {} */
  metadata?: Record<string, string>;
  /** Storage format of `f32` tensors (F16/BF16 round to nearest even). @default "F32" */
  floatFormat?: FloatFormat;
}

function checkTensor(name: string, t: HostTensor): void {
  const bad = (why: string) => fail("invalid_tensor_map", why, "<tensor map>", name);
  if (name === "" || name === "__metadata__") bad("tensor name must be non-empty and not __metadata__");
  if (!Array.isArray(t.shape) || !t.shape.every(isCount)) {
    bad(`shape [${t.shape}] is not non-negative integers`);
  }
  const want = t.dtype === "f32" ? Float32Array : t.dtype === "i32" ? Int32Array : undefined;
  if (!want || !(t.data instanceof want)) {
    bad(`dtype "${t.dtype}" does not match its ${t.data?.constructor?.name} data`);
  }
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) bad(`${t.data.length} values do not fill shape [${t.shape}]`);
}

function encodeData(t: HostTensor, format: FloatFormat): { dtype: string; bytes: Uint8Array } {
  if (t.dtype === "i32") {
    return { dtype: "I32", bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) };
  }
  if (format === "F32") {
    return { dtype: "F32", bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) };
  }
  const bits = new Uint16Array(t.data.length);
  const conv = format === "F16" ? floatToHalfBits : floatToBF16Bits;
  for (let i = 0; i < bits.length; i++) bits[i] = conv(t.data[i]!);
  return { dtype: format, bytes: new Uint8Array(bits.buffer) };
}

/** Builds the padded header and the list of data parts (views of the tensors' arrays, not copies, for F32/I32). */
function encodeParts(tensors: TensorMap, options: EncodeSafetensorsOptions): Uint8Array[] {
  const { metadata = {}, floatFormat = "F32" } = options;
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string") {
      fail("invalid_metadata", `__metadata__["${k}"] is not a string`, "<tensor map>");
    }
  }
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    checkTensor(name, t);
    const { dtype, bytes } = encodeData(t, floatFormat);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const head = new Uint8Array(8 + Math.ceil(json.length / 8) * 8).fill(0x20);
  new DataView(head.buffer).setBigUint64(0, BigInt(head.length - 8), true);
  head.set(json, 8);
  return [head, ...parts];
}

/**
 * Serialises a TensorMap to safetensors bytes (header padded with spaces to a multiple of 8, tensors in map order).
 *
 * @param tensors the tensors to store
 * @param options metadata and float format
 * @returns the file contents
 */
export function encodeSafetensors(tensors: TensorMap, options: EncodeSafetensorsOptions = {}): Uint8Array {
  const parts = encodeParts(tensors, options);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const part of parts) {
    out.set(part, pos);
    pos += part.length;
  }
  return out;
}

/**
 * Reads and validates a safetensors file.
 *
 * @param path the file
 * @returns its tensors and metadata
 */
export async function readSafetensors(path: string | URL): Promise<SafetensorsFile> {
  const bytes = await Deno.readFile(path);
  return decodeSafetensors(bytes, { file: String(path) });
}

/**
 * Writes a safetensors file atomically (temp file in the same folder, fsync, rename, fsync the folder): a crash
 * at any point leaves the old file or the new one, never a broken one.
 *
 * @param path the destination
 * @param tensors the tensors
 * @param options metadata and float format
 * @example Save and load
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { readSafetensors, writeSafetensors } from "./safetensors.ts";
 * const dir = await Deno.makeTempDir();
 * const tensors = new Map([["ids", { dtype: "i32" as const, shape: [3], data: new Int32Array([1, 2, 3]) }]]);
 * await writeSafetensors(`${dir}/m.safetensors`, tensors);
 * deepStrictEqual((await readSafetensors(`${dir}/m.safetensors`)).tensors, tensors);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeSafetensors(
  path: string,
  tensors: TensorMap,
  options: EncodeSafetensorsOptions = {},
): Promise<void> {
  await writeFileAtomic(path, encodeParts(tensors, options)); // streamed: no second copy of the weights
}
