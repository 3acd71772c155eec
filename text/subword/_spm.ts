/**
 * A minimal protobuf reader for SentencePiece's `ModelProto` (sentencepiece_model.proto): the pieces (field 1:
 * piece = 1, score = 2, type = 3), the trainer's model type (field 2, model_type = 3) and the normaliser
 * (field 3: name = 1, add_dummy_prefix = 3, remove_extra_whitespaces = 4). Other fields are skipped.
 *
 * @module
 */
import type { PieceType, SubwordModelType } from "./subword.ts";

/** What a `.model` file holds that the tokenizer uses. */
export interface SentencePieceModel {
  /** Model kind (`word`/`char` models are refused). */
  model: SubwordModelType;
  /** `[piece, score, type]` in id order. */
  pieces: Array<[string, number, PieceType]>;
  /** Normaliser name (`nmt_nfkc`, `identity`, ...). */
  normalization: string;
  /** `add_dummy_prefix`. */
  addDummyPrefix: boolean;
  /** `remove_extra_whitespaces`. */
  removeExtraWhitespaces: boolean;
}

const TYPES: Record<number, PieceType> = {
  1: "normal",
  2: "unknown",
  3: "control",
  4: "user",
  5: "unused",
  6: "byte",
};

class Reader {
  pos: number;
  constructor(readonly buf: Uint8Array, start: number, readonly end: number) {
    this.pos = start;
  }
  varint(): number {
    let result = 0, mul = 1;
    for (let k = 0; k < 10; k++) {
      if (this.pos >= this.end) throw new Error(`sentencepiece model: truncated varint at byte ${this.pos}`);
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new Error(`sentencepiece model: varint too long at byte ${this.pos}`);
  }
  /** Returns [field, wireType], or null at the end. */
  tag(): [number, number] | null {
    if (this.pos >= this.end) return null;
    const t = this.varint();
    return [Math.floor(t / 8), t % 8];
  }
  bytes(): [number, number] {
    const len = this.varint();
    const s = this.pos;
    if (s + len > this.end) {
      throw new Error(`sentencepiece model: field of ${len} bytes at ${s} runs past the end`);
    }
    this.pos += len;
    return [s, s + len];
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`sentencepiece model: unsupported wire type ${wire} at byte ${this.pos}`);
    if (this.pos > this.end) throw new Error("sentencepiece model: truncated field");
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Parse a SentencePiece `.model` file. */
export function readSentencePieceModel(buf: Uint8Array): SentencePieceModel {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const r = new Reader(buf, 0, buf.length);
  const pieces: Array<[string, number, PieceType]> = [];
  let modelType = 1, name = "nmt_nfkc", dummy = true, extra = true;
  for (let t = r.tag(); t !== null; t = r.tag()) {
    const [field, wire] = t;
    if (wire !== 2) {
      r.skip(wire);
      continue;
    }
    const [s, e] = r.bytes();
    const sub = new Reader(buf, s, e);
    if (field === 1) {
      let piece = "", score = 0, type: PieceType = "normal";
      for (let u = sub.tag(); u !== null; u = sub.tag()) {
        const [f, w] = u;
        if (f === 1 && w === 2) {
          const [a, b] = sub.bytes();
          piece = utf8.decode(buf.subarray(a, b));
        } else if (f === 2 && w === 5) {
          if (sub.pos + 4 > e) throw new Error("sentencepiece model: truncated score");
          score = view.getFloat32(sub.pos, true);
          sub.pos += 4;
        } else if (f === 3 && w === 0) {
          const v = sub.varint();
          const ty = TYPES[v];
          if (ty === undefined) {
            throw new Error(`sentencepiece model: piece ${pieces.length} has unknown type ${v}`);
          }
          type = ty;
        } else sub.skip(w);
      }
      pieces.push([piece, score, type]);
    } else if (field === 2) {
      for (let u = sub.tag(); u !== null; u = sub.tag()) {
        if (u[0] === 3 && u[1] === 0) modelType = sub.varint();
        else sub.skip(u[1]);
      }
    } else if (field === 3) {
      for (let u = sub.tag(); u !== null; u = sub.tag()) {
        const [f, w] = u;
        if (f === 1 && w === 2) {
          const [a, b] = sub.bytes();
          name = utf8.decode(buf.subarray(a, b));
        } else if (f === 3 && w === 0) dummy = sub.varint() !== 0;
        else if (f === 4 && w === 0) extra = sub.varint() !== 0;
        else sub.skip(w);
      }
    }
  }
  if (pieces.length === 0) throw new Error("sentencepiece model: no pieces found (is this a .model file?)");
  if (modelType !== 1 && modelType !== 2) {
    throw new Error(
      `sentencepiece model: model_type ${modelType} (word/char) is not supported; use unigram or bpe`,
    );
  }
  return {
    model: modelType === 1 ? "unigram" : "bpe",
    pieces,
    normalization: name,
    addDummyPrefix: dummy,
    removeExtraWhitespaces: extra,
  };
}

const TYPE_NUMBER: Record<PieceType, number> = {
  normal: 1,
  unknown: 2,
  control: 3,
  user: 4,
  unused: 5,
  byte: 6,
};

class Writer {
  bytes: number[] = [];
  varint(v: number): void {
    if (v < 0) v += 2 ** 64; // proto int32 negatives are 10-byte varints
    while (v >= 0x80) {
      this.bytes.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    this.bytes.push(v);
  }
  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }
  int(field: number, v: number): void {
    this.tag(field, 0);
    this.varint(v);
  }
  bytesField(field: number, b: ArrayLike<number>): void {
    this.tag(field, 2);
    this.varint(b.length);
    for (let i = 0; i < b.length; i++) this.bytes.push(b[i]!);
  }
  string(field: number, s: string): void {
    this.bytesField(field, new TextEncoder().encode(s));
  }
  float(field: number, v: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.bytes.push(...b);
  }
}

/**
 * Write a SentencePiece `ModelProto`: the pieces with scores and types, the model type, byte fallback, and an
 * `identity` normaliser with the given whitespace flags (what our tokenizer does), so SentencePiece loads it.
 */
export function writeSentencePieceModel(m: SentencePieceModel): Uint8Array {
  const w = new Writer();
  for (const [piece, score, type] of m.pieces) {
    const p = new Writer();
    p.string(1, piece);
    p.float(2, score);
    p.int(3, TYPE_NUMBER[type]);
    w.bytesField(1, p.bytes);
  }
  const t = new Writer();
  t.int(3, m.model === "unigram" ? 1 : 2);
  t.int(4, m.pieces.length);
  if (m.pieces.some((p) => p[2] === "byte")) t.int(35, 1);
  t.int(40, Math.max(0, m.pieces.findIndex((p) => p[2] === "unknown")));
  t.int(41, -1);
  t.int(42, -1);
  t.int(43, -1);
  w.bytesField(2, t.bytes);
  const n = new Writer();
  n.string(1, "identity");
  n.int(3, m.addDummyPrefix ? 1 : 0);
  n.int(4, m.removeExtraWhitespaces ? 1 : 0);
  n.int(5, 1);
  w.bytesField(3, n.bytes);
  return Uint8Array.from(w.bytes);
}
