import { strict as assert } from "node:assert";
import { newSelectReport, selectionSettings, selectPairs } from "./select.ts";
import { cleanParallel } from "./clean.ts";
import type { PairRecord } from "../readers/types.ts";

/** A stream with every kind of catalog entry, repeated across chunk boundaries (chunks of 1000). */
function catalog(n: number): PairRecord[] {
  const kinds: PairRecord[] = [
    { source: "_Open", target: "_Ouvrir" },
    { source: "%d files", target: "%d fichiers" },
    { source: "...", target: "…" },
    { source: "OK", target: "OK" },
    { source: "Line\nbreak", target: "Ligne\ncoupée" },
    { source: "What is this? A test.", target: "Qu'est-ce que c'est ? Un test." },
  ];
  const out: PairRecord[] = [];
  for (let i = 0; i < n; i++) {
    const k = kinds[i % kinds.length]!;
    // every 12th pair is unique, the rest repeat the six kinds
    out.push(i % 12 === 11 ? { source: `Item ${i}`, target: `Élément ${i}` } : { ...k, id: String(i) });
  }
  return out;
}

Deno.test("selectPairs() streams cleanParallel's rules with dedupe across the whole stream", async (t) => {
  const raw = catalog(3000);

  await t.step("the same pairs and counts as cleanParallel over the whole array", async () => {
    const report = newSelectReport();
    const kept = await Array.fromAsync(selectPairs(raw, {}, report));
    const whole = cleanParallel(raw);
    assert.deepStrictEqual(kept, whole.pairs);
    const { input, kept: k, ...rules } = whole.report;
    assert.deepStrictEqual({ read: input, kept: k, notQuestion: 0, ...rules }, { ...report });
    // "Open", "What is this? A test." and 250 unique items: 252
    assert.equal(kept.length, 252);
    // 500 of kinds 0-4 each, 250 of kind 5, 250 unique items; kinds 1-4 removed by rules
    assert.equal(report.duplicate, 3000 - 250 - 4 * 500 - 2);
  });

  await t.step("questions: cut to the question, then deduplicated", async () => {
    const report = newSelectReport();
    const kept = await Array.fromAsync(selectPairs(raw, { questions: true }, report));
    assert.deepStrictEqual(kept.map((p) => [p.source, p.target]), [[
      "What is this?",
      "Qu'est-ce que c'est ?",
    ]]);
    assert.equal(report.notQuestion, 500 + 250, "500 'Open' and 250 'Item ...' pairs");
    assert.equal(report.duplicate, 249);
  });

  await t.step("no cleaning keeps everything, duplicates included", async () => {
    const report = newSelectReport();
    const kept = await Array.fromAsync(selectPairs(raw, { clean: false }, report));
    assert.equal(kept.length, 3000);
    assert.deepStrictEqual([report.read, report.kept, report.duplicate], [3000, 3000, 0]);
  });

  await t.step("settings: defaults filled in, so equal selections give equal JSON", () => {
    assert.deepStrictEqual(selectionSettings({}), selectionSettings({ clean: { accelerators: true } }));
    assert.notDeepStrictEqual(selectionSettings({}), selectionSettings({ clean: { maxChars: 100 } }));
    const q = selectionSettings({ questions: { source: /^(How[^?]+\?)/i } }).questions;
    assert.deepStrictEqual(q, { source: "/^(How[^?]+\\?)/i", target: "^([^?.!]+\\?)" });
    assert.equal(selectionSettings({ clean: false }).clean, false);
  });
});
