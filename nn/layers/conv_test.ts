import { strict as assert } from "node:assert";
import { AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, Conv2d, MaxPool2d } from "./conv.ts";
import { BatchNorm2d } from "./batchnorm.ts";
import { mul } from "../ops_elementwise.ts";
import { sum } from "../ops_reduce.ts";
import { fromArray, liveTensors, type Tensor, tidy } from "../tensor.ts";
import { setBackend } from "../engine.ts";
import { createBackend } from "../../gpu/create_backend.ts";
import { gpuTest } from "../../gpu/_testing.ts";

interface Case {
  y: number[];
  shape: number[];
  r: number[];
  grad_x: number[];
  [k: string]: unknown;
}
const fx = JSON.parse(await Deno.readTextFile(new URL("./testdata/conv_fixture.json", import.meta.url))) as
  & Record<
    string,
    Case
  >
  & { dims: Record<string, number>; conv: Case & { x: number[] } };
const { B, C, H, W, O, K } = fx.dims as Record<string, number>;

function close(actual: ArrayLike<number>, expected: readonly number[], what: string, tol = 1e-4): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!, a = actual[i]!;
    assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${what}[${i}]: expected ${e}, got ${a}`);
  }
}

async function check(name: string, layer: { forward(x: Tensor): Tensor }): Promise<void> {
  const c = fx[name]!;
  const x = fromArray(fx.conv.x, [B!, C!, H!, W!], { requiresGrad: true });
  const y = tidy(() => {
    const y = layer.forward(x);
    sum(mul(y, fromArray(c.r, c.shape))).backward();
    return y;
  });
  assert.deepEqual(y.shape, c.shape);
  close(await y.data(), c.y, `${name} output`);
  close(await x.grad!.data(), c.grad_x, `${name} grad x`);
  y.dispose();
  x.dispose();
}

async function allMatchTorch(): Promise<void> {
  const before = liveTensors();
  const conv = new Conv2d(C!, O!, K!, { stride: 2, padding: 1 });
  conv.weight.backend.write(conv.weight.view.storage, Float32Array.from(fx.conv.weight as number[]));
  conv.bias!.backend.write(conv.bias!.view.storage, Float32Array.from(fx.conv.bias as number[]));
  await check("conv", conv);
  close(await conv.weight.grad!.data(), fx.conv.grad_weight as number[], "grad weight");
  close(await conv.bias!.grad!.data(), fx.conv.grad_bias as number[], "grad bias");
  conv.dispose();
  assert.equal(liveTensors(), before, "no tensor leaks");
  await check("maxpool", new MaxPool2d(2));
  await check("avgpool", new AvgPool2d(3, { stride: 2, padding: 1 }));
  const bn = new BatchNorm2d(C!);
  await check("bn", bn);
  close(await bn.runningMean.data(), fx.bn!.running_mean as number[], "running mean");
  close(await bn.runningVar.data(), fx.bn!.running_var as number[], "running var");
  bn.dispose();
}

Deno.test(
  "Conv2d (stride 2, padding 1), MaxPool2d, AvgPool2d, BatchNorm2d match PyTorch: outputs, gradients, running stats",
  allMatchTorch,
);

gpuTest("Conv2d, pooling and BatchNorm2d match PyTorch, on WebGPU", async () => {
  const { backend } = await createBackend({ prefer: "webgpu", quiet: true });
  const prev = setBackend(backend);
  try {
    await allMatchTorch();
  } finally {
    if (prev) setBackend(prev);
    backend.dispose();
  }
});

Deno.test("AdaptiveAvgPool2d()/AdaptiveMaxPool2d() pool to 1x1", () =>
  tidy(() => {
    const x = fromArray([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2]);
    assert.deepEqual(Array.from(new AdaptiveAvgPool2d().forward(x).dataSync()), [2.5, 6.5]);
    assert.deepEqual(Array.from(new AdaptiveMaxPool2d().forward(x).dataSync()), [4, 8]);
    assert.throws(() => new Conv2d(3, 4, 3).forward(x), /\(B, 3, H, W\)/);
  }));

Deno.test("Conv2d() initialises like PyTorch and passes torchvision-style options to the op", () =>
  tidy(() => {
    const conv = new Conv2d(4, 6, [3, 2], { stride: [2, 1], padding: [1, 0], dilation: 2, bias: false });
    const bound = 1 / Math.sqrt(4 * 3 * 2);
    const w = conv.weight.dataSync();
    assert.equal(conv.bias, null);
    assert.deepEqual(conv.weight.shape, [6, 4, 3, 2]);
    assert.ok(w.every((v) => Math.abs(v) <= bound), "weights within ±1/sqrt(fan_in)");
    assert.ok(Math.max(...w) > 0.8 * bound && Math.min(...w) < -0.8 * bound, "weights spread over the range");
    const x = fromArray(Array.from({ length: 2 * 4 * 9 * 8 }, (_, i) => Math.sin(i)), [2, 4, 9, 8]);
    // H: (9 + 2 - 2*2 - 1) / 2 + 1 = 4; W: (8 - 2*1 - 1) / 1 + 1 = 6
    assert.deepEqual(conv.forward(x).shape, [2, 6, 4, 6]);
    assert.deepEqual(new MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }).forward(x).shape, [
      2,
      4,
      5,
      5,
    ]);
    assert.deepEqual(new AvgPool2d([2, 3], { countIncludePad: false }).forward(x).shape, [2, 4, 4, 2]);
    assert.deepEqual(new AdaptiveAvgPool2d([3, 5]).forward(x).shape, [2, 4, 3, 5]);
    assert.throws(() => new Conv2d(4, 6, 3, { groups: 2 }), /groups/);
    conv.dispose();
  }));
