import { assert, assertClose, assertThrows, gradcheck, vals } from "./_gradcheck.ts";
import {
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
