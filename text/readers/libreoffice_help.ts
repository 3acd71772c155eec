/**
 * The LibreOffice help as a parallel corpus: Debian's `libreoffice-help-<lang>` packages install the same help
 * pages for every language (`usr/share/libreoffice/help/<lang>/text/**.html`, built from the `.xhp` sources),
 * and each paragraph, heading, list item and table cell is a `<p>` or `<hN>` element whose `id` (e.g.
 * `par_id3146060`, `hd_id3148932`) is the same in every language. Pairing them by file and id gives aligned
 * sentence pairs (English -> French: ~51k segments, ~34k unique pairs).
 *
 * Text of a segment: tags removed, `<br>` as a space, entities decoded, whitespace collapsed. Content the help
 * viewer hides by default (`hidden="true"` spans: the per-application and per-system variants) is left out,
 * except the `default...` variant of a system switch (so "Press Ctrl+F6", not "Press +F6").
 * Get the packages with `examples/get_libreoffice_help.sh`.
 *
 * @example Pair two one-paragraph pages
 * ```ts
 * import { readLibreOfficeHelp } from "./libreoffice_help.ts";
 * const root = await Deno.makeTempDir();
 * for (const [lang, text] of [["en-US", "Open a &lt;file&gt;."], ["fr", "Ouvrir un &lt;fichier&gt;."]]) {
 *   await Deno.mkdir(`${root}/${lang}/text/shared`, { recursive: true });
 *   await Deno.writeTextFile(`${root}/${lang}/text/shared/a.html`, `<p id="par_id1" class="paragraph">${text}</p>`);
 * }
 * const pairs = await Array.fromAsync(readLibreOfficeHelp(root));
 * if (pairs[0]!.target !== "Ouvrir un <fichier>." || pairs[0]!.id !== "shared/a.html#par_id1") throw new Error("bad");
 * await Deno.remove(root, { recursive: true });
 * ```
 *
 * @module
 */
import { countRead, handleBad, readBytes } from "./_common.ts";
import { type PairRecord, ReaderError, type ReaderOptions } from "./types.ts";
import { htmlUnescape } from "../fixup.ts";

/** Options of {@linkcode readLibreOfficeHelp}. */
export interface LibreOfficeHelpOptions extends ReaderOptions {
  /** Source language folder. @default {"en-US"} */
  source?: string;
  /** Target language folder. @default {"fr"} */
  target?: string;
  /** Leave out pairs with an empty side (empty bookmarks, images). @default {true} */
  skipEmpty?: boolean;
}

const OPEN = /<(p|h[1-6])\b([^>]*)>/gi;
const ID = /\bid\s*=\s*"([^"]*)"/i;
const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>/g;

/** The text the help viewer shows by default for an element's inner HTML. */
function visibleText(inner: string): string {
  const hidden: boolean[] = []; // one entry per open <span>: does it hide its content?
  let out = "", last = 0, hiddenDepth = 0;
  const emit = (s: string) => {
    if (hiddenDepth === 0) out += s;
  };
  TAG.lastIndex = 0;
  for (let m = TAG.exec(inner); m; m = TAG.exec(inner)) {
    emit(inner.slice(last, m.index));
    last = TAG.lastIndex;
    const [, close, name, attrs] = m;
    const tag = name!.toLowerCase();
    if (tag === "br") emit(" ");
    else if (tag === "span" && close) {
      if (hidden.pop()) hiddenDepth--;
    } else if (tag === "span" && !attrs!.endsWith("/")) {
      const id = ID.exec(attrs!)?.[1] ?? "";
      const hides = /\bhidden\s*=\s*"true"/i.test(attrs!) && !id.startsWith("default");
      hidden.push(hides);
      if (hides) hiddenDepth++;
    }
  }
  emit(inner.slice(last));
  return htmlUnescape(out).replace(/\s+/g, " ").trim();
}

/**
 * The id -> text segments of one help page (a repeated id gets `#2`, `#3`, ... on later occurrences).
 *
 * @param html The page.
 * @returns Segment texts by element id, in page order.
 *
 * @example
 * ```ts
 * import { helpSegments } from "./libreoffice_help.ts";
 * const s = helpSegments('<h1 id="hd_1">Title</h1><p id="par_2">Press <span class="switchinline">' +
 *   '<span hidden="true" id="MAC1" class="MAC">Command</span><span hidden="true" id="default1">Ctrl</span>' +
 *   "</span>+F6.</p>");
 * if (s.get("hd_1") !== "Title" || s.get("par_2") !== "Press Ctrl+F6.") throw new Error([...s].join());
 * ```
 */
export function helpSegments(html: string): Map<string, string> {
  const out = new Map<string, string>();
  const seen = new Map<string, number>();
  OPEN.lastIndex = 0;
  for (let m = OPEN.exec(html); m; m = OPEN.exec(html)) {
    const id = ID.exec(m[2]!)?.[1];
    const closeRe = new RegExp(`</${m[1]}\\s*>`, "gi");
    closeRe.lastIndex = OPEN.lastIndex;
    const close = closeRe.exec(html)?.index ?? -1;
    if (!id || close < 0) continue;
    const k = (seen.get(id) ?? 0) + 1;
    seen.set(id, k);
    out.set(k === 1 ? id : `${id}#${k}`, visibleText(html.slice(OPEN.lastIndex, close)));
    OPEN.lastIndex = close;
  }
  return out;
}

async function* htmlFiles(dir: string, rel = ""): AsyncGenerator<string> {
  const entries: Deno.DirEntry[] = [];
  for await (const e of Deno.readDir(rel ? `${dir}/${rel}` : dir)) entries.push(e);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) yield* htmlFiles(dir, p);
    else if (e.isFile && e.name.endsWith(".html")) yield p;
  }
}

async function pageText(path: string): Promise<string> {
  const bytes = await readBytes(path);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const text = new TextDecoder().decode(bytes);
    const line = text.slice(0, text.indexOf("\uFFFD")).split("\n").length;
    throw new ReaderError(path, line, "invalid UTF-8");
  }
}

/** The help folder under `root`: `root` itself, or `root/usr/share/libreoffice/help` (a `dpkg -x` folder). */
async function helpDir(root: string, lang: string): Promise<string> {
  for (const dir of [root, `${root}/usr/share/libreoffice/help`]) {
    try {
      if ((await Deno.stat(`${dir}/${lang}/text`)).isDirectory) return dir;
    } catch { /* try the next */ }
  }
  throw new ReaderError(
    root,
    0,
    `no ${lang}/text folder (nor usr/share/libreoffice/help/${lang}/text) under it`,
  );
}

/**
 * Stream aligned (source, target) segments of the LibreOffice help, page by page in path order (`id` =
 * `<page path under text/>#<element id>`). Pages missing in the target language are skipped.
 *
 * @param root The folder holding `en-US/` and `fr/` (`.../usr/share/libreoffice/help`), or the folder the
 *   packages were unpacked into with `dpkg -x`.
 * @param options Languages, empty-side handling and the error policy (a page that is not valid UTF-8 is an
 *   error naming it, or skipped with its pair page under `onError: "skip"`).
 * @returns An async iterable of pairs.
 *
 * @example The fixture pages (excerpts of the real ones)
 * ```ts
 * import { readLibreOfficeHelp } from "./libreoffice_help.ts";
 * const root = new URL("./testdata/libreoffice_help", import.meta.url).pathname;
 * const pairs = await Array.fromAsync(readLibreOfficeHelp(root));
 * if (!pairs.some((p) => p.target === "Appuyez sur Ctrl+F6 pour vous déplacer au document.")) throw new Error("pairs");
 * ```
 */
export async function* readLibreOfficeHelp(
  root: string,
  options: LibreOfficeHelpOptions = {},
): AsyncGenerator<PairRecord> {
  const { source = "en-US", target = "fr", skipEmpty = true } = options;
  const dir = await helpDir(root, source);
  await helpDir(dir, target);
  for await (const rel of htmlFiles(`${dir}/${source}/text`)) {
    const tgtPath = `${dir}/${target}/text/${rel}`;
    let src: Map<string, string>, tgt: Map<string, string>;
    try {
      const srcHtml = await pageText(`${dir}/${source}/text/${rel}`);
      const tgtHtml = await pageText(tgtPath).catch((e) => {
        if (e instanceof ReaderError && e.message.endsWith("file not found")) return undefined;
        throw e;
      });
      if (tgtHtml === undefined) continue;
      [src, tgt] = [helpSegments(srcHtml), helpSegments(tgtHtml)];
    } catch (e) {
      if (!(e instanceof ReaderError)) throw e;
      handleBad(e, options);
      continue;
    }
    for (const [id, s] of src) {
      const t = tgt.get(id);
      if (t === undefined || (skipEmpty && (s === "" || t === ""))) continue;
      countRead(options);
      yield { source: s, target: t, id: `${rel}#${id}` };
    }
  }
}
