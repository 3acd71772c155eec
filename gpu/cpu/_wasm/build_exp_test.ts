import { assert } from "../_test_util.ts";
import { wasmExpKernel } from "../_wasm_exp.ts";
import { WASM_EXP_BASE64 } from "../_wasm_exp_bytes.ts";
import { buildWasmExp, expBytesModule } from "./build_exp.ts";
import { expWat } from "./exp_wat.ts";

const hasWat2wasm = await new Deno.Command("wat2wasm", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
})
  .output().then((o) => o.success, () => false);

Deno.test("the committed WebAssembly exp kernel matches its source and computes exp", async (t) => {
  await t.step("the committed exp.wat is what the generator writes", async () => {
    const file = new URL("./exp.wat", import.meta.url);
    assert(
      (await Deno.readTextFile(file)) === expWat(),
      `${file.pathname} is stale: run gpu/cpu/_wasm/build_exp.ts`,
    );
  });
  await t.step("the module validates with SIMD128 only and instantiates here", () => {
    const bytes = Uint8Array.from(atob(WASM_EXP_BASE64), (ch) => ch.charCodeAt(0));
    assert(WebAssembly.validate(bytes), "exp module does not validate");
    // 0xfd 0x85 0x02 .. 0xfd 0x94 0x02 are relaxed-SIMD opcodes; none may appear.
    const relaxed = bytes.some((x, i) => x === 0xfd && bytes[i + 2] === 0x02 && bytes[i + 1]! >= 0x80);
    assert(!relaxed, "exp module uses relaxed SIMD");
    assert(wasmExpKernel() !== null, "the exp kernel does not instantiate in this engine");
  });
  await t.step("sumexp is within 1e-14 of Math.exp sums; maxf finds the max (and NaN)", () => {
    const w = wasmExpKernel()!;
    const n = 1003, x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.fround(Math.sin(i * 12.9898) * 40 - 20);
    w.f32.set(x, 0);
    let m = -Infinity, s = 0;
    for (const v of x) m = Math.max(m, v);
    for (const v of x) s += Math.exp(v - m);
    assert(w.maxf(0, n) === m, `maxf ${w.maxf(0, n)}, want ${m}`);
    const got = w.sumexp(0, n, m);
    assert(Math.abs(got - s) <= 1e-14 * s, `sumexp ${got}, Math.exp sum ${s}`);
    // Every tail length: the scalar path computes the same per-element values as the vector one.
    for (let k = 1; k <= 9; k++) {
      let want = 0;
      for (let i = 0; i < k; i++) want += Math.exp(x[i]! - 3);
      const g = w.sumexp(0, k, 3);
      assert(Math.abs(g - want) <= 1e-14 * want, `sumexp of ${k}: ${g}, want ${want}`);
    }
    w.f32[500] = NaN;
    assert(Number.isNaN(w.maxf(0, n)), "maxf ignores NaN");
    assert(w.maxf(0, 0) === -Infinity, "maxf of nothing");
  });
  await t.step({
    name: "the committed bytes equal a fresh wat2wasm build",
    ignore: !hasWat2wasm,
    fn: async () => {
      const { bytes } = await buildWasmExp();
      const committed = await Deno.readTextFile(new URL("../_wasm_exp_bytes.ts", import.meta.url));
      assert(
        committed === expBytesModule(bytes),
        "gpu/cpu/_wasm_exp_bytes.ts is stale: run gpu/cpu/_wasm/build_exp.ts",
      );
    },
  });
});
