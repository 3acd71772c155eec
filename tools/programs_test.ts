import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { probeProgram, runOptional } from "./programs.ts";

const MISSING = "denofit-no-such-program";

Deno.test("runOptional() runs a program or says why it cannot", async (t) => {
  await t.step("a program that exists: its output, whatever the exit code", async () => {
    const r = await runOptional(Deno.execPath(), { args: ["eval", "console.log(6 * 7); Deno.exit(3)"] });
    assert(r.output, r.reason);
    assertEquals([r.output.code, new TextDecoder().decode(r.output.stdout).trim()], [3, "42"]);
  });
  await t.step("a missing program: no throw, the reason names it", async () => {
    const r = await runOptional(MISSING);
    assertEquals(r, { output: null, reason: `${MISSING} is not on PATH` });
  });
});

Deno.test("probeProgram() tells whether a program is usable", async (t) => {
  await t.step("deno --version is", async () => {
    assertEquals(await probeProgram(Deno.execPath()), { ok: true, reason: "" });
  });
  await t.step("a missing program is not, and the reason is printed for what needs it", async () => {
    const warned: unknown[][] = [];
    const warn = console.warn;
    console.warn = (...a: unknown[]) => void warned.push(a);
    try {
      const p = await probeProgram(MISSING, { needed: "the frobnicate tests" });
      assertEquals(p, { ok: false, reason: `${MISSING} is not on PATH` });
    } finally {
      console.warn = warn;
    }
    assertEquals(warned, [[`the frobnicate tests ignored: ${MISSING} is not on PATH`]]);
  });
  await t.step(
    "a program that exits non-zero is not; the reason has the code and its last stderr line",
    async () => {
      const p = await probeProgram(Deno.execPath(), {
        args: ["eval", "console.error('no torch'); Deno.exit(1)"],
      });
      assert(!p.ok);
      assert(p.reason.endsWith("exited with code 1: no torch"), p.reason);
    },
  );
});

Deno.test({
  name: "runOptional() without --allow-run says so instead of throwing",
  permissions: { run: false, read: true },
  async fn() {
    // a program that exists (Deno itself): a missing one is reported as missing before permissions are checked
    const deno = Deno.execPath();
    assertEquals(await runOptional(deno), {
      output: null,
      reason: `no permission to run ${deno} (--allow-run)`,
    });
  },
});
