import { assert, assertClose, assertThrows, vals } from "./_gradcheck.ts";
import {
  arange,
  bernoulli,
  fromArray,
  full,
  keep,
  liveTensors,
  ones,
  rand,
  randn,
  type Tensor,
  tensor,
  tidy,
  zeros,
} from "./tensor.ts";
import { getBackend } from "./engine.ts";
import { reshape, slice, transpose } from "./ops_shape.ts";
import { add } from "./ops_elementwise.ts";
import { embedding } from "./ops_index.ts";
import { seed } from "../gpu/rng.ts";

Deno.test("creation functions make the right shapes, dtypes and values", async (t) => {
  await t.step("tensor() from nested arrays and scalars", () =>
    tidy(() => {
      const x = tensor([[1, 2, 3], [4, 5, 6]]);
      assert(x.shape.join() === "2,3" && x.dtype === "f32" && x.rank === 2 && x.size === 6, `${x}`);
      assert(JSON.stringify(x.toArray()) === "[[1,2,3],[4,5,6]]", "toArray");
      const s = tensor(3.5);
      assert(s.rank === 0 && vals(s)[0] === 3.5, "0-d tensor");
      assert(tensor([]).shape.join() === "0", "empty");
      assert(tensor(new Int32Array([1, 2])).dtype === "i32", "Int32Array gives i32");
      assert(tensor([1, 2], { dtype: "f64" }).dtype === "f64", "explicit f64");
      assertThrows(() => tensor([[1, 2], [3]]), "tensor", "ragged");
      assertThrows(() => fromArray([1, 2, 3], [2, 2]), "fromArray", "3 elements", "[2, 2]");
      assertThrows(() => tensor([1.5], { dtype: "i32" }), "fromArray", "1.5", "i32");
    }));
  await t.step("zeros, ones, full, arange", () =>
    tidy(() => {
      assertClose(vals(zeros([2, 2])), [0, 0, 0, 0]);
      assertClose(vals(ones([3], { dtype: "i32" })), [1, 1, 1]);
      assertClose(vals(full([2], 7.25)), [7.25, 7.25]);
      const a = arange(5);
      assert(a.dtype === "i32", "integer arange is i32");
      assertClose(vals(a), [0, 1, 2, 3, 4]);
      assertClose(vals(arange(1, { end: 2, step: 0.25 })), [1, 1.25, 1.5, 1.75]);
      assertClose(vals(arange(5, { end: 0, step: -2 })), [5, 3, 1]);
      assert(arange(0).size === 0 && zeros([3, 0]).size === 0, "empty");
      assertThrows(() => zeros([2, -1]), "invalid shape", "[2, -1]");
    }));
  await t.step("rand, randn, bernoulli are seeded and have the right moments", () =>
    tidy(() => {
      seed(123);
      const u = vals(rand([20000], { low: -1, high: 3 }));
      seed(123);
      assert(vals(rand([20000], { low: -1, high: 3 })).join() === u.join(), "same seed, same numbers");
      const m = u.reduce((s, v) => s + v, 0) / u.length;
      assert(u.every((v) => v >= -1 && v < 3) && Math.abs(m - 1) < 0.03, `uniform mean ${m}`);
      const n = vals(randn([20000], { mean: 2, std: 0.5 }));
      const nm = n.reduce((s, v) => s + v, 0) / n.length;
      const nv = n.reduce((s, v) => s + (v - nm) ** 2, 0) / n.length;
      assert(Math.abs(nm - 2) < 0.02 && Math.abs(Math.sqrt(nv) - 0.5) < 0.02, `normal ${nm} ${nv}`);
      const b = vals(bernoulli([20000], 0.3));
      const bm = b.reduce((s, v) => s + v, 0) / b.length;
      assert(b.every((v) => v === 0 || v === 1) && Math.abs(bm - 0.3) < 0.02, `bernoulli mean ${bm}`);
      assert(vals(rand([5])).join() !== vals(rand([5])).join(), "consecutive draws differ");
      assertThrows(() => bernoulli([2], 2), "bernoulli", "p = 2");
    }));
});

Deno.test("reading back: data(), item(), dataSync() of strided views", async () => {
  const x = tensor([[1, 2], [3, 4]]);
  const tr = transpose(x);
  assert(Array.from(await tr.data()).join() === "1,3,2,4", "transposed data()");
  const s = slice(x, [1, 0]);
  assert((await s.item()) === 3, "item of a 0-d slice");
  let msg = "";
  await x.item().catch((e: Error) => (msg = e.message));
  assert(msg.includes("item") && msg.includes("[2, 2]"), msg);
  for (const t of [x, tr, s]) t.dispose();
});

Deno.test("memory: dispose, use after dispose, views keep storage alive", () => {
  const stats0 = getBackend().stats().liveStorages;
  const live0 = liveTensors();
  const x = tensor([1, 2, 3, 4]);
  const v = reshape(x, [2, 2]);
  assert(liveTensors() === live0 + 2, "two tensor objects");
  x.dispose();
  assert(getBackend().stats().liveStorages === stats0 + 1, "the view keeps the storage");
  assertClose(vals(v), [1, 2, 3, 4]);
  assertThrows(() => add(x, 1), "add", "[4]", "dispose");
  assertThrows(() => x.dataSync(), "dataSync", "dispose");
  x.dispose(); // twice is a no-op
  v.dispose();
  assert(getBackend().stats().liveStorages === stats0, "storage freed with its last view");
  assert(liveTensors() === live0, "counter back to start");
});

Deno.test("tidy() frees intermediates, keeps results, nests and cleans up on error", async (t) => {
  await t.step("returned tensors (also inside arrays/objects) survive", () => {
    const live0 = liveTensors();
    const out = tidy(() => {
      const a = ones([2]);
      const b = add(a, 1);
      const inner = tidy(() => {
        const c = add(b, 1);
        return { c, other: [add(c, 1)] };
      });
      assert(liveTensors() === live0 + 4, "inner scope freed only its own intermediates");
      return [inner.c, inner.other[0]!] as const;
    });
    assert(liveTensors() === live0 + 2, `live ${liveTensors() - live0}`);
    assertClose(vals(out[1]), [4, 4]);
    out.forEach((x) => x.dispose());
    class State {
      constructor(readonly h: Tensor, readonly cells: Map<string, Tensor>) {}
    }
    const st = tidy(() => new State(ones([1]), new Map([["c", ones([2])]])));
    assert(!st.h.disposed && !st.cells.get("c")!.disposed, "tensors inside class instances and maps survive");
    st.h.dispose();
    st.cells.get("c")!.dispose();
    assert(liveTensors() === live0, "nothing else kept");
  });
  await t.step("keep() exempts a tensor; errors free the scope", () => {
    const live0 = liveTensors();
    let kept: Tensor | null = null;
    tidy(() => {
      kept = keep(ones([3]));
      ones([3]);
    });
    assert(liveTensors() === live0 + 1 && !kept!.disposed, "kept tensor survives");
    kept!.dispose();
    assertThrows(() =>
      tidy(() => {
        ones([2]);
        throw new Error("boom");
      }), "boom");
    assert(liveTensors() === live0, "error path freed the scope");
    assertThrows(() => tidy(() => Promise.resolve(1)), "tidy", "Promise");
  });
});

Deno.test("a tensor collected without dispose() releases its storage (safety net)", async () => {
  // Runs in a child process with --expose-gc so the collection can be forced.
  const script = `
    import { finalizedTensors, ones } from ${JSON.stringify(new URL("./tensor.ts", import.meta.url).href)};
    import { getBackend } from ${JSON.stringify(new URL("./engine.ts", import.meta.url).href)};
    const storages0 = getBackend().stats().liveStorages;
    (() => { for (let i = 0; i < 50; i++) ones([1000]); })(); // dropped without dispose()
    for (let i = 0; i < 50 && finalizedTensors() < 50; i++) {
      globalThis.gc();
      await new Promise((r) => setTimeout(r, 5));
    }
    console.log(JSON.stringify({ finalized: finalizedTensors(), extra: getBackend().stats().liveStorages - storages0 }));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--v8-flags=--expose-gc", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  assert(out.success, `child failed: ${new TextDecoder().decode(out.stderr)}`);
  const { finalized, extra } = JSON.parse(text) as { finalized: number; extra: number };
  assert(finalized === 50, `finalized ${finalized} of 50 dropped tensors`);
  assert(extra === 0, `${extra} storages still allocated after collection`);
});

Deno.test("the op methods are attached to Tensor once, like class methods, and call the ops", () =>
  tidy(() => {
    const names = [
      "backward",
      "add",
      "sub",
      "mul",
      "div",
      "neg",
      "pow",
      "exp",
      "log",
      "tanh",
      "sigmoid",
      "relu",
      "matmul",
      "sum",
      "mean",
      "reshape",
      "transpose",
      "permute",
      "expand",
      "contiguous",
      "softmax",
      "logSoftmax",
      "cast",
    ];
    const proto = Object.getPrototypeOf(tensor(1)) as Record<string, unknown>;
    for (const n of names) {
      const d = Object.getOwnPropertyDescriptor(proto, n);
      assert(typeof d?.value === "function" && d.enumerable === false, `Tensor.prototype.${n} is a method`);
    }
    const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
    assert(!Object.keys(x).some((k) => names.includes(k)), "no method is an own property of a tensor");
    const y = x.mul(2).add(1).transpose().reshape([4]).softmax().logSoftmax().exp().sum();
    y.backward();
    assertClose(vals(y), [1]);
    assert(x.grad !== null && x.grad.shape.join() === "2,2", "backward() reached the leaf");
    x.dispose();
  }));

Deno.test("i32 tensors refuse values outside the i32 range instead of wrapping (#13 fault 9)", async (t) => {
  await t.step("fromArray / tensor / full name the value", () => {
    for (const v of [1e10, 2 ** 32 + 1, 2 ** 31, -(2 ** 31) - 1]) {
      assertThrows(
        () => fromArray([0, v], [2], { dtype: "i32" }),
        `element 1 = ${v} is outside the i32 range`,
      );
      assertThrows(() => tensor([v], { dtype: "i32" }), "outside the i32 range");
      assertThrows(() => full([2], v, { dtype: "i32" }), "is not an i32 value");
    }
  });
  await t.step("the extremes of the range are kept exactly", async () => {
    const t32 = fromArray([2 ** 31 - 1, -(2 ** 31), 0], [3], { dtype: "i32" });
    assert((await vals(t32)).join() === `${2 ** 31 - 1},${-(2 ** 31)},0`, "extremes changed");
    t32.dispose();
  });
  await t.step("a wrapped id can no longer slip past the embedding's range check", () => {
    const table = zeros([4, 2]);
    // 2^32 + 1 would wrap to 1, a valid row: the conversion must refuse it first
    assertThrows(() => embedding(table, tensor([2 ** 32 + 1], { dtype: "i32" })), "outside the i32 range");
    table.dispose();
  });
});
