/**
 * Builders for format tests: bytes from latin-1 strings and byte arrays, and stored (uncompressed) zip files
 * like torch.save writes (zip64 on request).
 *
 * @module
 */
import { crc32 } from "./_zip.ts";

/** Bytes of a latin-1 string (pickle opcodes are written as characters). */
export const latin = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
/** Concatenate byte arrays and latin-1 strings. */
export const cat = (...parts: (Uint8Array | string)[]) => {
  const arrs = parts.map((p) => (typeof p === "string" ? latin(p) : p));
  const out = new Uint8Array(arrs.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrs) (out.set(a, o), (o += a.length));
  return out;
};

/** A stored zip of `entries` (name -> bytes); `method` 8 marks entries deflated without deflating them. */
export function zip(
  entries: Record<string, Uint8Array>,
  options: { method?: number; zip64?: boolean } = {},
): Uint8Array {
  const local: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(entries)) {
    const n = new TextEncoder().encode(name);
    const h = new DataView(new ArrayBuffer(30));
    h.setUint32(0, 0x04034b50, true);
    h.setUint16(8, options.method ?? 0, true);
    h.setUint32(14, crc32(data), true);
    h.setUint32(18, data.length, true);
    h.setUint32(22, data.length, true);
    h.setUint16(26, n.length, true);
    const c = new DataView(new ArrayBuffer(46));
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(10, options.method ?? 0, true);
    c.setUint32(16, crc32(data), true);
    c.setUint32(20, data.length, true);
    c.setUint32(24, data.length, true);
    c.setUint16(28, n.length, true);
    c.setUint32(42, offset, true);
    local.push(new Uint8Array(h.buffer), n, data);
    central.push(new Uint8Array(c.buffer), n);
    offset += 30 + n.length + data.length;
  }
  const cd = cat(...central);
  const e = new DataView(new ArrayBuffer(22));
  e.setUint32(0, 0x06054b50, true);
  e.setUint16(8, central.length / 2, true);
  e.setUint16(10, central.length / 2, true);
  e.setUint32(12, cd.length, true);
  e.setUint32(16, offset, true);
  if (!options.zip64) return cat(...local, cd, new Uint8Array(e.buffer));
  // zip64: the classic record says "see zip64" and the real values live in the zip64 end record
  e.setUint16(8, 0xffff, true);
  e.setUint16(10, 0xffff, true);
  e.setUint32(16, 0xffffffff, true);
  const z = new DataView(new ArrayBuffer(56));
  z.setUint32(0, 0x06064b50, true);
  z.setBigUint64(24, BigInt(central.length / 2), true);
  z.setBigUint64(32, BigInt(central.length / 2), true);
  z.setBigUint64(40, BigInt(cd.length), true);
  z.setBigUint64(48, BigInt(offset), true);
  const loc = new DataView(new ArrayBuffer(20));
  loc.setUint32(0, 0x07064b50, true);
  loc.setBigUint64(8, BigInt(offset + cd.length), true);
  return cat(...local, cd, new Uint8Array(z.buffer), new Uint8Array(loc.buffer), new Uint8Array(e.buffer));
}
