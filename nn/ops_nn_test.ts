import { assert, assertClose, assertThrows, gradcheck, vals } from "./_gradcheck.ts";
import { cosineSimilarity, crossEntropy, dropout } from "./ops_nn.ts";
import { mul } from "./ops_elementwise.ts";
import { transpose } from "./ops_shape.ts";
import { logSoftmax, softmax } from "./ops_reduce.ts";
import { gather, topk } from "./ops_index.ts";
import { ones, type Tensor, tensor, tidy, zeros } from "./tensor.ts";
import { seed } from "../gpu/rng.ts";

const i32 = (v: number[] | number[][]) => tensor(v, { dtype: "i32" });

Deno.test("crossEntropy() matches -logSoftmax at the target", async (t) => {
  const logits = [[1, 2, 0.5], [0, -1, 3], [2, 2, 2], [0.1, 0.2, 0.3]];
  const targets = [2, 0, -100, 1];
  const ls = logits.map((row) => {
    const z = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
    return row.map((v) => v - z);
  });
  const per = targets.map((tg, r) => (tg === -100 ? 0 : -ls[r]![tg]!));
  await t.step("reductions none / sum / mean (ignored rows excluded)", () =>
    tidy(() => {
      const x = tensor(logits), y = i32(targets);
      assertClose(vals(crossEntropy(x, y, { reduction: "none" })), per);
      assertClose(vals(crossEntropy(x, y, { reduction: "sum" })), [per.reduce((a, b) => a + b)]);
      assertClose(vals(crossEntropy(x, y)), [per.reduce((a, b) => a + b) / 3]);
      assertClose(vals(crossEntropy(x, i32([2, 0, 1, 1]), { ignoreIndex: 1 })), [(per[0]! + per[1]!) / 2]);
    }));
  await t.step("extra leading axes and strided logits", () =>
    tidy(() => {
      const x = transpose(tensor([[1, 0], [2, -1], [0.5, 3]])); // (2, 3) view of rows 0 and 1
      const l = crossEntropy(x, i32([2, 0]), { reduction: "none" });
      assertClose(vals(l), per.slice(0, 2));
      const x3 = tensor([logits.slice(0, 2), logits.slice(2)]); // (2, 2, 3)
      const l3 = crossEntropy(x3, i32([[2, 0], [-100, 1]]), { reduction: "none" });
      assert(l3.shape.join() === "2,2", `shape ${l3.shape}`);
      assertClose(vals(l3), per);
    }));
  await t.step("bad input", () =>
    tidy(() => {
      assertThrows(() => crossEntropy(tensor(logits), i32([1, 2])), "crossEntropy", "[2]", "[4, 3]");
      assertThrows(() => crossEntropy(tensor(logits), tensor([1, 2, 0, 0])), "crossEntropy", "i32");
    }));
});

Deno.test("dropout() is seeded, scaled, and reuses its mask in backward", () =>
  tidy(() => {
    seed(7);
    const x = ones([4000], { requiresGrad: true });
    const y = dropout(x, 0.25);
    const v = vals(y);
    const kept = v.filter((e) => e !== 0);
    assert(kept.every((e) => Math.abs(e - 4 / 3) < 1e-6), "kept values are scaled by 1/(1-p)");
    assert(Math.abs(kept.length / 4000 - 0.75) < 0.03, `kept fraction ${kept.length / 4000}`);
    mul(y, 2).sum().backward();
    assertClose(vals(x.grad!), v.map((e) => 2 * e)); // same mask, same scale
    seed(7);
    assertClose(vals(dropout(ones([4000]), 0.25)), v); // reproducible from the seed
    assert(vals(dropout(ones([4000]), 0.25)).join() !== v.join(), "next call draws a new mask");
    assertClose(vals(dropout(tensor([1, 2]), 0.5, { training: false })), [1, 2]);
    assertThrows(() => dropout(x, 1.5), "dropout", "p = 1.5");
    x.dispose();
  }));

Deno.test("cosineSimilarity() along an axis", () =>
  tidy(() => {
    const a = tensor([[1, 0], [3, 4]]), b = tensor([[0, 2], [6, 8]]);
    assertClose(vals(cosineSimilarity(a, b)), [0, 1]);
    assertClose(vals(cosineSimilarity(a, b, { axis: 0 })), [3 / Math.sqrt(10), 32 / (4 * Math.sqrt(68))]);
    assertClose(vals(cosineSimilarity(a, tensor([0, 0]))), [0, 0]); // eps guards the zero vector
  }));

Deno.test("nn op gradients match finite differences (f64)", async (t) => {
  const ce = (reduction: "mean" | "sum" | "none") => (x: Tensor) =>
    crossEntropy(x, i32([2, -100, 0, 1]), { reduction });
  await t.step("crossEntropy mean", () => gradcheck("ce mean", (x) => ce("mean")(x!), [{ shape: [4, 3] }]));
  await t.step("crossEntropy sum", () => gradcheck("ce sum", (x) => ce("sum")(x!), [{ shape: [4, 3] }]));
  await t.step("crossEntropy none", () => gradcheck("ce none", (x) => ce("none")(x!), [{ shape: [4, 3] }]));
  await t.step("dropout", () => {
    const fixed = (x: Tensor) => {
      seed(11); // the same mask for every evaluation
      return dropout(x, 0.4);
    };
    gradcheck("dropout", (x) => fixed(x!), [{ shape: [3, 5] }]);
  });
  await t.step(
    "cosineSimilarity",
    () => gradcheck("cos", (a, b) => cosineSimilarity(a!, b!), [{ shape: [3, 4] }, { shape: [1, 4] }]),
  );
  await t.step(
    "logSoftmax composite equals crossEntropy gradient",
    () => gradcheck("nll", (x) => mul(logSoftmax(x!), -1), [{ shape: [2, 3] }]),
  );
});

Deno.test("nn and index ops accept empty batches and 0-d tensors", () =>
  tidy(() => {
    const noRows = i32([]);
    assert(
      Number.isNaN(vals(crossEntropy(zeros([0, 3]), noRows))[0]!),
      "mean over no rows is NaN (as PyTorch)",
    );
    assertClose(vals(crossEntropy(zeros([0, 3]), noRows, { reduction: "sum" })), [0]);
    assert(softmax(zeros([0, 3])).shape.join() === "0,3", "softmax of no rows");
    assert(topk(zeros([0, 3]), 2).values.shape.join() === "0,2", "topk of no rows");
    assert(
      gather(zeros([2, 3]), zeros([2, 0], { dtype: "i32" }), { axis: 1 }).shape.join() === "2,0",
      "gather none",
    );
    assert(dropout(zeros([0, 2]), 0.5).size === 0, "dropout of nothing");
    assert(cosineSimilarity(zeros([0, 2]), zeros([0, 2])).shape.join() === "0", "cosine of nothing");
    const s = tensor(2, { requiresGrad: true });
    mul(s, s).backward();
    assertClose(vals(s.grad!), [4]);
    const e = zeros([2, 0], { requiresGrad: true });
    softmax(e).sum().backward();
    assert(e.grad!.shape.join() === "2,0", "gradient of an empty tensor keeps its shape");
  }));
