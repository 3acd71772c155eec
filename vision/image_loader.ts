/**
 * Batches of image files, decoded and augmented in Workers so training never waits on images: a bounded,
 * ordered pool. At most `prefetch` batches are being decoded or waiting at once (memory stays flat), each batch
 * is one job on the least-busy worker, and batches come back in order. The transform of every image is seeded
 * by `(seed, epoch, item index)`, so the result does not depend on the worker count or on timing.
 *
 * Workers inherit the program's permissions; sharp needs `--allow-read --allow-env --allow-ffi`. Call
 * {@linkcode ImageFileLoader.close} when done (it stops the workers).
 *
 * @example Decode a folder's images in two workers
 * ```ts
 * import { encodePng } from "./image.ts";
 * import { ImageFileLoader } from "./image_loader.ts";
 * const dir = await Deno.makeTempDir();
 * const items = [];
 * for (let i = 0; i < 3; i++) {
 *   const path = `${dir}/${i}.png`;
 *   await Deno.writeFile(path, await encodePng({ data: new Uint8Array(8 * 8 * 3).fill(i * 50), width: 8, height: 8, channels: 3 }));
 *   items.push({ path, label: i });
 * }
 * const loader = new ImageFileLoader(items, { batchSize: 2, transform: { size: 4, stats: null }, workers: 2 });
 * const labels = [];
 * for await (const b of loader.batches()) labels.push(...b.labels);
 * loader.close();
 * await Deno.remove(dir, { recursive: true });
 * if (labels.join() !== "0,1,2") throw new Error(labels.join());
 * ```
 *
 * @module
 */
import { type BatchJob, decodeBatch } from "./_decode_batch.ts";
import {
  type BatchOptions,
  batchRanges,
  checkTargets,
  epochOrder,
  gatherTargets,
  type ImageBatch,
} from "./batches.ts";
import { type ImageTransform, outputSize, sampleSeed } from "./transforms.ts";

/** Options of {@linkcode ImageFileLoader}. */
export interface ImageFileLoaderOptions extends BatchOptions {
  /** Decode, crop, flip and normalise (see {@linkcode ImageTransform}). */
  transform: ImageTransform;
  /** Randomise the transform (training); false uses its deterministic version (evaluation). @default true */
  augment?: boolean;
  /** Worker count; 0 decodes on the calling thread. @default {min(cores, 4)} */
  workers?: number;
  /** Batches decoded or waiting at once. @default {2 * workers, at least 2} */
  prefetch?: number;
}

/** An image file and its class (`-1` or absent: unlabelled). */
export interface ImageFileItem {
  /** Path of the file. */
  path: string;
  /** Class index. */
  label?: number;
}

interface Pending {
  resolve: (x: Float32Array) => void;
  reject: (e: Error) => void;
  worker: number;
}

/** Batches of decoded image files (see the module doc). */
export class ImageFileLoader {
  readonly items: readonly ImageFileItem[];
  readonly options: ImageFileLoaderOptions;
  /** Worker count (0: the calling thread). */
  readonly workers: number;
  /** Bound on batches in flight. */
  readonly prefetch: number;
  /** The most batches that were in flight at once so far (never above {@linkcode prefetch}). */
  peakInFlight = 0;
  #ws: Worker[] = [];
  #load: number[] = [];
  #pending = new Map<number, Pending>();
  #nextId = 0;
  #failed: Error | null = null;

  /**
   * @param items image files and classes
   * @param options batching, transform, workers
   */
  constructor(items: readonly ImageFileItem[], options: ImageFileLoaderOptions) {
    checkTargets(options.targets, items.length, "ImageFileLoader");
    batchRanges(0, options.batchSize, false);
    outputSize(options.transform);
    this.items = items;
    this.options = options;
    const cores = navigator.hardwareConcurrency || 1;
    this.workers = Math.max(0, Math.floor(options.workers ?? Math.min(cores, 4)));
    this.prefetch = Math.max(1, options.prefetch ?? Math.max(2, 2 * this.workers));
  }

  /** Batches per epoch. */
  get length(): number {
    return batchRanges(this.items.length, this.options.batchSize, this.options.dropLast ?? false).length;
  }

  /** The batches of epoch `epoch`, in order; the first failing image stops the epoch with its file named. */
  async *batches(epoch = 0): AsyncGenerator<ImageBatch> {
    const { shuffle = false, seed = 42, dropLast = false, augment = true, transform } = this.options;
    const order = epochOrder(this.items.length, { shuffle, seed, epoch });
    const ranges = batchRanges(this.items.length, this.options.batchSize, dropLast);
    const [h, w] = outputSize(transform), c = transform.channels ?? 3;
    const queue: { indices: Int32Array; x: Promise<Float32Array> }[] = [];
    let next = 0;
    while (next < ranges.length || queue.length > 0) {
      while (next < ranges.length && queue.length < this.prefetch) {
        const [s, e] = ranges[next++]!;
        const indices = order.slice(s, e);
        const job: BatchJob = {
          paths: Array.from(indices, (j) => this.items[j]!.path),
          seeds: Array.from(indices, (j) => (augment ? sampleSeed(seed, epoch, j) : null)),
          transform,
        };
        const x = this.#run(job);
        x.catch(() => {}); // surfaced in order below
        queue.push({ indices, x });
        this.peakInFlight = Math.max(this.peakInFlight, queue.length);
      }
      const head = queue.shift()!;
      const x = await head.x;
      const labels = Int32Array.from(head.indices, (j) => this.items[j]!.label ?? -1);
      const targets = gatherTargets(this.options.targets, head.indices);
      yield {
        x,
        shape: [head.indices.length, c, h, w],
        labels,
        indices: head.indices,
        ...(targets ? { targets } : {}),
      };
    }
  }

  /** Stop the workers (a later epoch starts new ones). */
  close(): void {
    for (const w of this.#ws) w.terminate();
    for (const p of this.#pending.values()) p.reject(new Error("ImageFileLoader was closed"));
    this.#pending.clear();
    this.#ws = [];
    this.#load = [];
    this.#failed = null;
  }

  #run(job: BatchJob): Promise<Float32Array> {
    if (this.workers === 0) return decodeBatch(job);
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#ws.length === 0) { for (let i = 0; i < this.workers; i++) this.#ws.push(this.#spawn(i)); }
    let w = 0;
    for (let i = 1; i < this.workers; i++) if (this.#load[i]! < this.#load[w]!) w = i;
    const id = this.#nextId++;
    this.#load[w]!++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, worker: w });
      this.#ws[w]!.postMessage({ ...job, id });
    });
  }

  #spawn(w: number): Worker {
    const worker = new Worker(new URL("./_image_worker.ts", import.meta.url).href, { type: "module" });
    this.#load[w] = 0;
    worker.onmessage = (ev: MessageEvent) => {
      const m = ev.data as { id: number; x?: Float32Array; error?: string };
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      this.#load[w]!--;
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.x!);
    };
    worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      this.#failed = new Error(`image worker ${w} crashed: ${ev.message}`);
      for (const p of this.#pending.values()) p.reject(this.#failed);
      this.#pending.clear();
    };
    return worker;
  }
}
