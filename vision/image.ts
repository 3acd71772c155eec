/**
 * Images as plain pixels: decode JPEG/PNG/WebP (and whatever else libvips reads) with npm sharp into
 * {@linkcode RawImage} (8-bit, interleaved `height x width x channels`), encode PNG, and convert to and from the
 * normalised `(channels, height, width)` float32 layout models take. No hand-written codecs.
 *
 * sharp is loaded on first use: run with `--allow-read --allow-env --allow-ffi`.
 *
 * @example Encode, decode and normalise a 2x1 image
 * ```ts
 * import { decodeImage, encodePng, IMAGENET_STATS, toChw } from "./image.ts";
 * const img = { data: Uint8Array.of(255, 0, 0, 0, 0, 255), width: 2, height: 1, channels: 3 as const };
 * const back = await decodeImage(await encodePng(img));
 * const chw = toChw(back, IMAGENET_STATS); // (3, 1, 2)
 * if (back.data.join() !== img.data.join() || chw.length !== 6) throw new Error("round trip");
 * ```
 *
 * @module
 */
import { importSharp } from "./_deps.ts";

/** 8-bit pixels, interleaved and row-major: `data[(y * width + x) * channels + c]`. */
export interface RawImage {
  /** `height * width * channels` bytes. */
  data: Uint8Array;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** 1 (grey), 3 (RGB) or 4 (RGBA). */
  channels: 1 | 3 | 4;
}

/** Per-channel mean and standard deviation of pixel values scaled to [0, 1]. */
export interface ChannelStats {
  /** One value per channel. */
  mean: readonly number[];
  /** One value per channel. */
  std: readonly number[];
}

/** ImageNet's RGB statistics (torchvision's `Normalize` defaults). */
export const IMAGENET_STATS: ChannelStats = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** Options of {@linkcode decodeImage}. */
export interface DecodeOptions {
  /** Channels wanted: 1 converts to greyscale, 3 drops any alpha (as PIL's `convert("RGB")`), 4 adds an opaque one. @default 3 */
  channels?: 1 | 3 | 4;
  /** Name of the source in error messages (a path is named by itself). */
  name?: string;
}

/** What the image came from, for error messages. */
function describe(input: Uint8Array | string, name?: string): string {
  return name ?? (typeof input === "string" ? input : `<${input.length} bytes>`);
}

/**
 * Decode an image file or its bytes, honouring EXIF orientation.
 * @param input a path, or the encoded bytes
 * @param options channels wanted
 * @returns the pixels
 */
export async function decodeImage(
  input: Uint8Array | string,
  { channels = 3, name }: DecodeOptions = {},
): Promise<RawImage> {
  const sharp = await importSharp();
  try {
    let s = sharp(input, { failOn: "error", autoOrient: true });
    s = channels === 4 ? s.ensureAlpha().toColourspace("srgb") : s.removeAlpha().toColourspace("srgb");
    const { data, info } = await s.raw().toBuffer({ resolveWithObject: true });
    const want = channels === 1 ? 3 : channels;
    if (info.channels !== want) throw new Error(`decoded to ${info.channels} channels, wanted ${want}`);
    const img: RawImage = {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      channels: want,
    };
    return channels === 1 ? rgbToGrey(img) : img;
  } catch (e) {
    throw new Error(
      `cannot read image ${describe(input, name)}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

/**
 * RGB to one grey channel with PIL's `convert("L")` weights (ITU-R 601-2 luma: 0.299 R + 0.587 G + 0.114 B,
 * in PIL's fixed point), so grey images stay exactly as they were.
 * @param img 3-channel pixels
 * @returns 1-channel pixels
 */
export function rgbToGrey(img: RawImage): RawImage {
  checkImage(img, "rgbToGrey");
  if (img.channels !== 3) throw new RangeError(`rgbToGrey: needs 3 channels, got ${img.channels}`);
  const n = img.width * img.height, d = img.data, out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = (d[3 * i]! * 19595 + d[3 * i + 1]! * 38470 + d[3 * i + 2]! * 7471 + 0x8000) >>> 16;
  }
  return { data: out, width: img.width, height: img.height, channels: 1 };
}

/**
 * The size of an image from its header, without decoding the pixels.
 * @param input a path, or the encoded bytes
 * @returns width and height after EXIF orientation
 */
export async function imageSize(input: Uint8Array | string): Promise<{ width: number; height: number }> {
  const sharp = await importSharp();
  try {
    const m = await sharp(input).metadata();
    if (!m.width || !m.height) throw new Error("no size in the header");
    const swap = (m.orientation ?? 1) >= 5;
    return swap ? { width: m.height, height: m.width } : { width: m.width, height: m.height };
  } catch (e) {
    throw new Error(`cannot read image ${describe(input)}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Check that `img` is a consistent {@linkcode RawImage}. */
export function checkImage(img: RawImage, what = "image"): void {
  const { width, height, channels, data } = img;
  if (![1, 3, 4].includes(channels)) {
    throw new RangeError(`${what}: channels must be 1, 3 or 4, got ${channels}`);
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`${what}: size ${width}x${height} is not a positive integer size`);
  }
  if (data.length !== width * height * channels) {
    throw new RangeError(`${what}: ${data.length} bytes for ${width}x${height}x${channels}`);
  }
}

/**
 * Encode pixels as PNG.
 * @param img the pixels
 * @returns the PNG file's bytes
 */
export async function encodePng(img: RawImage): Promise<Uint8Array> {
  checkImage(img, "encodePng");
  const sharp = await importSharp();
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } })
    .png()
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Resize so that the shorter side is `shorter` pixels (aspect ratio kept; bilinear-like "cubic" filtering by
 * libvips, antialiased when shrinking).
 * @param img the pixels
 * @param shorter target length of the shorter side
 * @returns a new image
 */
export async function resizeShorter(img: RawImage, shorter: number): Promise<RawImage> {
  const scale = shorter / Math.min(img.width, img.height);
  return await resizeImage(
    img,
    Math.max(1, Math.round(img.width * scale)),
    Math.max(1, Math.round(img.height * scale)),
  );
}

/**
 * Resize to exactly `width x height` (the aspect ratio may change).
 * @returns a new image
 */
export async function resizeImage(img: RawImage, width: number, height: number): Promise<RawImage> {
  checkImage(img, "resizeImage");
  if (width === img.width && height === img.height) return { ...img, data: img.data.slice() };
  const sharp = await importSharp();
  const { data, info } = await sharp(img.data, {
    raw: { width: img.width, height: img.height, channels: img.channels },
  })
    .resize(width, height, { fit: "fill", kernel: "cubic" })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
    channels: img.channels,
  };
}

/**
 * Copy out the `width x height` window at `(left, top)`, optionally mirrored left-right.
 * @returns a new image
 */
export function cropImage(
  img: RawImage,
  box: { left: number; top: number; width: number; height: number },
  { flip = false }: { flip?: boolean } = {},
): RawImage {
  checkImage(img, "cropImage");
  const { left, top, width, height } = box;
  if (
    left < 0 || top < 0 || left + width > img.width || top + height > img.height || width < 1 || height < 1
  ) {
    throw new RangeError(
      `cropImage: box ${width}x${height} at (${left}, ${top}) is outside ${img.width}x${img.height}`,
    );
  }
  const c = img.channels, out = new Uint8Array(width * height * c);
  for (let y = 0; y < height; y++) {
    const src = ((top + y) * img.width + left) * c, dst = y * width * c;
    if (!flip) out.set(img.data.subarray(src, src + width * c), dst);
    else {
      for (let x = 0; x < width; x++) {
        for (let k = 0; k < c; k++) out[dst + x * c + k] = img.data[src + (width - 1 - x) * c + k]!;
      }
    }
  }
  return { data: out, width, height, channels: img.channels };
}

/**
 * Pixels to normalised float32 `(channels, height, width)`: `(value / 255 - mean[c]) / std[c]`.
 * @param img the pixels
 * @param stats per-channel mean and std (one entry per channel); omit for plain `value / 255`
 * @param out where to write (`channels * height * width` floats), e.g. a slot of a batch
 * @returns `out`
 */
export function toChw(img: RawImage, stats?: ChannelStats, out?: Float32Array): Float32Array {
  const { width, height, channels: c, data } = img;
  const n = width * height;
  const res = out ?? new Float32Array(c * n);
  if (res.length < c * n) throw new RangeError(`toChw: output holds ${res.length} floats, needs ${c * n}`);
  if (stats && (stats.mean.length !== c || stats.std.length !== c)) {
    throw new RangeError(
      `toChw: stats have ${stats.mean.length} means and ${stats.std.length} stds for ${c} channels`,
    );
  }
  for (let k = 0; k < c; k++) {
    const scale = 1 / (255 * (stats?.std[k] ?? 1)), shift = (stats?.mean[k] ?? 0) / (stats?.std[k] ?? 1);
    const base = k * n;
    for (let i = 0; i < n; i++) res[base + i] = data[i * c + k]! * scale - shift;
  }
  return res;
}

/**
 * Normalised float32 `(channels, height, width)` back to pixels (clamped to 0..255), e.g. to show a batch.
 * @param chw `channels * height * width` floats
 * @param shape `[channels, height, width]`
 * @param stats the statistics `chw` was normalised with
 */
export function fromChw(
  chw: Float32Array,
  shape: readonly [number, number, number],
  stats?: ChannelStats,
): RawImage {
  const [c, height, width] = shape;
  if (c !== 1 && c !== 3 && c !== 4) throw new RangeError(`fromChw: channels must be 1, 3 or 4, got ${c}`);
  const n = width * height;
  if (chw.length !== c * n) {
    throw new RangeError(`fromChw: ${chw.length} floats for shape ${shape.join("x")}`);
  }
  const data = new Uint8Array(c * n);
  for (let k = 0; k < c; k++) {
    const std = stats?.std[k] ?? 1, mean = stats?.mean[k] ?? 0;
    for (let i = 0; i < n; i++) {
      data[i * c + k] = Math.max(0, Math.min(255, Math.round((chw[k * n + i]! * std + mean) * 255)));
    }
  }
  return { data, width, height, channels: c };
}
