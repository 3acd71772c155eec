import type { BinaryOp, DType, UnaryOp, View } from "../../backend.ts";
import { Rng } from "../../rng.ts";
import {
  assert,
  assertClose,
  contiguousStrides,
  type Kind,
  numel,
  outView,
  randomView,
  readView,
  roundTo,
  store,
} from "../_test_util.ts";
import { CpuBackend } from "../mod.ts";

const SHAPES: number[][] = [[0], [1], [3, 17], [1031], [2, 3, 5], [4, 0, 3], [1, 7, 1], [40, 37], [
  3,
  33,
  70,
]];
const KINDS: Kind[] = ["contig", "colmajor", "padded", { broadcast: 0 }];

const UNARY_REF: Record<UnaryOp, (x: number, a: number, b: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => Math.max(x, 0),
  abs: Math.abs,
  sign: Math.sign,
  square: (x) => x * x,
  recip: (x) => 1 / x,
  sin: Math.sin,
  cos: Math.cos,
  clamp: (x, a, b) => Math.min(Math.max(x, a), b),
  powScalar: (x, a) => x ** a,
  mulScalar: (x, a) => x * a,
  addScalar: (x, a) => x + a,
  reluGrad: (x) => (x > 0 ? 1 : 0),
  cast: (x) => x,
};

const BINARY_REF: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => a ** b,
  max: Math.max,
  min: Math.min,
  eq: (a, b) => +(a === b),
  ne: (a, b) => +(a !== b),
  lt: (a, b) => +(a < b),
  le: (a, b) => +(a <= b),
  gt: (a, b) => +(a > b),
  ge: (a, b) => +(a >= b),
};

const POSITIVE = new Set(["log", "sqrt", "rsqrt", "powScalar"]);

Deno.test("unary kernel matches a per-element reference on every op, shape and layout", async (t) => {
  const cpu = new CpuBackend();
  const rng = new Rng(11);
  for (const op of Object.keys(UNARY_REF) as UnaryOp[]) {
    await t.step(op, () => {
      for (const shape of SHAPES) {
        for (const kind of KINDS) {
          if (typeof kind === "object" && shape.length === 0) continue;
          const lo = POSITIVE.has(op) ? 0.1 : -3;
          const x = randomView(cpu, shape, { kind, rng, lo, hi: 3 });
          const y = outView(cpu, shape);
          const alpha = op === "clamp" ? -0.5 : 1.7, beta = 0.75;
          cpu.run("unary", [x.view], [y], { op, alpha, beta });
          const want = Array.from(x.values, (v) => roundTo("f32", UNARY_REF[op](v, alpha, beta)));
          assertClose(readView(cpu, y), want, `${op} ${JSON.stringify(shape)} ${JSON.stringify(kind)}`);
          cpu.free(x.storage), cpu.free(y.storage);
        }
      }
    });
  }
  await t.step("clamp without bounds is the identity; cast f32 -> i32 truncates", () => {
    const x = randomView(cpu, [9], { rng });
    const y = outView(cpu, [9]);
    cpu.run("unary", [x.view], [y], { op: "clamp" });
    assertClose(readView(cpu, y), x.values, "clamp()");
    const yi = outView(cpu, [9], "i32");
    cpu.run("unary", [x.view], [yi], { op: "cast" });
    assertClose(readView(cpu, yi), Array.from(x.values, (v) => Math.trunc(v)), "cast");
  });
  assert(cpu.stats().liveStorages === 3, `leaked storages: ${cpu.stats().liveStorages}`);
});

/** Views of `shape` for binary operands: contiguous, transposed, broadcast row, broadcast column, scalar. */
function operandKinds(shape: number[]): Kind[] {
  const kinds: Kind[] = ["contig", "colmajor", "padded"];
  for (let d = 0; d < shape.length; d++) kinds.push({ broadcast: d });
  return kinds;
}

Deno.test("binary kernel matches a per-element reference with broadcasts and transposed views", async (t) => {
  const cpu = new CpuBackend();
  const rng = new Rng(12);
  for (const op of Object.keys(BINARY_REF) as BinaryOp[]) {
    await t.step(op, () => {
      for (const shape of [[0, 3], [1, 1], [3, 17], [33, 40], [2, 3, 4], [1, 1031], [2, 35, 33]]) {
        for (const ka of operandKinds(shape)) {
          for (const kb of operandKinds(shape)) {
            const lo = op === "pow" ? 0.1 : -3;
            const a = randomView(cpu, shape, { kind: ka, rng, lo, hi: 3 });
            const b = randomView(cpu, shape, {
              kind: kb,
              rng,
              dtype: op === "eq" ? "i32" : "f32",
              lo: -3,
              hi: 3,
            });
            const y = outView(cpu, shape);
            cpu.run("binary", [a.view, b.view], [y], { op });
            const want = a.values.map((v, i) => roundTo("f32", BINARY_REF[op](v, b.values[i]!)));
            assertClose(readView(cpu, y), want, `${op} ${JSON.stringify([shape, ka, kb])}`);
            cpu.free(a.storage), cpu.free(b.storage), cpu.free(y.storage);
          }
        }
      }
    });
  }
  await t.step("scalar broadcast (all strides 0) and i32 / f64 outputs", () => {
    const shape = [5, 6];
    const a = randomView(cpu, shape, { rng, dtype: "f64" });
    const s = store(cpu, "f64", [2.5]);
    const scalar: View = { storage: s, shape, strides: [0, 0], offset: 0 };
    for (const dtype of ["f64", "i32"] as DType[]) {
      const y = outView(cpu, shape, dtype);
      cpu.run("binary", [a.view, scalar], [y], { op: "mul" });
      assertClose(readView(cpu, y), a.values.map((v) => roundTo(dtype, v * 2.5)), `mul scalar -> ${dtype}`);
    }
    const c = outView(cpu, shape, "i32");
    cpu.run("binary", [a.view, scalar], [c], { op: "lt" });
    assertClose(readView(cpu, c), a.values.map((v) => +(v < 2.5)), "lt -> i32");
  });
});

Deno.test("where kernel selects by condition over broadcast views", () => {
  const cpu = new CpuBackend();
  const rng = new Rng(13);
  for (const shape of [[3, 17], [0, 2], [4, 1, 5]]) {
    const cond = randomView(cpu, shape, { kind: { broadcast: 0 }, rng, dtype: "i32", lo: -1, hi: 2 });
    const a = randomView(cpu, shape, { kind: "colmajor", rng });
    const b = randomView(cpu, shape, { kind: { broadcast: shape.length - 1 }, rng });
    const y = outView(cpu, shape);
    cpu.run("where", [cond.view, a.view, b.view], [y], {});
    const want = cond.values.map((c, i) => (c !== 0 ? a.values[i]! : b.values[i]!));
    assertClose(readView(cpu, y), want, `where ${shape}`);
  }
});

Deno.test("copy kernel writes any view into any strided view", async (t) => {
  const cpu = new CpuBackend();
  const rng = new Rng(14);
  await t.step("into a column slice of a bigger matrix (concat along axis 1)", () => {
    const big = outView(cpu, [4, 8]);
    const x = randomView(cpu, [4, 3], { kind: "colmajor", rng });
    const slice: View = { storage: big.storage, shape: [4, 3], strides: [8, 1], offset: 2 };
    cpu.run("copy", [x.view], [slice], {});
    const got = readView(cpu, big);
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 8; j++) {
        const want = j >= 2 && j < 5 ? x.values[i * 3 + j - 2]! : 0;
        assert(got[i * 8 + j] === Math.fround(want), `big[${i}, ${j}] = ${got[i * 8 + j]}, expected ${want}`);
      }
    }
  });
  await t.step("into a transposed view, from broadcasts, empty and large", () => {
    for (const shape of [[3, 17], [1031, 2], [0, 5], [2, 3, 4], [70, 33], [3, 40, 65]]) {
      for (const kind of KINDS) {
        const x = randomView(cpu, shape, { kind, rng });
        const strides = contiguousStrides([...shape].reverse()).reverse();
        const y: View = { storage: cpu.alloc(numel(shape), "f32"), shape, strides, offset: 0 };
        cpu.run("copy", [x.view], [y], {});
        assertClose(readView(cpu, y), x.values, `copy ${shape} ${JSON.stringify(kind)}`);
      }
    }
  });
  await t.step(
    "row runs (copied with TypedArray.set): contiguous, padded rows, into a sub-block, each dtype",
    () => {
      for (const dtype of ["f32", "f64", "i32"] as const) {
        for (
          const [shape, kind] of [[[1000], "contig"], [[7, 40], "padded"], [[3, 5, 33], "padded"]] as const
        ) {
          const x = randomView(cpu, shape, { kind, rng, dtype, lo: -1e6, hi: 1e6 });
          // Destination: the shape placed at offset 3 inside a bigger buffer whose rows are 3 longer.
          const dst: number[] = [...shape];
          dst[dst.length - 1] = dst[dst.length - 1]! + 3;
          const big = outView(cpu, dst, dtype);
          const y: View = { ...big, shape: [...shape], offset: 3 };
          cpu.run("copy", [x.view], [y], {});
          const got = readView(cpu, y);
          assert(
            got.every((v, i) => v === x.values[i]),
            `copy ${dtype} ${shape} ${kind}: ${got.slice(0, 4)}`,
          );
          const all = cpu.readSync(big.storage);
          const outside = all.length - numel(shape);
          assert(
            all.filter((v) => v === 0).length >= outside,
            `copy ${dtype} ${shape} wrote outside the view`,
          );
        }
      }
    },
  );
  await t.step("overlapping source and destination in one storage reads before writing", () => {
    const s = store(cpu, "f32", [1, 2, 3, 4, 5]);
    cpu.run("copy", [{ storage: s, shape: [4], strides: [1], offset: 0 }], [{
      storage: s,
      shape: [4],
      strides: [1],
      offset: 1,
    }], {});
    assertClose(cpu.readSync(s), [1, 1, 2, 3, 4], "shift right by one");
    const long = Array.from({ length: 40 }, (_, i) => i + 1);
    const t = store(cpu, "f32", long);
    cpu.run("copy", [{ storage: t, shape: [30], strides: [1], offset: 0 }], [{
      storage: t,
      shape: [30],
      strides: [1],
      offset: 7,
    }], {});
    assertClose(
      cpu.readSync(t),
      [...long.slice(0, 7), ...long.slice(0, 30), ...long.slice(37)],
      "shift right by 7",
    );
  });
});

Deno.test("large f32 add/sub/mul/div (WebAssembly SIMD rows) equal f64 arithmetic rounded to f32, bitwise", async (t) => {
  const cpu = new CpuBackend();
  const rng = new Rng(99);
  const special = [NaN, Infinity, -Infinity, -0, 0, 1e-40, -3e-39, 3e38, -3e38, 1, 7];
  const f32Store = (n: number) => {
    const d = Float32Array.from({ length: n }, () => (rng.random() - 0.5) * 10);
    for (let i = 0; i < special.length && i < n; i++) d[(i * 7919) % n] = special[i]!;
    return { storage: store(cpu, "f32", d), data: d };
  };
  // [label, shape, strides of a, strides of b] (a and b get their own storages, big enough for the strides).
  const cases: [string, number[], number[], number[]][] = [
    ["same shape", [300, 301], [301, 1], [301, 1]],
    ["bias row", [2000, 33], [33, 1], [0, 1]],
    ["per-row scalar", [500, 97], [97, 1], [1, 0]],
    ["scalar", [70001], [1], [0]],
    ["padded rows", [300, 120], [122, 1], [120, 1]],
    ["rows longer than the staging area", [3, 100003], [100003, 1], [0, 1]],
    ["transposed input (JavaScript loop)", [200, 170], [1, 200], [170, 1]],
  ];
  for (const op of ["add", "sub", "mul", "div"] as const) {
    await t.step(op, () => {
      const fn = {
        add: (a: number, b: number) => a + b,
        sub: (a: number, b: number) => a - b,
        mul: (a: number, b: number) => a * b,
        div: (a: number, b: number) => a / b,
      }[op];
      for (const [label, shape, sa, sb] of cases) {
        const extent = (s: number[]) => 1 + shape.reduce((acc, n, d) => acc + (n - 1) * s[d]!, 0);
        const a = f32Store(extent(sa)), b = f32Store(extent(sb));
        const va: View = { storage: a.storage, shape, strides: sa, offset: 0 };
        const vb: View = { storage: b.storage, shape, strides: sb, offset: 0 };
        const y = outView(cpu, shape);
        cpu.run("binary", [va, vb], [y], { op });
        const got = readView(cpu, y);
        const la = readView(cpu, va), lb = readView(cpu, vb);
        for (let i = 0; i < got.length; i++) {
          const want = Math.fround(fn(la[i]!, lb[i]!));
          assert(
            Object.is(got[i], want),
            `${op} ${label} [${i}]: ${la[i]} ${op} ${lb[i]} = ${got[i]}, want ${want}`,
          );
        }
      }
    });
  }
  await t.step(
    "in place: the same view as output and input; a shifted alias takes the JavaScript loop",
    () => {
      const n = 50000;
      const a = f32Store(n + 8), b = f32Store(n);
      const before = cpu.readSync(a.storage);
      const va: View = { storage: a.storage, shape: [n], strides: [1], offset: 0 };
      const vb: View = { storage: b.storage, shape: [n], strides: [1], offset: 0 };
      cpu.run("binary", [va, vb], [va], { op: "add" });
      const got = cpu.readSync(a.storage);
      for (let i = 0; i < n; i++) {
        const want = Math.fround(before[i]! + b.data[i]!);
        assert(Object.is(got[i], want), `in place [${i}]: ${got[i]}, want ${want}`);
      }
      // Output 8 elements past the input: the JavaScript loop runs in order, so from element 8 on it reads
      // what it wrote 8 steps earlier (the staged SIMD path would read the old values: it must not be taken).
      const shifted: View = { storage: a.storage, shape: [n], strides: [1], offset: 8 };
      const want = Float32Array.from(cpu.readSync(a.storage));
      for (let i = 0; i < n; i++) want[i + 8] = want[i]! * b.data[i]!;
      cpu.run("binary", [va, vb], [shifted], { op: "mul" });
      const out = cpu.readSync(a.storage);
      for (let i = 0; i < n + 8; i++) {
        assert(Object.is(out[i], want[i]), `shifted [${i}]: ${out[i]}, want ${want[i]}`);
      }
    },
  );
});
