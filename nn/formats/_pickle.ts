// An allow-list pickle interpreter for PyTorch state dicts. It never calls anything: GLOBAL only resolves names
// on a fixed allow-list to inert markers, REDUCE only "applies" the few allow-listed constructors (OrderedDict,
// the tensor rebuild functions, numpy scalars such as the np.float64 learning rates fastai keeps in its optimizer
// state, protocol 2's latin-1 encoding of bytes) by building plain data, NEWOBJ only "creates" fastcore's `L` (a
// plain list here), and every other opcode, global, call or persistent id is rejected with a PickleError at the byte where it appears — before anything after it is read.
// Lengths are checked against the remaining bytes, so memory stays bounded by the input size. This file is one
// interpreter loop plus its value types, which is why it is longer than most.
import { decodeF16 } from "./_float.ts";
import { PickleError } from "./errors.ts";

/** A Python tuple. */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A dict or OrderedDict (keys are primitives); `attrs` holds state set by BUILD (torch's `_metadata`). */
export class PyDict {
  readonly map = new Map<DictKey, PyValue>();
  attrs: PyDict | undefined;
  constructor(readonly ordered: boolean) {}
}

/** Raw bytes: BINBYTES / SHORT_BINBYTES, or protocol 2's `_codecs.encode(str, "latin1")`. */
export class PyBytes {
  constructor(readonly bytes: Uint8Array) {}
}

/** A numpy dtype as `numpy.dtype(code, False, True)` plus its BUILD state make it (only scalar codes). */
export class NumpyDType {
  /** Byte order from the BUILD state: `<` little, `|` not applicable, `>` big, `=` native. */
  order = "=";
  constructor(readonly code: NumpyCode) {}
}

/** The numpy scalar codes numpy scalars may use here. */
export type NumpyCode = "f2" | "f4" | "f8" | "i1" | "i2" | "i4" | "i8" | "u1" | "u2" | "u4" | "u8" | "b1";
const NUMPY_CODES = new Set<string>(["f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"]);

/** An allow-listed global, inert: a name only. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** Element types of torch storages we can read. */
export type StorageDType = "f32" | "f16" | "bf16" | "f64" | "i64" | "i32" | "i16" | "i8" | "u8" | "bool";

/** Bytes per element of each storage dtype. */
export const STORAGE_ITEM_SIZE: Record<StorageDType, number> = {
  f32: 4,
  f16: 2,
  bf16: 2,
  f64: 8,
  i64: 8,
  i32: 4,
  i16: 2,
  i8: 1,
  u8: 1,
  bool: 1,
};

/** A storage referenced by a persistent id; `bytes` may be filled in after unpickling (legacy format). */
export class StorageRef {
  bytes: Uint8Array | undefined;
  constructor(readonly key: string, readonly dtype: StorageDType, readonly numel: number) {}
}

/** The result of `_rebuild_tensor_v2`: a strided view of a storage, not yet materialised. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

/** Values the interpreter can produce. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PyValue[]
  | PyTuple
  | PyDict
  | PyGlobal
  | StorageRef
  | TensorRef
  | PyBytes
  | NumpyDType;
type DictKey = string | number | bigint | boolean | null;

const STORAGE_CLASSES: Record<string, StorageDType> = {
  FloatStorage: "f32",
  HalfStorage: "f16",
  BFloat16Storage: "bf16",
  DoubleStorage: "f64",
  LongStorage: "i64",
  IntStorage: "i32",
  ShortStorage: "i16",
  CharStorage: "i8",
  ByteStorage: "u8",
  BoolStorage: "bool",
};
const DTYPE_GLOBALS = [
  "float32",
  "float16",
  "bfloat16",
  "float64",
  "int64",
  "int32",
  "int16",
  "int8",
  "uint8",
  "bool",
];
const ALLOWED = new Set<string>([
  "collections.OrderedDict",
  "torch._utils._rebuild_tensor",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_parameter",
  "torch._utils._rebuild_parameter_with_state",
  "numpy.dtype",
  "numpy.core.multiarray.scalar",
  "numpy._core.multiarray.scalar",
  "_codecs.encode",
  "fastcore.foundation.L",
  ...Object.keys(STORAGE_CLASSES).map((n) => `torch.${n}`),
  ...DTYPE_GLOBALS.map((n) => `torch.${n}`),
]);

/**
 * Classes NEWOBJ may "create": list-like containers whose pickled state is `{"items": list}` and which become a
 * plain list here. fastai v2 keeps its optimizer's per-group hyper-parameters in a fastcore `L`, so every
 * `learn.save` file with the optimizer holds one.
 */
const LIST_CLASSES = new Set<string>(["fastcore.foundation.L"]);

/** The storage dtype an allow-listed `torch.*Storage` global stands for, if it is one. */
export function storageDType(g: PyValue): StorageDType | undefined {
  return g instanceof PyGlobal && g.module === "torch" ? STORAGE_CLASSES[g.name] : undefined;
}

/** Options of {@linkcode unpickle}. */
export interface UnpickleOptions {
  /** File name for errors. */
  file: string;
  /** Resolves a BINPERSID id (already checked to be a tuple); must throw on anything it does not accept. */
  persistentLoad?: (pid: PyTuple, at: number) => PyValue;
  /** Byte offset to start at. @default 0 */
  start?: number;
  /** Globals (`module.name`) GLOBAL may name. @default the state-dict allow-list (OrderedDict, torch rebuilders) */
  globals?: ReadonlySet<string>;
  /** What the file should hold, said when a global is refused. @default "a state dict" and what it needs */
  expected?: string;
}

const MARK = Symbol("mark");
// One decoder each, made once (a TextDecoder per string made a 240k-word vocabulary take 0.5 s).
const UTF8 = new TextDecoder("utf-8", { fatal: true });
const LATIN1 = new TextDecoder("latin1");
type StackItem = PyValue | typeof MARK;

/**
 * Runs the allow-list interpreter over one pickle.
 *
 * @returns the value and the offset just past STOP
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): { value: PyValue; end: number } {
  const { file, persistentLoad, globals = ALLOWED } = options;
  const expected = options.expected ??
    "a state dict only needs OrderedDict, torch tensor rebuilders, torch.*Storage and numpy scalars";
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = options.start ?? 0;
  let opAt = pos;
  const stack: StackItem[] = [];
  const memo = new Map<number, PyValue>();
  const unbuiltLists = new WeakSet<PyValue[]>(); // made by NEWOBJ, waiting for BUILD to give their items
  const err = (code: PickleError["code"], detail: string): never => {
    throw new PickleError(code, `${detail} (pickle byte ${opAt})`, { file });
  };
  const need = (n: number, what: string) => {
    if (n < 0 || pos + n > bytes.length) {
      err(
        "truncated",
        `${what} needs ${n} bytes but only ${bytes.length - pos} remain: the file is cut short`,
      );
    }
  };
  const take = (n: number, what: string): Uint8Array => {
    need(n, what);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const u8 = () => {
    need(1, "argument");
    return bytes[pos++]!;
  };
  const u32 = () => {
    need(4, "argument");
    pos += 4;
    return view.getUint32(pos - 4, true);
  };
  const line = (): string => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0 || nl - pos > 256) err("truncated", "GLOBAL name is not newline-terminated");
    const s = new TextDecoder().decode(bytes.subarray(pos, nl));
    pos = nl + 1;
    return s;
  };
  /** `n` bytes of UTF-8 at `pos`; short ASCII strings (most words of a vocabulary) skip the decoder. */
  const utf8 = (n: number, what: string): string => {
    need(n, what);
    const start = pos;
    pos += n;
    if (n <= 32) {
      let s = "";
      for (let i = start; i < start + n; i++) {
        const c = bytes[i]!;
        if (c >= 0x80) break;
        s += String.fromCharCode(c);
      }
      if (s.length === n) return s;
    }
    try {
      return UTF8.decode(bytes.subarray(start, start + n));
    } catch {
      return err(
        "malformed",
        `a ${n}-byte string is not valid UTF-8 (Python pickles a str holding a lone surrogate this way)`,
      );
    }
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) return err("malformed", "stack underflow");
    return v;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) return err("malformed", "stack underflow");
    return v;
  };
  const popMark = (): PyValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) err("malformed", "no MARK on the stack");
    const items = stack.splice(i) as PyValue[];
    items.shift();
    return items;
  };
  const key = (k: PyValue): DictKey => {
    if (k === null || ["string", "number", "bigint", "boolean"].includes(typeof k)) return k as DictKey;
    return err("malformed", "dict key is not a string, number, boolean or None");
  };
  const setItems = (d: PyValue, kv: PyValue[]) => {
    if (!(d instanceof PyDict)) err("malformed", "SETITEM(S) on something that is not a dict");
    if (kv.length % 2) err("malformed", "SETITEMS with an odd number of items");
    for (let i = 0; i < kv.length; i += 2) (d as PyDict).map.set(key(kv[i]!), kv[i + 1]!);
  };
  const global = (module: string, name: string): PyGlobal => {
    const q = `${module}.${name}`;
    if (!globals.has(q)) {
      err(
        "forbidden_global",
        `global ${q} is not on the allow-list — ${expected}; this file tries to reach other code and may be ` +
          `malicious (nothing was run)`,
      );
    }
    return new PyGlobal(module, name);
  };

  for (;;) {
    opAt = pos;
    if (pos >= bytes.length) {
      err("truncated", "the pickle ends before its STOP opcode: the file is cut short");
    }
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) err("malformed", "pickle protocol above 5");
        break;
      case 0x95: // FRAME
        take(8, "FRAME length");
        break;
      case 0x2e: // STOP
        if (stack.length !== 1) err("malformed", `STOP with ${stack.length} items on the stack`);
        return { value: pop(), end: pos };
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict(false));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: { // LONG_BINGET
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) err("malformed", `memo key ${i} was never stored`);
        stack.push(memo.get(i)!);
        break;
      }
      case 0x63: { // GLOBAL
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof name !== "string" || typeof module !== "string") {
          err("malformed", "STACK_GLOBAL needs two strings");
        }
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(utf8(u32(), "BINUNICODE string"));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(u8(), "SHORT_BINUNICODE string"));
        break;
      case 0x42: // BINBYTES
        stack.push(new PyBytes(take(u32(), "BINBYTES bytes")));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(new PyBytes(take(u8(), "SHORT_BINBYTES bytes")));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(LATIN1.decode(take(u32(), "BINSTRING string")));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(LATIN1.decode(take(u8(), "SHORT_BINSTRING string")));
        break;
      case 0x4a: // BININT
        take(4, "BININT");
        stack.push(view.getInt32(pos - 4, true));
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        take(2, "BININT2");
        stack.push(view.getUint16(pos - 2, true));
        break;
      case 0x8a: { // LONG1
        const b = take(u8(), "LONG1 value");
        let v = 0n;
        for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
        if (b.length && b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
        stack.push(
          v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v,
        );
        break;
      }
      case 0x47: // BINFLOAT
        take(8, "BINFLOAT");
        stack.push(view.getFloat64(pos - 8, false));
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: { // TUPLE3
        const items: PyValue[] = [];
        for (let i = op - 0x84; i > 0; i--) items.unshift(pop());
        stack.push(new PyTuple(items));
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        const list = top();
        if (!Array.isArray(list)) err("malformed", "APPEND to something that is not a list");
        (list as PyValue[]).push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) err("malformed", "APPENDS to something that is not a list");
        for (const v of items) (list as PyValue[]).push(v);
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(reduce(fn, args, err));
        break;
      }
      case 0x81: { // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        const cls = pop();
        if (!(cls instanceof PyGlobal && LIST_CLASSES.has(cls.qualified))) {
          err(
            "forbidden_call",
            `NEWOBJ (creating an object) is only accepted for ${[...LIST_CLASSES].join(", ")}`,
          );
        }
        if (!(args instanceof PyTuple) || args.items.length !== 0) {
          err("malformed", "NEWOBJ arguments are not ()");
        }
        const list: PyValue[] = [];
        unbuiltLists.add(list);
        stack.push(list);
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (Array.isArray(obj) && unbuiltLists.has(obj)) {
          const items = state instanceof PyDict ? state.map.get("items") : undefined;
          if (!(state instanceof PyDict) || state.map.size !== 1 || !Array.isArray(items) || items === obj) {
            err("malformed", "the state of an L is not {'items': list}");
          }
          for (const v of items as PyValue[]) obj.push(v);
          unbuiltLists.delete(obj);
          break;
        }
        if (obj instanceof NumpyDType && state instanceof PyTuple) {
          const [version, order] = state.items;
          if ((version !== 3 && version !== 4) || typeof order !== "string" || !"<>|=".includes(order)) {
            err("malformed", "numpy dtype state is not (3 or 4, byte order, ...)");
          }
          obj.order = order as string;
          break;
        }
        if (!(obj instanceof PyDict && obj.ordered) || !(state instanceof PyDict)) {
          err(
            "forbidden_call",
            "BUILD is only accepted to set an OrderedDict's attributes (_metadata), a numpy dtype's byte order " +
              "or an L's items",
          );
        }
        (obj as PyDict).attrs = state as PyDict;
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!(pid instanceof PyTuple) || !persistentLoad) {
          err("bad_persistent_id", "persistent id is not a tuple or persistent ids are not allowed here");
        }
        stack.push(persistentLoad!(pid as PyTuple, opAt));
        break;
      }
      default:
        err(
          "unknown_opcode",
          `opcode 0x${op.toString(16).padStart(2, "0")} (${
            JSON.stringify(String.fromCharCode(op))
          }) is not on the ` +
            `allow-list of opcodes (those of protocols 1 to 5 that plain containers, strings, numbers and ` +
            `tensors need)`,
        );
    }
  }
}

/** `numpy.core.multiarray.scalar(dtype, bytes)`: the number an np.float64 / np.int64 / np.bool_ pickles as. */
function numpyScalar(a: PyValue[], err: (code: PickleError["code"], d: string) => never): PyValue {
  const [dt, raw] = a;
  if (a.length !== 2 || !(dt instanceof NumpyDType) || !(raw instanceof PyBytes)) {
    return err("forbidden_call", "numpy scalar(...) needs (dtype, bytes)");
  }
  const size = Number(dt.code.slice(1));
  if (raw.bytes.length !== size) {
    return err("malformed", `numpy ${dt.code} scalar has ${raw.bytes.length} bytes, expected ${size}`);
  }
  if (dt.order === ">" && size > 1) return err("malformed", "big-endian numpy scalars are not supported");
  const v = new DataView(raw.bytes.buffer, raw.bytes.byteOffset, size);
  switch (dt.code) {
    case "f2":
      return decodeF16(raw.bytes, 1)[0]!;
    case "f4":
      return v.getFloat32(0, true);
    case "f8":
      return v.getFloat64(0, true);
    case "i1":
      return v.getInt8(0);
    case "i2":
      return v.getInt16(0, true);
    case "i4":
      return v.getInt32(0, true);
    case "u1":
      return v.getUint8(0);
    case "u2":
      return v.getUint16(0, true);
    case "u4":
      return v.getUint32(0, true);
    case "b1":
      return v.getUint8(0) !== 0;
    case "i8":
    case "u8": {
      const big = dt.code === "i8" ? v.getBigInt64(0, true) : v.getBigUint64(0, true);
      const safe = big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER);
      return safe ? Number(big) : big;
    }
  }
}

function isCountList(v: PyValue): v is PyTuple {
  return v instanceof PyTuple &&
    v.items.every((x) => typeof x === "number" && Number.isSafeInteger(x) && x >= 0);
}

function reduce(fn: PyValue, args: PyValue, err: (code: PickleError["code"], d: string) => never): PyValue {
  if (!(args instanceof PyTuple)) return err("malformed", "REDUCE arguments are not a tuple");
  const name = fn instanceof PyGlobal ? fn.qualified : typeof fn;
  const a = args.items;
  switch (name) {
    case "collections.OrderedDict": {
      const d = new PyDict(true);
      if (a.length === 0) return d;
      return err("forbidden_call", "OrderedDict(...) with arguments is not accepted");
    }
    case "torch._utils._rebuild_tensor": // torch < 0.4: (storage, offset, size, stride)
    case "torch._utils._rebuild_tensor_v2": {
      const [storage, offset, size, stride] = a;
      const v1 = name === "torch._utils._rebuild_tensor";
      if ((v1 ? a.length !== 4 : a.length < 6 || a.length > 7) || !(storage instanceof StorageRef)) {
        return err(
          "bad_tensor",
          `${name} needs (storage, offset, size, stride${v1 ? "" : ", requires_grad, hooks"})`,
        );
      }
      if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) {
        return err("bad_tensor", "tensor storage offset is not a non-negative integer");
      }
      if (!isCountList(size as PyValue) || !isCountList(stride as PyValue)) {
        return err("bad_tensor", "tensor size / stride are not tuples of non-negative integers");
      }
      const shape = (size as PyTuple).items as number[];
      const strides = (stride as PyTuple).items as number[];
      if (shape.length !== strides.length) {
        return err("bad_tensor", "tensor size and stride differ in length");
      }
      return new TensorRef(storage, offset, shape, strides);
    }
    case "torch._utils._rebuild_parameter":
    case "torch._utils._rebuild_parameter_with_state":
      if (!(a[0] instanceof TensorRef)) return err("bad_tensor", `${name} of something that is not a tensor`);
      return a[0];
    case "_codecs.encode": {
      const [text, encoding] = a;
      if (a.length !== 2 || typeof text !== "string" || (encoding !== "latin1" && encoding !== "latin-1")) {
        return err(
          "forbidden_call",
          "_codecs.encode is only accepted as (str, 'latin1'): protocol 2's bytes",
        );
      }
      const out = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c > 255) return err("malformed", "_codecs.encode(..., 'latin1') of a character above U+00FF");
        out[i] = c;
      }
      return new PyBytes(out);
    }
    case "numpy.dtype": {
      const [code] = a;
      if (a.length !== 3 || typeof code !== "string" || !NUMPY_CODES.has(code)) {
        return err(
          "forbidden_call",
          `numpy.dtype(${
            typeof code === "string" ? JSON.stringify(code) : "..."
          }) is not a scalar dtype we read ` +
            `(${[...NUMPY_CODES].join(", ")})`,
        );
      }
      return new NumpyDType(code as NumpyCode);
    }
    case "numpy.core.multiarray.scalar":
    case "numpy._core.multiarray.scalar":
      return numpyScalar(a, err);
    default:
      return err(
        "forbidden_call",
        `REDUCE (a call) on ${name} is not allowed — only OrderedDict and tensor rebuilders`,
      );
  }
}
