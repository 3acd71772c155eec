import { assertClose, assertThrows, gradcheck, vals } from "./_gradcheck.ts";
import { adaptiveAvgPool2d, avgPool2d, conv2d, maxPool2d } from "./ops_conv.ts";
import { permute } from "./ops_shape.ts";
import { ones, tensor, tidy } from "./tensor.ts";

Deno.test("conv2d() and pooling have finite-difference gradients (f64)", async (t) => {
  const x = { shape: [2, 3, 6, 7] }, w = { shape: [4, 3, 3, 2] }, b = { shape: [4] };
  await t.step(
    "conv2d stride 2, padding (1, 0), dilation (1, 2), bias",
    () =>
      gradcheck(
        "conv2d",
        (xi, wi, bi) => conv2d(xi!, wi!, { bias: bi!, stride: 2, padding: [1, 0], dilation: [1, 2] }),
        [
          x,
          w,
          b,
        ],
      ),
  );
  await t.step(
    "conv2d 1x1 (the patch matrix is the input)",
    () => gradcheck("conv2d 1x1", (xi, wi) => conv2d(xi!, wi!), [x, { shape: [5, 3, 1, 1] }]),
  );
  await t.step(
    "conv2d of a permuted (non-contiguous) input",
    () =>
      gradcheck("conv2d permuted", (xi, wi) => conv2d(permute(xi!, [0, 1, 3, 2]), wi!, { padding: 1 }), [
        x,
        { shape: [2, 3, 3, 3] },
      ]),
  );
  await t.step(
    "maxPool2d 3x3 stride 2 padding 1",
    () => gradcheck("maxPool2d", (xi) => maxPool2d(xi!, 3, { stride: 2, padding: 1 }), [x]),
  );
  await t.step(
    "avgPool2d ceil mode, padding not counted",
    () =>
      gradcheck(
        "avgPool2d",
        (xi) => avgPool2d(xi!, [3, 2], { padding: 1, ceilMode: true, countIncludePad: false }),
        [
          x,
        ],
      ),
  );
  await t.step("adaptiveAvgPool2d to (4, 3) and to 1x1", () => {
    gradcheck("adaptiveAvgPool2d", (xi) => adaptiveAvgPool2d(xi!, [4, 3]), [x]);
    gradcheck("adaptiveAvgPool2d 1", (xi) => adaptiveAvgPool2d(xi!, 1), [x]);
  });
});

Deno.test("conv2d() and pooling compute known values", () =>
  tidy(() => {
    const x = tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]);
    // Sum of each 2x2 window with a ones kernel, plus bias 1.
    const y = conv2d(x, ones([1, 1, 2, 2]), { bias: tensor([1]) });
    assertClose(vals(y), [13, 17, 25, 29]);
    assertClose(vals(maxPool2d(x, 2, { stride: 1 })), [5, 6, 8, 9]);
    assertClose(vals(avgPool2d(x, 2, { stride: 1 })), [3, 4, 6, 7]);
    assertClose(vals(adaptiveAvgPool2d(x, 1)), [5]);
    assertClose(vals(adaptiveAvgPool2d(x, 2)), [3, 4, 6, 7]);
  }));

Deno.test("conv2d() and pooling reject bad input naming the problem", () =>
  tidy(() => {
    const x = ones([1, 3, 5, 5]);
    assertThrows(() => conv2d(ones([3, 5, 5]), ones([2, 3, 3, 3])), "conv2d", "(B, C, H, W)", "[3, 5, 5]");
    assertThrows(() => conv2d(x, ones([2, 4, 3, 3])), "conv2d", "weight", "[2, 4, 3, 3]");
    assertThrows(() => conv2d(x, ones([2, 3, 3, 3]), { bias: ones([3]) }), "bias", "(2)");
    assertThrows(() => conv2d(x, ones([2, 3, 7, 7])), "smaller than the kernel 7x7");
    assertThrows(() => conv2d(x, ones([2, 3, 3, 3]), { stride: 0 }), "stride", "integer >= 1");
    assertThrows(() => conv2d(x, ones([2, 3, 3, 3]), { groups: 3 }), "groups");
    assertThrows(() => conv2d(x, ones([2, 3, 3, 3], { dtype: "f64" })), "dtype mismatch");
    assertThrows(() => maxPool2d(x, 2, { padding: 2 }), "maxPool2d", "at most half the kernel");
    assertThrows(() => maxPool2d(x, 7), "maxPool2d", "smaller than the window 7x7");
    assertThrows(() => avgPool2d(x, 2, { divisorOverride: 0 }), "divisorOverride");
    assertThrows(() => adaptiveAvgPool2d(x, [0, 2]), "outputSize");
    assertThrows(() => maxPool2d(ones([1, 1, 4, 4], { dtype: "i32" }), 2), "float");
  }));
