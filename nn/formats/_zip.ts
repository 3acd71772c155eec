// A minimal, read-only zip reader for PyTorch checkpoints (torch.save >= 1.6 writes an uncompressed zip):
// end-of-central-directory (with zip64), central directory, local headers, CRC-32 check. Only STORED entries are
// read; compressed or encrypted ones are refused with a ZipError naming the entry. Entry data are views into
// the file's bytes — nothing is copied.
import { ZipError } from "./errors.ts";

/** One central-directory record. */
export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** True when `bytes` starts like a zip archive (a local file header). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 &&
    bytes[3] === 0x04;
}

function u64(view: DataView, at: number, file: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ZipError("bad_entry", `zip64 field ${v} too large`, { file });
  }
  return Number(v);
}

/** Parses the central directory; throws ZipError on anything malformed. */
export function readZipDirectory(bytes: Uint8Array, file: string): Map<string, ZipEntry> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (at: number, n: number, what: string) => {
    if (at < 0 || at + n > bytes.length) {
      throw new ZipError(
        "truncated",
        `${what} at byte ${at} runs past the end of the ${bytes.length}-byte file`,
        { file },
      );
    }
  };
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new ZipError(
      looksLikeZip(bytes) ? "truncated" : "not_a_zip",
      "no end-of-central-directory record",
      { file },
    );
  }
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    need(loc, 20, "zip64 locator");
    if (view.getUint32(loc, true) !== 0x07064b50) {
      throw new ZipError("bad_entry", "zip64 locator missing", { file });
    }
    const z = u64(view, loc + 8, file);
    need(z, 56, "zip64 end record");
    if (view.getUint32(z, true) !== 0x06064b50) {
      throw new ZipError("bad_entry", "zip64 end record missing", { file });
    }
    count = u64(view, z + 32, file);
    cdSize = u64(view, z + 40, file);
    cdOffset = u64(view, z + 48, file);
  }
  need(cdOffset, cdSize, "central directory");
  const entries = new Map<string, ZipEntry>();
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    need(p, 46, "central directory record");
    if (view.getUint32(p, true) !== 0x02014b50) {
      throw new ZipError("bad_entry", `bad central directory signature at byte ${p}`, { file });
    }
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    need(p + 46, nameLen + extraLen + commentLen, "central directory name");
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    const e: ZipEntry = {
      name,
      flags: view.getUint16(p + 8, true),
      method: view.getUint16(p + 10, true),
      crc32: view.getUint32(p + 16, true),
      compressedSize: view.getUint32(p + 20, true),
      size: view.getUint32(p + 24, true),
      localOffset: view.getUint32(p + 42, true),
    };
    readZip64Extra(view, p + 46 + nameLen, extraLen, e, file);
    if (entries.has(name)) throw new ZipError("bad_entry", `duplicate entry`, { file, tensor: name });
    entries.set(name, e);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

function readZip64Extra(view: DataView, at: number, len: number, e: ZipEntry, file: string): void {
  const end = at + len;
  while (at + 4 <= end) {
    const id = view.getUint16(at, true);
    const size = view.getUint16(at + 2, true);
    if (id === 0x0001) {
      let q = at + 4;
      const take = () => {
        if (q + 8 > at + 4 + size) {
          throw new ZipError("bad_entry", "short zip64 extra field", { file, tensor: e.name });
        }
        const v = u64(view, q, file);
        q += 8;
        return v;
      };
      if (e.size === 0xffffffff) e.size = take();
      if (e.compressedSize === 0xffffffff) e.compressedSize = take();
      if (e.localOffset === 0xffffffff) e.localOffset = take();
    }
    at += 4 + size;
  }
}

let crcTables: Int32Array | undefined;

function tables(): Int32Array {
  if (crcTables) return crcTables;
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const prev = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return (crcTables = t);
}

/** CRC-32 (IEEE, as zip uses) of `data`, slicing-by-8. */
export function crc32(data: Uint8Array): number {
  const t = tables();
  let c = -1;
  let i = 0;
  const end8 = data.length - (data.length % 8);
  for (; i < end8; i += 8) {
    const a = c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    const b = data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24);
    c = t[1792 + (a & 0xff)]! ^ t[1536 + ((a >>> 8) & 0xff)]! ^ t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + (b & 0xff)]! ^ t[512 + ((b >>> 8) & 0xff)]! ^ t[256 + ((b >>> 16) & 0xff)]! ^ t[b >>> 24]!;
  }
  for (; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** The bytes of a STORED entry (a view), after checking its local header, bounds and CRC-32. */
export function zipEntryData(bytes: Uint8Array, e: ZipEntry, file: string): Uint8Array {
  if (e.flags & 1) throw new ZipError("encrypted_entry", "entry is encrypted", { file, tensor: e.name });
  if (e.method !== 0) {
    throw new ZipError(
      "compressed_entry",
      `entry uses compression method ${e.method}${
        e.method === 8 ? " (deflate)" : ""
      }; only uncompressed (STORED) ` +
        `entries are read — torch.save writes them that way: re-save the checkpoint with torch.save`,
      { file, tensor: e.name },
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const p = e.localOffset;
  if (p + 30 > bytes.length) {
    throw new ZipError("truncated", "local header past the end of the file", { file, tensor: e.name });
  }
  if (view.getUint32(p, true) !== 0x04034b50) {
    throw new ZipError("bad_entry", `bad local header signature at byte ${p}`, { file, tensor: e.name });
  }
  const start = p + 30 + view.getUint16(p + 26, true) + view.getUint16(p + 28, true);
  if (e.compressedSize !== e.size) {
    throw new ZipError("bad_entry", `stored entry sizes differ (${e.compressedSize} vs ${e.size})`, {
      file,
      tensor: e.name,
    });
  }
  if (start + e.size > bytes.length) {
    throw new ZipError(
      "truncated",
      `entry data (${e.size} bytes at ${start}) runs past the end of the file`,
      {
        file,
        tensor: e.name,
      },
    );
  }
  const data = bytes.subarray(start, start + e.size);
  const crc = crc32(data);
  if (crc !== e.crc32) {
    throw new ZipError(
      "crc_mismatch",
      `CRC-32 ${crc.toString(16)} != recorded ${e.crc32.toString(16)} (file corrupted)`,
      {
        file,
        tensor: e.name,
      },
    );
  }
  return data;
}
