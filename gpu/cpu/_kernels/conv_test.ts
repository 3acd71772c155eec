import type { Conv2dAttrs, DType, View } from "../../backend.ts";
import { windowOutputSize } from "../../conv_geometry.ts";
import { Rng } from "../../rng.ts";
import { assert, assertClose, assertThrows, outView, randomView, readView } from "../_test_util.ts";
import { blasTest } from "../_blas_testing.ts";
import { CpuBackend } from "../mod.ts";

/** One convolution problem: input `(B, C, H, W)`, `O` filters of `KH x KW`, and the window geometry. */
interface Case {
  B: number;
  C: number;
  H: number;
  W: number;
  O: number;
  KH: number;
  KW: number;
  attrs: Conv2dAttrs;
}

function geo(c: Case): { OH: number; OW: number } {
  const { stride: [sh, sw], padding: [ph, pw], dilation: [dh, dw] } = c.attrs;
  return {
    OH: windowOutputSize(c.H, { kernel: c.KH, stride: sh, padding: ph, dilation: dh }),
    OW: windowOutputSize(c.W, { kernel: c.KW, stride: sw, padding: pw, dilation: dw }),
  };
}

/** Direct convolution in f64: y, and the gradients for upstream `g` (dx, dw, db). */
function reference(c: Case, x: Float64Array, w: Float64Array, g: Float64Array) {
  const { B, C, H, W, O, KH, KW } = c;
  const { stride: [sh, sw], padding: [ph, pw], dilation: [dh, dw] } = c.attrs;
  const { OH, OW } = geo(c);
  const y = new Float64Array(B * O * OH * OW),
    dx = new Float64Array(x.length),
    dW = new Float64Array(w.length);
  const db = new Float64Array(O);
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < O; o++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          const yi = ((b * O + o) * OH + oh) * OW + ow;
          db[o] = db[o]! + g[yi]!;
          for (let ci = 0; ci < C; ci++) {
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * sh - ph + kh * dh;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * sw - pw + kw * dw;
                if (iw < 0 || iw >= W) continue;
                const xi = ((b * C + ci) * H + ih) * W + iw, wi = ((o * C + ci) * KH + kh) * KW + kw;
                y[yi] = y[yi]! + x[xi]! * w[wi]!;
                dx[xi] = dx[xi]! + g[yi]! * w[wi]!;
                dW[wi] = dW[wi]! + g[yi]! * x[xi]!;
              }
            }
          }
        }
      }
    }
  }
  return { y, dx, dW, db };
}

const A = (s: number, p: number, d = 1, s2 = s, p2 = p, d2 = d): Conv2dAttrs => ({
  stride: [s, s2],
  padding: [p, p2],
  dilation: [d, d2],
});

/**
 * Awkward and typical shapes: 1x1 (pointwise fast path), odd sizes, strides, dilation, non-square everything,
 * and "same" stride-1 convolutions (the block-copy path of im2col/col2im), dilated and not.
 */
const CASES: Case[] = [
  { B: 1, C: 1, H: 1, W: 1, O: 1, KH: 1, KW: 1, attrs: A(1, 0) },
  { B: 2, C: 3, H: 5, W: 7, O: 4, KH: 1, KW: 1, attrs: A(1, 0) },
  { B: 3, C: 3, H: 17, W: 13, O: 5, KH: 3, KW: 3, attrs: A(1, 1) },
  { B: 2, C: 3, H: 17, W: 17, O: 8, KH: 7, KW: 7, attrs: A(2, 3) },
  { B: 1, C: 2, H: 9, W: 11, O: 3, KH: 3, KW: 2, attrs: A(2, 1, 2, 1, 0, 1) },
  { B: 2, C: 5, H: 6, W: 6, O: 17, KH: 3, KW: 3, attrs: A(3, 2, 1) },
  { B: 4, C: 4, H: 8, W: 8, O: 6, KH: 1, KW: 1, attrs: A(2, 0) },
  { B: 1, C: 1, H: 3, W: 3, O: 2, KH: 5, KW: 5, attrs: A(1, 2) },
  { B: 2, C: 2, H: 7, W: 9, O: 3, KH: 3, KW: 3, attrs: A(1, 2, 2) },
  { B: 3, C: 2, H: 5, W: 6, O: 2, KH: 3, KW: 1, attrs: A(1, 1, 1, 1, 0) },
];

/** Run forward and both backward kernels on `cpu`; returns the results as f64 arrays. */
function runAll(cpu: CpuBackend, c: Case, dtype: DType, seed: number, bias = true) {
  const rng = new Rng(seed);
  const { OH, OW } = geo(c);
  const x = randomView(cpu, [c.B, c.C, c.H, c.W], { dtype, rng });
  const w = randomView(cpu, [c.O, c.C, c.KH, c.KW], { dtype, rng });
  const b = randomView(cpu, [c.O], { dtype, rng });
  const g = randomView(cpu, [c.B, c.O, OH, OW], { dtype, rng });
  const y = outView(cpu, [c.B, c.O, OH, OW], dtype), dx = outView(cpu, [c.B, c.C, c.H, c.W], dtype);
  const dW = outView(cpu, [c.O, c.C, c.KH, c.KW], dtype), db = outView(cpu, [c.O], dtype);
  cpu.run("conv2d", bias ? [x.view, w.view, b.view] : [x.view, w.view], [y], c.attrs);
  cpu.run("conv2dBackwardInput", [g.view, w.view], [dx], c.attrs);
  cpu.run("conv2dBackwardWeight", [x.view, g.view], bias ? [dW, db] : [dW], c.attrs);
  const ref = reference(c, x.values, w.values, g.values);
  if (bias) {
    const P = OH * OW;
    ref.y.forEach((v, i) => (ref.y[i] = v + b.values[Math.floor(i / P) % c.O]!));
  }
  return {
    got: { y: readView(cpu, y), dx: readView(cpu, dx), dW: readView(cpu, dW), db: readView(cpu, db) },
    ref,
  };
}

Deno.test("conv2d kernels match a direct convolution on random and awkward shapes", async (t) => {
  for (const dtype of ["f64", "f32"] as const) {
    const cpu = new CpuBackend({ matmul: "wasm" });
    for (const [i, c] of CASES.entries()) {
      const name = `${dtype} x [${c.B}, ${c.C}, ${c.H}, ${c.W}] w ${c.O}x${c.KH}x${c.KW} ${
        JSON.stringify(c.attrs)
      }`;
      await t.step(name, () => {
        const { got, ref } = runAll(cpu, c, dtype, 10 + i, i % 2 === 0);
        const tol = dtype === "f64" ? { rtol: 1e-12, atol: 1e-12 } : { rtol: 1e-4, atol: 1e-4 };
        assertClose(got.y, ref.y, `${name} y`, tol);
        assertClose(got.dx, ref.dx, `${name} dx`, tol);
        assertClose(got.dW, ref.dW, `${name} dW`, tol);
        if (i % 2 === 0) assertClose(got.db, ref.db, `${name} db`, tol);
      });
    }
    cpu.dispose();
  }
});

Deno.test("conv2d kernels chunk large batches and give bitwise the same results on threads", async (t) => {
  // 144 x 4096 patch elements per image: where a patch matrix is written (f64, or the input gradient's col2im),
  // 7 images fit a 4M-element chunk, so 9 images make two chunks.
  const c: Case = { B: 9, C: 16, H: 64, W: 64, O: 8, KH: 3, KW: 3, attrs: A(1, 1) };
  // The WebAssembly kernel on our worker threads (BLAS: see ../_blas_test.ts).
  const one = new CpuBackend({ matmul: "wasm" }), two = new CpuBackend({ threads: 2, matmul: "wasm" });
  try {
    const a = runAll(one, c, "f32", 3), b = runAll(two, c, "f32", 3);
    await t.step("f64 (patch matrices written, two chunks) matches the reference", () => {
      const d = runAll(one, c, "f64", 3);
      for (const k of ["y", "dx", "dW"] as const) {
        assertClose(d.got[k], d.ref[k], k, { rtol: 1e-12, atol: 1e-10 });
      }
    });
    await t.step("f32 matches the reference", () => {
      assertClose(a.got.y, a.ref.y, "y", { rtol: 1e-4, atol: 1e-3 });
      assertClose(a.got.dx, a.ref.dx, "dx", { rtol: 1e-4, atol: 1e-3 });
      assertClose(a.got.dW, a.ref.dW, "dW", { rtol: 1e-4, atol: 1e-2 });
    });
    await t.step("two threads give the same bits", () => {
      for (const k of ["y", "dx", "dW", "db"] as const) {
        assert(a.got[k].every((v, i) => Object.is(v, b.got[k][i])), `${k} differs between 1 and 2 threads`);
      }
    });
    await t.step(
      "one large image on two threads (its product split by columns) gives the same bits",
      () => {
        const big: Case = { B: 1, C: 32, H: 48, W: 48, O: 32, KH: 3, KW: 3, attrs: A(1, 1) }; // 42 MFLOP a product
        const x = runAll(one, big, "f32", 5), y = runAll(two, big, "f32", 5);
        assertClose(x.got.y, x.ref.y, "y", { rtol: 1e-4, atol: 1e-3 });
        for (const k of ["y", "dx", "dW"] as const) {
          assert(x.got[k].every((v, i) => Object.is(v, y.got[k][i])), `${k} differs between 1 and 2 threads`);
        }
      },
    );
  } finally {
    one.dispose();
    two.dispose();
  }
});

Deno.test("conv2d kernels reject bad shapes, geometry and dtypes naming them", () => {
  const cpu = new CpuBackend();
  const x = outView(cpu, [1, 3, 5, 5]), w = outView(cpu, [4, 3, 3, 3]);
  const attrs = A(1, 0);
  assertThrows(() => cpu.run("conv2d", [x, w], [outView(cpu, [1, 4, 5, 5])], attrs), [
    "conv2d",
    "do not convolve",
    "[1, 4, 5, 5]",
  ]);
  assertThrows(
    () => cpu.run("conv2d", [x, outView(cpu, [4, 2, 3, 3])], [outView(cpu, [1, 4, 3, 3])], attrs),
    [
      "[4, 2, 3, 3]",
    ],
  );
  assertThrows(() => cpu.run("conv2d", [x, w], [outView(cpu, [1, 4, 3, 3])], A(0, 0)), ["stride"]);
  assertThrows(
    () => cpu.run("conv2d", [x, w, outView(cpu, [3])], [outView(cpu, [1, 4, 3, 3])], attrs),
    ["bias", "4"],
  );
  const xi: View = outView(cpu, [1, 3, 5, 5], "i32"), wi = outView(cpu, [4, 3, 3, 3], "i32");
  assertThrows(() => cpu.run("conv2d", [xi, wi], [outView(cpu, [1, 4, 3, 3], "i32")], attrs), ["f32 or f64"]);
  const t = outView(cpu, [1, 3, 5, 5]);
  const xt: View = { ...t, strides: [75, 1, 15, 3] };
  assertThrows(() => cpu.run("conv2d", [xt, w], [outView(cpu, [1, 4, 3, 3])], attrs), ["contiguous"]);
  cpu.dispose();
});

blasTest(
  "conv2d kernels on the machine's BLAS match the direct convolution and the WebAssembly kernel",
  async (t) => {
    const wasm = new CpuBackend({ matmul: "wasm" });
    const big: Case = { B: 3, C: 16, H: 30, W: 30, O: 8, KH: 3, KW: 3, attrs: A(1, 1) };
    for (const threads of [1, 2]) {
      const blas = new CpuBackend({ matmul: "blas", threads });
      for (const [i, c] of [...CASES, big].entries()) {
        const name = `${threads} thread(s): x [${c.B}, ${c.C}, ${c.H}, ${c.W}] w ${c.O}x${c.KH}x${c.KW} ${
          JSON.stringify(c.attrs)
        }`;
        await t.step(name, () => {
          const r = runAll(blas, c, "f32", 40 + i, i % 2 === 0),
            w = runAll(wasm, c, "f32", 40 + i, i % 2 === 0);
          const tol = { rtol: 1e-4, atol: c === big ? 1e-3 : 1e-4 };
          for (const k of ["y", "dx", "dW"] as const) {
            assertClose(r.got[k], r.ref[k], `${name} ${k}`, tol);
            assertClose(r.got[k], w.got[k], `${name} ${k} blas vs wasm`, tol);
          }
          if (i % 2 === 0) assertClose(r.got.db, r.ref.db, `${name} db`, tol);
        });
      }
      blas.dispose();
    }
    wasm.dispose();
  },
);
