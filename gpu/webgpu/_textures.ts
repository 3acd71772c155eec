/**
 * Texture copies of storages for CPU-like adapters (llvmpipe), where a texel fetch costs a fraction of a
 * storage-buffer load. Storages are copied into `rgba32f` textures in a flat layout (texel `t` at
 * `(t % TEX_W, t / TEX_W)`, holding elements `4t..4t+3`), raw or packed to a dense padded 3-D layout, and cached
 * per storage version (so a weight is copied once per update) with a least-recently-used budget. The matmul, row
 * and elementwise kernels read them; the elementwise texture path also borrows output textures from here.
 *
 * @module
 */

import { type BufferOperand, type Executor, UniformWriter } from "./_exec.ts";
import type { BufferPool } from "./_pool.ts";
import type { GpuStorage } from "./_storage.ts";

/** Texels per row of the flat texture layout. */
export const TEX_W = 2048;
/** log2 of {@linkcode TEX_W}. */
export const TEX_SHIFT = 11;

/** Bytes of operand textures kept cached before the least recently used are dropped. */
const TEXTURE_BUDGET = 1 << 30;

const MAIN2 = `fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(local_invocation_index) lid: u32) {`;

/**
 * Pack a 3-D strided view `(D0, D1, D2)` into a dense `(D0, D1, P2)` f32 buffer, zero-padding columns
 * `D2..P2`. Operands $0 src, $1 dst. Uniforms: total, D1, P2, D2, off, s0, s1, s2.
 */
export function packCode(): { key: string; code: () => string } {
  const code = () => `
@compute @workgroup_size(64)
${MAIN2}
  let i = flat_wg(wid, nwg) * 64u + lid;
  if (i >= uu(0u)) { return; }
  let P2 = uu(2u); let c = i % P2; let t = i / P2; let r = t % uu(1u); let b = t / uu(1u);
  var v = 0.0;
  if (c < uu(3u)) { v = $0[ui(4u) + i32(b) * ui(5u) + i32(r) * ui(6u) + i32(c) * ui(7u)]; }
  $1[i] = v;
}`;
  return { key: "mm-pack", code };
}

/**
 * Pack (texture form, for CPU-like adapters): read the 3-D view through a texture of its region (element `i` is
 * component `i % 4` of texel `i / 4`) and store the packed `(D0, D1, P2)` result straight into the operand
 * texture. Operands $0 packed storage texture, $1 source texture. Uniforms: total texels, D1, P2, D2, off
 * (relative to the region), s0, s1, s2.
 */
export function packTextureCode(): { key: string; code: () => string } {
  const code = () => `
fn ldx(i: i32) -> f32 {
  let t = u32(i) >> 2u;
  return textureLoad($1, vec2<u32>(t & ${TEX_W - 1}u, t >> ${TEX_SHIFT}u), 0)[u32(i) & 3u];
}
@compute @workgroup_size(64)
${MAIN2}
  let t = flat_wg(wid, nwg) * 64u + lid;
  if (t >= uu(0u)) { return; }
  let D1 = uu(1u); let P2 = uu(2u); let D2 = uu(3u);
  var v = vec4<f32>(0.0);
  for (var k = 0u; k < 4u; k = k + 1u) {
    let e = t * 4u + k;
    let c = e % P2; let rb = e / P2; let r = rb % D1; let b = rb / D1;
    if (c < D2) { v[k] = ldx(ui(4u) + i32(b) * ui(5u) + i32(r) * ui(6u) + i32(c) * ui(7u)); }
  }
  textureStore($0, vec2<u32>(t & ${TEX_W - 1}u, t >> ${TEX_SHIFT}u), v);
}`;
  return { key: "mm-pack-tex", code };
}

interface TexEntry {
  texture: GPUTexture;
  rows: number;
  version: number;
  storageId: number;
}

/** The texture cache of one device. */
export class TextureCache {
  #device: GPUDevice;
  #exec: Executor;
  #pool: BufferPool;
  #textures = new Map<string, TexEntry>();
  #free: GPUTexture[] = [];
  #out: GPUTexture[] = [];
  #bytes = 0;

  /** A cache that records its copies and pack launches on `exec` and borrows scratch buffers from `pool`. */
  constructor(device: GPUDevice, exec: Executor, pool: BufferPool) {
    this.#device = device;
    this.#exec = exec;
    this.#pool = pool;
  }

  /** Bytes held by cached operand textures. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Rows of a flat texture holding `texels`, or 0 when it exceeds the adapter's texture size. */
  rows(texels: number): number {
    const rows = Math.max(1, Math.ceil(texels / TEX_W));
    return rows <= this.#device.limits.maxTextureDimension2D ? rows : 0;
  }

  /** Texture of texels `[start, start + count)` of a storage (texel t = elements 4t..4t+3). */
  raw(st: GpuStorage, start: number, count: number): GPUTexture {
    return this.#texture(
      `${st.id}|raw|${start}|${count}`,
      st,
      count,
      (tex) => this.#copyToTexture(st.buffer, count, tex, start * 16),
    );
  }

  /** Texture of a 3-D view packed to `(D0, D1, ceil(D2/4)*4)` with zero padding. */
  packed(
    st: GpuStorage,
    off: number,
    dims: [number, number, number],
    s: [number, number, number],
  ): GPUTexture {
    const [D0, D1, D2] = dims;
    const P2 = Math.ceil(D2 / 4) * 4, total = D0 * D1 * P2;
    const key = `${st.id}|pack|${off}|${dims.join(",")}|${s.join(",")}`;
    const last = off + (D0 - 1) * s[0] + (D1 - 1) * s[1] + (D2 - 1) * s[2];
    const start = Math.floor(off / 4), count = Math.floor(last / 4) - start + 1;
    if (s.every((x) => x >= 0) && this.rows(count) > 0) {
      // Read the view through a texture of its region and store texels straight into the operand texture.
      return this.#texture(key, st, total / 4, (tex) => {
        const src = this.raw(st, start, count);
        const u = new UniformWriter();
        u.u32(total / 4), u.u32(D1), u.u32(P2), u.u32(D2), u.i32(off - start * 4), u.i32(s[0]), u.i32(s[1]);
        u.i32(s[2]);
        const { key: pk, code } = packTextureCode();
        this.#exec.dispatch({
          key: pk,
          code,
          operands: [{ texture: tex, store: true }, { texture: src }],
          uniforms: u.words().slice(),
          workgroups: Math.ceil(total / 4 / 64),
        });
      });
    }
    return this.#texture(key, st, total / 4, (tex) => {
      const tmp = this.#pool.acquire(total * 4);
      const u = new UniformWriter();
      u.u32(total), u.u32(D1), u.u32(P2), u.u32(D2), u.i32(off), u.i32(s[0]), u.i32(s[1]), u.i32(s[2]);
      const { key: pk, code } = packCode();
      const src: BufferOperand = {
        buffer: st.buffer,
        type: st.dtype === "i32" ? "i32" : "f32",
        write: false,
      };
      this.#exec.dispatch({
        key: pk,
        code,
        operands: [src, { buffer: tmp, type: "f32", write: true }],
        uniforms: u.words().slice(),
        workgroups: Math.ceil(total / 64),
      });
      this.#copyToTexture(tmp, total / 4, tex);
      this.#pool.release(tmp);
    });
  }

  /** A writable flat output texture of `rows` rows (give it back with {@linkcode TextureCache.releaseOutput}). */
  output(rows: number): GPUTexture {
    const idx = this.#out.findIndex((t) => t.height === rows);
    return idx >= 0 ? this.#out.splice(idx, 1)[0]! : this.#device.createTexture({
      size: [TEX_W, rows],
      format: "rgba32float",
      usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_SRC,
    });
  }

  /** Keep `t` for later {@linkcode TextureCache.output} calls (at most 8 are kept). */
  releaseOutput(t: GPUTexture): void {
    this.#out.push(t);
    if (this.#out.length > 8) {
      this.#exec.flush();
      this.#out.shift()!.destroy();
    }
  }

  /** Drop every cached texture of storage `id` (it was freed). */
  forget(id: number): void {
    for (const [k, e] of this.#textures) {
      if (e.storageId === id) {
        this.#textures.delete(k);
        this.#recycle(e.texture);
      }
    }
  }

  /** Destroy every texture. */
  dispose(): void {
    for (const e of this.#textures.values()) e.texture.destroy();
    for (const t of this.#free) t.destroy();
    for (const t of this.#out) t.destroy();
    this.#textures.clear();
    this.#free = [];
    this.#out = [];
  }

  /** A texture holding `texels` texels of `st` (filled by `fill`), cached per storage version. */
  #texture(key: string, st: GpuStorage, texels: number, fill: (tex: GPUTexture) => void): GPUTexture {
    const rows = Math.max(1, Math.ceil(texels / TEX_W));
    let e = this.#textures.get(key);
    if (e) {
      this.#textures.delete(key); // re-insert: the map's order is least recently used first
      this.#textures.set(key, e);
    }
    if (e && e.version === st.version && e.rows >= rows) return e.texture;
    if (e && e.rows < rows) {
      this.#textures.delete(key);
      this.#recycle(e.texture);
      e = undefined;
    }
    if (!e) {
      const idx = this.#free.findIndex((t) => t.height === rows);
      const texture = idx >= 0 ? this.#free.splice(idx, 1)[0]! : this.#device.createTexture({
        size: [TEX_W, rows],
        format: "rgba32float",
        usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST | GPUTextureUsage.STORAGE_BINDING,
      });
      if (idx < 0) this.#bytes += TEX_W * rows * 16;
      e = { texture, rows, version: st.version, storageId: st.id };
      this.#textures.set(key, e);
      while (this.#textures.size > 48 || (this.#bytes > TEXTURE_BUDGET && this.#textures.size > 2)) {
        const [oldKey, old] = this.#textures.entries().next().value!;
        this.#textures.delete(oldKey);
        this.#recycle(old.texture);
      }
    }
    e.version = st.version;
    fill(e.texture);
    return e.texture;
  }

  #recycle(t: GPUTexture): void {
    this.#free.push(t);
    while (this.#free.length > 16 || (this.#bytes > TEXTURE_BUDGET && this.#free.length > 0)) {
      const old = this.#free.shift()!;
      this.#bytes -= old.width * old.height * 16;
      this.#exec.flush();
      old.destroy();
    }
  }

  #copyToTexture(buffer: GPUBuffer, texels: number, tex: GPUTexture, offset = 0): void {
    const enc = this.#exec.encoderForCopy();
    const full = Math.floor(texels / TEX_W), rest = texels - full * TEX_W;
    if (full > 0) {
      enc.copyBufferToTexture({ buffer, offset, bytesPerRow: TEX_W * 16, rowsPerImage: full }, {
        texture: tex,
      }, [TEX_W, full]);
    }
    if (rest > 0) {
      enc.copyBufferToTexture(
        { buffer, offset: offset + full * TEX_W * 16, bytesPerRow: TEX_W * 16 },
        { texture: tex, origin: [0, full] },
        [rest, 1],
      );
    }
    this.#exec.markBusy(buffer);
  }
}
