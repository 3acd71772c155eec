import { assert, assertClose, assertThrows, gradcheck, vals } from "./_gradcheck.ts";
import { embedding, gather, indexSelect, scatterAdd, topk } from "./ops_index.ts";
import { reshape, transpose } from "./ops_shape.ts";
import { arange, type Tensor, tensor, tidy } from "./tensor.ts";

const ids = (v: number[] | number[][]) => tensor(v, { dtype: "i32" });

Deno.test("embedding, indexSelect, gather, scatterAdd values", async (t) => {
  await t.step("embedding on any id shape", () =>
    tidy(() => {
      const table = reshape(arange(8, { dtype: "f32" }), [4, 2]);
      const y = embedding(table, ids([[3, 0], [1, 1]]));
      assert(y.shape.join() === "2,2,2", `shape ${y.shape}`);
      assertClose(vals(y), [6, 7, 0, 1, 2, 3, 2, 3]);
      assertClose(vals(embedding(transpose(reshape(arange(8, { dtype: "f32" }), [2, 4])), ids([2]))), [2, 6]);
      assert(embedding(table, ids([])).shape.join() === "0,2", "no ids");
      assertThrows(() => embedding(table, ids([1, 4])), "embedding", "index 4", "[0, 4)");
      assertThrows(() => embedding(table, tensor([1])), "embedding", "i32");
    }));
  await t.step("indexSelect along an inner axis", () =>
    tidy(() => {
      const x = reshape(arange(12, { dtype: "f32" }), [2, 3, 2]);
      const y = indexSelect(x, ids([2, 0, 2]), { axis: 1 });
      assert(y.shape.join() === "2,3,2", `shape ${y.shape}`);
      assertClose(vals(y), [4, 5, 0, 1, 4, 5, 10, 11, 6, 7, 10, 11]);
    }));
  await t.step("gather along an axis", () =>
    tidy(() => {
      const x = tensor([[1, 2, 3], [4, 5, 6]]);
      assertClose(vals(gather(x, ids([[2, 2, 0], [1, 0, 0]]), { axis: 1 })), [3, 3, 1, 5, 4, 4]);
      assertClose(vals(gather(x, ids([[1, 0, 1]]), { axis: 0 })), [4, 2, 6]);
      assertThrows(() => gather(x, ids([[3], [0]]), { axis: 1 }), "gather", "index 3");
      assertThrows(() => gather(x, ids([[0, 0]]), { axis: 1 }), "gather", "[1, 2]", "[2, 3]");
    }));
  await t.step("scatterAdd sums repeated rows", () =>
    tidy(() => {
      const y = scatterAdd(tensor([[1, 1], [2, 2], [3, 3]]), ids([2, 0, 2]), { rows: 3 });
      assertClose(vals(y), [2, 2, 0, 0, 4, 4]);
    }));
});

Deno.test("topk() returns sorted values and indices on the device", () =>
  tidy(() => {
    const x = tensor([[3, 1, 4, 1, 5], [9, 2, 6, 5, 3]]);
    const { values, indices } = topk(x, 3);
    assertClose(vals(values), [5, 4, 3, 9, 6, 5]);
    assertClose(vals(indices), [4, 2, 0, 0, 2, 3]);
    const low = topk(x, 2, { largest: false });
    assertClose(vals(low.indices), [1, 3, 1, 4]); // ties: lower index first
    const col = topk(x, 1, { axis: 0 });
    assertClose(vals(col.values), [9, 2, 6, 5, 5]);
    assert(topk(x, 0).values.shape.join() === "2,0", "k = 0");
    assertThrows(() => topk(x, 6), "topk", "k = 6");
  }));

Deno.test("index op gradients match finite differences (f64)", async (t) => {
  const cases: [string, (x: Tensor) => Tensor, number[]][] = [
    ["embedding (repeated ids)", (x) => embedding(x, ids([[0, 2], [2, 2]])), [3, 2]],
    ["indexSelect axis 1", (x) => indexSelect(x, ids([1, 1, 0]), { axis: 1 }), [2, 2, 3]],
    ["gather axis 0", (x) => gather(x, ids([[1, 0], [1, 1], [0, 0]]), { axis: 0 }), [2, 2]],
    ["scatterAdd", (x) => scatterAdd(x, ids([1, 1, 0]), { rows: 3 }), [3, 2]],
    ["topk values", (x) => topk(x, 2).values, [2, 4]],
  ];
  for (const [name, fn, s] of cases) await t.step(name, () => gradcheck(name, (x) => fn(x!), [{ shape: s }]));
});
