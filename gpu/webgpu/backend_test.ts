import { gpuTest } from "../_testing.ts";
import type { Storage, View } from "../backend.ts";
import { createWebGpuBackend } from "./backend.ts";
import { grid2d, UniformWriter } from "./_exec.ts";
import { chooseMatmul } from "./_kernels/matmul.ts";
import { sizeClass } from "./_pool.ts";

function v(s: Storage, n: number): View {
  return { storage: s, shape: [n], strides: [1], offset: 0 };
}

function assertEq(a: unknown, b: unknown, msg: string): void {
  if (a !== b) throw new Error(`${msg}: got ${a}, expected ${b}`);
}

Deno.test("webgpu helpers: size classes, 2-D grids, uniforms and the matmul rule table", async (t) => {
  await t.step("sizeClass() rounds up with bounded slack", () => {
    for (const b of [1, 15, 16, 17, 1000, 65536, 65537, 1e6, 4e7]) {
      const c = sizeClass(b);
      const slack = b <= 65536 ? 2 : 1.126; // powers of two up to 64 KiB, then eighths of a power of two
      if (c < b || c > Math.max(16, b * slack)) throw new Error(`class ${c} for ${b} bytes`);
    }
    assertEq(sizeClass(1000), 1024, "small sizes round to powers of two");
    assertEq(sizeClass(900), sizeClass(1000), "nearby sizes share a class");
  });
  await t.step("grid2d() covers n workgroups within 65,535 per dimension", () => {
    for (const n of [1, 65535, 65536, 65537, 10_000_000]) {
      const [x, y] = grid2d(n);
      if (x > 65535 || y > 65535 || x * y < n) throw new Error(`grid ${x}x${y} for ${n}`);
    }
    assertEq(grid2d(65537)[1], 2, "65,537 workgroups need two rows");
  });
  await t.step("UniformWriter encodes u32, i32 and f32 words", () => {
    const u = new UniformWriter();
    u.u32(2 ** 32 + 5), u.i32(-3), u.f32(1.5);
    const w = u.words();
    assertEq(w[0], 5, "u32 wraps");
    assertEq(new Int32Array(w.buffer)[1], -3, "i32");
    assertEq(new Float32Array(w.buffer)[2], 1.5, "f32");
  });
  await t.step("chooseMatmul() picks per adapter and size", () => {
    assertEq(chooseMatmul({ B: 1, M: 4, N: 4, K: 4 }, true), "naive", "tiny");
    assertEq(chooseMatmul({ B: 1, M: 1024, N: 1024, K: 1024 }, true), "texture", "llvmpipe");
    assertEq(chooseMatmul({ B: 1, M: 1024, N: 1024, K: 1024 }, false), "tiled", "discrete GPU");
  });
});

gpuTest("WebGpuBackend orders writes after queued kernels and batches submits", async (t) => {
  const gpu = (await createWebGpuBackend()).backend!;
  try {
    await t.step("a write after a kernel does not change what the kernel read", async () => {
      const a = gpu.alloc(4, "f32"), y = gpu.alloc(4, "f32");
      gpu.write(a, new Float32Array([1, 2, 3, 4]));
      gpu.run("unary", [v(a, 4)], [v(y, 4)], { op: "mulScalar", alpha: 10 });
      gpu.write(a, new Float32Array([0, 0, 0, 0]));
      assertEq(Array.from(await gpu.read(y)).join(","), "10,20,30,40", "kernel saw the old data");
      assertEq(Array.from(await gpu.read(a)).join(","), "0,0,0,0", "the write landed");
    });
    await t.step("100 dispatches go out in a few submits", async () => {
      const x = gpu.alloc(8, "f32"), y = gpu.alloc(8, "f32");
      gpu.write(x, new Float32Array(8).fill(1));
      const s0 = gpu.stats().exec;
      for (let i = 0; i < 100; i++) gpu.run("unary", [v(x, 8)], [v(y, 8)], { op: "exp" });
      await gpu.read(y);
      const s1 = gpu.stats().exec;
      assertEq(s1.dispatches - s0.dispatches, 100, "dispatch count");
      if (s1.submits - s0.submits > 4) {
        throw new Error(`${s1.submits - s0.submits} submits for 100 dispatches`);
      }
      assertEq(s1.bindGroups - s0.bindGroups <= 1, true, "the bind group is reused");
    });
  } finally {
    gpu.dispose();
  }
});

gpuTest("WebGpuBackend turns device loss into errors, never a hang", async () => {
  const gpu = (await createWebGpuBackend()).backend!;
  const x = gpu.alloc(4, "f32");
  gpu.device.destroy();
  await gpu.device.lost;
  let msg = "";
  try {
    await gpu.read(x);
  } catch (e) {
    msg = (e as Error).message;
  }
  if (!/lost/.test(msg)) throw new Error(`read after device loss should fail with "lost", got "${msg}"`);
  let threw = false;
  try {
    gpu.run("unary", [v(x, 4)], [v(x, 4)], { op: "exp" });
  } catch {
    threw = true;
  }
  assertEq(threw, true, "run after loss throws");
  gpu.dispose();
});

gpuTest(
  "WebGpuBackend measures kernel time with timestamp queries when the adapter offers them",
  async () => {
    const gpu = (await createWebGpuBackend()).backend!;
    try {
      if (!gpu.features.has("timestamp-query")) {
        let threw = false;
        try {
          gpu.enableTimestamps();
        } catch {
          threw = true;
        }
        assertEq(threw, true, "enableTimestamps() without the feature throws");
        return;
      }
      gpu.enableTimestamps();
      const x = gpu.alloc(1 << 16, "f32"), y = gpu.alloc(1 << 16, "f32");
      gpu.write(x, new Float32Array(1 << 16).fill(0.5));
      for (let i = 0; i < 5; i++) gpu.run("unary", [v(x, 1 << 16)], [v(y, 1 << 16)], { op: "exp" });
      const ns = await gpu.gpuTimeNs();
      if (!(ns > 0 && ns < 10e9)) throw new Error(`implausible GPU time ${ns} ns`);
    } finally {
      gpu.dispose();
    }
  },
);
