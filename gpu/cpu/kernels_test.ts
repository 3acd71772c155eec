import type { ReduceOp, View } from "../backend.ts";
import { Rng } from "../rng.ts";
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
} from "./_test_util.ts";
import { CpuBackend } from "./mod.ts";

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

Deno.test("softmax kernel matches exp(x - logsumexp) and stays finite on large logits", () => {
  const cpu = new CpuBackend();
  const rng = new Rng(32);
  for (const log of [false, true]) {
    for (const [R, C] of ROWS_COLS) {
      for (const kind of KINDS) {
        const x = randomView(cpu, [R, C], { kind, rng, lo: -30, hi: 30 });
        const y = outView(cpu, [R, C]);
        cpu.run("softmax", [x.view], [y], { log });
        const want = new Float64Array(R * C);
        for (let r = 0; r < R; r++) {
          const row = x.values.subarray(r * C, (r + 1) * C);
          const m = Math.max(...row);
          const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
          for (let c = 0; c < C; c++) want[r * C + c] = log ? row[c]! - lse : Math.exp(row[c]! - lse);
        }
        assertClose(readView(cpu, y), want, `softmax log=${log} ${[R, C]}`, { rtol: 1e-5, atol: 1e-6 });
      }
    }
  }
  const big = store(cpu, "f32", [1000, 1000, -1000]);
  const y = outView(cpu, [1, 3]);
  cpu.run("softmax", [{ storage: big, shape: [1, 3], strides: [3, 1], offset: 0 }], [y], { log: false });
  assertClose(readView(cpu, y), [0.5, 0.5, 0], "softmax of huge logits");
});

Deno.test("gather and scatterAdd kernels move rows by id", async (t) => {
  const cpu = new CpuBackend();
  const rng = new Rng(33);
  await t.step("gather rows of a (possibly transposed) table, with repeats", () => {
    for (const [V, D, N] of [[1, 1, 1], [17, 3, 40], [1031, 5, 7], [4, 6, 0], [3, 0, 2]] as const) {
      for (const kind of ["contig", "colmajor"] as Kind[]) {
        const table = randomView(cpu, [V, D], { kind, rng });
        const idsData = Array.from({ length: N }, () => rng.int(V));
        const ids: View = { storage: store(cpu, "i32", idsData), shape: [N], strides: [1], offset: 0 };
        const y = outView(cpu, [N, D]);
        cpu.run("gather", [table.view, ids], [y], {});
        const want = idsData.flatMap((id) => Array.from(table.values.subarray(id * D, (id + 1) * D)));
        assertClose(readView(cpu, y), want, `gather ${[V, D, N]} ${kind}`);
      }
    }
  });
  await t.step("scatterAdd accumulates duplicate ids", () => {
    for (const [V, D, N] of [[1, 1, 3], [17, 3, 40], [5, 1031, 9], [4, 6, 0]] as const) {
      const src = randomView(cpu, [N, D], { kind: "colmajor", rng });
      const idsData = Array.from({ length: N }, () => rng.int(V));
      const ids: View = { storage: store(cpu, "i32", idsData), shape: [N], strides: [1], offset: 0 };
      const table = outView(cpu, [V, D], "f64");
      cpu.write(table.storage, new Float64Array(V * D).fill(0.5));
      cpu.run("scatterAdd", [src.view, ids], [table], {});
      const want = new Float64Array(V * D).fill(0.5);
      idsData.forEach((id, i) => {
        for (let d = 0; d < D; d++) want[id * D + d] = want[id * D + d]! + src.values[i * D + d]!;
      });
      assertClose(readView(cpu, table), want, `scatterAdd ${[V, D, N]}`, { rtol: 1e-12 });
    }
  });
  await t.step("ids outside [0, V) are errors naming the id and the shapes", () => {
    const table = randomView(cpu, [4, 2], { rng });
    const ids: View = { storage: store(cpu, "i32", [0, 4]), shape: [2], strides: [1], offset: 0 };
    assertThrows(() => cpu.run("gather", [table.view, ids], [outView(cpu, [2, 2])], {}), [
      "gather",
      "id 4",
      "position 1",
      "[4, 2]",
    ]);
    const neg: View = { storage: store(cpu, "i32", [-1, 0]), shape: [2], strides: [1], offset: 0 };
    const before = readView(cpu, table.view);
    assertThrows(() => cpu.run("scatterAdd", [outView(cpu, [2, 2]), neg], [table.view], {}), [
      "scatterAdd",
      "id -1",
    ]);
    assertClose(readView(cpu, table.view), before, "a failed scatterAdd leaves the table untouched");
    const f32ids = outView(cpu, [2]);
    assertThrows(() => cpu.run("gather", [table.view, f32ids], [outView(cpu, [2, 2])], {}), [
      "gather",
      "i32",
    ]);
  });
});

function crossEntropyRef(x: Float64Array, targets: number[], C: number, ignore: number) {
  const loss: number[] = [], lse: number[] = [];
  targets.forEach((t, r) => {
    const row = Array.from(x.subarray(r * C, (r + 1) * C));
    const m = Math.max(...row);
    const l = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    lse.push(l);
    loss.push(t === ignore ? 0 : l - row[t]!);
  });
  return { loss, lse };
}

Deno.test("crossEntropy and crossEntropyBackward match references and finite differences", async (t) => {
  const cpu = new CpuBackend();
  const rng = new Rng(34);
  const ignore = -100;
  for (const [R, C] of [[1, 1], [3, 17], [40, 3], [2, 257], [0, 4]] as [number, number][]) {
    await t.step(`R=${R}, C=${C}`, () => {
      const x = randomView(cpu, [R, C], {
        kind: R > 2 ? "colmajor" : "contig",
        rng,
        dtype: "f64",
        lo: -5,
        hi: 5,
      });
      const targets = Array.from({ length: R }, (_, r) => (r % 3 === 2 ? ignore : rng.int(C)));
      const tv: View = { storage: store(cpu, "i32", targets), shape: [R], strides: [1], offset: 0 };
      const loss = outView(cpu, [R], "f64"), lse = outView(cpu, [R], "f64");
      cpu.run("crossEntropy", [x.view, tv], [loss, lse], { ignoreIndex: ignore });
      const ref = crossEntropyRef(x.values, targets, C, ignore);
      assertClose(readView(cpu, loss), ref.loss, "loss", { rtol: 1e-12 });
      assertClose(readView(cpu, lse), ref.lse, "logSumExp", { rtol: 1e-12 });
      const gradLoss = randomView(cpu, [R], { rng, dtype: "f64" });
      const g = outView(cpu, [R, C], "f64");
      cpu.run("crossEntropyBackward", [x.view, tv, lse, gradLoss.view], [g], { ignoreIndex: ignore });
      const got = readView(cpu, g);
      // d(sum_r gradLoss[r] * loss[r]) / dx by central differences on the reference.
      const h = 1e-6;
      for (let i = 0; i < R * C; i++) {
        const plus = x.values.slice(), minus = x.values.slice();
        plus[i] = plus[i]! + h, minus[i] = minus[i]! - h;
        const f = (v: Float64Array) =>
          crossEntropyRef(v, targets, C, ignore).loss.reduce((a, l, r) => a + l * gradLoss.values[r]!, 0);
        const fd = (f(plus) - f(minus)) / (2 * h);
        assert(Math.abs(got[i]! - fd) < 1e-6, `grad[${i}] = ${got[i]}, finite difference ${fd}`);
      }
    });
  }
  await t.step("a target out of range is an error naming the row", () => {
    const x = randomView(cpu, [2, 3], { rng });
    const tv: View = { storage: store(cpu, "i32", [0, 3]), shape: [2], strides: [1], offset: 0 };
    assertThrows(
      () =>
        cpu.run("crossEntropy", [x.view, tv], [outView(cpu, [2]), outView(cpu, [2])], { ignoreIndex: -100 }),
      ["crossEntropy", "target 3", "row 1"],
    );
  });
});

Deno.test("a freed storage, a bad view and a wrong kernel call are errors naming what is wrong", () => {
  const cpu = new CpuBackend();
  const x = outView(cpu, [2, 3]), y = outView(cpu, [2, 3]);
  cpu.free(x.storage);
  assertThrows(() => cpu.run("unary", [x], [y], { op: "exp" }), ["storage #1", "freed", "unary", "input 0"]);
  assertThrows(() => cpu.readSync(x.storage), ["storage #1", "freed"]);
  assertThrows(() => cpu.free(x.storage), ["storage #1", "freed"]);
  const z = outView(cpu, [2, 3]);
  const tooBig: View = { ...z, shape: [3, 3], strides: [3, 1] };
  assertThrows(() => cpu.run("unary", [tooBig], [outView(cpu, [3, 3])], { op: "exp" }), [
    "unary",
    "[3, 3]",
    "outside storage",
  ]);
  assertThrows(() => cpu.run("binary", [z, outView(cpu, [2, 4])], [y], { op: "add" }), [
    "binary add",
    "[2, 4]",
    "[2, 3]",
  ]);
  assertThrows(() => cpu.run("binary", [z], [y], { op: "add" }), ["binary", "expects 2 input(s)", "[2, 3]"]);
  assertThrows(() => cpu.write(z.storage, new Float32Array(7)), ["7 elements", "storage #"]);
  // Live: y, z (2x3), the 3x3 and 2x4 outputs; f32 = 4 bytes each.
  const s = cpu.stats();
  assert(s.liveStorages === 4 && s.liveBytes === (6 + 6 + 9 + 8) * 4, `stats ${JSON.stringify(s)}`);
  const big = cpu.alloc(1000, "f64");
  cpu.free(big);
  const after = cpu.stats();
  assert(
    after.liveBytes === s.liveBytes && after.peakBytes === s.liveBytes + 8000,
    `peak ${JSON.stringify(after)}`,
  );
});
