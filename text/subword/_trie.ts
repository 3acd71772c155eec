/**
 * A trie over code points stored in flat typed arrays: the edges `(node, codePoint) -> child` live in one
 * open-addressing hash table, so a lookup is a multiply, a mask and usually one probe, and building a trie of a
 * million pieces allocates a handful of arrays instead of a million objects.
 *
 * @module
 */

const EMPTY = -1;

/** Code-point trie mapping piece strings to ids. */
export class PieceTrie {
  #keyNode: Int32Array;
  #keyCp: Int32Array;
  #child: Int32Array;
  #mask: number;
  #edges = 0;
  /** Piece id ending at each node, -1 when none. */
  value: Int32Array;
  /** Parent of each node (-1 for the root). */
  parent: Int32Array;
  /** Code point on the edge into each node. */
  label: Int32Array;
  /** Depth (length in code points) of each node. */
  depth: Int32Array;
  /** Number of nodes (the root is node 0). */
  nodes = 1;

  /** An empty trie sized for about `expectedNodes` nodes. */
  constructor(expectedNodes = 1024) {
    let cap = 1024;
    while (cap < expectedNodes * 2) cap *= 2;
    this.#keyNode = new Int32Array(cap).fill(EMPTY);
    this.#keyCp = new Int32Array(cap);
    this.#child = new Int32Array(cap);
    this.#mask = cap - 1;
    const n = Math.max(16, expectedNodes);
    this.value = new Int32Array(n).fill(-1);
    this.parent = new Int32Array(n);
    this.label = new Int32Array(n);
    this.depth = new Int32Array(n);
    this.parent[0] = -1;
  }

  #slot(node: number, cp: number): number {
    return (Math.imul(node, 0x9e3779b1) ^ Math.imul(cp, 0x85ebca77)) >>> 0;
  }

  /** Child of `node` through code point `cp`, or -1. */
  child(node: number, cp: number): number {
    const mask = this.#mask;
    let h = this.#slot(node, cp) & mask;
    const kn = this.#keyNode;
    for (;;) {
      const n = kn[h]!;
      if (n === EMPTY) return -1;
      if (n === node && this.#keyCp[h] === cp) return this.#child[h]!;
      h = (h + 1) & mask;
    }
  }

  #grow(): void {
    const oldN = this.#keyNode, oldC = this.#keyCp, oldV = this.#child;
    const cap = oldN.length * 2;
    this.#keyNode = new Int32Array(cap).fill(EMPTY);
    this.#keyCp = new Int32Array(cap);
    this.#child = new Int32Array(cap);
    this.#mask = cap - 1;
    for (let i = 0; i < oldN.length; i++) {
      if (oldN[i] !== EMPTY) this.#put(oldN[i]!, oldC[i]!, oldV[i]!);
    }
  }

  #put(node: number, cp: number, child: number): void {
    const mask = this.#mask;
    let h = this.#slot(node, cp) & mask;
    while (this.#keyNode[h] !== EMPTY) h = (h + 1) & mask;
    this.#keyNode[h] = node;
    this.#keyCp[h] = cp;
    this.#child[h] = child;
  }

  /** Child of `node` through `cp`, created when missing. */
  childOrInsert(node: number, cp: number): number {
    const found = this.child(node, cp);
    if (found >= 0) return found;
    if ((this.#edges + 1) * 2 > this.#keyNode.length) this.#grow();
    const next = this.nodes++;
    if (next >= this.value.length) {
      const grow = (a: Int32Array, fill: number) => {
        const b = new Int32Array(a.length * 2).fill(fill);
        b.set(a);
        return b;
      };
      this.value = grow(this.value, -1);
      this.parent = grow(this.parent, 0);
      this.label = grow(this.label, 0);
      this.depth = grow(this.depth, 0);
    }
    this.#put(node, cp, next);
    this.#edges++;
    this.parent[next] = node;
    this.label[next] = cp;
    this.depth[next] = this.depth[node]! + 1;
    return next;
  }

  /** Insert the code points `cps` with piece id `id` (a later insert of the same string overwrites). */
  insert(cps: ArrayLike<number>, id: number): void {
    let node = 0;
    for (let i = 0; i < cps.length; i++) node = this.childOrInsert(node, cps[i]!);
    this.value[node] = id;
  }

  /** Code points spelled by the path to `node`. */
  spell(node: number): number[] {
    const out: number[] = new Array(this.depth[node]!);
    for (let k = out.length - 1; k >= 0; k--, node = this.parent[node]!) out[k] = this.label[node]!;
    return out;
  }

  /** Id of the piece spelled by `cps`, or -1. */
  get(cps: ArrayLike<number>): number {
    let node = 0;
    for (let i = 0; i < cps.length && node >= 0; i++) node = this.child(node, cps[i]!);
    return node < 0 ? -1 : this.value[node]!;
  }
}

/** Code points of a string (a literal `▁` stays U+2581 here: this is for piece strings). */
export function codePoints(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length;) {
    const cp = s.codePointAt(i)!;
    out.push(cp);
    i += cp > 0xffff ? 2 : 1;
  }
  return out;
}
