import { strict as assert } from "node:assert";
import {
  clrSchedule,
  combinedCos,
  combineScheds,
  cosineAnnealing,
  discriminativeLrs,
  oneCycleSchedules,
  sched,
  schedCos,
  schedExp,
  schedLin,
  schedNo,
  schedPoly,
  slantedTriangular,
} from "./schedule.ts";

function close(actual: number, expected: number, tol = 1e-12, what = ""): void {
  assert.ok(
    Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)),
    `${what} expected ${expected}, got ${actual}`,
  );
}

Deno.test("schedLin/schedCos/schedExp/schedNo/schedPoly() match fastai's formulas", async (t) => {
  await t.step("linear", () => {
    close(schedLin(0, 2, 0.25), 0.5);
    close(schedLin(1, 3, 1), 3);
  });
  await t.step("cosine", () => {
    close(schedCos(0, 2, 0), 0);
    close(schedCos(0, 2, 0.5), 1); // (1 + cos(pi/2)) * 2 / 2
    close(schedCos(0, 2, 1), 2);
    close(schedCos(1, 0, 0.25), 1 + (1 + Math.cos(Math.PI * 0.75)) * -1 / 2); // 0.8535533905932737
    close(schedCos(1, 0, 0.25), 0.8535533905932737);
  });
  await t.step("exponential", () => {
    close(schedExp(1e-7, 10, 0.5), Math.sqrt(1e-7 * 10));
    close(schedExp(1e-7, 10, 1), 10);
  });
  await t.step("constant and polynomial", () => {
    assert.equal(schedNo(3, 9, 0.7), 3);
    close(schedPoly(2)(0, 4, 0.5), 1);
  });
});

Deno.test("combineScheds() splits training into consecutive phases", async (t) => {
  const f = combineScheds([0.3, 0.7], [sched(schedLin, 0, 1), sched(schedLin, 1, 3)]);
  await t.step("first phase sees its own position", () => {
    close(f(0), 0);
    close(f(0.15), 0.5);
  });
  await t.step("second phase starts at its boundary", () => {
    close(f(0.3), 1);
    close(f(0.65), 2);
    close(f(1), 3);
  });
  await t.step("bad fractions are rejected", () => {
    assert.throws(
      () => combineScheds([0.5, 0.4], [sched(schedNo, 0, 0), sched(schedNo, 0, 0)]),
      /sum to 0.9/,
    );
    assert.throws(() => combineScheds([1], []), /1 fractions for 0 schedules/);
  });
});

Deno.test("oneCycleSchedules() matches fastai v2 fit_one_cycle", async (t) => {
  const lrMax = 2e-3;
  const { lr, mom } = oneCycleSchedules(lrMax);
  await t.step("lr warm-up from lrMax/25 to lrMax over the first 25%", () => {
    close(lr(0), lrMax / 25);
    // pos 0.125 is the middle of the first phase: start + (1 + cos(pi/2)) * (middle - start) / 2
    close(lr(0.125), lrMax / 25 + (lrMax - lrMax / 25) / 2);
    close(lr(0.25), lrMax);
  });
  await t.step("lr cosine decay to lrMax/1e5", () => {
    const p = (0.625 - 0.25) / 0.75; // 0.5
    close(lr(0.625), lrMax + (1 + Math.cos(Math.PI * (1 - p))) * (lrMax / 1e5 - lrMax) / 2);
    close(lr(0.625), 0.001000010, 1e-9);
    close(lr(1), lrMax / 1e5);
  });
  await t.step("momentum goes 0.95 -> 0.85 -> 0.95", () => {
    close(mom(0), 0.95);
    close(mom(0.125), 0.9);
    close(mom(0.25), 0.85);
    close(mom(1), 0.95);
  });
  await t.step("options (text momentum, pct_start 0.3)", () => {
    const s = oneCycleSchedules(1, { moms: [0.8, 0.7, 0.8], pctStart: 0.3, div: 10, divFinal: 100 });
    close(s.lr(0), 0.1);
    close(s.lr(0.3), 1);
    close(s.lr(1), 0.01);
    close(s.mom(0.3), 0.7);
    close(combinedCos(0.3, 0.1, 1, 0.01)(0.65), s.lr(0.65));
  });
});

Deno.test("slantedTriangular() matches ULMFiT eq. 3 (cut_frac 0.1, ratio 32)", async (t) => {
  const T = 1000, lrMax = 0.01;
  const f = slantedTriangular(lrMax, T);
  await t.step("starts at lrMax/32, peaks at the cut", () => {
    close(f(0), lrMax / 32);
    close(f(100), lrMax);
    // t = 50: p = 0.5, lr = 0.01 * (1 + 0.5 * 31) / 32
    close(f(50), 0.01 * 16.5 / 32);
  });
  await t.step("falls linearly to lrMax/32 at T", () => {
    // t = 550: p = 1 - 450 / (100 * 9) = 0.5
    close(f(550), 0.01 * 16.5 / 32);
    close(f(1000), lrMax / 32);
  });
  await t.step("too short a run is rejected", () => {
    assert.throws(() => slantedTriangular(1, 5), /no warm-up/);
  });
});

Deno.test("clrSchedule() matches fastai v0.7 CircularLR (use_clr)", async (t) => {
  await t.step("use_clr=(32, 10) over 100 iterations", () => {
    const { lr, mom } = clrSchedule(1, 100, 32, 10);
    assert.equal(mom, undefined);
    close(lr(0), 1 / 32);
    close(lr(5), (1 + 0.5 * 31) / 32);
    close(lr(10), 1);
    // i = 55 > cut 10: pct = 1 - 45/90 = 0.5
    close(lr(55), (1 + 0.5 * 31) / 32);
    close(lr(99), (1 + (1 - 89 / 90) * 31) / 32);
    close(lr(100), 1 / 32, 1e-12, "wraps to a new cycle");
  });
  await t.step("use_clr=(20, 10) with momentums (0.95, 0.85)", () => {
    const { lr, mom } = clrSchedule(3e-3, 50, 20, 10, { moms: [0.95, 0.85] });
    close(lr(0), 3e-3 / 20);
    close(lr(5), 3e-3);
    assert.ok(mom);
    close(mom(0), 0.95);
    close(mom(5), 0.85);
    // i = 27: pct_up = 1 - 22/45; mom = 0.85 + (22/45) * 0.1
    close(mom(27), 0.85 + (22 / 45) * 0.1);
  });
});

Deno.test("cosineAnnealing() anneals and restarts", async (t) => {
  await t.step("single cycle", () => {
    const f = cosineAnnealing(1, { lrMin: 0.1 });
    close(f(0), 1);
    close(f(0.5), 0.55);
    close(f(1), 0.1);
  });
  await t.step("SGDR cycles of length 1, 2", () => {
    const f = cosineAnnealing(1, { cycles: 2, cycleMult: 2 });
    close(f(1 / 6), 0.5); // middle of the first third
    close(f(1 / 3), 1); // restart
    close(f(2 / 3), 0.5);
  });
});

Deno.test("discriminativeLrs() divides by 2.6 per earlier group", () => {
  const lrs = discriminativeLrs(1e-2, 3);
  close(lrs[2]!, 1e-2);
  close(lrs[1]!, 1e-2 / 2.6);
  close(lrs[0]!, 1e-2 / 6.76);
});
