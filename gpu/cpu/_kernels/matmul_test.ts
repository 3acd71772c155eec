import type { DType, View } from "../../backend.ts";
import { Rng } from "../../rng.ts";
import {
  assert,
  assertClose,
  assertThrows,
  type Kind,
  outView,
  randomView,
  readView,
} from "../_test_util.ts";
import { blasTest } from "../_blas_testing.ts";
import { wasmMatmulFma } from "../_wasm_matmul.ts";
import { CpuBackend } from "../mod.ts";

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

/** Unit roundoff of f32. */
const U32 = 2 ** -24;

/**
 * Assert an f32 product is within the worst-case bound of its kernel: summing K products in f32 (the WebAssembly
 * kernel) errs by at most about `K u sum_k |a_ik b_kj|`; the JavaScript kernel sums in f64 and rounds to f32
 * once per 256-deep k slice.
 * `times` products were summed into the output (accumulate).
 */
function assertProductClose(
  got: Float64Array,
  a: Float64Array,
  b: Float64Array,
  [B, M, K, N]: readonly number[],
  kernel: "wasm" | "js",
  what: string,
  times = 1,
): void {
  const want = naive(a, b, B!, M!, K!, N!);
  const mag = naive(a.map(Math.abs), b.map(Math.abs), B!, M!, K!, N!);
  assert(got.length === want.length, `${what}: length ${got.length} != ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    const w = times * want[i]!, m = times * mag[i]!;
    const tol = kernel === "wasm"
      ? 1.01 * (K! + times + 1) * U32 * m
      : (Math.ceil(K! / 256) + times) * 2 * U32 * m + (K! + 2) * 2 ** -52 * m;
    assert(Math.abs(got[i]! - w) <= tol, `${what}: element ${i} is ${got[i]}, expected ${w} (+- ${tol})`);
  }
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

// The WebAssembly kernel's edges: 4x8 tiles, MC = 128, KC = 256, NC = 1024; K = 1; a long K of many slices.
const WASM_DIMS: [number, number, number][] = [
  [4, 1, 8],
  [17, 33, 65],
  [5, 1, 9],
  [129, 257, 1025],
  [7, 2000, 13],
  [64, 96, 384],
  [128, 256, 1024],
];

Deno.test("matmul kernel matches a naive triple loop", async (t) => {
  const cpu = new CpuBackend({ matmul: "wasm" });
  const js = new CpuBackend({ matmul: "js" });
  const rng = new Rng(21);
  for (const [kernel, be] of [["wasm", cpu], ["js", js]] as const) {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      await t.step(`2-D ${kernel}, a${ta ? "^T" : ""} @ b${tb ? "^T" : ""}`, () => {
        for (const [M, K, N] of kernel === "wasm" ? [...DIMS, ...WASM_DIMS] : DIMS) {
          const a = randomView(be, [M, K], { kind: innerKind(ta), rng });
          const b = randomView(be, [K, N], { kind: innerKind(tb), rng });
          const c = outView(be, [M, N]);
          be.run("matmul", [a.view, b.view], [c], {});
          assertProductClose(
            readView(be, c),
            a.values,
            b.values,
            [1, M, K, N],
            kernel,
            `${kernel} ${[M, K, N]}`,
          );
          be.free(a.storage), be.free(b.storage), be.free(c.storage);
        }
      });
    }
  }
  await t.step("wasm: padded strides and an operand offset, accumulate adds in f32", () => {
    for (const [M, K, N] of [[9, 300, 17], [130, 40, 1030]] as const) {
      const a = randomView(cpu, [M, K], { kind: "padded", rng });
      const b = randomView(cpu, [K, N], { kind: "padded", rng });
      const c = outView(cpu, [M, N]);
      cpu.run("matmul", [a.view, b.view], [c], {});
      cpu.run("matmul", [a.view, b.view], [c], { accumulate: true });
      assertProductClose(
        readView(cpu, c),
        a.values,
        b.values,
        [1, M, K, N],
        "wasm",
        `2 * a @ b ${[M, K, N]}`,
        2,
      );
    }
  });
  await t.step("wasm: a strided view into a larger storage (column slice, row step)", () => {
    // a = rows 1, 3, 5, ... of a (2M, 50) buffer, columns 7..7+K; b = columns 2..2+N of a (K, 40) buffer.
    const [M, K, N] = [11, 37, 29];
    const abuf = randomView(cpu, [2 * M + 1, 50], { rng }), bbuf = randomView(cpu, [K, 40], { rng });
    const aView: View = { storage: abuf.storage, shape: [M, K], strides: [100, 1], offset: 57 };
    const bView: View = { storage: bbuf.storage, shape: [K, N], strides: [40, 1], offset: 2 };
    const c = outView(cpu, [M, N]);
    cpu.run("matmul", [aView, bView], [c], {});
    const av = readView(cpu, aView), bv = readView(cpu, bView);
    assertProductClose(readView(cpu, c), av, bv, [1, M, K, N], "wasm", "strided slices");
  });
  await t.step(
    "wasm: negative and zero strides (flipped rows, a broadcast row, a reversed column order)",
    () => {
      const [M, K, N] = [13, 40, 21];
      const abuf = randomView(cpu, [M, K], { rng }), bbuf = randomView(cpu, [K, N], { rng });
      const views: [string, View, View][] = [
        [
          "a rows flipped",
          { storage: abuf.storage, shape: [M, K], strides: [-K, 1], offset: (M - 1) * K },
          bbuf.view,
        ],
        ["b columns reversed", abuf.view, {
          storage: bbuf.storage,
          shape: [K, N],
          strides: [N, -1],
          offset: N - 1,
        }],
        [
          "a one row broadcast",
          { storage: abuf.storage, shape: [M, K], strides: [0, 1], offset: K },
          bbuf.view,
        ],
        ["b transposed and flipped", abuf.view, {
          storage: bbuf.storage,
          shape: [K, N],
          strides: [-1, K],
          offset: K - 1,
        }],
      ];
      for (const [what, av, bv] of views) {
        const c = outView(cpu, [M, N]);
        cpu.run("matmul", [av, bv], [c], {});
        assertProductClose(
          readView(cpu, c),
          readView(cpu, av),
          readView(cpu, bv),
          [1, M, K, N],
          "wasm",
          what,
        );
        cpu.free(c.storage);
      }
    },
  );
  await t.step("wasm and js agree closely; the wasm result is the same bits run to run", () => {
    const [M, K, N] = [70, 500, 300];
    const a = randomView(cpu, [M, K], { rng }), b = randomView(cpu, [K, N], { kind: "colmajor", rng });
    const c1 = outView(cpu, [M, N]), c2 = outView(cpu, [M, N]);
    cpu.run("matmul", [a.view, b.view], [c1], {});
    cpu.run("matmul", [a.view, b.view], [c2], {});
    const r1 = readView(cpu, c1), r2 = readView(cpu, c2);
    assert(r1.every((v, i) => Object.is(v, r2[i])), "two runs differ");
    const ja = randomView(js, [M, K], { rng: new Rng(99) }),
      jb = randomView(js, [K, N], { rng: new Rng(98) });
    const wa = randomView(cpu, [M, K], { rng: new Rng(99) }),
      wb = randomView(cpu, [K, N], { rng: new Rng(98) });
    const jc = outView(js, [M, N]), wc = outView(cpu, [M, N]);
    js.run("matmul", [ja.view, jb.view], [jc], {});
    cpu.run("matmul", [wa.view, wb.view], [wc], {});
    const rj = readView(js, jc), rw = readView(cpu, wc);
    let worst = 0;
    for (let i = 0; i < rj.length; i++) worst = Math.max(worst, Math.abs(rj[i]! - rw[i]!));
    // Values in [-2, 2): |c| ~ sqrt(500) * 4/3 ~ 30; f32 sums of 500 terms differ from f64 by ~1e-5 typically.
    assert(worst > 0 && worst < 1e-3, `wasm vs js max difference ${worst}`);
    assert(typeof wasmMatmulFma() === "boolean", "fma flag");
  });
  await t.step("NaN and Infinity propagate like the JavaScript kernel", () => {
    const [M, K, N] = [8, 5, 16];
    const a = randomView(cpu, [M, K], { rng }), b = randomView(cpu, [K, N], { rng });
    const ad = cpu.readSync(a.storage) as Float32Array;
    ad[2 * K + 1] = NaN, ad[5 * K + 3] = Infinity;
    cpu.write(a.storage, ad);
    const c = outView(cpu, [M, N]);
    cpu.run("matmul", [a.view, b.view], [c], {});
    const r = readView(cpu, c);
    for (let j = 0; j < N; j++) {
      assert(Number.isNaN(r[2 * N + j]!), `row 2 col ${j} should be NaN, got ${r[2 * N + j]}`);
      assert(!Number.isFinite(r[5 * N + j]!), `row 5 col ${j} should be infinite, got ${r[5 * N + j]}`);
      assert(Number.isFinite(r[0 * N + j]!) && Number.isFinite(r[7 * N + j]!), "other rows stay finite");
    }
  });
  await t.step("bad kernel option is an error naming it", () => {
    // @ts-expect-error: testing a wrong value
    assertThrows(() => new CpuBackend({ matmul: "cuda" }), ["matmul", "cuda"]);
  });
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
      assertProductClose(readView(cpu, c), a.values, b.values, [B, M, K, N], "wasm", `batched ${ta} ${tb}`);
    }
  });
  await t.step("batch stride 0 on either operand (shared weights)", () => {
    const [B, M, K, N] = [4, 5, 33, 9];
    const a = randomView(cpu, [B, M, K], { kind: { broadcast: 0 }, rng });
    const b = randomView(cpu, [B, K, N], { rng });
    const c = outView(cpu, [B, M, N]);
    cpu.run("matmul", [a.view, b.view], [c], {});
    assertProductClose(readView(cpu, c), a.values, b.values, [B, M, K, N], "wasm", "a broadcast");
    const a2 = randomView(cpu, [B, M, K], { kind: "padded", rng });
    const b2 = randomView(cpu, [B, K, N], { kind: { broadcast: 0 }, rng });
    cpu.run("matmul", [a2.view, b2.view], [c], {});
    assertProductClose(readView(cpu, c), a2.values, b2.values, [B, M, K, N], "wasm", "b broadcast");
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
  js.dispose();
  cpu.dispose();
});

blasTest(
  "matmul on the machine's BLAS matches the naive loop and the WebAssembly kernel (f32 tolerance)",
  async (t) => {
    const wasm = new CpuBackend({ matmul: "wasm" });
    const rng = new Rng(31);
    /** Run a @ b (+ a @ b when `twice`) on `be`; the views are made from seeds so both backends see equal data. */
    const product = (be: CpuBackend, shapes: number[][], kinds: Kind[], seed: number, twice: boolean) => {
      const a = randomView(be, shapes[0]!, { kind: kinds[0]!, rng: new Rng(seed) });
      const b = randomView(be, shapes[1]!, { kind: kinds[1]!, rng: new Rng(seed + 1) });
      const c = outView(be, [...shapes[0]!.slice(0, -1), shapes[1]!.at(-1)!]);
      be.run("matmul", [a.view, b.view], [c], {});
      if (twice) be.run("matmul", [a.view, b.view], [c], { accumulate: true });
      return { a, b, got: readView(be, c) };
    };
    for (const threads of [1, 2]) {
      const blas = new CpuBackend({ matmul: "blas", threads });
      assert(blas.matmulKernel === "blas", `kernel ${blas.matmulKernel}`);
      const check = (shapes: number[][], kinds: Kind[], what: string, twice = false) => {
        const seed = Math.floor(rng.random() * 1e6);
        const r = product(blas, shapes, kinds, seed, twice), w = product(wasm, shapes, kinds, seed, twice);
        const [B, M, K] = shapes[0]!.length === 3 ? shapes[0]! : [1, ...shapes[0]!];
        const dims = [B!, M!, K!, shapes[1]!.at(-1)!];
        assertProductClose(r.got, r.a.values, r.b.values, dims, "wasm", `blas ${what}`, twice ? 2 : 1);
        // Both within the f32 bound of the exact product, so within twice that bound of each other.
        const mag = naive(r.a.values.map(Math.abs), r.b.values.map(Math.abs), B!, M!, K!, dims[3]!);
        for (let i = 0; i < r.got.length; i++) {
          const tol = 2 * 1.01 * (K! + 3) * U32 * (twice ? 2 : 1) * mag[i]!;
          assert(Math.abs(r.got[i]! - w.got[i]!) <= tol, `${what}: blas ${r.got[i]} vs wasm ${w.got[i]}`);
        }
      };
      await t.step(`${threads} thread(s): awkward sizes, every transposition`, () => {
        for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
          for (const [M, K, N] of [...DIMS, ...WASM_DIMS.filter(([m]) => m < 100)]) {
            check([[M, K], [K, N]], [innerKind(ta), innerKind(tb)], `${[M, K, N]} ${ta} ${tb}`);
          }
        }
        check([[129, 257], [257, 1025]], ["colmajor", "contig"], "129 x 257 x 1025, a transposed");
      });
      await t.step(`${threads} thread(s): padded strides, accumulate, batches, broadcasts`, () => {
        check([[9, 300], [300, 17]], ["padded", "padded"], "padded, accumulate", true);
        check([[3, 7, 19], [3, 19, 6]], ["contig", "colmajor"], "batched, b transposed");
        check([[4, 5, 33], [4, 33, 9]], [{ broadcast: 0 }, "contig"], "a broadcast over the batch");
        check([[4, 5, 33], [4, 33, 9]], ["padded", { broadcast: 0 }], "b broadcast over the batch");
        check([[2, 1, 1152], [2, 1152, 1030]], ["contig", "colmajor"], "one row per batch (decoding)");
      });
      await t.step(`${threads} thread(s): layouts BLAS cannot read are gathered`, () => {
        const [M, K, N] = [13, 40, 21];
        const abuf = randomView(blas, [M, K], { rng }), bbuf = randomView(blas, [K, N], { rng });
        const views: [string, View, View][] = [
          ["a rows flipped", { ...abuf.view, strides: [-K, 1], offset: (M - 1) * K }, bbuf.view],
          ["a one row broadcast", { ...abuf.view, strides: [0, 1], offset: K }, bbuf.view],
          ["b columns reversed", abuf.view, { ...bbuf.view, strides: [N, -1], offset: N - 1 }],
          ["a column slice, every other row", {
            ...abuf.view,
            shape: [6, 20],
            strides: [2 * K, 1],
            offset: 7,
          }, {
            ...bbuf.view,
            shape: [20, N],
          }],
        ];
        for (const [what, av, bv] of views) {
          const c = outView(blas, [av.shape[0]!, N]);
          blas.run("matmul", [av, bv], [c], {});
          const dims = [1, av.shape[0]!, av.shape[1]!, N];
          assertProductClose(readView(blas, c), readView(blas, av), readView(blas, bv), dims, "wasm", what);
        }
      });
      await t.step(`${threads} thread(s): the same bits run to run`, () => {
        const shapes = [[70, 500], [500, 300]], kinds: Kind[] = ["contig", "colmajor"];
        const r1 = product(blas, shapes, kinds, 5, false).got,
          r2 = product(blas, shapes, kinds, 5, false).got;
        assert(r1.some((v) => v !== 0) && r1.every((v, i) => Object.is(v, r2[i])), "two runs differ");
      });
      blas.dispose();
    }
    wasm.dispose();
  },
);
