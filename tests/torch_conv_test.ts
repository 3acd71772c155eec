/**
 * Convolution and pooling ops against PyTorch on both backends: forward outputs, max-pooling indices and the
 * gradient of every input from `tests/fixtures/torch_conv.json` (made by `tests/fixtures/torch_conv.py`), in f32
 * within 1e-4 relative (plus 1e-5 absolute for values near zero).
 */
import {
  adaptiveAvgPool2d,
  avgPool2d,
  conv2d,
  fromArray,
  maxPool2d,
  setBackend,
  type Size2d,
  type Tensor,
  tidy,
} from "../nn/mod.ts";
import { type Backend, CpuBackend, createWebGpuBackend } from "../gpu/mod.ts";

interface Arr {
  shape: number[];
  data: number[];
}
interface Case {
  name: string;
  op: "conv2d" | "maxPool2d" | "avgPool2d" | "adaptiveAvgPool2d";
  options: Record<string, unknown>;
  inputs: Arr[];
  out: Arr;
  gradOut: Arr;
  grads: Arr[];
  indices?: Arr;
}

const fixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/torch_conv.json", import.meta.url)),
) as { torch: string; cases: Case[] };

function close(what: string, got: ArrayLike<number>, want: Arr, rtol = 1e-4, atol = 1e-5): void {
  if (got.length !== want.data.length) {
    throw new Error(`${what}: ${got.length} values, PyTorch ${want.data.length}`);
  }
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!, w = want.data[i]!;
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) {
      throw new Error(`${what}[${i}]: got ${g}, PyTorch ${w}`);
    }
  }
}

const size = (v: unknown): Size2d => v as Size2d;
const opt = (v: unknown): Size2d | null => v as Size2d | null;

/** The op of a case applied to its inputs. */
function apply(c: Case, xs: Tensor[]): Tensor {
  const o = c.options;
  switch (c.op) {
    case "conv2d":
      return conv2d(xs[0]!, xs[1]!, {
        bias: xs[2] ?? null,
        stride: size(o.stride),
        padding: size(o.padding),
        dilation: size(o.dilation),
      });
    case "maxPool2d":
      return maxPool2d(xs[0]!, size(o.kernelSize), {
        stride: opt(o.stride),
        padding: size(o.padding),
        dilation: size(o.dilation),
        ceilMode: o.ceilMode as boolean,
      });
    case "avgPool2d":
      return avgPool2d(xs[0]!, size(o.kernelSize), {
        stride: opt(o.stride),
        padding: size(o.padding),
        ceilMode: o.ceilMode as boolean,
        countIncludePad: o.countIncludePad as boolean,
        divisorOverride: o.divisorOverride as number | null,
      });
    case "adaptiveAvgPool2d":
      return adaptiveAvgPool2d(xs[0]!, size(o.outputSize));
  }
}

/** The `maxPool2d` kernel's indices for the case's input, read straight from the backend. */
async function indices(backend: Backend, c: Case, x: Tensor, y: Tensor): Promise<ArrayLike<number>> {
  const o = c.options;
  const p = (v: unknown, d: number): [number, number] => {
    const s = v ?? d;
    return typeof s === "number" ? [s, s] : s as [number, number];
  };
  const kernel = p(o.kernelSize, 1);
  const idx = backend.alloc(y.size, "i32"), out = backend.alloc(y.size, "f32");
  const view = (s: typeof idx) => ({ storage: s, shape: y.shape, strides: y.strides, offset: 0 });
  backend.run("maxPool2d", [x.view], [view(out), view(idx)], {
    kernel,
    stride: o.stride === null ? kernel : p(o.stride, 1),
    padding: p(o.padding, 0),
    dilation: p(o.dilation, 1),
    ceilMode: o.ceilMode as boolean,
  });
  const data = await backend.read(idx);
  backend.free(idx);
  backend.free(out);
  return data;
}

async function runCases(t: Deno.TestContext, backend: Backend): Promise<void> {
  const prev = setBackend(backend);
  try {
    for (const c of fixture.cases) {
      await t.step(`${c.op}: ${c.name}`, async () => {
        const xs = c.inputs.map((a) => fromArray(a.data, a.shape, { requiresGrad: true }));
        const out = tidy(() => {
          const y = apply(c, xs);
          y.backward(fromArray(c.gradOut.data, c.gradOut.shape));
          return y;
        });
        try {
          if (out.shape.join() !== c.out.shape.join()) {
            throw new Error(`${c.name}: shape [${out.shape}], PyTorch [${c.out.shape}]`);
          }
          close(`${c.name} forward`, await out.data(), c.out);
          if (c.indices) close(`${c.name} indices`, await indices(backend, c, xs[0]!, out), c.indices, 0, 0);
          for (const [i, g] of c.grads.entries()) {
            const grad = xs[i]!.grad;
            if (grad === null) throw new Error(`${c.name}: input ${i} got no gradient`);
            close(`${c.name} grad of input ${i}`, await grad.data(), g);
          }
        } finally {
          for (const x of [...xs, out]) x.dispose();
        }
      });
    }
  } finally {
    if (prev) setBackend(prev);
  }
}

Deno.test(`conv2d and pooling match PyTorch ${fixture.torch} forward and backward (f32, CPU backend)`, async (t) => {
  const cpu = new CpuBackend();
  await runCases(t, cpu);
  cpu.dispose();
});

const gpu = await createWebGpuBackend();
Deno.test({
  name: `conv2d and pooling match PyTorch ${fixture.torch} forward and backward (f32, WebGPU backend)` +
    (gpu.backend ? "" : ` (skipped: ${gpu.reason})`),
  ignore: gpu.backend === null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    try {
      await runCases(t, gpu.backend!);
    } finally {
      gpu.backend!.dispose();
    }
  },
});
