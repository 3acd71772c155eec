import type { View } from "../../backend.ts";
import { Rng } from "../../rng.ts";
import {
  assert,
  assertClose,
  assertThrows,
  type Kind,
  outView,
  randomView,
  readView,
  store,
} from "../_test_util.ts";
import { CpuBackend } from "../mod.ts";

const ROWS_COLS: [number, number][] = [[1, 1], [3, 17], [17, 3], [2, 1031], [0, 5], [4, 0]];
const KINDS: Kind[] = ["contig", "colmajor", "padded", { broadcast: 0 }];

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

/** f32 logits as a view of a storage with rows `rs` apart (`rs >= C`), the extra columns garbage. */
function f32Rows(cpu: CpuBackend, rows: number[][], rs: number): View {
  const R = rows.length, C = rows[0]?.length ?? 0;
  const data = new Float32Array(Math.max(1, R * rs)).fill(1e30);
  rows.forEach((row, r) => data.set(row, r * rs));
  return { storage: store(cpu, "f32", data), shape: [R, C], strides: [rs, 1], offset: 0 };
}

/** Within one f32 rounding step of `want` (both already f32 values), NaN only where `want` is NaN. */
function f32Near(got: number, want: number): boolean {
  if (want !== want) return got !== got;
  return got === want || Math.abs(got - want) <= Math.abs(want) * 2 ** -23;
}

Deno.test("f32 crossEntropy on the WebAssembly exp kernel matches the f64 reference to f32 rounding", async (t) => {
  const cpu = new CpuBackend();
  const rng = new Rng(77);
  const ignore = -100;
  const check = (
    rows: number[][],
    rs: number,
    targets: number[],
    opts: { lseShift?: number; g?: number[] } = {},
  ) => {
    const R = rows.length, C = rows[0]?.length ?? 0;
    const x = f32Rows(cpu, rows, rs);
    const tv: View = { storage: store(cpu, "i32", targets), shape: [R], strides: [1], offset: 0 };
    const loss = outView(cpu, [R]), lse = outView(cpu, [R]);
    cpu.run("crossEntropy", [x, tv], [loss, lse], { ignoreIndex: ignore });
    const gotLse = readView(cpu, lse), gotLoss = readView(cpu, loss);
    const lseIn = Array.from(gotLse, (v) => Math.fround(v + (opts.lseShift ?? 0)));
    const gl = opts.g ?? Array.from({ length: R }, () => -2 + 4 * rng.random());
    const lseView: View = { storage: store(cpu, "f32", lseIn), shape: [R], strides: [1], offset: 0 };
    const gView: View = { storage: store(cpu, "f32", gl), shape: [R], strides: [1], offset: 0 };
    const grad = outView(cpu, [R, C]);
    cpu.run("crossEntropyBackward", [x, tv, lseView, gView], [grad], { ignoreIndex: ignore });
    const got = readView(cpu, grad);
    let same = 0;
    rows.forEach((row, r) => {
      const f = row.map(Math.fround);
      let m = -Infinity;
      for (const v of f) if (v > m) m = v;
      const want = m === -Infinity ? -Infinity : m + Math.log(f.reduce((a, v) => a + Math.exp(v - m), 0));
      assert(f32Near(gotLse[r]!, Math.fround(want)), `row ${r}: lse ${gotLse[r]}, want ${Math.fround(want)}`);
      const tr = targets[r]!;
      const wantLoss = tr === ignore ? 0 : Math.fround(want - f[tr]!);
      assert(f32Near(gotLoss[r]!, wantLoss), `row ${r}: loss ${gotLoss[r]}, want ${wantLoss}`);
      const g = Math.fround(gl[r]!);
      for (let c = 0; c < C; c++) {
        const w = tr === ignore ? 0 : Math.fround(g * (Math.exp(f[c]! - lseIn[r]!) - (c === tr ? 1 : 0)));
        assert(f32Near(got[r * C + c]!, w), `row ${r} col ${c}: grad ${got[r * C + c]}, want ${w}`);
        if (Object.is(got[r * C + c], w)) same++;
      }
    });
    return R * C === 0 ? 1 : same / (R * C);
  };
  const randRows = (R: number, C: number, lo: number, hi: number) =>
    Array.from({ length: R }, () => Array.from({ length: C }, () => lo + (hi - lo) * rng.random()));
  await t.step("LM-sized rows, contiguous and padded: nearly all gradients bitwise equal", () => {
    const targets = Array.from({ length: 6 }, (_, r) => (r === 4 ? ignore : rng.int(3000)));
    const a = check(randRows(6, 3000, -8, 8), 3000, targets);
    const b = check(randRows(6, 3000, -8, 8), 3011, targets);
    assert(a > 0.999 && b > 0.999, `bitwise-equal fractions ${a}, ${b}`);
  });
  await t.step("row lengths around the 8-wide loop (tails) and one row longer than the module memory", () => {
    for (const C of [1, 2, 7, 8, 9, 15, 17, 33]) {
      check(randRows(3, C, -3, 3), C + (C % 2), [0, C - 1, ignore]);
    }
    const long = randRows(2, 262144 + 37, -20, 20);
    assert(check(long, 262144 + 37, [5, 262144 + 36]) > 0.999, "long rows");
  });
  await t.step("extreme and special values", () => {
    // Spread over 1e4: most exps underflow (clamped below at -708 in the kernel, 0 in f32 either way).
    check(randRows(3, 100, -1e4, 1e4), 100, [1, 2, 3]);
    const row = (f: (c: number) => number) => Array.from({ length: 20 }, (_, c) => f(c));
    check(
      [
        row((c) => (c === 3 ? -Infinity : c / 7)),
        row(() => -Infinity),
        row((c) => (c === 11 ? NaN : c)),
        row((c) => (c === 5 ? Infinity : c)),
        row(() => 1e38),
      ],
      20,
      [0, 1, 2, 3, 4],
    );
    // A logSumExp far below the row's values (x - lse > 700): those rows are computed in JavaScript.
    check(randRows(2, 40, -1, 1), 40, [0, 1], { lseShift: -800 });
    check(randRows(3, 40, -1, 1), 40, [0, 1, 2], { g: [NaN, Infinity, 0] });
  });
});

Deno.test("f32 softmax and log-softmax on the WebAssembly exp kernel match the f64 formulas to f32 rounding", async (t) => {
  const cpu = new CpuBackend();
  const rng = new Rng(123);
  const run = (rows: number[][], rs: number, log: boolean) => {
    const R = rows.length, C = rows[0]!.length;
    const x = f32Rows(cpu, rows, rs);
    const y = outView(cpu, [R, C]);
    cpu.run("softmax", [x], [y], { log });
    const got = readView(cpu, y);
    let same = 0;
    rows.forEach((row, r) => {
      const f = row.map(Math.fround);
      let m = -Infinity;
      for (const v of f) if (v > m) m = v;
      const finite = m > -Infinity && m < Infinity;
      const sum = f.reduce((a, v) => a + Math.exp(v - m), 0);
      const lse = finite ? m + Math.log(sum) : (() => {
        // The reference's non-finite-max path (rowLogSumExp): -Infinity when every element is -Infinity.
        let mm = -Infinity;
        for (const v of f) if (v > mm) mm = v;
        return mm === -Infinity ? -Infinity : mm + Math.log(f.reduce((a, v) => a + Math.exp(v - mm), 0));
      })();
      f.forEach((v, c) => {
        const w = Math.fround(log ? v - lse : finite ? Math.exp(v - m) * (1 / sum) : Math.exp(v - lse));
        assert(
          f32Near(got[r * C + c]!, w),
          `${log ? "log" : ""}softmax row ${r} col ${c}: ${got[r * C + c]}, want ${w}`,
        );
        if (Object.is(got[r * C + c], w)) same++;
      });
    });
    return same / (rows.length * rows[0]!.length);
  };
  const randRows = (R: number, C: number, lo: number, hi: number) =>
    Array.from({ length: R }, () => Array.from({ length: C }, () => lo + (hi - lo) * rng.random()));
  for (const log of [false, true]) {
    await t.step(`${log ? "log-" : ""}softmax: vocabulary rows, tails, special values`, () => {
      assert(run(randRows(9, 3000, -10, 10), 3001, log) > 0.999, "mostly bitwise equal");
      for (const C of [1, 3, 12, 13, 25]) run(randRows(4, C, -5, 5), C, log);
      const row = (f: (c: number) => number) => Array.from({ length: 20 }, (_, c) => f(c));
      run(
        [
          row((c) => (c === 3 ? -Infinity : c / 7)),
          row(() => -Infinity),
          row((c) => (c === 11 ? NaN : c)),
          row((c) => (c === 5 ? Infinity : c)),
          row((c) => c * 1e3),
        ],
        20,
        log,
      );
    });
  }
});
