/**
 * Buffer pool by size class: freed buffers wait in a free list for the next allocation of the same class, so a
 * training loop that allocates the same shapes every step stops creating GPU buffers after the first step.
 * Classes are powers of two up to 64 KiB, then eight steps per power of two (at most 12.5% slack).
 *
 * @module
 */

/** Round a byte size up to its size class. */
export function sizeClass(bytes: number): number {
  const b = Math.max(16, Math.ceil(bytes / 16) * 16);
  if (b <= 65536) return 2 ** Math.ceil(Math.log2(b));
  const step = 2 ** (Math.floor(Math.log2(b)) - 3);
  return Math.ceil(b / step) * step;
}

/** Statistics of the pool itself (beyond the storages' live bytes). */
export interface PoolStats {
  /** GPU buffers created so far. */
  created: number;
  /** Allocations served from the free lists. */
  reused: number;
  /** Bytes sitting in the free lists. */
  idleBytes: number;
}

/** Free lists of storage buffers keyed by size class. */
export class BufferPool {
  #device: GPUDevice;
  #usage: number;
  #free = new Map<number, GPUBuffer[]>();
  #maxIdleBytes: number;
  #stats: PoolStats = { created: 0, reused: 0, idleBytes: 0 };

  /** A pool of buffers with `usage`, keeping at most `maxIdleBytes` idle. */
  constructor(device: GPUDevice, usage: number, maxIdleBytes = 1 << 30) {
    this.#device = device;
    this.#usage = usage;
    this.#maxIdleBytes = maxIdleBytes;
  }

  /** A buffer of at least `bytes` bytes (contents unspecified). */
  acquire(bytes: number): GPUBuffer {
    const cls = sizeClass(bytes);
    const list = this.#free.get(cls);
    const buf = list?.pop();
    if (buf) {
      this.#stats.reused++;
      this.#stats.idleBytes -= cls;
      return buf;
    }
    this.#stats.created++;
    return this.#device.createBuffer({ size: cls, usage: this.#usage });
  }

  /** Give a buffer back for reuse (destroyed when the pool already holds too many idle bytes). */
  release(buf: GPUBuffer): void {
    const cls = buf.size;
    if (this.#stats.idleBytes + cls > this.#maxIdleBytes) {
      buf.destroy();
      return;
    }
    let list = this.#free.get(cls);
    if (!list) this.#free.set(cls, list = []);
    list.push(buf);
    this.#stats.idleBytes += cls;
  }

  /** Pool statistics. */
  stats(): PoolStats {
    return { ...this.#stats };
  }

  /** Destroy every idle buffer. */
  dispose(): void {
    for (const list of this.#free.values()) for (const b of list) b.destroy();
    this.#free.clear();
    this.#stats.idleBytes = 0;
  }
}
