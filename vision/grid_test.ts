import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { decodeImage, encodePng, type RawImage } from "./image.ts";
import { gridLayout, imageGridHtml, imageGridPng, writeImageGrid } from "./grid.ts";
import { imageTest, rejectsWith } from "./_test_util.ts";

function solid(w: number, h: number, rgb: [number, number, number]): RawImage {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data.set(rgb, 3 * i);
  return { data, width: w, height: h, channels: 3 };
}

function pixel(img: RawImage, x: number, y: number): number[] {
  const o = (y * img.width + x) * img.channels;
  return Array.from(img.data.subarray(o, o + 3));
}

Deno.test("gridLayout() places cells row by row", () => {
  const g = gridLayout(3, { columns: 2, tileSize: 20, gap: 4, captionHeight: 10 });
  assertEquals(g, {
    width: 52,
    height: 72,
    cells: [{ left: 4, top: 4 }, { left: 28, top: 4 }, { left: 4, top: 38 }],
  });
  assertEquals(gridLayout(2, { tileSize: 8, gap: 0 }).width, 16); // 2 tiles: 2 columns
});

imageTest("imageGridPng() draws every tile where the layout says, at the right size", async (t) => {
  const red = solid(10, 10, [255, 0, 0]), green = solid(10, 10, [0, 255, 0]);
  const blueBytes = await encodePng(solid(10, 5, [0, 0, 255])); // wider than tall: letterboxed
  const tiles = [
    { image: red, caption: "red 0.91" },
    { image: green, caption: "green <&>" },
    { image: blueBytes, caption: "blue" },
  ];
  const opts = { columns: 2, tileSize: 20, gap: 4, background: "#808080" };
  const png = await imageGridPng(tiles, opts);
  const img = await decodeImage(png);
  const layout = gridLayout(3, { ...opts, captionHeight: 16 });
  await t.step("size", () => assertEquals([img.width, img.height], [layout.width, layout.height]));
  await t.step("tile pixels", () => {
    const [a, b, c] = layout.cells;
    assertEquals(pixel(img, a!.left + 10, a!.top + 10), [255, 0, 0]);
    assertEquals(pixel(img, a!.left, a!.top), [255, 0, 0]); // the corner of an upscaled tile (nearest)
    assertEquals(pixel(img, a!.left + 19, a!.top + 19), [255, 0, 0]);
    assertEquals(pixel(img, b!.left + 10, b!.top + 10), [0, 255, 0]);
    assertEquals(pixel(img, c!.left + 10, c!.top + 10), [0, 0, 255]);
    assertEquals(pixel(img, c!.left + 10, c!.top + 1), [128, 128, 128]); // letterbox band above the blue
  });
  await t.step("gaps keep the background", () => {
    assertEquals(pixel(img, 1, 1), [128, 128, 128]);
    assertEquals(pixel(img, layout.cells[0]!.left + 21, layout.cells[0]!.top + 10), [128, 128, 128]);
  });
  await t.step("a frame colours the tile's edge", async () => {
    const framed = await decodeImage(
      await imageGridPng([{ image: red, frame: "#0000ff" }], { tileSize: 32, gap: 0 }),
    );
    assertEquals(pixel(framed, 0, 16), [0, 0, 255]);
    assertEquals(pixel(framed, 16, 16), [255, 0, 0]);
  });
});

imageTest("writeImageGrid()/imageGridHtml() write files and name bad tiles", async () => {
  const dir = await Deno.makeTempDir();
  await writeImageGrid(`${dir}/g.png`, [{ image: solid(4, 4, [1, 2, 3]) }], { tileSize: 8, gap: 1 });
  const back = await decodeImage(`${dir}/g.png`);
  assertEquals([back.width, back.height, ...pixel(back, 3, 3)], [10, 10, 1, 2, 3]);
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["g.png"]);
  const html = await imageGridHtml([{ image: solid(4, 4, [9, 9, 9]), caption: "a <b>" }, {
    image: `${dir}/g.png`,
  }], {
    title: "search: boot",
  });
  assert(html.startsWith("<!doctype html>") && html.includes("<title>search: boot</title>"));
  assertEquals(html.match(/data:image\/png;base64,/g)?.length, 2);
  assert(html.includes("<figcaption>a &lt;b&gt;</figcaption>"));
  await rejectsWith(
    () => imageGridPng([{ image: `${dir}/none.png` }]),
    `image grid: cannot draw ${dir}/none.png`,
  );
  await Deno.remove(dir, { recursive: true });
});
