// Half-precision conversions (IEEE binary16 and bfloat16) for checkpoint I/O. Decoding uses a 64K lookup table
// built once; encoding rounds to nearest, ties to even, like PyTorch's `.half()` / `.bfloat16()`.

let f16Table: Float32Array | undefined;

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Decodes `count` little-endian binary16 values starting at `bytes[0]` into f32. */
export function decodeF16(bytes: Uint8Array, count: number): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = halfToFloat(i);
  }
  const table = f16Table;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = table[bytes[2 * i]! | (bytes[2 * i + 1]! << 8)]!;
  return out;
}

/** Decodes `count` little-endian bfloat16 values into f32 (exact: bf16 is the top half of an f32). */
export function decodeBF16(bytes: Uint8Array, count: number): Float32Array {
  const bits = new Uint32Array(count);
  for (let i = 0; i < count; i++) bits[i] = ((bytes[2 * i]! | (bytes[2 * i + 1]! << 8)) << 16) >>> 0;
  return new Float32Array(bits.buffer);
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** Rounds an f32 to binary16 bits (nearest, ties to even; overflow to infinity; NaN kept). */
export function floatToHalfBits(v: number): number {
  scratch[0] = v;
  const x = scratchBits[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let h = mant >>> shift;
    if (rest > half || (rest === half && (h & 1))) h++;
    return sign | h;
  }
  const rest = mant & 0x1fff;
  let h = (e << 10) | (mant >>> 13);
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++;
  return sign | h;
}

/** Rounds an f32 to bfloat16 bits (nearest, ties to even; NaN kept quiet). */
export function floatToBF16Bits(v: number): number {
  scratch[0] = v;
  const x = scratchBits[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff)) return (x >>> 16) | 0x40;
  const lsb = (x >>> 16) & 1;
  return ((x + 0x7fff + lsb) >>> 16) & 0xffff;
}
