/**
 * Segment -> ids cache for encoding, without allocating: a segment is looked up by hashing and comparing the
 * UTF-16 units of the text in place (no `slice`, no string keys), and hits copy ids from one flat pool. A
 * segment's ids depend only on the segment (pieces never cross segments), so caching changes no result. The
 * cache holds at most `maxEntries` segments and is emptied when full (memory stays bounded on any input).
 *
 * @module
 */

/** Flat open-addressing cache from text segments to id sequences. */
export class SegmentCache {
  #table: Int32Array; // entry index + 1, 0 = empty
  #mask: number;
  #hash = new Int32Array(1024);
  #keyOff = new Int32Array(1024);
  #keyLen = new Int32Array(1024);
  #idsOff = new Int32Array(1024);
  #idsLen = new Int32Array(1024);
  #keys = new Uint16Array(1 << 16);
  #ids = new Int32Array(1 << 16);
  #n = 0;
  #keyUsed = 0;
  #idsUsed = 0;

  /** A cache of up to `maxEntries` segments. */
  constructor(readonly maxEntries = 1 << 18) {
    let cap = 1024;
    while (cap < maxEntries * 2) cap *= 2;
    this.#table = new Int32Array(cap);
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
    const table = this.#table, mask = this.#mask, keys = this.#keys;
    for (let slot = h & mask;; slot = (slot + 1) & mask) {
      const e1 = table[slot]!;
      if (e1 === 0) return false;
      const e = e1 - 1;
      if (this.#hash[e] !== h || this.#keyLen[e] !== len) continue;
      const ko = this.#keyOff[e]!;
      let same = true;
      for (let i = 0; i < len; i++) {
        if (keys[ko + i] !== text.charCodeAt(start + i)) {
          same = false;
          break;
        }
      }
      if (!same) continue;
      const io = this.#idsOff[e]!, il = this.#idsLen[e]!, ids = this.#ids;
      for (let i = 0; i < il; i++) out.push(ids[io + i]!);
      return true;
    }
  }

  /** Remember the ids of `text[start, end)` (hash `h`). */
  set(text: string, start: number, end: number, h: number, ids: ArrayLike<number>): void {
    if (this.#n >= this.maxEntries) this.clear();
    const len = end - start;
    const e = this.#n++;
    if (e >= this.#hash.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.#hash = grow(this.#hash), this.#keyOff = grow(this.#keyOff), this.#keyLen = grow(this.#keyLen);
      this.#idsOff = grow(this.#idsOff), this.#idsLen = grow(this.#idsLen);
    }
    while (this.#keyUsed + len > this.#keys.length) {
      const b = new Uint16Array(this.#keys.length * 2);
      b.set(this.#keys);
      this.#keys = b;
    }
    while (this.#idsUsed + ids.length > this.#ids.length) {
      const b = new Int32Array(this.#ids.length * 2);
      b.set(this.#ids);
      this.#ids = b;
    }
    for (let i = 0; i < len; i++) this.#keys[this.#keyUsed + i] = text.charCodeAt(start + i);
    for (let i = 0; i < ids.length; i++) this.#ids[this.#idsUsed + i] = ids[i]!;
    this.#hash[e] = h, this.#keyOff[e] = this.#keyUsed, this.#keyLen[e] = len;
    this.#idsOff[e] = this.#idsUsed, this.#idsLen[e] = ids.length;
    this.#keyUsed += len, this.#idsUsed += ids.length;
    let slot = h & this.#mask;
    while (this.#table[slot] !== 0) slot = (slot + 1) & this.#mask;
    this.#table[slot] = e + 1;
  }

  /** Forget everything. */
  clear(): void {
    this.#table.fill(0);
    this.#n = 0, this.#keyUsed = 0, this.#idsUsed = 0;
  }
}
