import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { importSharp } from "./_deps.ts";
import {
  checkImage,
  cropImage,
  decodeImage,
  encodePng,
  fromChw,
  IMAGENET_STATS,
  imageSize,
  resizeImage,
  resizeShorter,
  toChw,
} from "./image.ts";
import { gradient, imageTest, rejectsWith, throwsWith } from "./_test_util.ts";

imageTest("decodeImage() reads PNG, JPEG and WebP written by libvips", async (t) => {
  const sharp = await importSharp();
  const img = gradient(17, 3);
  const raw = { raw: { width: 17, height: 3, channels: 3 as const } };
  await t.step("PNG and lossless WebP are exact", async () => {
    assertEquals((await decodeImage(await encodePng(img))).data, img.data);
    const webp = await sharp(img.data, raw).webp({ lossless: true }).toBuffer();
    assertEquals((await decodeImage(new Uint8Array(webp))).data, img.data);
  });
  await t.step("JPEG is close", async () => {
    const jpg = await sharp(img.data, raw).jpeg({ quality: 95 }).toBuffer();
    const back = await decodeImage(new Uint8Array(jpg));
    assertEquals([back.width, back.height, back.channels], [17, 3, 3]);
    const err = back.data.reduce((s, v, i) => s + Math.abs(v - img.data[i]!), 0) / img.data.length;
    assert(err < 6, `mean abs error ${err}`);
  });
  await t.step("channels: grey, RGBA", async () => {
    const png = await encodePng(img);
    const grey = await decodeImage(png, { channels: 1 });
    assertEquals([grey.channels, grey.data.length], [1, 51]);
    // pixel (0, 0) is black, (16, 2) is (160, 20, 18): PIL luma 0.299*160 + 0.587*20 + 0.114*18 = 61.6
    assertEquals([grey.data[0], grey.data[50]], [0, 62]);
    const rgba = await decodeImage(png, { channels: 4 });
    assertEquals([rgba.channels, rgba.data[3], rgba.data[7]], [4, 255, 255]);
  });
  await t.step("EXIF orientation is applied", async () => {
    const rotated = await sharp(img.data, raw).jpeg({ quality: 100 }).withMetadata({ orientation: 6 })
      .toBuffer();
    const back = await decodeImage(new Uint8Array(rotated));
    assertEquals([back.width, back.height], [3, 17]);
    assertEquals(await imageSize(new Uint8Array(rotated)), { width: 3, height: 17 });
  });
});

imageTest("decodeImage() names the file that cannot be read", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/cat.jpg`, "not a jpeg at all");
  await rejectsWith(() => decodeImage(`${dir}/cat.jpg`), `cannot read image ${dir}/cat.jpg`);
  await rejectsWith(() => decodeImage(`${dir}/missing.png`), `cannot read image ${dir}/missing.png`);
  const png = await encodePng(gradient(8, 8));
  await Deno.writeFile(`${dir}/cut.png`, png.subarray(0, png.length - 20));
  await rejectsWith(() => decodeImage(`${dir}/cut.png`), `cannot read image ${dir}/cut.png`);
  await rejectsWith(
    () => decodeImage(png.subarray(0, 10), { name: "upload 3" }),
    "cannot read image upload 3",
  );
  await Deno.remove(dir, { recursive: true });
});

imageTest("resizeImage()/resizeShorter() give the asked sizes and keep flat colours", async () => {
  const flat = { data: new Uint8Array(40 * 20 * 3).fill(77), width: 40, height: 20, channels: 3 as const };
  const small = await resizeShorter(flat, 5);
  assertEquals([small.width, small.height], [10, 5]);
  assert(small.data.every((v) => v === 77));
  const big = await resizeImage(gradient(3, 3), 7, 1);
  assertEquals([big.width, big.height, big.data.length], [7, 1, 21]);
});

Deno.test("cropImage() copies the window and mirrors it", async (t) => {
  const img = gradient(5, 4);
  await t.step("plain", () => {
    const c = cropImage(img, { left: 1, top: 2, width: 3, height: 2 });
    assertEquals(Array.from(c.data.subarray(0, 3)), [10, 20, 3]); // pixel (1, 2)
    assertEquals(Array.from(c.data.subarray(15, 18)), [30, 30, 6]); // pixel (3, 3)
  });
  await t.step("flipped", () => {
    const c = cropImage(img, { left: 1, top: 2, width: 3, height: 2 }, { flip: true });
    assertEquals(Array.from(c.data.subarray(0, 3)), [30, 20, 5]); // pixel (3, 2) comes first
  });
  await t.step("outside", () => {
    throwsWith(() => cropImage(img, { left: 3, top: 0, width: 3, height: 1 }), RangeError, "outside 5x4");
  });
});

Deno.test("toChw()/fromChw() normalise per channel and round-trip", () => {
  const img = gradient(4, 2);
  const chw = toChw(img, IMAGENET_STATS);
  assertEquals(chw.length, 24);
  // channel 1 (green) of pixel (x=2, y=1): value 10 -> (10/255 - 0.456) / 0.224
  assert(Math.abs(chw[8 + 1 * 4 + 2]! - (10 / 255 - 0.456) / 0.224) < 1e-6);
  assertEquals(fromChw(chw, [3, 2, 4], IMAGENET_STATS).data, img.data);
  assertEquals(Array.from(toChw({ data: Uint8Array.of(0, 255), width: 2, height: 1, channels: 1 })), [0, 1]);
  throwsWith(() => toChw(img, { mean: [0.5], std: [0.5] }), RangeError, "1 means and 1 stds for 3 channels");
  throwsWith(() => checkImage({ ...img, data: new Uint8Array(5) }), RangeError, "5 bytes for 4x2x3");
});
