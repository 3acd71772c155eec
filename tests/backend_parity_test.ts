/**
 * Backend parity: every kernel runs on random inputs on the WebGPU backend and on the CPU reference, and the
 * results must agree within tolerances. Shapes include 1, 3, 17 and 1000+, sizes that are not multiples of 4 or
 * of the matmul tiles, strided inputs (transposed, broadcast with stride 0, offset slices), strided `copy`
 * outputs, and a launch of more than 65,535 workgroups in x (2-D dispatch). Reported as ignored where there is
 * no WebGPU adapter.
 *
 * @module
 */

import type { DType, KernelAttrs, Storage, View } from "../gpu/backend.ts";
import { CpuBackend } from "../gpu/cpu/mod.ts";
import type { KernelName } from "../gpu/kernel_names.ts";
import { Rng } from "../gpu/rng.ts";
import { gpuTest } from "../gpu/_testing.ts";
import { createWebGpuBackend, type WebGpuBackend, type WebGpuBackendOptions } from "../gpu/webgpu/mod.ts";

interface PV {
  g: View;
  c: View;
}
interface PS {
  g: Storage;
  c: Storage;
  dtype: DType;
}

function contiguous(shape: readonly number[]): number[] {
  const s: number[] = [];
  let e = 1;
  for (let d = shape.length - 1; d >= 0; d--) s[d] = e, e *= shape[d]!;
  return s;
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Both backends side by side with the same data. */
class Pair {
  rng = new Rng(1234);
  constructor(readonly gpu: WebGpuBackend, readonly cpu: CpuBackend) {}

  storage(n: number, dtype: DType = "f32", fill?: (i: number) => number): PS {
    const data = dtype === "i32" ? new Int32Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = fill ? fill(i) : this.rng.normal();
    const g = this.gpu.alloc(n, dtype), c = this.cpu.alloc(n, dtype);
    this.gpu.write(g, data);
    this.cpu.write(c, data);
    return { g, c, dtype };
  }

  view(s: PS, shape: number[], strides = contiguous(shape), offset = 0): PV {
    return { g: { storage: s.g, shape, strides, offset }, c: { storage: s.c, shape, strides, offset } };
  }

  /** A fresh contiguous tensor of `shape` and its view. */
  tensor(shape: number[], dtype: DType = "f32", fill?: (i: number) => number): PV & { s: PS } {
    const s = this.storage(numel(shape), dtype, fill);
    return { ...this.view(s, shape), s };
  }

  run<K extends KernelName>(name: K, ins: PV[], outs: PV[], attrs: KernelAttrs[K]): void {
    this.cpu.run(name, ins.map((v) => v.c), outs.map((v) => v.c), attrs);
    this.gpu.run(name, ins.map((v) => v.g), outs.map((v) => v.g), attrs);
  }

  /** Compare whole storages: |gpu - cpu| <= atol + rtol * |cpu| (NaN must match NaN). */
  async expectClose(what: string, s: PS | PV, { atol = 1e-5, rtol = 1e-5 } = {}): Promise<void> {
    const ps = "dtype" in s ? s : { g: s.g.storage, c: s.c.storage };
    const gv = await this.gpu.read(ps.g), cv = this.cpu.readSync(ps.c);
    if (gv.length !== cv.length) throw new Error(`${what}: lengths ${gv.length} vs ${cv.length}`);
    let worst = -1, worstErr = 0;
    for (let i = 0; i < gv.length; i++) {
      const a = gv[i]!, b = cv[i]!;
      if (Number.isNaN(b) || Number.isNaN(a)) {
        if (Number.isNaN(a) !== Number.isNaN(b)) throw new Error(`${what}: element ${i} gpu ${a} cpu ${b}`);
        continue;
      }
      if (a === b) continue;
      const err = Math.abs(a - b) - (atol + rtol * Math.abs(b));
      if (err > worstErr) worstErr = err, worst = i;
    }
    if (worst >= 0) {
      throw new Error(
        `${what}: element ${worst} of ${gv.length}: gpu ${gv[worst]} vs cpu ${
          cv[worst]
        } (atol ${atol}, rtol ${rtol})`,
      );
    }
  }

  free(): void {
    // Backends are disposed by the caller; nothing to do per tensor.
  }
}

async function withPair(fn: (p: Pair) => Promise<void>, options: WebGpuBackendOptions = {}): Promise<void> {
  const made = await createWebGpuBackend(options);
  if (!made.backend) throw new Error(`no WebGPU backend: ${made.reason}`);
  const p = new Pair(made.backend, new CpuBackend());
  try {
    await fn(p);
  } finally {
    made.backend.dispose();
  }
}

const UNARY: KernelAttrs["unary"][] = [
  { op: "neg" },
  { op: "exp" },
  { op: "log" },
  { op: "sqrt" },
  { op: "rsqrt" },
  { op: "tanh" },
  { op: "sigmoid" },
  { op: "relu" },
  { op: "abs" },
  { op: "sign" },
  { op: "square" },
  { op: "recip" },
  { op: "sin" },
  { op: "cos" },
  { op: "clamp", alpha: -0.5, beta: 0.7 },
  { op: "clamp", alpha: 0 },
  { op: "powScalar", alpha: 3 },
  { op: "powScalar", alpha: 0.5 },
  { op: "mulScalar", alpha: 2.5 },
  { op: "addScalar", alpha: -1.25 },
  { op: "reluGrad" },
  { op: "cast" },
];

const BINARY: KernelAttrs["binary"]["op"][] = [
  "add",
  "sub",
  "mul",
  "div",
  "pow",
  "max",
  "min",
  "eq",
  "ne",
  "lt",
  "le",
  "gt",
  "ge",
];

gpuTest("WebGpuBackend elementwise kernels match the CPU backend", async (t) => {
  await withPair(async (p) => {
    await t.step("unary ops on a transposed (17, 3) view and a 1000+ vector", async () => {
      const x = p.storage(51, "f32", () => p.rng.normal() * 2);
      const v = p.storage(1031, "f32", () => p.rng.random() * 4 - 2);
      for (const attrs of UNARY) {
        const y = p.tensor([17, 3]);
        p.run("unary", [p.view(x, [17, 3], [1, 17])], [y], attrs);
        const big = p.tensor([1031]);
        p.run("unary", [p.view(v, [1031])], [big], attrs);
        const tol = attrs.op === "powScalar" || attrs.op === "exp" ? { rtol: 2e-5 } : {};
        await p.expectClose(`unary ${attrs.op} ${attrs.alpha ?? ""}`, y, tol);
        await p.expectClose(`unary ${attrs.op} (1031)`, big, tol);
      }
    });
    await t.step("binary ops with a stride-0 broadcast row and an offset slice", async () => {
      const a = p.storage(3 * 17 + 5);
      const b = p.storage(17, "f32", (i) => (i % 3 === 0 ? 0 : p.rng.normal()));
      for (const op of BINARY) {
        const y = p.tensor([3, 17]);
        // a: rows 0..2 starting at offset 5; b: one row broadcast over the 3 rows
        p.run("binary", [p.view(a, [3, 17], [17, 1], 5), p.view(b, [3, 17], [0, 1])], [y], { op });
        await p.expectClose(`binary ${op}`, y, { atol: 1e-5, rtol: 2e-5 });
      }
    });
    await t.step("i32 arithmetic, comparisons and casts", async () => {
      const a = p.tensor([3, 5], "i32", () => p.rng.int(21) - 10);
      const b = p.tensor([3, 5], "i32", () => p.rng.int(9) - 4);
      for (const op of ["add", "sub", "mul", "div", "max", "min", "lt", "eq"] as const) {
        const y = p.tensor([3, 5], "i32");
        p.run("binary", [a, b], [y], { op });
        await p.expectClose(`i32 binary ${op}`, y, { atol: 0, rtol: 0 });
      }
      for (const attrs of [{ op: "neg" }, { op: "abs" }, { op: "clamp", alpha: -3, beta: 4 }] as const) {
        const y = p.tensor([3, 5], "i32");
        p.run("unary", [a], [y], attrs);
        await p.expectClose(`i32 unary ${attrs.op}`, y, { atol: 0, rtol: 0 });
      }
      const f = p.tensor([3, 5], "f32", () => p.rng.normal() * 50);
      const yi = p.tensor([3, 5], "i32");
      p.run("unary", [f], [yi], { op: "cast" });
      await p.expectClose("cast f32 -> i32 truncates", yi, { atol: 0, rtol: 0 });
      const yf = p.tensor([3, 5], "f32");
      p.run("unary", [a], [yf], { op: "cast" });
      await p.expectClose("cast i32 -> f32", yf, { atol: 0, rtol: 0 });
    });
    await t.step("where with a broadcast condition", async () => {
      const cond = p.storage(4, "i32", (i) => i % 2);
      const a = p.tensor([3, 4]), b = p.tensor([3, 4]), y = p.tensor([3, 4]);
      p.run("where", [p.view(cond, [3, 4], [0, 1]), a, b], [y], {});
      await p.expectClose("where", y, { atol: 0, rtol: 0 });
    });
    await t.step(
      "copy into a strided output view (a column block of a wider matrix) and overlapping copy",
      async () => {
        const x = p.tensor([17, 3]);
        const dst = p.storage(17 * 8);
        p.run("copy", [x], [p.view(dst, [17, 3], [8, 1], 2)], {});
        await p.expectClose("copy into columns 2..4", dst, { atol: 0, rtol: 0 });
        const perm = p.storage(3 * 17);
        p.run("copy", [p.view(x.s, [3, 17], [1, 3])], [p.view(perm, [3, 17])], {});
        await p.expectClose("copy of a transposed view", perm, { atol: 0, rtol: 0 });
        const src = p.storage(1003), dst2 = p.storage(1010);
        p.run("copy", [p.view(src, [10, 99], [99, 1], 3)], [p.view(dst2, [10, 99], [99, 1], 5)], {});
        await p.expectClose("contiguous copy at odd offsets (buffer copy)", dst2, { atol: 0, rtol: 0 });
        const s = p.storage(40);
        p.run("copy", [p.view(s, [30], [1], 0)], [p.view(s, [30], [1], 10)], {});
        await p.expectClose("overlapping copy reads before writing", s, { atol: 0, rtol: 0 });
      },
    );
    await t.step("a launch of more than 65,535 workgroups in x (2-D dispatch)", async () => {
      const n = 65536 * 64 + 17; // 65,537 workgroups of 64
      const x = p.tensor([n], "f32", (i) => (i % 1000) - 500);
      const y = p.tensor([n]);
      p.run("unary", [x], [y], { op: "mulScalar", alpha: 3 });
      await p.expectClose("mulScalar over 4.2M elements", y, { atol: 0, rtol: 0 });
    });
  });
});

gpuTest("WebGpuBackend row kernels (reduce, softmax, cross-entropy) match the CPU backend", async (t) => {
  await withPair(async (p) => {
    const shapes: [number, number][] = [[1, 1], [3, 17], [17, 1003], [2, 4099]];
    await t.step("reduce ops over rows, including a transposed input", async () => {
      for (const [R, C] of shapes) {
        const x = p.tensor([R, C], "f32", () => p.rng.normal());
        const xt = p.storage(R * C);
        for (const op of ["sum", "mean", "max", "min", "argmax", "argmin", "sumSquares"] as const) {
          const arg = op === "argmax" || op === "argmin";
          const y = p.tensor([R], arg ? "i32" : "f32");
          p.run("reduce", [x], [y], { op });
          await p.expectClose(`reduce ${op} (${R}, ${C})`, y, { atol: 1e-4 * Math.sqrt(C), rtol: 1e-5 });
          const y2 = p.tensor([R], arg ? "i32" : "f32");
          p.run("reduce", [p.view(xt, [R, C], [1, R])], [y2], { op });
          await p.expectClose(`reduce ${op} transposed (${R}, ${C})`, y2, {
            atol: 1e-4 * Math.sqrt(C),
            rtol: 1e-5,
          });
        }
      }
    });
    await t.step("reduce over i32 inputs (counts of correct predictions)", async () => {
      const x = p.tensor([5, 33], "i32", () => p.rng.int(7) - 3);
      for (const op of ["sum", "max", "argmin"] as const) {
        const y = p.tensor([5], op === "sum" ? "f32" : "i32");
        p.run("reduce", [x], [y], { op });
        await p.expectClose(`reduce ${op} of i32`, y, { atol: 0, rtol: 0 });
      }
    });
    await t.step("argmax takes the first of equal maxima", async () => {
      const x = p.tensor([2, 70], "f32", (i) => (i % 70 === 5 || i % 70 === 66 ? 9 : 0));
      const y = p.tensor([2], "i32");
      p.run("reduce", [x], [y], { op: "argmax" });
      await p.expectClose("argmax ties", y, { atol: 0, rtol: 0 });
      if ((await p.gpu.read(y.s.g))[0] !== 5) throw new Error("argmax must pick index 5");
    });
    await t.step("softmax and log-softmax", async () => {
      for (const [R, C] of shapes) {
        const x = p.tensor([R, C], "f32", () => p.rng.normal() * 3);
        for (const log of [false, true]) {
          const y = p.tensor([R, C]);
          p.run("softmax", [x], [y], { log });
          await p.expectClose(`softmax log=${log} (${R}, ${C})`, y, { atol: 1e-6, rtol: 2e-5 });
        }
      }
    });
    await t.step("cross-entropy forward and backward with ignored rows", async () => {
      for (const [R, C] of [[1, 1], [17, 3], [33, 1003]] as [number, number][]) {
        const x = p.tensor([R, C], "f32", () => p.rng.normal() * 2);
        const tg = p.tensor([R], "i32", (i) => (i % 5 === 4 ? -100 : p.rng.int(C)));
        const loss = p.tensor([R]), lse = p.tensor([R]);
        p.run("crossEntropy", [x, tg], [loss, lse], { ignoreIndex: -100 });
        await p.expectClose(`crossEntropy loss (${R}, ${C})`, loss, { atol: 1e-5, rtol: 1e-5 });
        await p.expectClose(`crossEntropy lse (${R}, ${C})`, lse, { atol: 1e-5, rtol: 1e-5 });
        const g = p.tensor([R]), dx = p.tensor([R, C]);
        p.run("crossEntropyBackward", [x, tg, lse, g], [dx], { ignoreIndex: -100 });
        await p.expectClose(`crossEntropyBackward (${R}, ${C})`, dx, { atol: 1e-6, rtol: 1e-5 });
      }
    });
  });
});

for (const variant of ["naive", "texture", "tiled"] as const) {
  gpuTest(`WebGpuBackend matmul (${variant} variant) matches the CPU backend`, async (t) => {
    await withPair(async (p) => {
      const cases: {
        name: string;
        B: number;
        M: number;
        K: number;
        N: number;
        ta?: boolean;
        tb?: boolean;
      }[] = [
        { name: "1x1x1", B: 1, M: 1, K: 1, N: 1 },
        { name: "3x17x5", B: 1, M: 3, K: 17, N: 5 },
        { name: "batched 2x33x19 @ 19x45", B: 2, M: 33, K: 19, N: 45 },
        { name: "transposed a", B: 1, M: 17, K: 24, N: 9, ta: true },
        { name: "transposed b, K % 4 == 0 (x @ W^T)", B: 2, M: 5, K: 36, N: 70, tb: true },
        { name: "transposed b, odd K", B: 1, M: 9, K: 13, N: 66, tb: true },
        { name: "thin 1x131 @ 131x67", B: 1, M: 1, K: 131, N: 67 },
        { name: "129x260 @ 260x67", B: 1, M: 129, K: 260, N: 67 },
        { name: "thin N: 2x70x33 @ 33x3 (matrix-vector like)", B: 2, M: 70, K: 33, N: 3 },
        { name: "thin N, transposed b: 40x64 @ (1x64)^T", B: 1, M: 40, K: 64, N: 1, tb: true },
      ];
      for (const c of cases) {
        await t.step(c.name, async () => {
          const { B, M, K, N } = c;
          const a = p.storage(B * M * K), b = p.storage(B * K * N);
          const av = c.ta ? p.view(a, [B, M, K], [M * K, 1, M]) : p.view(a, [B, M, K]);
          const bv = c.tb ? p.view(b, [B, K, N], [K * N, 1, K]) : p.view(b, [B, K, N]);
          const y = p.tensor([B, M, N]);
          p.run("matmul", [av, bv], [y], {});
          await p.expectClose(`matmul ${c.name}`, y, { atol: 1e-5 * K, rtol: 1e-4 });
        });
      }
      await t.step("stride-0 batch of b, offsets, and accumulate", async () => {
        const a = p.storage(3 * 10 * 12 + 4), b = p.storage(12 * 20 + 3);
        const y = p.tensor([3, 10, 20]);
        p.run(
          "matmul",
          [p.view(a, [3, 10, 12], [120, 12, 1], 4), p.view(b, [3, 12, 20], [0, 20, 1], 3)],
          [y],
          {
            accumulate: true,
          },
        );
        await p.expectClose("matmul broadcast batch + accumulate", y, { atol: 2e-4, rtol: 1e-4 });
      });
    }, { matmulVariant: variant });
  });
}

gpuTest("WebGpuBackend gather and scatterAdd match the CPU backend", async (t) => {
  await withPair(async (p) => {
    await t.step("gather rows of a (1003, 17) table, and from a transposed table", async () => {
      const table = p.tensor([1003, 17]);
      const ids = p.tensor([37], "i32", () => p.rng.int(1003));
      const y = p.tensor([37, 17]);
      p.run("gather", [table, ids], [y], {});
      await p.expectClose("gather", y, { atol: 0, rtol: 0 });
      const tt = p.view(table.s, [17, 1003], [1, 17]);
      const ids2 = p.tensor([5], "i32", () => p.rng.int(17));
      const y2 = p.tensor([5, 1003]);
      p.run("gather", [tt, ids2], [y2], {});
      await p.expectClose("gather transposed", y2, { atol: 0, rtol: 0 });
    });
    await t.step("scatterAdd with repeated ids accumulates in order", async () => {
      const src = p.tensor([300, 3]);
      const ids = p.tensor([300], "i32", () => p.rng.int(17));
      const table = p.tensor([17, 3], "f32", () => 0);
      p.run("scatterAdd", [src, ids], [table], {});
      await p.expectClose("scatterAdd", table, { atol: 1e-5, rtol: 1e-5 });
    });
  });
});

gpuTest("WebGpuBackend random and dropout reproduce the CPU streams", async (t) => {
  await withPair(async (p) => {
    const n = 100_003;
    await t.step("uniform, normal and bernoulli equal the CPU draws at (seed, counter + i)", async () => {
      for (const [dist, a, b] of [["uniform", -2, 3], ["normal", 1, 2], ["bernoulli", 0.3, 0]] as const) {
        const y = p.tensor([n]);
        p.run("random", [], [y], { dist, seed: 77, counter: 4_294_967_000, a, b });
        // f32 log/cos on the GPU vs f64 on the CPU: normal draws differ in the 5th digit near the tails
        await p.expectClose(`random ${dist}`, y, { atol: 5e-5, rtol: 5e-5 });
      }
    });
    await t.step("normal draws have mean ~a and std ~b", async () => {
      const y = p.tensor([n]);
      p.run("random", [], [y], { dist: "normal", seed: 5, counter: 0, a: 1, b: 2 });
      const v = await p.gpu.read(y.s.g);
      let s = 0, s2 = 0;
      for (const x of v) s += x, s2 += x * x;
      const mean = s / n, std = Math.sqrt(s2 / n - mean * mean);
      if (Math.abs(mean - 1) > 0.03 || Math.abs(std - 2) > 0.03) throw new Error(`mean ${mean} std ${std}`);
    });
    await t.step(
      "dropout keeps the same elements as the CPU, with keep rate 1 - p and scale 1/(1 - p)",
      async () => {
        const x = p.tensor([n], "f32", () => 1);
        const y = p.tensor([n]);
        p.run("dropout", [x], [y], { p: 0.25, seed: 9, counter: 123 });
        await p.expectClose("dropout", y, { atol: 1e-6, rtol: 1e-6 });
        const v = await p.gpu.read(y.s.g);
        let kept = 0, sum = 0;
        for (const e of v) if (e !== 0) kept++, sum += e;
        const rate = kept / n;
        if (Math.abs(rate - 0.75) > 0.01) throw new Error(`keep rate ${rate}`);
        if (Math.abs(sum / n - 1) > 0.02) throw new Error(`mean after dropout ${sum / n} should stay ~1`);
      },
    );
  });
});

gpuTest("WebGpuBackend fused LSTM/GRU cells match the CPU backend", async (t) => {
  await withPair(async (p) => {
    for (const [B, H] of [[1, 1], [3, 17], [5, 259]] as [number, number][]) {
      await t.step(`LSTM cell forward and backward (B=${B}, H=${H}), gates as a column slice`, async () => {
        // gates are columns 1.. of a wider (B, 4H + 1) matrix: a strided input view
        const gs = p.storage(B * (4 * H + 1));
        const gates = p.view(gs, [B, 4 * H], [4 * H + 1, 1], 1);
        const cPrev = p.tensor([B, H]);
        const h = p.tensor([B, H]), c = p.tensor([B, H]), act = p.tensor([B, 4 * H]);
        p.run("lstmCell", [gates, cPrev], [h, c, act], {});
        await p.expectClose("lstm h", h, { atol: 1e-6, rtol: 1e-5 });
        await p.expectClose("lstm c", c, { atol: 1e-6, rtol: 1e-5 });
        await p.expectClose("lstm act", act, { atol: 1e-6, rtol: 1e-5 });
        const dh = p.tensor([B, H]), dcs = p.storage(H);
        const dc = p.view(dcs, [B, H], [0, 1]);
        const dG = p.tensor([B, 4 * H]), dcPrev = p.tensor([B, H]);
        p.run("lstmCellBackward", [act, cPrev, c, dh, dc], [dG, dcPrev], {});
        await p.expectClose("lstm dGates", dG, { atol: 1e-6, rtol: 1e-4 });
        await p.expectClose("lstm dcPrev", dcPrev, { atol: 1e-6, rtol: 1e-4 });
      });
      await t.step(`GRU cell forward and backward (B=${B}, H=${H})`, async () => {
        const gi = p.tensor([B, 3 * H]), gh = p.tensor([B, 3 * H]), hPrev = p.tensor([B, H]);
        const h = p.tensor([B, H]), act = p.tensor([B, 3 * H]);
        p.run("gruCell", [gi, gh, hPrev], [h, act], {});
        await p.expectClose("gru h", h, { atol: 1e-6, rtol: 1e-5 });
        await p.expectClose("gru act", act, { atol: 1e-6, rtol: 1e-5 });
        const dh = p.tensor([B, H]);
        const dgi = p.tensor([B, 3 * H]), dgh = p.tensor([B, 3 * H]), dhPrev = p.tensor([B, H]);
        p.run("gruCellBackward", [act, gh, hPrev, dh], [dgi, dgh, dhPrev], {});
        await p.expectClose("gru dgi", dgi, { atol: 1e-6, rtol: 1e-4 });
        await p.expectClose("gru dgh", dgh, { atol: 1e-6, rtol: 1e-4 });
        await p.expectClose("gru dhPrev", dhPrev, { atol: 1e-6, rtol: 1e-4 });
      });
    }
  });
});

gpuTest("WebGpuBackend optimizer steps update in place like the CPU backend", async (t) => {
  await withPair(async (p) => {
    const n = 1003;
    for (const decoupled of [false, true]) {
      await t.step(`adam (decoupled=${decoupled}), 3 steps in place`, async () => {
        const param = p.tensor([n]), m = p.tensor([n], "f32", () => 0), v = p.tensor([n], "f32", () => 0);
        for (let step = 1; step <= 3; step++) {
          const grad = p.tensor([n]);
          p.run("adam", [param, grad, m, v], [param, m, v], {
            lr: 1e-2,
            beta1: 0.9,
            beta2: 0.99,
            eps: 1e-8,
            weightDecay: 0.01,
            decoupled,
            step,
          });
        }
        await p.expectClose("adam param", param, { atol: 1e-6, rtol: 1e-5 });
        await p.expectClose("adam m", m, { atol: 1e-6, rtol: 1e-5 });
        await p.expectClose("adam v", v, { atol: 1e-7, rtol: 1e-5 });
      });
    }
    for (const nesterov of [false, true]) {
      await t.step(`sgd momentum (nesterov=${nesterov}), 3 steps`, async () => {
        const param = p.tensor([n]), buf = p.tensor([n], "f32", () => 0);
        for (let i = 0; i < 3; i++) {
          const grad = p.tensor([n]);
          p.run("sgd", [param, grad, buf], [param, buf], {
            lr: 0.1,
            momentum: 0.9,
            weightDecay: 1e-3,
            dampening: 0,
            nesterov,
          });
        }
        await p.expectClose("sgd param", param, { atol: 1e-6, rtol: 1e-5 });
        await p.expectClose("sgd buf", buf, { atol: 1e-6, rtol: 1e-5 });
      });
    }
  });
});

gpuTest("WebGpuBackend memory, batching and errors", async (t) => {
  await withPair(async (p) => {
    const gpu = p.gpu;
    await t.step("the pool reuses freed buffers and stats track live and peak bytes", () => {
      const before = gpu.stats();
      const a = gpu.alloc(1000, "f32");
      const mid = gpu.stats();
      if (mid.liveBytes - before.liveBytes !== 4000) {
        throw new Error(`live bytes grew by ${mid.liveBytes - before.liveBytes}`);
      }
      gpu.free(a);
      const b = gpu.alloc(900, "f32");
      const after = gpu.stats();
      if (after.pool.reused <= mid.pool.reused) {
        throw new Error("a freed buffer of the same size class was not reused");
      }
      if (after.peakBytes < mid.liveBytes) throw new Error("peak bytes fell");
      gpu.free(b);
    });
    await t.step("pipelines and bind groups are cached across shapes", async () => {
      const s0 = gpu.stats().exec;
      for (const n of [10, 20, 30]) {
        const x = p.tensor([n]), y = p.tensor([n]);
        p.run("unary", [x], [y], { op: "exp" });
      }
      await gpu.read(p.tensor([1]).s.g);
      const s1 = gpu.stats().exec;
      if (s1.pipelines - s0.pipelines > 1) {
        throw new Error(`${s1.pipelines - s0.pipelines} pipelines for one op`);
      }
    });
    await t.step("clear errors for f64, bad views and use after free", async () => {
      const expectThrow = (fn: () => unknown, re: RegExp) => {
        try {
          fn();
        } catch (e) {
          if (re.test((e as Error).message)) return;
          throw new Error(`wrong error: ${(e as Error).message}`);
        }
        throw new Error(`expected an error matching ${re}`);
      };
      expectThrow(() => gpu.alloc(4, "f64"), /f64 is not supported/);
      const x = gpu.alloc(4, "f32"), y = gpu.alloc(4, "f32");
      expectThrow(
        () =>
          gpu.run("unary", [{ storage: x, shape: [5], strides: [1], offset: 0 }], [{
            storage: y,
            shape: [5],
            strides: [1],
            offset: 0,
          }], { op: "exp" }),
        /reaches outside storage/,
      );
      gpu.free(x);
      await gpu.read(x).then(() => {
        throw new Error("read after free must fail");
      }, (e) => {
        if (!/freed/.test((e as Error).message)) throw e;
      });
    });
  });
});

gpuTest("WebGpuBackend runs a whole LSTM layer forward+backward like the CPU backend", async () => {
  // The benchmark's schedule on a small shape: one input GEMM for all steps, h @ W_hh^T accumulated into each
  // step's gate rows, fused cells, then backward through time and the weight/input GEMMs on transposed views.
  await withPair(async (p) => {
    const T = 5, B = 3, I = 12, H = 17, G = 4 * H, TB = T * B;
    const X = p.tensor([TB, I]), Wih = p.tensor([G, I], "f32", () => p.rng.normal() * 0.3);
    const Whh = p.tensor([G, H], "f32", () => p.rng.normal() * 0.3), bias = p.storage(G);
    const dHall = p.storage(TB * H), zero = p.storage(B * H, "f32", () => 0);
    const gates = p.storage(TB * G),
      Hall = p.storage(TB * H),
      Call = p.storage(TB * H),
      ACT = p.storage(TB * G);
    const dG = p.storage(TB * G), dh = p.storage(B * H), dhNext = p.storage(B * H, "f32", () => 0);
    const dc = p.storage(B * H, "f32", () => 0), dcPrev = p.storage(B * H);
    const dWih = p.storage(G * I), dWhh = p.storage(G * H), dX = p.storage(TB * I), db = p.storage(G);
    const rowsH = (s: PS, t: number) => p.view(s, [B, H], [H, 1], t * B * H);
    const rowsG = (s: PS, t: number) => p.view(s, [B, G], [G, 1], t * B * G);
    p.run("matmul", [p.view(X.s, [1, TB, I]), p.view(Wih.s, [1, I, G], [0, 1, I])], [
      p.view(gates, [1, TB, G]),
    ], {});
    p.run("binary", [p.view(gates, [TB, G]), p.view(bias, [TB, G], [0, 1])], [p.view(gates, [TB, G])], {
      op: "add",
    });
    for (let t = 0; t < T; t++) {
      if (t > 0) {
        p.run("matmul", [
          p.view(Hall, [1, B, H], [0, H, 1], (t - 1) * B * H),
          p.view(Whh.s, [1, H, G], [0, 1, H]),
        ], [
          p.view(gates, [1, B, G], [0, G, 1], t * B * G),
        ], { accumulate: true });
      }
      p.run("lstmCell", [rowsG(gates, t), t > 0 ? rowsH(Call, t - 1) : rowsH(zero, 0)], [
        rowsH(Hall, t),
        rowsH(Call, t),
        rowsG(ACT, t),
      ], {});
    }
    for (let t = T - 1; t >= 0; t--) {
      p.run("binary", [rowsH(dHall, t), rowsH(dhNext, 0)], [rowsH(dh, 0)], { op: "add" });
      p.run(
        "lstmCellBackward",
        [
          rowsG(ACT, t),
          t > 0 ? rowsH(Call, t - 1) : rowsH(zero, 0),
          rowsH(Call, t),
          rowsH(dh, 0),
          rowsH(dc, 0),
        ],
        [rowsG(dG, t), rowsH(dcPrev, 0)],
        {},
      );
      p.run("copy", [rowsH(dcPrev, 0)], [rowsH(dc, 0)], {});
      p.run("matmul", [p.view(dG, [1, B, G], [0, G, 1], t * B * G), p.view(Whh.s, [1, G, H])], [
        p.view(dhNext, [1, B, H]),
      ], {});
    }
    p.run("matmul", [p.view(dG, [1, G, (T - 1) * B], [0, 1, G], B * G), p.view(Hall, [1, (T - 1) * B, H])], [
      p.view(dWhh, [1, G, H]),
    ], {});
    p.run(
      "matmul",
      [p.view(dG, [1, G, TB], [0, 1, G]), p.view(X.s, [1, TB, I])],
      [p.view(dWih, [1, G, I])],
      {},
    );
    p.run("matmul", [p.view(dG, [1, TB, G]), p.view(Wih.s, [1, G, I])], [p.view(dX, [1, TB, I])], {});
    p.run("reduce", [p.view(dG, [G, TB], [1, G])], [p.view(db, [G])], { op: "sum" });
    await p.expectClose("lstm layer h", Hall, { atol: 1e-5, rtol: 1e-4 });
    await p.expectClose("lstm layer dX", dX, { atol: 1e-4, rtol: 1e-3 });
    await p.expectClose("lstm layer dW_hh", dWhh, { atol: 1e-4, rtol: 1e-3 });
    await p.expectClose("lstm layer dW_ih", dWih, { atol: 1e-4, rtol: 1e-3 });
    await p.expectClose("lstm layer db", db, { atol: 1e-4, rtol: 1e-3 });
  }, { matmulVariant: "texture" });
});

gpuTest("WebGpuBackend texture path of contiguous elementwise kernels matches the CPU backend", async (t) => {
  // The texture path normally starts at 65,536 elements on CPU-like adapters; force it for small sizes here.
  await withPair(async (p) => {
    const n = 4 * 2048 + 12; // more than one texture row, a partial last row
    await t.step("unary ops, in place and at an offset", async () => {
      const x = p.storage(n + 8, "f32", () => p.rng.random() * 4 - 2);
      for (const attrs of UNARY.filter((a) => a.op !== "cast")) {
        const y = p.tensor([n]);
        p.run("unary", [p.view(x, [n], [1], 8)], [y], attrs);
        await p.expectClose(`texture unary ${attrs.op}`, y, { rtol: 2e-5 });
      }
      const z = p.tensor([n]);
      p.run("unary", [z], [z], { op: "sigmoid" });
      await p.expectClose("texture unary in place", z);
    });
    await t.step("binary ops, where, dropout; output at an offset inside a larger storage", async () => {
      const a = p.tensor([n]), b = p.tensor([n], "f32", (i) => (i % 5 === 0 ? 0 : p.rng.normal()));
      for (const op of BINARY) {
        const y = p.storage(n + 16);
        p.run("binary", [a, b], [p.view(y, [n], [1], 4)], { op });
        await p.expectClose(`texture binary ${op}`, y, { atol: 1e-5, rtol: 2e-5 });
      }
      const c = p.tensor([n], "f32", (i) => i % 3), y = p.tensor([n]);
      p.run("where", [c, a, b], [y], {});
      await p.expectClose("texture where", y, { atol: 0, rtol: 0 });
      const d = p.tensor([n]);
      p.run("dropout", [a], [d], { p: 0.4, seed: 3, counter: 77 });
      await p.expectClose("texture dropout", d, { atol: 1e-6, rtol: 1e-6 });
    });
    await t.step("row kernels reading a texture of the viewed region (offset, transposed)", async () => {
      for (
        const [R, C, tr] of [[3, 17, false], [17, 1003, false], [37, 19, true]] as [number, number, boolean][]
      ) {
        const xs = p.storage(R * C + 5, "f32", () => p.rng.normal() * 2);
        const x = tr ? p.view(xs, [R, C], [1, R], 5) : p.view(xs, [R, C], [C, 1], 5);
        for (const op of ["sum", "max", "argmax", "mean"] as const) {
          const y = p.tensor([R], op === "argmax" ? "i32" : "f32");
          p.run("reduce", [x], [y], { op });
          await p.expectClose(`texture reduce ${op} (${R}, ${C})`, y, { atol: 1e-4, rtol: 1e-5 });
        }
        const sm = p.tensor([R, C]);
        p.run("softmax", [x], [sm], { log: true });
        await p.expectClose(`texture log-softmax (${R}, ${C})`, sm, { atol: 1e-5, rtol: 1e-5 });
        const tg = p.tensor([R], "i32", (i) => (i % 4 === 3 ? -1 : p.rng.int(C)));
        const loss = p.tensor([R]), lse = p.tensor([R]), g = p.tensor([R]), dx = p.tensor([R, C]);
        p.run("crossEntropy", [x, tg], [loss, lse], { ignoreIndex: -1 });
        p.run("crossEntropyBackward", [x, tg, lse, g], [dx], { ignoreIndex: -1 });
        await p.expectClose(`texture crossEntropy (${R}, ${C})`, loss, { atol: 1e-5, rtol: 1e-5 });
        await p.expectClose(`texture crossEntropyBackward (${R}, ${C})`, dx, { atol: 1e-6, rtol: 1e-5 });
      }
    });
  }, { elementwiseTextureMin: 4 });
});
