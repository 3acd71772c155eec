/**
 * One batch job of the image loader: decode and transform each file into its slot of one float32 array. Runs in
 * a worker, or on the calling thread when the loader has no workers.
 *
 * @module
 */
import { type ImageTransform, loadTransformed, outputSize } from "./transforms.ts";

/** What a worker is asked to do. */
export interface BatchJob {
  /** Image files. */
  paths: string[];
  /** Per-image seeds (`null`: the deterministic evaluation transform). */
  seeds: (number | null)[];
  /** The transform. */
  transform: ImageTransform;
}

/** Images decoded at once within a job (libvips works on them in parallel). */
const CONCURRENT = 4;

/** Decode a job into `(n, channels, height, width)` float32. */
export async function decodeBatch(job: BatchJob): Promise<Float32Array> {
  const [h, w] = outputSize(job.transform);
  const per = (job.transform.channels ?? 3) * h * w;
  const x = new Float32Array(job.paths.length * per);
  for (let s = 0; s < job.paths.length; s += CONCURRENT) {
    const slots = job.paths.slice(s, s + CONCURRENT).map((p, k) => {
      const i = s + k;
      return loadTransformed(p, job.transform, job.seeds[i] ?? null, x.subarray(i * per, (i + 1) * per));
    });
    await Promise.all(slots);
  }
  return x;
}
