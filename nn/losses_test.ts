import { strict as assert } from "node:assert";
import { arLoss, cosineLoss, crossEntropyFlat, l1Loss, mseLoss, seq2seqLoss, tarLoss } from "./losses.ts";
import { fromArray, tidy } from "./tensor.ts";

function close(a: number, e: number, tol = 1e-5): void {
  assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `expected ${e}, got ${a}`);
}
const val = (t: { dataSync(): ArrayLike<number> }) => t.dataSync()[0]!;

Deno.test("crossEntropyFlat() averages over every position and skips padding", async (t) => {
  // logits (1, 2, 3): rows [0, 0, ln 2] and [1, 2, 3]; targets [2, 0]
  const logits = [0, 0, Math.LN2, 1, 2, 3];
  const row0 = -(Math.LN2 - Math.log(2 + 2)), row1 = -(1 - Math.log(Math.E + Math.E ** 2 + Math.E ** 3));
  await t.step("mean of the two rows", () =>
    tidy(() => {
      const l = crossEntropyFlat(fromArray(logits, [1, 2, 3]), fromArray([2, 0], [1, 2], { dtype: "i32" }));
      close(val(l), (row0 + row1) / 2);
    }));
  await t.step("ignore index (padding id 1)", () =>
    tidy(() => {
      const l = crossEntropyFlat(fromArray(logits, [1, 2, 3]), fromArray([2, 1], [1, 2], { dtype: "i32" }), {
        ignoreIndex: 1,
      });
      close(val(l), row0);
    }));
  await t.step("shape mismatch", () =>
    tidy(() => {
      assert.throws(
        () => crossEntropyFlat(fromArray(logits, [1, 2, 3]), fromArray([2], [1, 1], { dtype: "i32" })),
        /do not match targets/,
      );
    }));
});

Deno.test("arLoss()/tarLoss() add the right amounts", async (t) => {
  // (B=1, T=3, H=2)
  const h = [1, 2, 3, 5, 6, 4];
  await t.step(
    "AR = alpha * mean(h^2)",
    () => tidy(() => close(val(arLoss(fromArray(h, [1, 3, 2]), 2)), 2 * (1 + 4 + 9 + 25 + 36 + 16) / 6)),
  );
  await t.step("TAR = beta * mean((h[t+1] - h[t])^2)", () =>
    // differences: (2, 3), (3, -1) -> squares 4, 9, 9, 1
    tidy(() => close(val(tarLoss(fromArray(h, [1, 3, 2]), 1)), (4 + 9 + 9 + 1) / 4)));
  await t.step("gradients: d AR / dh = 2 alpha h / n", () => {
    const x = fromArray(h, [1, 3, 2], { requiresGrad: true });
    tidy(() => arLoss(x, 2).backward());
    const g = x.grad!.dataSync();
    h.forEach((v, i) => close(g[i]!, 2 * 2 * v / 6));
    x.dispose();
  });
  await t.step(
    "a single step has no TAR",
    () => tidy(() => assert.equal(val(tarLoss(fromArray([1, 2], [1, 1, 2]), 1)), 0)),
  );
});

Deno.test("seq2seqLoss() pads or cuts predictions to the target length", () =>
  tidy(() => {
    // pred (1, 1, 2) logits [0, ln 3]; target (1, 2) = [1, 0]: step 2 is padded with zero logits
    const l = seq2seqLoss(
      fromArray([0, Math.log(3)], [1, 1, 2]),
      fromArray([1, 0], [1, 2], { dtype: "i32" }),
    );
    close(val(l), (-Math.log(3 / 4) + Math.log(2)) / 2);
    const cut = seq2seqLoss(
      fromArray([0, Math.log(3), 5, 5], [1, 2, 2]),
      fromArray([1], [1, 1], { dtype: "i32" }),
    );
    close(val(cut), -Math.log(3 / 4));
  }));

Deno.test("mseLoss()/l1Loss()/cosineLoss() match their formulas", () =>
  tidy(() => {
    const a = fromArray([1, 2, 3, 4], [2, 2]), b = fromArray([1, 0, 0, 4], [2, 2]);
    close(val(mseLoss(a, b)), (0 + 4 + 9 + 0) / 4);
    close(val(l1Loss(a, b)), (0 + 2 + 3 + 0) / 4);
    // rows: cos((1,2),(1,0)) = 1/sqrt(5); cos((3,4),(0,4)) = 16/20
    close(val(cosineLoss(a, b)), 1 - (1 / Math.sqrt(5) + 0.8) / 2);
  }));
