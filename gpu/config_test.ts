import { BACKEND_ENV, PROGRESS_ENV, readConfig } from "./config.ts";
import { withBackendEnv } from "./_testing.ts";

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
