/**
 * The fast path for small in-memory image sets (Fashion-MNIST, MNIST): batches straight from the bytes, no
 * decoding and no workers, with seeded augmentation (random crop of the zero-padded image, horizontal flip).
 *
 * @example One epoch of 28x28 batches
 * ```ts
 * import { ArrayImageLoader } from "./array_loader.ts";
 * const set = { images: new Uint8Array(5 * 784).fill(255), labels: Int32Array.of(0, 1, 0, 1, 1), count: 5, height: 28, width: 28, classes: ["a", "b"] };
 * const loader = new ArrayImageLoader(set, { batchSize: 2, shuffle: true });
 * const shapes = [...loader.batches(0)].map((b) => b.shape.join("x"));
 * if (shapes.join() !== "2x1x28x28,2x1x28x28,1x1x28x28" || loader.length !== 3) throw new Error(shapes.join());
 * ```
 *
 * @module
 */
import { Rng } from "../gpu/rng.ts";
import {
  type BatchOptions,
  batchRanges,
  checkTargets,
  epochOrder,
  gatherTargets,
  type ImageBatch,
} from "./batches.ts";
import type { ChannelStats } from "./image.ts";
import type { ArrayImageSet } from "./mnist.ts";
import { sampleSeed } from "./transforms.ts";

/** Options of {@linkcode ArrayImageLoader}. */
export interface ArrayLoaderOptions extends BatchOptions {
  /** Normalisation; omit for plain `value / 255`. */
  stats?: ChannelStats;
  /** Augment: random crop of the image padded by this many zero pixels on each side. @default 0 */
  padCrop?: number;
  /** Augment: mirror left-right with probability 1/2. @default false */
  flip?: boolean;
}

/** Batches of an in-memory grey image set (see the module doc). */
export class ArrayImageLoader {
  readonly set: ArrayImageSet;
  readonly options: ArrayLoaderOptions;

  /**
   * @param set the images
   * @param options batching, normalisation, augmentation
   */
  constructor(set: ArrayImageSet, options: ArrayLoaderOptions) {
    if (set.images.length !== set.count * set.height * set.width || set.labels.length !== set.count) {
      throw new RangeError(
        `ArrayImageLoader: ${set.images.length} bytes and ${set.labels.length} labels for ${set.count} images of ${set.height}x${set.width}`,
      );
    }
    checkTargets(options.targets, set.count, "ArrayImageLoader");
    batchRanges(0, options.batchSize, false);
    this.set = set;
    this.options = options;
  }

  /** Batches per epoch. */
  get length(): number {
    return batchRanges(this.set.count, this.options.batchSize, this.options.dropLast ?? false).length;
  }

  /** The batches of epoch `epoch` (its order and augmentation depend only on the seed and `epoch`). */
  *batches(epoch = 0): Generator<ImageBatch> {
    const { shuffle = false, seed = 42, dropLast = false } = this.options;
    const order = epochOrder(this.set.count, { shuffle, seed, epoch });
    for (const [s, e] of batchRanges(this.set.count, this.options.batchSize, dropLast)) {
      const indices = order.slice(s, e);
      yield this.#batch(indices, seed, epoch);
    }
  }

  #batch(indices: Int32Array, seed: number, epoch: number): ImageBatch {
    const { height: h, width: w, images } = this.set;
    const { padCrop = 0, flip = false, stats } = this.options;
    const augment = padCrop > 0 || flip;
    const scale = 1 / (255 * (stats?.std[0] ?? 1)), shift = (stats?.mean[0] ?? 0) / (stats?.std[0] ?? 1);
    const x = new Float32Array(indices.length * h * w);
    const labels = new Int32Array(indices.length);
    indices.forEach((j, i) => {
      labels[i] = this.set.labels[j]!;
      const rng = augment ? new Rng(sampleSeed(seed, epoch, j)) : null;
      const dy = rng && padCrop ? rng.int(2 * padCrop + 1) - padCrop : 0;
      const dx = rng && padCrop ? rng.int(2 * padCrop + 1) - padCrop : 0;
      const mirror = rng !== null && flip && rng.random() < 0.5;
      const src = j * h * w, dst = i * h * w;
      for (let y = 0; y < h; y++) {
        const sy = y + dy;
        for (let xx = 0; xx < w; xx++) {
          const sx = (mirror ? w - 1 - xx : xx) + dx;
          const v = sy >= 0 && sy < h && sx >= 0 && sx < w ? images[src + sy * w + sx]! : 0;
          x[dst + y * w + xx] = v * scale - shift;
        }
      }
    });
    const targets = gatherTargets(this.options.targets, indices);
    return { x, shape: [indices.length, 1, h, w], labels, indices, ...(targets ? { targets } : {}) };
  }
}
