import type { ReduceOp, View } from "../../backend.ts";
import { Rng } from "../../rng.ts";
import {
  assert,
  assertClose,
  assertThrows,
  type Kind,
  outView,
  randomView,
  readView,
  roundTo,
  store,
} from "../_test_util.ts";
import { CpuBackend } from "../mod.ts";

const ROWS_COLS: [number, number][] = [[1, 1], [3, 17], [17, 3], [2, 1031], [0, 5], [4, 0]];
const KINDS: Kind[] = ["contig", "colmajor", "padded", { broadcast: 0 }];

function rowRef(x: Float64Array, R: number, C: number, f: (row: number[]) => number): number[] {
  return Array.from({ length: R }, (_, r) => f(Array.from(x.subarray(r * C, (r + 1) * C))));
}

const REDUCE_REF: Record<ReduceOp, (row: number[]) => number> = {
  sum: (row) => row.reduce((a, b) => a + b, 0),
  mean: (row) => row.reduce((a, b) => a + b, 0) / row.length,
  sumSquares: (row) => row.reduce((a, b) => a + b * b, 0),
  max: (row) => Math.max(...row),
  min: (row) => Math.min(...row),
  argmax: (row) => row.indexOf(Math.max(...row)),
  argmin: (row) => row.indexOf(Math.min(...row)),
};

Deno.test("reduce kernel matches per-row references over (R, C) views", async (t) => {
  const cpu = new CpuBackend();
  const rng = new Rng(31);
  for (const op of Object.keys(REDUCE_REF) as ReduceOp[]) {
    await t.step(op, () => {
      const arg = op === "argmax" || op === "argmin";
      for (const [R, C] of ROWS_COLS) {
        if (C === 0 && R > 0 && !["sum", "mean", "sumSquares"].includes(op)) continue;
        for (const kind of KINDS) {
          const x = randomView(cpu, [R, C], { kind, rng });
          const y = outView(cpu, [R], arg ? "i32" : "f32");
          cpu.run("reduce", [x.view], [y], { op });
          const want = rowRef(x.values, R, C, REDUCE_REF[op]).map((v) => roundTo("f32", v));
          assertClose(readView(cpu, y), want, `${op} ${[R, C]} ${JSON.stringify(kind)}`, { rtol: 1e-5 });
        }
      }
    });
  }
  await t.step(
    "sums down the memory (bias gradients) add each row's columns in order: exactly the f64 sum",
    () => {
      // A transposed (R, C) view with rows along memory takes the column-sweep path (8 columns at a time).
      for (const [R, C] of [[37, 8], [300, 61], [5, 3], [2, 17]] as [number, number][]) {
        const x = randomView(cpu, [R, C], { kind: "colmajor", rng, lo: -1e3, hi: 1e3 });
        for (const op of ["sum", "sumSquares", "mean"] as const) {
          const y = outView(cpu, [R], "f64");
          cpu.run("reduce", [x.view], [y], { op });
          const want = rowRef(x.values, R, C, (row) => {
            let a = 0;
            for (const v of row) a += op === "sumSquares" ? v * v : v;
            return op === "mean" ? a / C : a;
          });
          const got = readView(cpu, y);
          assert(
            got.every((v, i) => v === want[i]),
            `${op} ${[R, C]}: ${got.slice(0, 3)} vs ${want.slice(0, 3)}`,
          );
        }
      }
    },
  );
  await t.step("ties pick the first index; NaN propagates through max and argmax", () => {
    const x = store(cpu, "f32", [1, 3, 3, 0, NaN, 2]);
    const v: View = { storage: x, shape: [2, 3], strides: [3, 1], offset: 0 };
    const am = outView(cpu, [2], "i32"), mx = outView(cpu, [2]);
    cpu.run("reduce", [v], [am], { op: "argmax" });
    cpu.run("reduce", [v], [mx], { op: "max" });
    assertClose(readView(cpu, am), [1, 1], "argmax");
    assertClose(readView(cpu, mx), [3, NaN], "max");
  });
  await t.step("max of empty rows and a non-i32 argmax output are errors", () => {
    const x = outView(cpu, [2, 0]);
    assertThrows(() => cpu.run("reduce", [x], [outView(cpu, [2])], { op: "max" }), ["reduce max", "[2, 0]"]);
    const y = outView(cpu, [2, 3]);
    assertThrows(() => cpu.run("reduce", [y], [outView(cpu, [2])], { op: "argmax" }), ["argmax", "i32"]);
    assertThrows(() => cpu.run("reduce", [y], [outView(cpu, [3])], { op: "sum" }), [
      "reduce sum",
      "[3]",
      "[2]",
    ]);
  });
});
