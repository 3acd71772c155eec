import { strict as assert } from "node:assert";
import { readFolderPerClass } from "./folder.ts";
import { rejectsReader } from "./_test_helpers.ts";
import { newStats } from "./types.ts";

Deno.test("readFolderPerClass() reads the aclImdb layout in a fixed order", async (t) => {
  const root = await Deno.makeTempDir();
  const files: Record<string, string> = {
    "train/neg/10_2.txt": "bad film",
    "train/neg/2_1.txt": "awful",
    "train/pos/0_9.txt": "great",
    "train/unsup/0_0.txt": "unlabelled",
    "test/pos/1_10.txt": "loved it",
    "test/neg/3_4.txt": "meh",
    "train/pos/README": "not a review",
  };
  for (const [rel, text] of Object.entries(files)) {
    await Deno.mkdir(`${root}/${rel.slice(0, rel.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeTextFile(`${root}/${rel}`, text);
  }
  await t.step("all splits and classes, natural file order", async () => {
    const docs = await Array.fromAsync(readFolderPerClass(root));
    assert.deepStrictEqual(docs.map((d) => d.id), [
      "test/neg/3_4.txt",
      "test/pos/1_10.txt",
      "train/neg/2_1.txt",
      "train/neg/10_2.txt",
      "train/pos/0_9.txt",
      "train/unsup/0_0.txt",
    ]);
    assert.deepStrictEqual(docs[3], {
      text: "bad film",
      label: "neg",
      split: "train",
      id: "train/neg/10_2.txt",
    });
  });
  await t.step("chosen splits and classes", async () => {
    const docs = await Array.fromAsync(
      readFolderPerClass(root, { splits: ["train"], classes: ["pos", "neg"] }),
    );
    assert.deepStrictEqual(docs.map((d) => d.text), ["great", "awful", "bad film"]);
  });
  await t.step("invalid UTF-8 file and missing folder", async () => {
    await Deno.writeFile(`${root}/test/pos/9_9.txt`, new Uint8Array([0x61, 0xff]));
    await rejectsReader(() => Array.fromAsync(readFolderPerClass(root)), "9_9.txt: invalid UTF-8");
    const stats = newStats();
    const docs = await Array.fromAsync(readFolderPerClass(root, { onError: "skip", stats }));
    assert.deepStrictEqual([docs.length, stats.read, stats.skipped], [6, 6, 1]);
    await rejectsReader(
      () => Array.fromAsync(readFolderPerClass(root, { splits: ["valid"] })),
      "folder not found",
    );
  });
  await Deno.remove(root, { recursive: true });
});
