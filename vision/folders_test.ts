import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { listImages, readImageFolder } from "./folders.ts";
import { rejectsWith } from "./_test_util.ts";

async function tree(root: string, files: string[]): Promise<void> {
  for (const f of files) {
    await Deno.mkdir(`${root}/${f.slice(0, f.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeFile(`${root}/${f}`, new Uint8Array(1));
  }
}

Deno.test("readImageFolder() lists root/<split>/<class>/* with labels", async (t) => {
  const root = await Deno.makeTempDir();
  await tree(root, [
    "train/n02/b.JPEG",
    "train/n02/a.png",
    "train/n01/z.jpg",
    "train/n01/notes.txt",
    "train/.hidden/x.jpg",
    "val/n02/c.webp",
  ]);
  await t.step("classes sorted, files by class then name, non-images skipped", async () => {
    const s = await readImageFolder(root, { split: "train" });
    assertEquals(s.classes, ["n01", "n02"]);
    assertEquals(s.items, [
      { path: `${root}/train/n01/z.jpg`, label: 0 },
      { path: `${root}/train/n02/a.png`, label: 1 },
      { path: `${root}/train/n02/b.JPEG`, label: 1 },
    ]);
  });
  await t.step("a validation split keeps the training labels", async () => {
    const v = await readImageFolder(root, { split: "val", classes: ["n01", "n02"] });
    assertEquals(v.items, [{ path: `${root}/val/n02/c.webp`, label: 1 }]);
  });
  await t.step("errors name the folder", async () => {
    await rejectsWith(
      () => readImageFolder(root, { split: "val", classes: ["n01"] }),
      `${root}/val/n02: class "n02"`,
    );
    await rejectsWith(
      () => readImageFolder(root, { split: "test" }),
      `image folder ${root}/test does not exist`,
    );
    await rejectsWith(() => readImageFolder(`${root}/train/n01`), "has no class folders");
  });
  await Deno.remove(root, { recursive: true });
});

Deno.test("listImages() lists a folder of unlabelled images", async () => {
  const root = await Deno.makeTempDir();
  await tree(root, ["b.png", "a.jpg", "readme.md", "sub/c.jpeg"]);
  assertEquals(await listImages(root), [`${root}/a.jpg`, `${root}/b.png`]);
  assertEquals(await listImages(root, { recursive: true }), [
    `${root}/a.jpg`,
    `${root}/b.png`,
    `${root}/sub/c.jpeg`,
  ]);
  await Deno.remove(root, { recursive: true });
});
