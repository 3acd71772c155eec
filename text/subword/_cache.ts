/**
 * Segment -> ids cache for encoding, without allocating: a segment is looked up by hashing and comparing the
 * UTF-16 units of the text in place (no `slice`, no string keys), and hits copy ids from one flat pool. A
 * segment's ids depend only on the segment (pieces never cross segments), so caching changes no result. The
 * cache holds at most `maxEntries` segments and is emptied when full (memory stays bounded on any input).
 *
 * Layout, chosen for few cache misses per lookup: the table holds `[hash, entry + 1]` pairs (a probe rejects
 * other keys without leaving the table); an entry's key units and ids sit next to each other in one pool.
 *
 * @module
 */

/** Longest segment (UTF-16 units) the cache takes; ids per entry stay below 2^16. */
export const CACHE_MAX_SEGMENT = 64;

/** Flat open-addressing cache from text segments to id sequences. */
export class SegmentCache {
  #table: Int32Array; // pairs [hash, entry + 1]; entry 0 = empty
  #mask: number; // over pair slots
  #meta = new Int32Array(2048); // pairs [pool offset, keyLen | idsLen << 8]
  #pool = new Int32Array(1 << 16);
  #n = 0;
  #used = 0;

  /** A cache of up to `maxEntries` segments. */
  constructor(readonly maxEntries = 1 << 18) {
    let cap = 1024;
    while (cap < maxEntries * 2) cap *= 2;
    this.#table = new Int32Array(cap * 2);
    this.#mask = cap - 1;
  }

  /** Hash of `text[start, end)`. */
  static hash(text: string, start: number, end: number): number {
    let h = 0x811c9dc5 | 0;
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    return h;
  }

  /**
   * Append the cached ids of `text[start, end)` to `out`.
   *
   * @returns false when the segment is not cached.
   */
  appendTo(text: string, start: number, end: number, h: number, out: number[]): boolean {
    const len = end - start;
    const table = this.#table, mask = this.#mask, pool = this.#pool, meta = this.#meta;
    for (let slot = h & mask;; slot = (slot + 1) & mask) {
      const e1 = table[2 * slot + 1]!;
      if (e1 === 0) return false;
      if (table[2 * slot] !== h) continue;
      const e = e1 - 1;
      const lens = meta[2 * e + 1]!;
      if ((lens & 0xff) !== len) continue;
      const off = meta[2 * e]!;
      let i = 0;
      while (i < len && pool[off + i] === text.charCodeAt(start + i)) i++;
      if (i < len) continue;
      const il = lens >>> 8;
      for (let k = off + len; k < off + len + il; k++) out.push(pool[k]!);
      return true;
    }
  }

  /** Remember the ids of `text[start, end)` (hash `h`); segments over {@linkcode CACHE_MAX_SEGMENT} are ignored. */
  set(text: string, start: number, end: number, h: number, ids: ArrayLike<number>): void {
    const len = end - start;
    if (len > CACHE_MAX_SEGMENT || ids.length >= 1 << 16) return;
    if (this.#n >= this.maxEntries) this.clear();
    const e = this.#n++;
    if (2 * e + 2 > this.#meta.length) {
      const b = new Int32Array(this.#meta.length * 2);
      b.set(this.#meta);
      this.#meta = b;
    }
    while (this.#used + len + ids.length > this.#pool.length) {
      const b = new Int32Array(this.#pool.length * 2);
      b.set(this.#pool);
      this.#pool = b;
    }
    const off = this.#used, pool = this.#pool;
    for (let i = 0; i < len; i++) pool[off + i] = text.charCodeAt(start + i);
    for (let i = 0; i < ids.length; i++) pool[off + len + i] = ids[i]!;
    this.#used += len + ids.length;
    this.#meta[2 * e] = off;
    this.#meta[2 * e + 1] = len | (ids.length << 8);
    let slot = h & this.#mask;
    while (this.#table[2 * slot + 1] !== 0) slot = (slot + 1) & this.#mask;
    this.#table[2 * slot] = h;
    this.#table[2 * slot + 1] = e + 1;
  }

  /** Forget everything. */
  clear(): void {
    this.#table.fill(0);
    this.#n = 0, this.#used = 0;
  }
}
