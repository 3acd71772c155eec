import { createBackend } from "./create_backend.ts";
import { CpuBackend } from "./cpu/mod.ts";
import { WEBGPU_AVAILABLE, withBackendEnv } from "./_testing.ts";

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

Deno.test("createBackend() chooses from the kind, DENOFIT_BACKEND and the adapter", async (t) => {
  await t.step("cpu gets the CPU options; the environment does not override an explicit kind", async () => {
    const { backend, reason } = await withBackendEnv(
      "webgpu",
      () => createBackend({ prefer: "cpu", cpu: { threads: 2 } }),
    );
    assert(backend instanceof CpuBackend && backend.threads === 2, `got ${backend.description}`);
    assert(reason.includes("CPU"), reason);
    backend.dispose();
  });
  await t.step("auto follows DENOFIT_BACKEND=cpu and says so", async () => {
    const { backend, reason } = await withBackendEnv("cpu", () => createBackend({ quiet: true }));
    assert(backend.name === "cpu" && reason.includes("DENOFIT_BACKEND=cpu"), `${backend.name}: ${reason}`);
    backend.dispose();
  });
  await t.step("auto takes WebGPU on a hardware adapter; the CPU on a software one or none", async () => {
    let hardware = false;
    if (WEBGPU_AVAILABLE) {
      const gpu = await createBackend({ prefer: "webgpu", quiet: true });
      hardware = !(gpu.backend as { isFallbackAdapter?: boolean }).isFallbackAdapter;
      gpu.backend.dispose();
    }
    const { backend, reason } = await withBackendEnv(undefined, () => createBackend({ quiet: true }));
    assert(backend.name === (hardware ? "webgpu" : "cpu"), `got ${backend.name}: ${reason}`);
    if (WEBGPU_AVAILABLE && !hardware) assert(reason.includes("software rasteriser"), reason);
    if (!WEBGPU_AVAILABLE) assert(reason.includes("no WebGPU adapter"), reason);
    backend.dispose();
  });
  await t.step("a bad kind or a bad DENOFIT_BACKEND is an error naming it", async () => {
    let msg = "";
    await createBackend({ prefer: "tpu" as "cpu" }).catch((e: Error) => (msg = e.message));
    assert(msg.includes("prefer") && msg.includes("tpu"), msg);
    await withBackendEnv("gpu", () => createBackend()).catch((e: Error) => (msg = e.message));
    assert(msg.includes("DENOFIT_BACKEND=gpu"), msg);
  });
});
