import { assert, assertThrows } from "./_gradcheck.ts";
import {
  BACKEND_ENV,
  getBackend,
  isGradEnabled,
  noGrad,
  setBackend,
  useBackend,
  withGrad,
} from "./engine.ts";
import { add } from "./ops_elementwise.ts";
import { ones } from "./tensor.ts";
import { CpuBackend } from "../gpu/mod.ts";

Deno.test("setBackend() switches where new tensors live; mixing backends is an error", () => {
  const original = getBackend();
  const other = new CpuBackend();
  const a = ones([2]);
  const prev = setBackend(other);
  try {
    assert(prev === original, "setBackend returns the previous backend");
    const b = ones([2]);
    assert(b.backend === other && a.backend === original, "tensors remember their backend");
    assertThrows(() => add(a, b), "add", "different backends");
    b.dispose();
  } finally {
    setBackend(original);
    a.dispose();
  }
});

Deno.test("useBackend() honours the kind and the environment override", async () => {
  const original = getBackend();
  const saved = Deno.env.get(BACKEND_ENV);
  try {
    const cpu = await useBackend("cpu");
    assert(cpu.name === "cpu" && getBackend() === cpu, "explicit cpu");
    Deno.env.set(BACKEND_ENV, "cpu");
    assert((await useBackend("auto")).name === "cpu", "env override to cpu");
    Deno.env.set(BACKEND_ENV, "tpu");
    let msg = "";
    await useBackend("auto").catch((e: Error) => (msg = e.message));
    assert(msg.includes(BACKEND_ENV) && msg.includes("tpu"), `bad env value error: ${msg}`);
  } finally {
    if (saved === undefined) Deno.env.delete(BACKEND_ENV);
    else Deno.env.set(BACKEND_ENV, saved);
    setBackend(original);
  }
});

Deno.test("noGrad() and withGrad() nest and restore the mode, also on errors", () => {
  assert(isGradEnabled(), "on by default");
  noGrad(() => {
    assert(!isGradEnabled(), "off inside noGrad");
    withGrad(true, () => assert(isGradEnabled(), "withGrad(true) re-enables"));
    assert(!isGradEnabled(), "restored to off");
  });
  assertThrows(() =>
    noGrad(() => {
      throw new Error("inside");
    }), "inside");
  assert(isGradEnabled(), "restored after a throw");
});
