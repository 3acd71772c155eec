import { deepStrictEqual as assertEquals, notDeepStrictEqual, ok as assert } from "node:assert/strict";
import { encodePng, IMAGENET_STATS } from "./image.ts";
import { loadTransformed, outputSize, planTransform, sampleSeed } from "./transforms.ts";
import { gradient, imageTest, rejectsWith, throwsWith } from "./_test_util.ts";

Deno.test("planTransform() is seeded and stays inside the image", async (t) => {
  await t.step("same seed, same plan; other seeds differ", () => {
    const tr = { size: 64, crop: "random-resized" as const, flip: true };
    assertEquals(
      planTransform(300, 200, tr, sampleSeed(1, 2, 3)),
      planTransform(300, 200, tr, sampleSeed(1, 2, 3)),
    );
    const plans = new Set(
      [0, 1, 2, 3, 4, 5].map((i) => JSON.stringify(planTransform(300, 200, tr, sampleSeed(1, 2, i)))),
    );
    assertEquals(plans.size, 6);
    notDeepStrictEqual(sampleSeed(1, 0, 5), sampleSeed(1, 1, 5)); // another epoch, another draw
  });
  await t.step("centre crop without a seed: the middle window, no flip", () => {
    const p = planTransform(300, 200, { size: 100, flip: true }, null);
    assertEquals(p, {
      box: { left: 50, top: 0, width: 200, height: 200 },
      width: 100,
      height: 100,
      flip: false,
    });
    const r = planTransform(300, 200, { size: [50, 100], resize: 100 }, null);
    assertEquals(r.box, { left: 50, top: 50, width: 200, height: 100 }); // scale 1/2: the 100x50 window is 200x100
  });
  await t.step("random crop windows have the right size and cover the range", () => {
    const lefts = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const p = planTransform(40, 20, { size: 10, crop: "random", resize: 20 }, sampleSeed(9, 0, i));
      assertEquals([p.box.width, p.box.height, p.box.top], [10, 10, p.box.top]);
      assert(p.box.left >= 0 && p.box.left <= 30 && p.box.top >= 0 && p.box.top <= 10);
      lefts.add(p.box.left);
    }
    assert(lefts.has(0) && lefts.has(30) && lefts.size > 20, `lefts ${[...lefts].sort()}`);
  });
  await t.step("random-resized windows respect scale and ratio; flips are ~1/2", () => {
    let flips = 0;
    for (let i = 0; i < 1000; i++) {
      const p = planTransform(
        640,
        480,
        { size: 224, crop: "random-resized", flip: true },
        sampleSeed(3, 0, i),
      );
      const { left, top, width, height } = p.box;
      assert(left >= 0 && top >= 0 && left + width <= 640 && top + height <= 480);
      const area = (width * height) / (640 * 480), ratio = width / height;
      assert(area >= 0.079 && area <= 1.001 && ratio >= 0.74 && ratio <= 1.34, `area ${area} ratio ${ratio}`);
      if (p.flip) flips++;
    }
    assert(flips > 450 && flips < 550, `${flips} flips of 1000`);
  });
  await t.step("bad sizes", () => {
    throwsWith(() => outputSize({ size: 0 }), RangeError, "size 0x0");
  });
});

imageTest("loadTransformed() crops, flips and normalises the decoded pixels", async (t) => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/g.png`;
  await Deno.writeFile(path, await encodePng(gradient(10, 6)));
  await t.step("centre crop at scale 1 is an exact window", async () => {
    const x = await loadTransformed(path, { size: 6, stats: null }, null); // window x 2..7
    assertEquals(x.length, 3 * 36);
    assertEquals(Math.round(x[0]! * 255), 20); // red of pixel (2, 0)
    assertEquals(Math.round(x[36 + 6 * 5 + 5]! * 255), 50); // green of pixel (7, 5)
  });
  await t.step("a flip mirrors the window", async () => {
    let seed = 0;
    while (!planTransform(10, 6, { size: 6, flip: true }, seed).flip) seed++;
    const x = await loadTransformed(path, { size: 6, flip: true, stats: null }, seed);
    assertEquals(Math.round(x[0]! * 255), 70); // red of pixel (7, 0) comes first
  });
  await t.step("ImageNet statistics and grey output", async () => {
    const x = await loadTransformed(path, { size: [6, 10], crop: "squish" }, null);
    assert(Math.abs(x[0]! - (0 - 0.485) / 0.229) < 1e-6);
    const g = await loadTransformed(path, { size: [6, 10], crop: "squish", channels: 1, stats: null }, null);
    assertEquals(g.length, 60);
    // pixel (9, 5) = (90, 50, 14): PIL luma 0.299*90 + 0.587*50 + 0.114*14 = 57.9
    assertEquals(Math.round(g[59]! * 255), 58);
    const out = new Float32Array(200);
    assertEquals(
      await loadTransformed(path, { size: 4, stats: IMAGENET_STATS }, 5, out.subarray(10)),
      out.subarray(10),
    );
    assert(out[10] !== 0 && out[9] === 0);
  });
  await t.step("the same seed gives the same tensor", async () => {
    const tr = { size: 4, crop: "random-resized" as const, flip: true };
    assertEquals(await loadTransformed(path, tr, 77), await loadTransformed(path, tr, 77));
  });
  await t.step("a bad file is named", async () => {
    await Deno.writeTextFile(`${dir}/bad.png`, "no");
    await rejectsWith(
      () => loadTransformed(`${dir}/bad.png`, { size: 4 }, null),
      `cannot read image ${dir}/bad.png`,
    );
  });
  await Deno.remove(dir, { recursive: true });
});
