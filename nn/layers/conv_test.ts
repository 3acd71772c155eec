import { strict as assert } from "node:assert";
import { AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, BatchNorm2d, Conv2d, MaxPool2d } from "./conv.ts";
import { mul } from "../ops_elementwise.ts";
import { sum } from "../ops_reduce.ts";
import { fromArray, liveTensors, type Tensor, tidy } from "../tensor.ts";

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

function check(name: string, layer: { forward(x: Tensor): Tensor }): void {
  const c = fx[name]!;
  const x = fromArray(fx.conv.x, [B!, C!, H!, W!], { requiresGrad: true });
  const y = tidy(() => {
    const y = layer.forward(x);
    sum(mul(y, fromArray(c.r, c.shape))).backward();
    return y;
  });
  assert.deepEqual(y.shape, c.shape);
  close(y.dataSync(), c.y, `${name} output`);
  close(x.grad!.dataSync(), c.grad_x, `${name} grad x`);
  y.dispose();
  x.dispose();
}

Deno.test("Conv2d() (stride 2, padding 1) matches PyTorch: output and gradients", () => {
  const before = liveTensors();
  const conv = new Conv2d(C!, O!, K!, { stride: 2, padding: 1 });
  conv.weight.backend.write(conv.weight.view.storage, Float32Array.from(fx.conv.weight as number[]));
  conv.bias!.backend.write(conv.bias!.view.storage, Float32Array.from(fx.conv.bias as number[]));
  check("conv", conv);
  close(conv.weight.grad!.dataSync(), fx.conv.grad_weight as number[], "grad weight");
  close(conv.bias!.grad!.dataSync(), fx.conv.grad_bias as number[], "grad bias");
  conv.dispose();
  assert.equal(liveTensors(), before, "no tensor leaks");
});

Deno.test("MaxPool2d()/AvgPool2d() match PyTorch", () => {
  check("maxpool", new MaxPool2d(2));
  check("avgpool", new AvgPool2d(3, { stride: 2, padding: 1 }));
});

Deno.test("BatchNorm2d() matches PyTorch in training mode, running statistics included", () => {
  const bn = new BatchNorm2d(C!);
  check("bn", bn);
  close(bn.runningMean.dataSync(), fx.bn!.running_mean as number[], "running mean");
  close(bn.runningVar.dataSync(), fx.bn!.running_var as number[], "running var");
  bn.dispose();
});

Deno.test("AdaptiveAvgPool2d()/AdaptiveMaxPool2d() pool to 1x1", () =>
  tidy(() => {
    const x = fromArray([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2]);
    assert.deepEqual(Array.from(new AdaptiveAvgPool2d().forward(x).dataSync()), [2.5, 6.5]);
    assert.deepEqual(Array.from(new AdaptiveMaxPool2d().forward(x).dataSync()), [4, 8]);
    assert.throws(() => new Conv2d(3, 4, 3).forward(x), /\(B, 3, H, W\)/);
  }));
