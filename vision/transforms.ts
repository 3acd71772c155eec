/**
 * Seeded image transforms for training and evaluation: resize + centre crop, random crop, torchvision's
 * RandomResizedCrop, plain resize, horizontal flip, and normalisation to `(channels, height, width)` float32.
 *
 * A transform is planned from the image size and a per-sample seed ({@linkcode planTransform}: pure, so the same
 * seed gives the same crop and flip in any worker, in any order), then applied in one libvips pass (crop of the
 * source, resize, flip) by {@linkcode loadTransformed}. {@linkcode sampleSeed} derives a sample's seed from the
 * run seed, the epoch and the sample index.
 *
 * @example The same seed gives the same crop
 * ```ts
 * import { planTransform, sampleSeed } from "./transforms.ts";
 * const t = { size: 224, crop: "random-resized" as const, flip: true };
 * const a = planTransform(640, 480, t, sampleSeed(42, 0, 7));
 * const b = planTransform(640, 480, t, sampleSeed(42, 0, 7));
 * if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error("not reproducible");
 * ```
 *
 * @module
 */
import { pcgHash, Rng } from "../gpu/rng.ts";
import { importSharp } from "./_deps.ts";
import { type ChannelStats, IMAGENET_STATS, type RawImage, rgbToGrey, toChw } from "./image.ts";

/** How to turn a decoded image into a model input. */
export interface ImageTransform {
  /** Output size: one number for a square, or `[height, width]`. */
  size: number | readonly [number, number];
  /**
   * `"center"`: resize the shorter side to `resize`, take the centre; `"random"`: the same but a random window;
   * `"random-resized"`: a random window of `scale` of the area and `ratio` aspect, resized to `size`
   * (torchvision's RandomResizedCrop); `"squish"`: the whole image resized to `size`.
   * @default "center"
   */
  crop?: "center" | "random" | "random-resized" | "squish";
  /** Shorter side after resizing, for `"center"` and `"random"`. @default {the shorter output side} */
  resize?: number;
  /** Area fraction range of `"random-resized"`. @default [0.08, 1] */
  scale?: readonly [number, number];
  /** Aspect ratio range of `"random-resized"`. @default [3/4, 4/3] */
  ratio?: readonly [number, number];
  /** Mirror left-right with probability 1/2. @default false */
  flip?: boolean;
  /** Output channels. @default 3 */
  channels?: 1 | 3;
  /** Normalisation; `null` gives plain `value / 255`. @default {IMAGENET_STATS for 3 channels, null for 1} */
  stats?: ChannelStats | null;
}

/** A planned transform: the source window, the output size and whether to mirror. */
export interface TransformPlan {
  /** Window of the (EXIF-oriented) source image, in pixels. */
  box: { left: number; top: number; width: number; height: number };
  /** Output width. */
  width: number;
  /** Output height. */
  height: number;
  /** Mirror left-right. */
  flip: boolean;
}

/**
 * The seed of sample `index` in epoch `epoch` of a run seeded with `seed` (independent of batch order and of
 * which worker draws it).
 */
export function sampleSeed(seed: number, epoch: number, index: number): number {
  return pcgHash((pcgHash((seed ^ pcgHash(epoch >>> 0)) >>> 0) ^ (index >>> 0)) >>> 0);
}

/** Output `[height, width]` of a transform. */
export function outputSize(t: ImageTransform): [number, number] {
  const [h, w] = typeof t.size === "number" ? [t.size, t.size] : t.size;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1) {
    throw new RangeError(`image transform: size ${h}x${w} is not a positive integer size`);
  }
  return [h, w];
}

function clampBox(left: number, top: number, width: number, height: number, sw: number, sh: number) {
  width = Math.max(1, Math.min(sw, Math.round(width)));
  height = Math.max(1, Math.min(sh, Math.round(height)));
  left = Math.max(0, Math.min(sw - width, Math.round(left)));
  top = Math.max(0, Math.min(sh - height, Math.round(top)));
  return { left, top, width, height };
}

/** torchvision's RandomResizedCrop window (10 tries, then a centre crop of the clamped aspect). */
function randomResizedBox(sw: number, sh: number, t: ImageTransform, rng: Rng) {
  const [s0, s1] = t.scale ?? [0.08, 1], [r0, r1] = t.ratio ?? [3 / 4, 4 / 3];
  const area = sw * sh;
  for (let i = 0; i < 10; i++) {
    const target = area * (s0 + (s1 - s0) * rng.random());
    const aspect = Math.exp(Math.log(r0) + (Math.log(r1) - Math.log(r0)) * rng.random());
    const w = Math.round(Math.sqrt(target * aspect)), h = Math.round(Math.sqrt(target / aspect));
    if (w > 0 && h > 0 && w <= sw && h <= sh) {
      return { left: rng.int(sw - w + 1), top: rng.int(sh - h + 1), width: w, height: h };
    }
  }
  const inRatio = sw / sh;
  const [w, h] = inRatio < r0 ? [sw, sw / r0] : inRatio > r1 ? [sh * r1, sh] : [sw, sh];
  return clampBox((sw - w) / 2, (sh - h) / 2, w, h, sw, sh);
}

/**
 * Plan a transform of a `srcWidth x srcHeight` image.
 * @param seed the sample's seed (see {@linkcode sampleSeed}); `null` plans without randomness (centre window,
 *   no flip: for evaluation)
 */
export function planTransform(
  srcWidth: number,
  srcHeight: number,
  t: ImageTransform,
  seed: number | null,
): TransformPlan {
  const [oh, ow] = outputSize(t);
  const crop = t.crop ?? "center";
  const rng = seed === null ? null : new Rng(seed);
  let box;
  if (crop === "squish") box = { left: 0, top: 0, width: srcWidth, height: srcHeight };
  else if (crop === "random-resized" && rng) box = randomResizedBox(srcWidth, srcHeight, t, rng);
  else {
    // window of the resized image mapped back to source pixels
    const resize = crop === "random-resized" ? Math.min(oh, ow) : t.resize ?? Math.min(oh, ow);
    const scale = resize / Math.min(srcWidth, srcHeight);
    const bw = Math.min(srcWidth, ow / scale), bh = Math.min(srcHeight, oh / scale);
    const fx = crop === "random" && rng ? rng.random() : 0.5,
      fy = crop === "random" && rng ? rng.random() : 0.5;
    box = clampBox((srcWidth - bw) * fx, (srcHeight - bh) * fy, bw, bh, srcWidth, srcHeight);
  }
  const flip = (t.flip ?? false) && rng !== null && rng.random() < 0.5;
  return { box, width: ow, height: oh, flip };
}

/**
 * Decode an image and apply a transform: the result is `(channels, height, width)` float32.
 * @param input a path or encoded bytes (a path is named in errors)
 * @param t the transform
 * @param seed the sample's seed, or `null` for the deterministic (evaluation) version
 * @param out where to write, e.g. a slot of a batch
 * @returns `out` (or a new array)
 */
export async function loadTransformed(
  input: Uint8Array | string,
  t: ImageTransform,
  seed: number | null,
  out?: Float32Array,
): Promise<Float32Array> {
  const sharp = await importSharp();
  const channels = t.channels ?? 3;
  const stats = t.stats === undefined ? (channels === 3 ? IMAGENET_STATS : null) : t.stats;
  const name = typeof input === "string" ? input : `<${input.length} bytes>`;
  try {
    const src = sharp(input, { failOn: "error", autoOrient: true });
    const meta = await src.metadata();
    const [sw, sh] = (meta.autoOrient?.width && meta.autoOrient?.height)
      ? [meta.autoOrient.width, meta.autoOrient.height]
      : [meta.width ?? 0, meta.height ?? 0];
    if (sw < 1 || sh < 1) throw new Error("no size in the header");
    const plan = planTransform(sw, sh, t, seed);
    let s = src.extract(plan.box).resize(plan.width, plan.height, { fit: "fill", kernel: "cubic" });
    if (plan.flip) s = s.flop();
    const { data, info } = await s.removeAlpha().toColourspace("srgb").raw().toBuffer({
      resolveWithObject: true,
    });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, wanted 3`);
    const rgb: RawImage = {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      channels: 3,
    };
    return toChw(channels === 1 ? rgbToGrey(rgb) : rgb, stats ?? undefined, out);
  } catch (e) {
    throw new Error(`cannot read image ${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
