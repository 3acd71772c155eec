import { BACKEND_ENV, readConfig } from "./config.ts";
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
