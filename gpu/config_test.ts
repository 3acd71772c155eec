import { BACKEND_ENV, BLAS_ENV, CPU_MATMUL_ENV, PROGRESS_ENV, readConfig } from "./config.ts";
import { withBackendEnv } from "./_testing.ts";
import { withEnv } from "./cpu/_blas_testing.ts";

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

Deno.test("readConfig() reads DENOFIT_BACKEND and rejects unknown values by name", async (t) => {
  await t.step("unset and empty are null", async () => {
    assert((await withBackendEnv(undefined, readConfig)).backend === null, "unset");
    assert((await withBackendEnv("", readConfig)).backend === null, "empty");
  });
  await t.step("each allowed value comes back typed", async () => {
    for (const v of ["cpu", "webgpu", "auto"]) {
      assert((await withBackendEnv(v, readConfig)).backend === v, v);
    }
  });
  await t.step("an unknown value is an error naming the variable and the choices", async () => {
    let msg = "";
    await withBackendEnv("tpu", readConfig).catch((e: Error) => (msg = e.message));
    assert(msg.includes(BACKEND_ENV) && msg.includes("tpu") && msg.includes("cpu, webgpu, auto"), msg);
  });
});

Deno.test("readConfig() reads DENOFIT_PROGRESS: lines or unset; anything else names the variable", () => {
  const saved = Deno.env.get(PROGRESS_ENV);
  try {
    Deno.env.delete(PROGRESS_ENV);
    assert(readConfig().progress === null, "unset");
    Deno.env.set(PROGRESS_ENV, "lines");
    assert(readConfig().progress === "lines", "lines");
    Deno.env.set(PROGRESS_ENV, "bars");
    let msg = "";
    try {
      readConfig();
    } catch (e) {
      msg = (e as Error).message;
    }
    assert(msg.includes(PROGRESS_ENV) && msg.includes("bars"), msg);
  } finally {
    if (saved === undefined) Deno.env.delete(PROGRESS_ENV);
    else Deno.env.set(PROGRESS_ENV, saved);
  }
});

Deno.test("readConfig() reads DENOFIT_CPU_MATMUL and DENOFIT_BLAS", async (t) => {
  await t.step("each kernel choice comes back typed; unset is null", async () => {
    for (const v of ["auto", "blas", "wasm", "js"]) {
      assert((await withEnv({ [CPU_MATMUL_ENV]: v }, readConfig)).cpuMatmul === v, v);
    }
    assert((await withEnv({ [CPU_MATMUL_ENV]: undefined }, readConfig)).cpuMatmul === null, "unset");
  });
  await t.step("an unknown kernel is an error naming the variable and the choices", async () => {
    let msg = "";
    await withEnv({ [CPU_MATMUL_ENV]: "mkl" }, readConfig).catch((e: Error) => (msg = e.message));
    assert(msg.includes(CPU_MATMUL_ENV) && msg.includes("mkl") && msg.includes("auto, blas, wasm, js"), msg);
  });
  await t.step("the BLAS library path is passed through", async () => {
    const got = await withEnv({ [BLAS_ENV]: "/opt/lib/libopenblas.so.0" }, readConfig);
    assert(got.blasLibrary === "/opt/lib/libopenblas.so.0", String(got.blasLibrary));
  });
});
