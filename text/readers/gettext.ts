/**
 * Gettext catalog readers — a real parallel corpus on most Linux machines
 * (`/usr/share/locale/fr/LC_MESSAGES/*.mo`): binary `.mo` files and text `.po` files, as msgid -> msgstr pairs.
 * The header entry (empty msgid) and untranslated entries are left out.
 *
 * The `.mo` layout (GNU gettext manual, "The Format of GNU MO Files"): magic `0x950412de` in the file's byte
 * order, revision, N, offset of the original-strings table, offset of the translations table; each table holds
 * N `(length, offset)` pairs of u32; strings are NUL-terminated; a context is `ctx \x04 msgid`, plural forms
 * are separated by NUL.
 *
 * @module
 */
import { countRead, handleBad, readBytes, readLines } from "./_common.ts";
import { type PairRecord, ReaderError, type ReaderOptions } from "./types.ts";

const MO_MAGIC = 0x950412de;

function charsetOf(header: string): string {
  const m = /charset=([^\s;]+)/i.exec(header);
  return m ? m[1]!.toLowerCase() : "utf-8";
}

function makePair(id: string, target: string, n: number): PairRecord {
  const rec: PairRecord = { source: id, target, id: String(n) };
  const ctx = rec.source.indexOf("\x04");
  if (ctx >= 0) {
    rec.context = rec.source.slice(0, ctx);
    rec.source = rec.source.slice(ctx + 1);
  }
  const nul = rec.source.indexOf("\0");
  if (nul >= 0) rec.source = rec.source.slice(0, nul);
  if (target.includes("\0")) {
    const forms = target.split("\0");
    rec.target = forms[0]!;
    rec.plurals = forms.slice(1);
  }
  return rec;
}

/**
 * Read a binary gettext `.mo` catalog as pairs (`id` = entry number, 1-based), in the file's (msgid-sorted)
 * order; both byte orders are accepted and the header's charset is honoured. A file that is too short, has a
 * bad magic number, or whose tables or strings point past its end is an error naming the file and entry
 * (always thrown: the file is corrupt). An entry that does not decode in its charset is malformed (error or
 * skipped per `onError`).
 *
 * @param path The `.mo` file.
 * @param options The error policy.
 * @returns An async iterable of pairs.
 *
 * @example A catalog installed with the system
 * ```ts
 * import { readMo } from "./gettext.ts";
 * const path = "/usr/share/locale/fr/LC_MESSAGES/apt.mo";
 * const exists = await Deno.stat(path).then(() => true, () => false);
 * if (exists) {
 *   const pairs = await Array.fromAsync(readMo(path));
 *   if (pairs.length < 10 || pairs.some((p) => p.source === "")) throw new Error("bad");
 * }
 * ```
 */
export async function* readMo(path: string, options: ReaderOptions = {}): AsyncGenerator<PairRecord> {
  const buf = await readBytes(path);
  if (buf.length < 20) {
    throw new ReaderError(path, 0, `truncated .mo: ${buf.length} bytes, a header needs 20`);
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let le: boolean;
  if (dv.getUint32(0, true) === MO_MAGIC) le = true;
  else if (dv.getUint32(0, false) === MO_MAGIC) le = false;
  else {
    throw new ReaderError(
      path,
      0,
      `not a .mo file: magic 0x${dv.getUint32(0, true).toString(16)}, expected 0x950412de`,
    );
  }
  const rev = dv.getUint32(4, le) >>> 16;
  if (rev > 1) throw new ReaderError(path, 0, `unsupported .mo major revision ${rev}`);
  const n = dv.getUint32(8, le);
  const origTable = dv.getUint32(12, le);
  const transTable = dv.getUint32(16, le);
  for (const [name, off] of [["original", origTable], ["translation", transTable]] as const) {
    if (off + n * 8 > buf.length) {
      throw new ReaderError(
        path,
        0,
        `truncated .mo: ${name} table of ${n} entries at ${off} ends past ${buf.length} bytes`,
      );
    }
  }
  const str = (table: number, i: number): Uint8Array => {
    const len = dv.getUint32(table + i * 8, le);
    const off = dv.getUint32(table + i * 8 + 4, le);
    if (off + len > buf.length) {
      throw new ReaderError(
        path,
        i + 1,
        `truncated .mo: string at ${off} of ${len} bytes ends past ${buf.length} bytes`,
      );
    }
    return buf.subarray(off, off + len);
  };
  let charset = "utf-8";
  for (let i = 0; i < n; i++) {
    if (str(origTable, i).length === 0) {
      charset = charsetOf(new TextDecoder("latin1").decode(str(transTable, i)));
    }
  }
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset, { fatal: true });
  } catch {
    throw new ReaderError(path, 0, `unknown charset "${charset}" in the catalog header`);
  }
  for (let i = 0; i < n; i++) {
    const idBytes = str(origTable, i);
    const trBytes = str(transTable, i);
    if (idBytes.length === 0) continue;
    let id: string, tr: string;
    try {
      id = decoder.decode(idBytes);
      tr = decoder.decode(trBytes);
    } catch {
      handleBad(new ReaderError(path, i + 1, `entry is not valid ${charset}`), options);
      continue;
    }
    if (tr === "" || /^\0*$/.test(tr)) continue;
    countRead(options);
    yield makePair(id, tr, i + 1);
  }
}

const PO_ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  '"': '"',
  "\\": "\\",
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
  "?": "?",
  "'": "'",
};

/** Unquote one PO string literal `"..."`; returns undefined when it is not a well-formed literal. */
function unquote(s: string): string | undefined {
  const t = s.trim();
  if (t.length < 2 || t[0] !== '"' || t[t.length - 1] !== '"') return undefined;
  let out = "";
  for (let i = 1; i < t.length - 1; i++) {
    const c = t[i]!;
    if (c === '"') return undefined;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const d = t[++i];
    if (d === undefined || i >= t.length - 1) return undefined;
    if (d in PO_ESCAPES) out += PO_ESCAPES[d];
    else if (/[0-7]/.test(d)) {
      const m = /^[0-7]{1,3}/.exec(t.slice(i, t.length - 1))!;
      out += String.fromCharCode(parseInt(m[0], 8));
      i += m[0].length - 1;
    } else if (d === "x") {
      const m = /^[0-9a-fA-F]{1,2}/.exec(t.slice(i + 1, t.length - 1));
      if (!m) return undefined;
      out += String.fromCharCode(parseInt(m[0], 16));
      i += m[0].length;
    } else return undefined;
  }
  return out;
}

interface PoEntry {
  line: number;
  ctx?: string;
  id?: string;
  plural?: string;
  strs: string[];
  fuzzy: boolean;
  /** Which string continuation lines append to. */
  cur?: "ctx" | "id" | "plural" | number;
}

/** Options of {@linkcode readPo}. */
export interface PoOptions extends ReaderOptions {
  /** Keep entries flagged `#, fuzzy` (marked `fuzzy: true`). @default {false} */
  includeFuzzy?: boolean;
}

/**
 * Stream a text gettext `.po` catalog as pairs (`id` = line of the entry's msgid). Handles `msgctxt`,
 * `msgid_plural` / `msgstr[n]`, multi-line strings, C escapes, `#, fuzzy` flags (left out unless
 * `includeFuzzy`) and obsolete `#~` entries (left out). A line that is not a comment, keyword or string, or a
 * badly quoted string, is malformed: an error naming file and line, or (under `onError: "skip"`) the entry —
 * up to the next blank line — is dropped and counted once.
 *
 * @param path The `.po` file.
 * @param options Fuzzy handling and the error policy.
 * @returns An async iterable of pairs.
 *
 * @example
 * ```ts
 * import { readPo } from "./gettext.ts";
 * const p = await Deno.makeTempFile();
 * await Deno.writeTextFile(p, 'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n' +
 *   'msgid "Open "\n"file"\nmsgstr "Ouvrir le fichier"\n');
 * const pairs = await Array.fromAsync(readPo(p));
 * if (pairs.length !== 1 || pairs[0]!.source !== "Open file") throw new Error("bad");
 * await Deno.remove(p);
 * ```
 */
export async function* readPo(path: string, options: PoOptions = {}): AsyncGenerator<PairRecord> {
  const { includeFuzzy = false } = options;
  let e: PoEntry | undefined;
  let fuzzyNext = false;
  let broken = false;
  const finish = (): PairRecord | undefined => {
    const done = e;
    e = undefined;
    if (broken) {
      broken = false;
      return undefined;
    }
    if (!done || done.id === undefined || done.id === "" || done.strs.length === 0) return undefined;
    if (done.strs.every((s) => s === "")) return undefined;
    if (done.fuzzy && !includeFuzzy) return undefined;
    const rec: PairRecord = { source: done.id, target: done.strs[0] ?? "", id: String(done.line) };
    if (done.strs.length > 1) rec.plurals = done.strs.slice(1);
    if (done.ctx !== undefined) rec.context = done.ctx;
    if (done.fuzzy) rec.fuzzy = true;
    return rec;
  };
  const bad = (n: number, what: string) => {
    if (!broken) handleBad(new ReaderError(path, n, what), options);
    broken = true;
  };
  for await (const line of readLines(path)) {
    const t = line.text.trim();
    if (line.bad) {
      bad(line.n, "invalid UTF-8");
      continue;
    }
    if (t === "") {
      const r = finish();
      if (r) {
        countRead(options);
        yield r;
      }
      fuzzyNext = false;
      continue;
    }
    if (broken) continue; // the rest of a malformed entry, up to the next blank line
    if (t.startsWith("#")) {
      if (t.startsWith("#,") && /\bfuzzy\b/.test(t)) fuzzyNext = true;
      continue; // comments, references, flags; "#~" obsolete entries are dropped with them
    }
    if (t.startsWith('"')) {
      const s = unquote(t);
      if (s === undefined) bad(line.n, "badly quoted string");
      else if (!e || e.cur === undefined) bad(line.n, "string without a keyword before it");
      else if (e.cur === "ctx") e.ctx += s;
      else if (e.cur === "id") e.id += s;
      else if (e.cur === "plural") e.plural += s;
      else e.strs[e.cur] += s;
      continue;
    }
    // `s`: a string may hold U+2028 / U+2029, which `.` does not match otherwise
    const m = /^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(.*)$/s.exec(t);
    if (!m) {
      bad(line.n, `unexpected line ${JSON.stringify(t.slice(0, 40))}`);
      continue;
    }
    const s = unquote(m[3]!);
    if (s === undefined) {
      bad(line.n, `badly quoted string after ${m[1]}`);
      continue;
    }
    const kw = m[1]!;
    if ((kw === "msgctxt" || kw === "msgid") && e && e.strs.length > 0) {
      // A new entry without a blank line before it.
      const r = finish();
      if (r) {
        countRead(options);
        yield r;
      }
      fuzzyNext = false;
    }
    e ??= { line: line.n, strs: [], fuzzy: fuzzyNext };
    if (kw === "msgctxt") [e.ctx, e.cur] = [s, "ctx"];
    else if (kw === "msgid") [e.id, e.line, e.cur] = [s, line.n, "id"];
    else if (kw === "msgid_plural") [e.plural, e.cur] = [s, "plural"];
    else {
      const k = m[2] === undefined ? 0 : Number(m[2]);
      if (e.id === undefined) bad(line.n, `${kw} before msgid`);
      e.strs[k] = s;
      e.cur = k;
    }
  }
  const r = finish();
  if (r) {
    countRead(options);
    yield r;
  }
}
