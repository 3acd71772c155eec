import { deepStrictEqual as assertEquals, notDeepStrictEqual, ok as assert } from "node:assert/strict";
import { ArrayImageLoader } from "./array_loader.ts";
import { batchRanges, epochOrder, targetsFromLabels } from "./batches.ts";
import { encodePng } from "./image.ts";
import { ImageFileLoader } from "./image_loader.ts";
import type { ArrayImageSet } from "./mnist.ts";
import { loadTransformed, sampleSeed } from "./transforms.ts";
import { gradient, imageTest, rejectsWith, throwsWith } from "./_test_util.ts";

/** `n` 4x3 images; image i is filled with 10 * i, except pixel (0, 0) = 255. */
function tinySet(n: number): ArrayImageSet {
  const images = new Uint8Array(n * 12);
  for (let i = 0; i < n; i++) {
    images.fill(10 * i, i * 12, (i + 1) * 12);
    images[i * 12] = 255;
  }
  return {
    images,
    labels: Int32Array.from({ length: n }, (_, i) => i % 3),
    count: n,
    height: 4,
    width: 3,
    classes: ["a", "b", "c"],
  };
}

Deno.test("epochOrder()/batchRanges() cover every item once per epoch", () => {
  const a = epochOrder(100, { shuffle: true, seed: 5, epoch: 0 });
  assertEquals([...a].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
  assertEquals(a, epochOrder(100, { shuffle: true, seed: 5, epoch: 0 }));
  notDeepStrictEqual(a, epochOrder(100, { shuffle: true, seed: 5, epoch: 1 }));
  assertEquals(batchRanges(7, 3, false), [[0, 3], [3, 6], [6, 7]]);
  assertEquals(batchRanges(7, 3, true), [[0, 3], [3, 6]]);
  throwsWith(() => batchRanges(7, 0, true), RangeError, "batchSize must be a positive integer");
  throwsWith(
    () => targetsFromLabels([0, 3], new Float32Array(6), 2),
    RangeError,
    "item 1 has label 3, not in 0..2",
  );
});

Deno.test("ArrayImageLoader yields normalised, seeded, augmented batches with targets", async (t) => {
  const set = tinySet(10);
  const classVectors = Float32Array.of(1, 0, 0, 1, 1, 1); // 3 classes x 2
  await t.step("plain: values / 255 in item order, labels and target rows", () => {
    const loader = new ArrayImageLoader(set, {
      batchSize: 4,
      targets: targetsFromLabels(set.labels, classVectors, 2),
    });
    const bs = [...loader.batches()];
    assertEquals(bs.map((b) => b.shape), [[4, 1, 4, 3], [4, 1, 4, 3], [2, 1, 4, 3]]);
    assertEquals(Array.from(bs[1]!.indices), [4, 5, 6, 7]);
    assertEquals(Array.from(bs[1]!.labels), [1, 2, 0, 1]);
    assertEquals(Array.from(bs[1]!.targets!.subarray(0, 4)), [0, 1, 1, 1]);
    assertEquals(bs[0]!.x[12 + 1], Math.fround(10 / 255)); // image 1, pixel 1
    assertEquals(bs[0]!.x[12], 1); // image 1, pixel 0 = 255
  });
  await t.step("stats normalise", () => {
    const [b] = new ArrayImageLoader(set, { batchSize: 1, stats: { mean: [0.5], std: [0.25] } }).batches();
    assert(Math.abs(b!.x[0]! - 2) < 1e-6 && Math.abs(b!.x[1]! + 2) < 1e-6);
  });
  await t.step("flip and pad-crop move the marked pixel, the same way for the same seed and epoch", () => {
    const opts = { batchSize: 10, flip: true, padCrop: 1, seed: 3 };
    const [a] = new ArrayImageLoader(set, opts).batches(2);
    const [b] = new ArrayImageLoader(set, opts).batches(2);
    const [c] = new ArrayImageLoader(set, opts).batches(3);
    assertEquals(a, b);
    notDeepStrictEqual(a!.x, c!.x);
    const where = new Set<number>();
    for (let i = 0; i < 10; i++) where.add(a!.x.subarray(i * 12, (i + 1) * 12).indexOf(1));
    assert(where.size > 2, `the marked pixel landed at ${[...where]}`);
  });
  await t.step("shuffle with dropLast", () => {
    const loader = new ArrayImageLoader(set, { batchSize: 4, shuffle: true, dropLast: true });
    assertEquals(loader.length, 2);
    const seen = [...loader.batches(0)].flatMap((b) => Array.from(b.indices));
    assertEquals(new Set(seen).size, 8);
  });
  await t.step("bad input", () => {
    throwsWith(
      () => new ArrayImageLoader({ ...set, count: 11 }, { batchSize: 2 }),
      RangeError,
      "for 11 images of 4x3",
    );
    throwsWith(
      () => new ArrayImageLoader(set, { batchSize: 2, targets: { data: new Float32Array(3), dim: 2 } }),
      RangeError,
      "targets hold 3 numbers, not 10 rows of 2",
    );
  });
});

imageTest("ImageFileLoader decodes in workers, in order, as on the calling thread", async (t) => {
  const dir = await Deno.makeTempDir();
  const items: { path: string; label: number }[] = [];
  for (let i = 0; i < 11; i++) {
    const img = gradient(12 + i, 9);
    img.data.fill(i * 20, 0, 3); // mark pixel (0, 0) with the item number
    const path = `${dir}/${String(i).padStart(2, "0")}.png`;
    await Deno.writeFile(path, await encodePng(img));
    items.push({ path, label: i % 2 });
  }
  const transform = { size: 8, crop: "random-resized" as const, flip: true, stats: null };
  const base = { batchSize: 3, shuffle: true, seed: 9, transform };
  const collect = async (loader: ImageFileLoader, epoch: number) => {
    const out = [];
    for await (const b of loader.batches(epoch)) out.push(b);
    loader.close();
    return out;
  };
  await t.step(
    "two workers give exactly what the calling thread gives, and what loadTransformed gives",
    async () => {
      const pooled = new ImageFileLoader(items, { ...base, workers: 2, prefetch: 2 });
      const inline = await collect(new ImageFileLoader(items, { ...base, workers: 0 }), 1);
      const got = await collect(pooled, 1);
      assertEquals(got, inline);
      assertEquals(got.map((b) => b.shape[0]), [3, 3, 3, 2]);
      assert(pooled.peakInFlight <= 2, `peak ${pooled.peakInFlight}`);
      const j = got[2]!.indices[1]!;
      const want = await loadTransformed(items[j]!.path, transform, sampleSeed(9, 1, j));
      assertEquals(got[2]!.x.subarray(3 * 64, 6 * 64), want);
      assertEquals(got[2]!.labels[1], j % 2);
    },
  );
  await t.step("evaluation (augment false) is deterministic and unshuffled", async () => {
    const ev = await collect(
      new ImageFileLoader(items, { batchSize: 4, transform, augment: false, workers: 1 }),
      0,
    );
    assertEquals(Array.from(ev[0]!.indices), [0, 1, 2, 3]);
    assertEquals(ev[0]!.x.subarray(0, 192), await loadTransformed(items[0]!.path, transform, null));
  });
  await t.step("a corrupt file stops the epoch and is named", async () => {
    await Deno.writeTextFile(`${dir}/05.png`, "truncated");
    const loader = new ImageFileLoader(items, { batchSize: 4, transform, workers: 2 });
    await rejectsWith(() => collect(loader, 0), `cannot read image ${dir}/05.png`);
    loader.close();
  });
  await Deno.remove(dir, { recursive: true });
});
