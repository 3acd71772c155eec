import { KERNEL_NAMES } from "./kernel_names.ts";
import { CPU_KERNELS } from "./cpu/_kernels/table.ts";
import { GPU_KERNELS } from "./webgpu/_kernels/table.ts";

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

async function familyFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(new URL(dir, import.meta.url))) {
    if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) names.push(e.name);
  }
  return names.sort();
}

Deno.test("KERNEL_NAMES: both backends dispatch every kernel through one table, laid out alike", async (t) => {
  await t.step("each table has exactly the kernel names", () => {
    const want = [...KERNEL_NAMES].sort().join();
    assert(Object.keys(CPU_KERNELS).sort().join() === want, `CPU table: ${Object.keys(CPU_KERNELS)}`);
    assert(Object.keys(GPU_KERNELS).sort().join() === want, `WebGPU table: ${Object.keys(GPU_KERNELS)}`);
  });
  await t.step("the kernel family files have the same names under cpu/ and webgpu/", async () => {
    const cpu = await familyFiles("./cpu/_kernels/"), gpu = await familyFiles("./webgpu/_kernels/");
    assert(cpu.join() === gpu.join(), `cpu/_kernels: ${cpu}; webgpu/_kernels: ${gpu}`);
    for (const f of ["elementwise.ts", "matmul.ts", "rows.ts", "table.ts"]) {
      assert(cpu.includes(f), `missing ${f}`);
    }
  });
});
