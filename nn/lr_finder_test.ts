import { strict as assert } from "node:assert";
import { lrFind, suggestLr } from "./lr_finder.ts";

function close(actual: number, expected: number, rel = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `expected ${expected}, got ${actual}`);
}

Deno.test("lrFind() sweeps exponentially from 1e-7 to 10", async (t) => {
  const seen: number[] = [];
  const r = await lrFind((lr) => {
    seen.push(lr);
    return Promise.resolve(1);
  });
  await t.step("100 steps at start * (end/start)^(i/100)", () => {
    assert.equal(seen.length, 100);
    close(seen[0]!, 1e-7);
    close(seen[50]!, 1e-7 * (10 / 1e-7) ** 0.5);
    close(seen[99]!, 1e-7 * (1e8) ** 0.99);
    assert.deepEqual(r.lrs, seen);
    assert.equal(r.diverged, false);
  });
  await t.step("linear sweep", async () => {
    const lin = await lrFind(() => Promise.resolve(1), { startLr: 1, endLr: 3, numIt: 10, linear: true });
    close(lin.lrs[5]!, 2);
  });
});

Deno.test("lrFind() stops when the smoothed loss passes 4x the best", async () => {
  // loss 1 until lr 1e-3, then it explodes by 10x per step
  let blowUp = 1;
  const r = await lrFind((lr) => Promise.resolve(lr < 1e-3 ? 1 : (blowUp *= 10)));
  assert.equal(r.diverged, true);
  const last = r.losses[r.losses.length - 1]!;
  assert.ok(last > 4 * Math.min(...r.losses), `last ${last}`);
  // every earlier smoothed loss was within 4x of the best so far
  for (let i = 0; i < r.losses.length - 1; i++) {
    assert.ok(r.losses[i]! <= 4 * Math.min(...r.losses.slice(0, i + 1)));
  }
  assert.ok(r.lrs.length < 100 && r.lrs[r.lrs.length - 1]! >= 1e-3);
});

Deno.test("suggestLr() picks min/10 and the steepest descent", async (t) => {
  await t.step("hand-made curve", () => {
    // 20 points, skip the first 2 (numIt/10) and the last 5; minimum at i = 12, steepest fall between 6 and 7
    const lrs = Array.from({ length: 20 }, (_, i) => 10 ** (i - 10));
    const losses = [9, 9, 5, 5, 4.9, 4.8, 4.7, 2, 1.9, 1.8, 1.7, 1.6, 1.5, 1.6, 1.7, 0.1, 0.1, 0.1, 0.1, 0.1];
    const s = suggestLr(lrs, losses, 20);
    close(s.lrMin, 1e2 / 10);
    close(s.lrSteep, 1e-4);
  });
  await t.step("too few points", () => assert.ok(Number.isNaN(suggestLr([1, 2], [1, 1]).lrMin)));
});
