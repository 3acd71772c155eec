import { strict as assert } from "node:assert";
import { formatTime, MetricsTable, ProgressBar } from "./progress.ts";

function recorder(isTerminal: boolean) {
  const out: string[] = [];
  return { out, sink: { write: (s: string) => void out.push(s), isTerminal } };
}

Deno.test("formatTime() prints mm:ss and h:mm:ss", () => {
  assert.equal(formatTime(0), "00:00");
  assert.equal(formatTime(75.4), "01:15");
  assert.equal(formatTime(3725), "1:02:05");
  assert.equal(formatTime(NaN), "--:--");
});

Deno.test("ProgressBar() reports progress and ETA", async (t) => {
  let now = 0;
  await t.step("ETA is elapsed / done * remaining", () => {
    const { sink } = recorder(false);
    const bar = new ProgressBar(10, { sink, now: () => now, width: 10 });
    now = 4000;
    bar.update(4);
    assert.equal(bar.eta(), 6);
    assert.equal(bar.render("loss 2.5"), "|████------|  40% 4/10 [00:04<00:06] loss 2.5");
  });
  await t.step("non-terminal sink logs a line every 25% and at the end", () => {
    const { out, sink } = recorder(false);
    const bar = new ProgressBar(8, { sink, now: () => now });
    for (let i = 0; i < 8; i++) bar.tick();
    assert.equal(out.length, 4);
    assert.ok(out.every((l) => l.endsWith("\n") && !l.includes("\r")));
    assert.ok(out[3]!.includes("8/8"));
  });
  await t.step("terminal sink redraws in place", () => {
    const { out, sink } = recorder(true);
    const bar = new ProgressBar(3, { sink, now: () => now });
    bar.tick();
    bar.tick();
    bar.tick();
    assert.equal(out.length, 3);
    assert.ok(out.every((l) => l.startsWith("\r")));
    assert.ok(out[2]!.endsWith("\n") && !out[1]!.endsWith("\n"));
  });
  await t.step("bad total", () => assert.throws(() => new ProgressBar(0), /positive integer, got 0/));
});

Deno.test("MetricsTable() prints fastai's per-epoch table", () => {
  const { out, sink } = recorder(false);
  const table = new MetricsTable(["epoch", "train_loss", "valid_loss", "accuracy", "time"], sink);
  table.row([0, 2.345678912, 2.1, 0.31234567, 61]);
  table.row([1, 1.9, 1.8, 0.4, 59.6]);
  assert.deepEqual(out, [
    "epoch     train_loss  valid_loss  accuracy  time\n",
    "0         2.345679    2.100000    0.312346  01:01\n",
    "1         1.900000    1.800000    0.400000  01:00\n",
  ]);
  assert.throws(() => table.row([1, 2]), /2 values for columns/);
});
