import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { writeSpamJsonl } from "./spam_jsonl.ts";
import { readJsonl } from "../text/mod.ts";

Deno.test("writeSpamJsonl() writes the demo's records as JSON lines", async (t) => {
  const dir = await Deno.makeTempDir();
  const out = `${dir}/spam.jsonl`;
  try {
    await t.step("6,046 e-mails, the seeded 80/20 split, texts cut to --chars", async () => {
      const n = await writeSpamJsonl(out, { chars: 200, seed: 42 });
      assertEquals(n, { train: 4837, valid: 1209 });
      const recs = [];
      for await (const r of readJsonl(out)) recs.push(r);
      assertEquals(recs.length, 6046);
      assert(recs.every((r) => r.text.length <= 200 && r.text.startsWith("Subject: ")));
      assertEquals(new Set(recs.map((r) => r.label)), new Set(["ham", "spam"]));
      assertEquals(recs.filter((r) => r.label === "spam").length, 1896);
      assertEquals(recs.filter((r) => r.split === "valid").length, 1209);
      assertEquals(new Set(recs.map((r) => r.id)).size, 6046);
    });
    await t.step("refuses to overwrite without force; another seed gives another split", async () => {
      const before = await Deno.readTextFile(out);
      await rejects(writeSpamJsonl(out, { chars: 200, seed: 7 }), /exists; pass --force/);
      assertEquals(await Deno.readTextFile(out), before);
      await writeSpamJsonl(out, { chars: 200, seed: 7, force: true });
      const after = await Deno.readTextFile(out);
      assert(after !== before);
      assertEquals(after.split("\n").length, before.split("\n").length);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
