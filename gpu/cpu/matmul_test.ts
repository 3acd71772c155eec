import type { DType, View } from "../backend.ts";
import { Rng } from "../rng.ts";
import { assertClose, assertThrows, type Kind, outView, randomView, readView } from "./_test_util.ts";
import { CpuBackend } from "./mod.ts";

/** Naive triple loop over logical row-major values: (B, M, K) @ (B, K, N). */
function naive(a: Float64Array, b: Float64Array, B: number, M: number, K: number, N: number): Float64Array {
  const c = new Float64Array(B * M * N);
  for (let t = 0; t < B; t++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[t * M * K + i * K + k]! * b[t * K * N + k * N + j]!;
        c[t * M * N + i * N + j] = s;
      }
    }
  }
  return c;
}

/** Transposed views have unit stride on the row axis: a column-major layout of the inner two axes. */
function innerKind(transposed: boolean): Kind {
  return transposed ? "colmajor" : "contig";
}

// (M, K, N): ones, odd sizes, empties, block edges (MC = 64, KC = 256, NC = 1024) and a wide N past NC.
const DIMS: [number, number, number][] = [
  [1, 1, 1],
  [3, 17, 5],
  [17, 3, 1],
  [0, 4, 3],
  [4, 0, 3],
  [3, 4, 0],
  [65, 257, 70],
  [5, 513, 7],
  [2, 3, 1030],
  [1, 515, 1030],
  [3, 7, 9],
];

Deno.test("matmul kernel matches a naive triple loop", async (t) => {
  const cpu = new CpuBackend();
  const rng = new Rng(21);
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    await t.step(`2-D, a${ta ? "^T" : ""} @ b${tb ? "^T" : ""}`, () => {
      for (const [M, K, N] of DIMS) {
        const a = randomView(cpu, [M, K], { kind: innerKind(ta), rng });
        const b = randomView(cpu, [K, N], { kind: innerKind(tb), rng });
        const c = outView(cpu, [M, N]);
        cpu.run("matmul", [a.view, b.view], [c], {});
        assertClose(readView(cpu, c), naive(a.values, b.values, 1, M, K, N), `${[M, K, N]}`, { rtol: 1e-5 });
        cpu.free(a.storage), cpu.free(b.storage), cpu.free(c.storage);
      }
    });
  }
  await t.step("batched with transposed inner axes (permuted strides)", () => {
    for (const [ta, tb] of [[false, true], [true, false], [true, true]]) {
      const [B, M, K, N] = [3, 7, 19, 6];
      // Transposing the inner two axes of a contiguous (B, K, M) buffer gives strides (K*M, 1, M).
      const mk = (rows: number, cols: number, tr: boolean) => {
        const tv = randomView(cpu, tr ? [B, cols, rows] : [B, rows, cols], { rng });
        if (!tr) return tv;
        const s = tv.view.strides;
        const view: View = { ...tv.view, shape: [B, rows, cols], strides: [s[0]!, s[2]!, s[1]!] };
        return { ...tv, view, values: readView(cpu, view) };
      };
      const a = mk(M, K, ta!), b = mk(K, N, tb!);
      const c = outView(cpu, [B, M, N]);
      cpu.run("matmul", [a.view, b.view], [c], {});
      assertClose(readView(cpu, c), naive(a.values, b.values, B, M, K, N), `batched ${ta} ${tb}`, {
        rtol: 1e-5,
      });
    }
  });
  await t.step("batch stride 0 on either operand (shared weights)", () => {
    const [B, M, K, N] = [4, 5, 33, 9];
    const a = randomView(cpu, [B, M, K], { kind: { broadcast: 0 }, rng });
    const b = randomView(cpu, [B, K, N], { rng });
    const c = outView(cpu, [B, M, N]);
    cpu.run("matmul", [a.view, b.view], [c], {});
    assertClose(readView(cpu, c), naive(a.values, b.values, B, M, K, N), "a broadcast", { rtol: 1e-5 });
    const a2 = randomView(cpu, [B, M, K], { kind: "padded", rng });
    const b2 = randomView(cpu, [B, K, N], { kind: { broadcast: 0 }, rng });
    cpu.run("matmul", [a2.view, b2.view], [c], {});
    assertClose(readView(cpu, c), naive(a2.values, b2.values, B, M, K, N), "b broadcast", { rtol: 1e-5 });
  });
  await t.step("accumulate adds to the output; f64 is exact to 1e-12", () => {
    for (const [M, K, N] of [[6, 300, 11], [1, 301, 13]] as const) {
      const dtype: DType = "f64";
      const a = randomView(cpu, [M, K], { rng, dtype }),
        b = randomView(cpu, [K, N], { rng, dtype, kind: "colmajor" });
      const c = outView(cpu, [M, N], dtype);
      cpu.run("matmul", [a.view, b.view], [c], {});
      cpu.run("matmul", [a.view, b.view], [c], { accumulate: true });
      const want = naive(a.values, b.values, 1, M, K, N).map((v) => 2 * v);
      assertClose(readView(cpu, c), want, `2 * a @ b ${[M, K, N]}`, { rtol: 1e-12, atol: 1e-12 });
    }
  });
  await t.step("shape mismatch and aliasing are errors naming the shapes", () => {
    const a = outView(cpu, [2, 3]), b = outView(cpu, [4, 5]), c = outView(cpu, [2, 5]);
    assertThrows(() => cpu.run("matmul", [a, b], [c], {}), ["matmul", "[2, 3]", "[4, 5]", "[2, 5]"]);
    const sq = outView(cpu, [3, 3]);
    assertThrows(() => cpu.run("matmul", [sq, sq], [sq], {}), ["matmul", "aliases"]);
    assertThrows(() => cpu.run("matmul", [a], [c], {}), ["matmul", "expects 2 input(s)"]);
  });
});
