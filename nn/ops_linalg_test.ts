import { assert, assertClose, assertThrows, gradcheck, vals } from "./_gradcheck.ts";
import { matmul } from "./ops_linalg.ts";
import { expand, reshape, slice, transpose } from "./ops_shape.ts";
import { arange, fromArray, type Tensor, tensor, tidy, zeros } from "./tensor.ts";
import { Rng } from "../gpu/rng.ts";
import { CpuBackend, type KernelAttrs, type KernelName, type View } from "../gpu/mod.ts";
import { setBackend } from "./engine.ts";

/** Reference product of row-major (B, M, K) x (B, K, N). */
function ref(a: number[], b: number[], B: number, M: number, K: number, N: number): number[] {
  const out: number[] = [];
  for (let q = 0; q < B; q++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[q * M * K + i * K + k]! * b[q * K * N + k * N + j]!;
        out.push(s);
      }
    }
  }
  return out;
}

const randn = (n: number, seed: number) => {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => r.normal());
};

Deno.test("matmul() matches a reference on awkward shapes", async (t) => {
  await t.step("2-D, odd sizes", () =>
    tidy(() => {
      for (const [M, K, N] of [[1, 1, 1], [3, 5, 7], [17, 4, 1], [1, 9, 13]] as const) {
        const a = randn(M * K, M), b = randn(K * N, N);
        const y = matmul(fromArray(a, [M, K]), fromArray(b, [K, N]));
        assert(y.shape.join() === `${M},${N}`, `shape ${y.shape}`);
        assertClose(vals(y), ref(a, b, 1, M, K, N), { rtol: 1e-5, atol: 1e-5 });
      }
    }));
  await t.step("transposed operands are views (no copy) and give the same result", () =>
    tidy(() => {
      const a = randn(12, 1), b = randn(20, 2);
      const at = fromArray(a, [4, 3]), bt = fromArray(b, [5, 4]); // use a^T (3,4) @ b^T (4,5)
      const y = matmul(transpose(at), transpose(bt));
      const aT = vals(transpose(at)), bT = vals(transpose(bt));
      assertClose(vals(y), ref(aT, bT, 1, 3, 4, 5), { rtol: 1e-5, atol: 1e-5 });
    }));
  await t.step("batched with broadcast batch axes", () =>
    tidy(() => {
      const a = randn(2 * 3 * 4, 3), w = randn(4 * 2, 4);
      const y = matmul(fromArray(a, [2, 3, 4]), fromArray(w, [4, 2])); // shared right operand
      assert(y.shape.join() === "2,3,2", `shape ${y.shape}`);
      assertClose(vals(y), ref(a, [...w, ...w], 2, 3, 4, 2), { rtol: 1e-5, atol: 1e-5 });
      const z = matmul(fromArray(a, [2, 1, 3, 4]), fromArray([...w, ...w, ...w], [3, 4, 2]));
      assert(z.shape.join() === "2,3,3,2", `broadcast batch shape ${z.shape}`);
      const row = vals(slice(z, [1, 2]));
      assertClose(row, ref(a.slice(12), w, 1, 3, 4, 2), { rtol: 1e-5, atol: 1e-5 });
      const e = matmul(expand(fromArray(w, [1, 4, 2]), [3, 4, 2]), zeros([3, 2, 5]));
      assert(e.shape.join() === "3,4,5" && vals(e).every((v) => v === 0), "expanded batch operand");
    }));
  await t.step("vectors, empty and zero-K products", () =>
    tidy(() => {
      const m = reshape(arange(6, { dtype: "f32" }), [2, 3]);
      assertClose(vals(matmul(m, tensor([1, 1, 1]))), [3, 12]);
      assertClose(vals(matmul(tensor([1, 1]), m)), [3, 5, 7]);
      assertClose(vals(matmul(tensor([1, 2]), tensor([3, 4]))), [11]);
      assert(matmul(zeros([0, 3]), zeros([3, 2])).shape.join() === "0,2", "M = 0");
      assertClose(vals(matmul(zeros([2, 0]), zeros([0, 2]))), [0, 0, 0, 0]);
    }));
  await t.step("errors name the op and both shapes", () =>
    tidy(() => {
      assertThrows(() => matmul(zeros([2, 3]), zeros([2, 3])), "matmul", "[2, 3] @ [2, 3]");
      assertThrows(() => matmul(zeros([2, 2, 3]), zeros([3, 3, 1])), "matmul", "[2]", "[3]");
      assertThrows(() => matmul(zeros([2, 2, 3]), zeros([2, 3])), "matmul", "[2, 2, 3] @ [2, 3]");
      assertThrows(() => matmul(zeros([2, 3]), zeros([3, 1], { dtype: "f64" })), "matmul", "dtype");
    }));
});

/** A CPU backend that counts kernel launches by name. */
class CountingBackend extends CpuBackend {
  counts = new Map<string, number>();
  override run<K extends KernelName>(
    name: K,
    inputs: readonly View[],
    outputs: readonly View[],
    attrs: KernelAttrs[K],
  ) {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    super.run(name, inputs, outputs, attrs);
  }
}

Deno.test("matmul() passes transposed and broadcast operands as views, without copies", () => {
  const counting = new CountingBackend();
  const prev = setBackend(counting);
  try {
    tidy(() => {
      const a = randnT([4, 3]), b = randnT([5, 4]), batch = randnT([6, 2, 4]), w = randnT([4, 2]);
      counting.counts.clear();
      matmul(transpose(a), transpose(b)); // (3, 4) @ (4, 5)
      matmul(batch, transpose(b)); // (6, 2, 4) @ (4, 5), folded into one GEMM
      matmul(transpose(a), expand(w, [3, 4, 2])); // shared left operand: batch stride 0
      matmul(expand(reshape(w, [1, 1, 4, 2]), [2, 3, 4, 2]), randnT([2, 3, 2, 5])); // broadcast leading axis
      assert(!counting.counts.has("copy"), `copies made: ${counting.counts.get("copy")}`);
      assert(counting.counts.get("matmul") === 4, `matmul launches ${counting.counts.get("matmul")}`);
      // A broadcast middle batch axis cannot be walked with one stride: one launch per outer index, no copy.
      const left = expand(randnT([3, 1, 4, 2]), [3, 5, 4, 2]), right = randnT([5, 2, 6]);
      const y = matmul(left, right);
      assert(y.shape.join() === "3,5,4,6", `shape ${y.shape}`);
      assert(!counting.counts.has("copy") && counting.counts.get("matmul") === 7, "3 launches, no copy");
      const lv = vals(left), rv = vals(right);
      const want = [0, 1, 2].flatMap((i) => ref(lv.slice(i * 40, i * 40 + 40), rv, 5, 4, 2, 6));
      assertClose(vals(y), want, { rtol: 1e-5, atol: 1e-5 });
      // Beyond 16 outer launches the broadcast operands are materialised once instead (one launch).
      const l20 = randnT([20, 1, 2, 3]), r2 = randnT([2, 3, 2]);
      const many = matmul(expand(l20, [20, 2, 2, 3]), r2);
      assert(
        counting.counts.get("copy") === 2 && counting.counts.get("matmul") === 8,
        `two copies, one launch: ${JSON.stringify([...counting.counts])}`,
      );
      const l = vals(l20), rr = vals(r2);
      const expected = Array.from(
        { length: 20 },
        (_, q) =>
          [0, 1].flatMap((j) => ref(l.slice(q * 6, q * 6 + 6), rr.slice(j * 6, j * 6 + 6), 1, 2, 3, 2)),
      ).flat();
      assertClose(vals(many), expected, { rtol: 1e-5, atol: 1e-5 });
    });
  } finally {
    if (prev) setBackend(prev);
  }
});

function randnT(shape: number[]): Tensor {
  const n = shape.reduce((x, y) => x * y, 1);
  return fromArray(randn(n, n), shape);
}

Deno.test("matmul gradients match finite differences (f64)", async (t) => {
  const cases: [string, (a: Tensor, b: Tensor) => Tensor, number[], number[]][] = [
    ["2-D", (a, b) => matmul(a, b), [3, 4], [4, 2]],
    ["transposed right", (a, b) => matmul(a, transpose(b)), [2, 3], [4, 3]],
    ["transposed left", (a, b) => matmul(transpose(a), b), [3, 2], [3, 4]],
    ["batched", (a, b) => matmul(a, b), [2, 3, 4], [2, 4, 2]],
    ["broadcast batch", (a, b) => matmul(a, b), [2, 1, 2, 3], [3, 3, 2]],
    ["vector-matrix", (a, b) => matmul(a, b), [3], [3, 2]],
    ["matrix-vector", (a, b) => matmul(a, b), [2, 3], [3]],
  ];
  for (const [name, fn, sa, sb] of cases) {
    await t.step(name, () => gradcheck(name, (a, b) => fn(a!, b!), [{ shape: sa }, { shape: sb }]));
  }
});
