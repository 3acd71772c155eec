/**
 * The WebGPU conv and pooling kernels against the CPU reference on random and awkward shapes (1, 3, 17, a
 * 1000+ wide image, odd channel counts that leave partial blocks of 4, operands at offsets inside larger
 * storages). Ignored where there is no WebGPU adapter.
 */
import type { AvgPool2dAttrs, Conv2dAttrs, DType, KernelAttrs, MaxPool2dAttrs, View } from "../../backend.ts";
import { windowOutputSize } from "../../conv_geometry.ts";
import { CpuBackend } from "../../cpu/mod.ts";
import type { KernelName } from "../../kernel_names.ts";
import { Rng } from "../../rng.ts";
import { gpuTest } from "../../_testing.ts";
import { createWebGpuBackend, type WebGpuBackend } from "../backend.ts";

interface Both {
  g: View;
  c: View;
}

/** Both backends with the same data: views are made at `offset` inside a storage one element larger. */
class Pair {
  rng = new Rng(7);
  constructor(readonly gpu: WebGpuBackend, readonly cpu: CpuBackend) {}

  tensor(shape: number[], { dtype = "f32" as DType, offset = 0, fill = () => this.rng.normal() } = {}): Both {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = dtype === "i32" ? new Int32Array(n + offset) : new Float32Array(n + offset);
    for (let i = 0; i < n + offset; i++) data[i] = fill();
    const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
    const g = this.gpu.alloc(n + offset, dtype), c = this.cpu.alloc(n + offset, dtype);
    this.gpu.write(g, data);
    this.cpu.write(c, data);
    return { g: { storage: g, shape, strides, offset }, c: { storage: c, shape, strides, offset } };
  }

  run<K extends KernelName>(name: K, ins: Both[], outs: Both[], attrs: KernelAttrs[K]): void {
    this.cpu.run(name, ins.map((v) => v.c), outs.map((v) => v.c), attrs);
    this.gpu.run(name, ins.map((v) => v.g), outs.map((v) => v.g), attrs);
  }

  async expectClose(what: string, v: Both, { atol = 1e-4, rtol = 1e-4 } = {}): Promise<void> {
    const g = await this.gpu.read(v.g.storage), c = this.cpu.readSync(v.c.storage);
    for (let i = v.g.offset; i < g.length; i++) {
      const a = g[i]!, b = c[i]!;
      if (Number.isNaN(a) && Number.isNaN(b)) continue;
      if (!(Math.abs(a - b) <= atol + rtol * Math.abs(b))) {
        throw new Error(`${what}: element ${i} of ${g.length}: gpu ${a} vs cpu ${b}`);
      }
    }
  }
}

async function withPair(fn: (p: Pair) => Promise<void>): Promise<void> {
  const made = await createWebGpuBackend();
  if (!made.backend) throw new Error(`no WebGPU backend: ${made.reason}`);
  const cpu = new CpuBackend();
  try {
    await fn(new Pair(made.backend, cpu));
  } finally {
    made.backend.dispose();
    cpu.dispose();
  }
}

const A = (s: [number, number], p: [number, number], d: [number, number] = [1, 1]): Conv2dAttrs => ({
  stride: s,
  padding: p,
  dilation: d,
});

/** `[B, C, H, W, O, KH, KW]` and the geometry. */
const CONVS: [number[], Conv2dAttrs][] = [
  [[1, 1, 1, 1, 1, 1, 1], A([1, 1], [0, 0])],
  [[2, 3, 17, 17, 5, 7, 7], A([2, 2], [3, 3])],
  [[3, 5, 9, 11, 6, 3, 3], A([1, 1], [1, 1])],
  [[1, 2, 10, 9, 3, 3, 2], A([2, 1], [1, 0], [2, 1])],
  [[2, 7, 6, 6, 9, 1, 1], A([2, 2], [0, 0])],
  [[1, 3, 3, 1031, 4, 3, 3], A([1, 2], [1, 1])],
];

gpuTest("WebGPU conv2d kernels match the CPU backend", async (t) => {
  await withPair(async (p) => {
    for (const [[B, C, H, W, O, KH, KW], attrs] of CONVS) {
      await t.step(
        `x [${B}, ${C}, ${H}, ${W}], w [${O}, ${C}, ${KH}, ${KW}], ${JSON.stringify(attrs)}`,
        async () => {
          const OH = windowOutputSize(H!, {
            kernel: KH!,
            stride: attrs.stride[0],
            padding: attrs.padding[0],
            dilation: attrs.dilation[0],
          });
          const OW = windowOutputSize(W!, {
            kernel: KW!,
            stride: attrs.stride[1],
            padding: attrs.padding[1],
            dilation: attrs.dilation[1],
          });
          const x = p.tensor([B!, C!, H!, W!], { offset: 3 }),
            w = p.tensor([O!, C!, KH!, KW!], { offset: 1 });
          const bias = p.tensor([O!], { offset: 2 }), dy = p.tensor([B!, O!, OH, OW], { offset: 5 });
          const y = p.tensor([B!, O!, OH, OW], { offset: 1 }), dx = p.tensor([B!, C!, H!, W!], { offset: 2 });
          const dw = p.tensor([O!, C!, KH!, KW!]), db = p.tensor([O!], { offset: 4 });
          p.run("conv2d", [x, w, bias], [y], attrs);
          await p.expectClose("conv2d", y);
          p.run("conv2d", [x, w], [y], attrs);
          await p.expectClose("conv2d without bias", y);
          p.run("conv2dBackwardInput", [dy, w], [dx], attrs);
          await p.expectClose("conv2dBackwardInput", dx);
          p.run("conv2dBackwardWeight", [x, dy], [dw, db], attrs);
          await p.expectClose("conv2dBackwardWeight dw", dw, { atol: 1e-3, rtol: 1e-4 });
          await p.expectClose("conv2dBackwardWeight db", db, { atol: 1e-3, rtol: 1e-4 });
        },
      );
    }
  });
});

const MAX: [number[], MaxPool2dAttrs][] = [
  [[1, 1, 1, 1], { kernel: [1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1], ceilMode: false }],
  [[2, 3, 17, 17], { kernel: [3, 3], stride: [2, 2], padding: [1, 1], dilation: [1, 1], ceilMode: false }],
  [[1, 2, 7, 8], { kernel: [2, 2], stride: [2, 2], padding: [0, 0], dilation: [1, 1], ceilMode: true }],
  [[1, 3, 10, 1031], { kernel: [3, 2], stride: [2, 3], padding: [1, 1], dilation: [2, 1], ceilMode: true }],
];

const AVG: [number[], AvgPool2dAttrs][] = [
  [[2, 3, 17, 17], {
    kernel: [3, 3],
    stride: [2, 2],
    padding: [1, 1],
    ceilMode: false,
    countIncludePad: true,
    divisorOverride: 0,
  }],
  [[1, 2, 7, 8], {
    kernel: [2, 3],
    stride: [2, 1],
    padding: [1, 1],
    ceilMode: true,
    countIncludePad: false,
    divisorOverride: 0,
  }],
  [[1, 3, 5, 1031], {
    kernel: [3, 3],
    stride: [1, 2],
    padding: [0, 1],
    ceilMode: false,
    countIncludePad: true,
    divisorOverride: 5,
  }],
];

gpuTest("WebGPU pooling kernels match the CPU backend", async (t) => {
  await withPair(async (p) => {
    for (const [[B, C, H, W], attrs] of MAX) {
      await t.step(`maxPool2d [${B}, ${C}, ${H}, ${W}] ${JSON.stringify(attrs)}`, async () => {
        const size = (i: 0 | 1, n: number) =>
          windowOutputSize(n, {
            kernel: attrs.kernel[i],
            stride: attrs.stride[i],
            padding: attrs.padding[i],
            dilation: attrs.dilation[i],
            ceilMode: attrs.ceilMode,
          });
        const out = [B!, C!, size(0, H!), size(1, W!)];
        // Small integers make ties; one NaN per image checks that NaN wins.
        const x = p.tensor([B!, C!, H!, W!], {
          offset: 2,
          fill: () => (p.rng.int(40) === 0 ? NaN : p.rng.int(4)),
        });
        const y = p.tensor(out, { offset: 1 }), idx = p.tensor(out, { dtype: "i32", offset: 3 });
        p.run("maxPool2d", [x], [y, idx], attrs);
        await p.expectClose("maxPool2d", y, { atol: 0, rtol: 0 });
        await p.expectClose("maxPool2d indices", idx, { atol: 0, rtol: 0 });
        const dy = p.tensor(out, { offset: 1 }), dx = p.tensor([B!, C!, H!, W!], { offset: 2 });
        p.run("maxPool2dBackward", [dy, idx], [dx], attrs);
        await p.expectClose("maxPool2dBackward", dx, { atol: 1e-6, rtol: 1e-6 });
      });
    }
    for (const [[B, C, H, W], attrs] of AVG) {
      await t.step(`avgPool2d [${B}, ${C}, ${H}, ${W}] ${JSON.stringify(attrs)}`, async () => {
        const size = (i: 0 | 1, n: number) =>
          windowOutputSize(n, {
            kernel: attrs.kernel[i],
            stride: attrs.stride[i],
            padding: attrs.padding[i],
            ceilMode: attrs.ceilMode,
          });
        const out = [B!, C!, size(0, H!), size(1, W!)];
        const x = p.tensor([B!, C!, H!, W!], { offset: 1 }), y = p.tensor(out, { offset: 2 });
        p.run("avgPool2d", [x], [y], attrs);
        await p.expectClose("avgPool2d", y, { atol: 1e-5, rtol: 1e-5 });
        const dy = p.tensor(out, { offset: 3 }), dx = p.tensor([B!, C!, H!, W!]);
        p.run("avgPool2dBackward", [dy], [dx], attrs);
        await p.expectClose("avgPool2dBackward", dx, { atol: 1e-5, rtol: 1e-5 });
      });
    }
    for (const [shape, out] of [[[2, 3, 7, 7], [1, 1]], [[1, 2, 5, 5], [7, 7]], [[2, 3, 7, 1031], [3, 17]]]) {
      await t.step(`adaptiveAvgPool2d ${shape} -> ${out}`, async () => {
        const [B, C] = shape as [number, number];
        const x = p.tensor(shape!, { offset: 1 }), y = p.tensor([B, C, ...out!], { offset: 2 });
        p.run("adaptiveAvgPool2d", [x], [y], {});
        await p.expectClose("adaptiveAvgPool2d", y, { atol: 1e-5, rtol: 1e-5 });
        const dy = p.tensor([B, C, ...out!]), dx = p.tensor(shape!, { offset: 3 });
        p.run("adaptiveAvgPool2dBackward", [dy], [dx], {});
        await p.expectClose("adaptiveAvgPool2dBackward", dx, { atol: 1e-5, rtol: 1e-5 });
      });
    }
  });
});
