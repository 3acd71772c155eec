import { assert, assertClose, assertThrows, gradcheck, vals } from "./_gradcheck.ts";
import {
  assign,
  chunk,
  concat,
  contiguous,
  expand,
  flatten,
  narrow,
  permute,
  reshape,
  slice,
  split,
  squeeze,
  stack,
  transpose,
  unsqueeze,
} from "./ops_shape.ts";
import { mul } from "./ops_elementwise.ts";
import { arange, type Tensor, tensor, tidy, zeros } from "./tensor.ts";
import { noGrad, setBackend } from "./engine.ts";
import { createWebGpuBackend } from "../gpu/mod.ts";

const shape = (t: Tensor) => t.shape.join();

Deno.test("view ops share storage and read the right elements", async (t) => {
  await t.step("reshape, flatten, squeeze, unsqueeze", () =>
    tidy(() => {
      const x = arange(6);
      const r = reshape(x, [2, -1]);
      assert(shape(r) === "2,3" && r.view.storage === x.view.storage, "reshape of contiguous is a view");
      assert(shape(unsqueeze(r, 1)) === "2,1,3" && shape(unsqueeze(r, -1)) === "2,3,1", "unsqueeze");
      assert(
        shape(squeeze(zeros([1, 2, 1]))) === "2" && shape(squeeze(zeros([1, 2, 1]), 0)) === "2,1",
        "squeeze",
      );
      assert(shape(flatten(zeros([2, 3, 4]), { start: 1 })) === "2,12", "flatten");
      assertThrows(() => reshape(x, [4, 2]), "reshape", "[6]", "[4, 2]");
      assertThrows(() => squeeze(r, 0), "squeeze", "size 2");
    }));
  await t.step("transpose and permute are strided views; reshape of them copies", () =>
    tidy(() => {
      const x = reshape(arange(24), [2, 3, 4]);
      const p = permute(x, [2, 0, 1]);
      assert(shape(p) === "4,2,3" && !p.isContiguous, "permute shape");
      assertClose(vals(p).slice(0, 6), [0, 4, 8, 12, 16, 20]);
      const tr = transpose(reshape(arange(6), [2, 3]));
      const flat = reshape(tr, [6]);
      assertClose(vals(flat), [0, 3, 1, 4, 2, 5]);
      assert(flat.view.storage !== tr.view.storage, "reshape of a transposed view copies");
      const c = contiguous(tr);
      assert(c.isContiguous && vals(c).join() === "0,3,1,4,2,5", "contiguous copy");
      // Reshapes that only split or merge compatible axes of a strided view stay views.
      const cols = slice(reshape(arange(24), [4, 6]), [null, [0, 3]]); // (4, 3) strides (6, 1)
      const split3 = reshape(cols, [2, 2, 3]);
      assert(
        split3.view.storage === cols.view.storage && split3.strides.join() === "12,6,1",
        `${split3.strides}`,
      );
      assertClose(vals(split3), [0, 1, 2, 6, 7, 8, 12, 13, 14, 18, 19, 20]);
      const merged = reshape(cols, [12]); // rows are not adjacent: needs a copy
      assert(merged.view.storage !== cols.view.storage, "merging non-adjacent rows copies");
      assertClose(vals(merged), [0, 1, 2, 6, 7, 8, 12, 13, 14, 18, 19, 20]);
      // A size-1 axis inserted into a strided view stays a view.
      assert(unsqueeze(tr, 0).view.storage === tr.view.storage, "unsqueeze of strided view");
    }));
  await t.step("expand broadcasts with stride 0", () =>
    tidy(() => {
      const e = expand(tensor([[1], [2]]), [3, 2, 4]);
      assert(shape(e) === "3,2,4" && e.strides[0] === 0 && e.strides[2] === 0, `strides ${e.strides}`);
      assertClose(vals(e).slice(0, 8), [1, 1, 1, 1, 2, 2, 2, 2]);
      assertThrows(() => expand(tensor([1, 2]), [3]), "expand", "[2]", "[3]");
    }));
  await t.step("slice and narrow", () =>
    tidy(() => {
      const x = reshape(arange(12), [3, 4]);
      assertClose(vals(slice(x, [null, [1, 3]])), [1, 2, 5, 6, 9, 10]);
      assertClose(vals(slice(x, [-1])), [8, 9, 10, 11]);
      assertClose(vals(slice(x, [[0, 3, 2], [-2]])), [2, 3, 10, 11]);
      assert(shape(slice(x, [[2, 2]])) === "0,4", "empty slice");
      assertClose(vals(narrow(x, { axis: 1, start: 3, length: 1 })), [3, 7, 11]);
      assertThrows(() => slice(x, [5]), "slice", "index 5", "[3, 4]");
      assertThrows(() => narrow(x, { axis: 0, start: 2, length: 2 }), "narrow", "[3, 4]");
    }));
});

Deno.test("concat, stack, split and chunk", () =>
  tidy(() => {
    const a = reshape(arange(4), [2, 2]), b = reshape(arange(6, { end: 12 }), [2, 3]);
    assertClose(vals(concat([a, b], 1)), [0, 1, 6, 7, 8, 2, 3, 9, 10, 11]);
    assertClose(vals(concat([a, zeros([0, 2], { dtype: "i32" }), a], 0)), [0, 1, 2, 3, 0, 1, 2, 3]);
    assertClose(vals(concat([transpose(a), a], 0)), [0, 2, 1, 3, 0, 1, 2, 3]);
    assertClose(vals(stack([a, a], 2)), [0, 0, 1, 1, 2, 2, 3, 3]);
    assert(shape(stack([a, a], -1)) === "2,2,2", "stack at -1");
    const parts = split(arange(7), 3);
    assert(parts.map((p) => p.size).join() === "3,3,1", "split sizes");
    assertClose(vals(parts[2]!), [6]);
    const cs = chunk(b, 2, { axis: 1 });
    assert(cs.map(shape).join(";") === "2,2;2,1", "chunk shapes");
    assertThrows(() => concat([a, b], 0), "concat", "[2, 2]", "[2, 3]");
    assertThrows(() => concat([a, tensor([[1, 2]])], 0), "concat", "dtype");
    assertThrows(() => split(arange(5), [2, 2]), "split", "do not add up");
  }));

Deno.test("shape op gradients match finite differences (f64)", async (t) => {
  const w = () => tensor([1, -2, 3], { dtype: "f64" });
  const cases: [string, (...x: Tensor[]) => Tensor, { shape: number[] }[]][] = [
    ["reshape", (x) => reshape(x!, [3, 2]), [{ shape: [2, 3] }]],
    ["reshape of strided", (x) => reshape(transpose(x!), [6]), [{ shape: [2, 3] }]],
    ["permute", (x) => permute(x!, [1, 2, 0]), [{ shape: [2, 3, 2] }]],
    ["transpose then mul", (x) => mul(transpose(x!), w()), [{ shape: [3, 2] }]],
    ["expand", (x) => expand(x!, [2, 3, 3]), [{ shape: [3, 1] }]],
    ["slice step", (x) => slice(x!, [[0, 4, 2], -1]), [{ shape: [4, 3] }]],
    ["narrow", (x) => narrow(x!, { axis: 1, start: 1, length: 2 }), [{ shape: [2, 4] }]],
    ["concat", (a, b) => concat([a!, b!, a!], 1), [{ shape: [2, 1] }, { shape: [2, 3] }]],
    ["stack", (a, b) => stack([a!, b!], 1), [{ shape: [2, 3] }, { shape: [2, 3] }]],
    ["split", (x) => mul(split(x!, [1, 2], { axis: 1 })[1]!, 2), [{ shape: [2, 3] }]],
    ["chunk", (x) => concat(chunk(x!, 2).reverse(), 0), [{ shape: [4, 2] }]],
    ["contiguous", (x) => contiguous(transpose(x!)), [{ shape: [2, 3] }]],
    ["squeeze/unsqueeze", (x) => unsqueeze(squeeze(x!), 0), [{ shape: [1, 3, 1] }]],
  ];
  for (const [name, fn, inputs] of cases) await t.step(name, () => gradcheck(name, fn, inputs));
});

Deno.test("assign() copies into a tensor in place", async (t) => {
  await t.step("the same object and storage get the values; views of it see them", () =>
    tidy(() => {
      const w = tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
      const alias = w.detach();
      const storage = w.view.storage;
      assert(assign(w, tensor([[6, 5, 4], [3, 2, 1]])) === w, "returns the target");
      assert(w.view.storage === storage && w.requiresGrad, "same storage, still a parameter");
      assertClose(vals(alias), [6, 5, 4, 3, 2, 1]);
    }));
  await t.step(
    "a number, a broadcast row, and a strided target touch only the target's elements",
    () =>
      tidy(() => {
        const m = arange(12, { dtype: "f32" }).reshape([3, 4]);
        assign(slice(m, [null, [1, 4, 2]]), tensor([-1, -2])); // columns 1 and 3
        assign(transpose(slice(m, [[2, 3]])), 7); // the last row, through a transposed view
        assertClose(vals(m), [0, -1, 2, -2, 4, -1, 6, -2, 7, 7, 7, 7]);
        const ints = zeros([2], { dtype: "i32" });
        assign(ints, 3);
        assert(vals(ints).join() === "3,3", "i32 fill");
        assign(zeros([0, 3]), tensor([1, 2, 3])); // nothing to write
      }),
  );
  await t.step("bad input is a clear error", () =>
    tidy(() => {
      const w = zeros([2, 3], { requiresGrad: true });
      assertThrows(() => assign(w, zeros([2, 3], { dtype: "i32" })), "assign", "dtype i32", "f32");
      assertThrows(() => assign(w, zeros([3, 2])), "assign", "[3, 2]", "[2, 3]");
      assertThrows(() => assign(mul(w, 2), 1), "assign", "made by mul", "autograd graph");
      assertThrows(() => assign(expand(zeros([1, 3]), [2, 3]), 1), "assign", "broadcast view");
      assertThrows(() => assign(zeros([2, 3]), w), "assign", "requires grad", "noGrad");
      assertThrows(() => assign(zeros([2], { dtype: "i32" }), 0.5), "assign", "0.5", "i32");
      const x = arange(4, { dtype: "f32" });
      assertThrows(() => assign(slice(x, [[0, 2]]), slice(x, [[2, 4]])), "assign", "share storage");
      noGrad(() => assign(zeros([2, 3]), w)); // fine without grad mode
    }));
});

const gpu = await createWebGpuBackend();
Deno.test({
  name: "assign() copies into strided targets on WebGPU" + (gpu.backend ? "" : ` (skipped: ${gpu.reason})`),
  ignore: gpu.backend === null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const prev = setBackend(gpu.backend!);
    try {
      const m = arange(1003, { dtype: "f32" }).reshape([17, 59]);
      assign(slice(m, [null, [1, 59, 2]]), 0.5); // every odd column
      assign(slice(m, [[16, 17]]), arange(59, { dtype: "f32" }).mul(-1)); // the last row
      const v = await m.data();
      const expect = Array.from({ length: 1003 }, (_, i) => {
        const r = Math.floor(i / 59), c = i % 59;
        return r === 16 ? -c : c % 2 === 1 ? 0.5 : i;
      });
      assertClose(v, expect);
      m.dispose();
    } finally {
      if (prev) setBackend(prev);
      gpu.backend!.dispose();
    }
  },
});
