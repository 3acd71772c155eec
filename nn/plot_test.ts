import { strict as assert } from "node:assert";
import { lineChartSvg, niceTicks, plotLoss, plotLr, plotLrFind } from "./plot.ts";

function polylinePoints(svg: string): [number, number][][] {
  return [...svg.matchAll(/<polyline[^>]* points="([^"]*)"/g)].map((m) =>
    m[1]!.split(" ").map((p) => p.split(",").map(Number) as [number, number])
  );
}

Deno.test("niceTicks() returns round steps covering the range", () => {
  assert.deepEqual(niceTicks(0, 10), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(0.13, 0.61), [0.2, 0.3, 0.4, 0.5, 0.6]);
  assert.deepEqual(niceTicks(-7, -2), [-7, -6, -5, -4, -3, -2]);
});

Deno.test("lineChartSvg() maps data into the plot box", async (t) => {
  const svg = lineChartSvg([{ name: "a", x: [0, 5, 10], y: [1, 3, 2] }], { width: 200, height: 100 });
  const [line] = polylinePoints(svg);
  await t.step("one point per finite value, x left to right, larger y higher up", () => {
    assert.equal(line!.length, 3);
    assert.ok(line![0]![0] < line![1]![0] && line![1]![0] < line![2]![0]);
    assert.ok(line![1]![1] < line![2]![1] && line![2]![1] < line![0]![1]);
    // x range [0, 10] spans the plot width 200 - 64 - 16 = 120 from x = 64
    assert.equal(line![0]![0], 64);
    assert.equal(line![2]![0], 184);
    assert.equal(line![1]![0], 124);
  });
  await t.step("log x axis and skipped NaN", () => {
    const s = lineChartSvg([{ name: "l", x: [1e-7, 1e-4, 1e-1, 1], y: [2, 1, NaN, 5] }], { logX: true });
    const [p] = polylinePoints(s);
    assert.equal(p!.length, 3);
    // log10 x: -7, -4, 0 -> the middle point sits at 3/7 of the width
    assert.ok(Math.abs((p![1]![0] - p![0]![0]) / (p![2]![0] - p![0]![0]) - 3 / 7) < 0.01);
    assert.ok(s.includes(">1e-6<"), "decade tick labels");
  });
  await t.step("titles are escaped; bad input is rejected", () => {
    assert.ok(lineChartSvg([{ name: "a", x: [0, 1], y: [0, 1] }], { title: "a<b" }).includes("a&lt;b"));
    assert.throws(() => lineChartSvg([{ name: "bad", x: [0, 1], y: [0] }]), /"bad" has 2 x, 1 y/);
    assert.throws(() => lineChartSvg([{ name: "nan", x: [0], y: [NaN] }]), /no finite points/);
  });
});

Deno.test("plotLoss()/plotLr()/plotLrFind() write SVG files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await plotLoss(`${dir}/loss.svg`, { train: [3, 2.5, 2, 1.8], valid: [{ iter: 3, loss: 2.1 }] });
    const loss = await Deno.readTextFile(`${dir}/loss.svg`);
    assert.equal(polylinePoints(loss).length, 2);
    assert.ok(loss.includes(">valid<"));
    await plotLr(`${dir}/lr.svg`, [0.1, 0.5, 1, 0.5], [0.95, 0.9, 0.85, 0.9]);
    assert.equal(polylinePoints(await Deno.readTextFile(`${dir}/lr.svg`)).length, 2);
    const lrs = Array.from({ length: 20 }, (_, i) => 10 ** (i / 4 - 5));
    await plotLrFind(`${dir}/find.svg`, {
      lrs,
      losses: lrs.map((_, i) => 3 - i * 0.1),
      suggestion: { lrSteep: 1e-3 },
    });
    const find = await Deno.readTextFile(`${dir}/find.svg`);
    assert.equal(polylinePoints(find)[0]!.length, 15, "the last 5 points are skipped");
    assert.ok(find.includes("<circle"), "the suggestion is marked");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
