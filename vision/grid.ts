/**
 * Pictures of results: a grid of images with captions (search results, predictions with scores), as a PNG made
 * with sharp's composite, or as a small self-contained HTML page (images inlined as PNG data URIs), because
 * people look at these rather than read them.
 *
 * Captions are drawn as SVG text by libvips (librsvg + the system's fonts); without fonts the caption band stays
 * blank. Small images (28x28) are enlarged with nearest-neighbour sampling so pixels stay crisp.
 *
 * @example Layout of 5 tiles in 3 columns
 * ```ts
 * import { gridLayout } from "./grid.ts";
 * const g = gridLayout(5, { columns: 3, tileSize: 10, gap: 2, captionHeight: 0 });
 * if (g.width !== 38 || g.height !== 26 || g.cells[4]!.left !== 14) throw new Error(JSON.stringify(g));
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { importSharp } from "./_deps.ts";
import { checkImage, encodePng, type RawImage } from "./image.ts";

/** One cell of a grid. */
export interface GridTile {
  /** Pixels, a file path, or encoded image bytes. */
  image: RawImage | string | Uint8Array;
  /** Text under the image, e.g. `"sneaker 0.83"`. */
  caption?: string;
  /** Frame colour (CSS colour), e.g. green for a right prediction and red for a wrong one. */
  frame?: string;
}

/** Options of the grid writers. */
export interface GridOptions {
  /** Columns. @default {ceil(sqrt(tiles))} */
  columns?: number;
  /** Each image is fitted into a `tileSize x tileSize` square (aspect kept, letterboxed). @default 96 */
  tileSize?: number;
  /** Pixels between cells and around the grid. @default 4 */
  gap?: number;
  /** Height of the caption band under each image (0: none). @default {16 when any tile has a caption, else 0} */
  captionHeight?: number;
  /** Background colour. @default "#ffffff" */
  background?: string;
  /** A title above the grid (HTML page only). */
  title?: string;
}

/** Where each cell goes. */
export interface GridLayout {
  /** Whole image width. */
  width: number;
  /** Whole image height. */
  height: number;
  /** Top-left corner of each tile's image. */
  cells: { left: number; top: number }[];
}

/** The pixel layout of `n` tiles (pure: see {@linkcode GridOptions} for the defaults). */
export function gridLayout(n: number, options: GridOptions = {}): GridLayout {
  const columns = Math.max(1, options.columns ?? Math.ceil(Math.sqrt(n)));
  const tile = options.tileSize ?? 96, gap = options.gap ?? 4, cap = options.captionHeight ?? 0;
  if (!Number.isInteger(tile) || tile < 1) {
    throw new RangeError(`image grid: tileSize must be a positive integer, got ${tile}`);
  }
  const rows = Math.max(1, Math.ceil(n / columns));
  const cellW = tile + gap, cellH = tile + cap + gap;
  const cells = Array.from(
    { length: n },
    (_, i) => ({ left: gap + (i % columns) * cellW, top: gap + Math.floor(i / columns) * cellH }),
  );
  return { width: gap + Math.min(columns, Math.max(n, 1)) * cellW, height: gap + rows * cellH, cells };
}

function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!,
  );
}

/** A tile's image fitted into the square, as PNG bytes. */
async function tilePng(tile: GridTile, size: number, background: string, index: number): Promise<Uint8Array> {
  const sharp = await importSharp();
  const src = tile.image;
  const what = typeof src === "string" ? src : `tile ${index}`;
  try {
    let s;
    let w: number, h: number;
    if (src instanceof Uint8Array || typeof src === "string") {
      s = sharp(src, { failOn: "error", autoOrient: true });
      const m = await s.metadata();
      [w, h] = [m.autoOrient?.width ?? m.width ?? 1, m.autoOrient?.height ?? m.height ?? 1];
    } else {
      checkImage(src, what);
      s = sharp(src.data, { raw: { width: src.width, height: src.height, channels: src.channels } });
      [w, h] = [src.width, src.height];
    }
    const kernel = Math.min(size / w, size / h) >= 2 ? "nearest" : "lanczos3";
    let out = s.resize(size, size, { fit: "contain", background, kernel }).removeAlpha();
    if (tile.frame) {
      const t = Math.max(1, Math.round(size / 32));
      const svg = `<svg width="${size}" height="${size}"><rect x="${t / 2}" y="${t / 2}" width="${
        size - t
      }" height="${size - t}" fill="none" stroke="${escapeXml(tile.frame)}" stroke-width="${t}"/></svg>`;
      out = sharp(await out.png().toBuffer()).composite([{
        input: Buffer.from(svg),
        left: 0,
        top: 0,
      }]);
    }
    const buf = await out.png().toBuffer();
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw new Error(`image grid: cannot draw ${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Draw the tiles as one PNG.
 * @param tiles images with optional captions and frames
 * @param options layout and colours
 * @returns the PNG file's bytes
 */
export async function imageGridPng(
  tiles: readonly GridTile[],
  options: GridOptions = {},
): Promise<Uint8Array> {
  const sharp = await importSharp();
  const tile = options.tileSize ?? 96, background = options.background ?? "#ffffff";
  const cap = options.captionHeight ?? (tiles.some((t) => t.caption) ? 16 : 0);
  const layout = gridLayout(tiles.length, { ...options, captionHeight: cap });
  const layers = [];
  for (let i = 0; i < tiles.length; i++) {
    const { left, top } = layout.cells[i]!;
    layers.push({ input: Buffer.from(await tilePng(tiles[i]!, tile, background, i)), left, top });
    const text = tiles[i]!.caption;
    if (text && cap > 0) {
      const fontSize = Math.max(6, Math.min(Math.round(cap * 0.75), Math.floor(tile / (0.58 * text.length))));
      const svg =
        `<svg width="${tile}" height="${cap}"><text x="${tile / 2}" y="${cap - Math.round(cap * 0.25)}" ` +
        `font-family="sans-serif" font-size="${fontSize}" text-anchor="middle" fill="#000000">${
          escapeXml(text)
        }</text></svg>`;
      layers.push({ input: Buffer.from(svg), left, top: top + tile });
    }
  }
  const buf = await sharp({ create: { width: layout.width, height: layout.height, channels: 3, background } })
    .composite(layers)
    .png()
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Write the grid as a PNG file (atomically: a temporary file renamed over `path`).
 * @param path where to write
 * @param tiles images with optional captions and frames
 * @param options layout and colours
 */
export async function writeImageGrid(
  path: string,
  tiles: readonly GridTile[],
  options: GridOptions = {},
): Promise<void> {
  const png = await imageGridPng(tiles, options);
  const tmp = `${path}.tmp-${Deno.pid}`;
  try {
    await Deno.writeFile(tmp, png);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/**
 * The grid as a small self-contained HTML page (each image inlined as a PNG data URI; captions as text).
 * @param tiles images with optional captions and frames
 * @param options `columns`, `tileSize`, `title`
 * @returns the page's text
 */
export async function imageGridHtml(tiles: readonly GridTile[], options: GridOptions = {}): Promise<string> {
  const tile = options.tileSize ?? 96,
    columns = Math.max(1, options.columns ?? Math.ceil(Math.sqrt(tiles.length)));
  const cells: string[] = [];
  for (let i = 0; i < tiles.length; i++) {
    const t = tiles[i]!;
    const png = t.image instanceof Uint8Array || typeof t.image === "string"
      ? await tilePng({ image: t.image }, tile, options.background ?? "#ffffff", i)
      : await encodePng(t.image);
    const frame = t.frame ? ` style="outline:3px solid ${escapeXml(t.frame)}"` : "";
    cells.push(
      `<figure><img src="data:image/png;base64,${
        base64(png)
      }" width="${tile}" height="${tile}"${frame} alt="${escapeXml(t.caption ?? "")}">` +
        `<figcaption>${escapeXml(t.caption ?? "")}</figcaption></figure>`,
    );
  }
  const title = escapeXml(options.title ?? "images");
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${title}</title><style>` +
    `body{font-family:sans-serif}main{display:grid;grid-template-columns:repeat(${columns},${tile}px);gap:8px}` +
    `figure{margin:0}img{image-rendering:pixelated;object-fit:contain;background:#fff}figcaption{font-size:12px;text-align:center}` +
    `</style></head><body><h1>${title}</h1><main>\n${cells.join("\n")}\n</main></body></html>\n`;
}
