import { assert } from "../_test_util.ts";
import { WASM_FMA_BASE64, WASM_PLAIN_BASE64 } from "../_wasm_matmul_bytes.ts";
import { buildWasm, bytesModule, WASM_MODULES } from "./build.ts";
import { matmulWat, WASM_MR, WASM_NR, WASM_PAGES, WASM_UNROLL } from "./matmul_wat.ts";

const hasWat2wasm = await new Deno.Command("wat2wasm", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
})
  .output().then((o) => o.success, () => false);

Deno.test("the committed WebAssembly matmul kernel matches its source", async (t) => {
  await t.step("the committed .wat files are what the generator writes", async () => {
    for (const fma of [true, false]) {
      const want = matmulWat({ mr: WASM_MR, nr: WASM_NR, unroll: WASM_UNROLL, fma }, WASM_PAGES);
      const file = new URL(`./matmul_${fma ? "fma" : "plain"}.wat`, import.meta.url);
      assert(
        (await Deno.readTextFile(file)) === want,
        `${file.pathname} is stale: run gpu/cpu/_wasm/build.ts`,
      );
    }
  });
  await t.step("both modules validate; the plain one needs only SIMD128", () => {
    const decode = (b64: string) => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    assert(WebAssembly.validate(decode(WASM_PLAIN_BASE64)), "plain module does not validate");
    const fma = decode(WASM_FMA_BASE64);
    // 0xfd 0x85 0x02 is f32x4.relaxed_madd; the plain module must not contain it.
    const has = (b: Uint8Array) => b.some((x, i) => x === 0xfd && b[i + 1] === 0x85 && b[i + 2] === 0x02);
    assert(has(fma) && !has(decode(WASM_PLAIN_BASE64)), "relaxed_madd only in the fma module");
  });
  await t.step({
    name: "the committed bytes equal a fresh wat2wasm build",
    ignore: !hasWat2wasm,
    fn: async () => {
      const { bytes } = await buildWasm(WASM_MODULES.matmul);
      const committed = await Deno.readTextFile(new URL("../_wasm_matmul_bytes.ts", import.meta.url));
      assert(
        committed === bytesModule(WASM_MODULES.matmul, bytes),
        "gpu/cpu/_wasm_matmul_bytes.ts is stale: run gpu/cpu/_wasm/build.ts",
      );
    },
  });
  if (!hasWat2wasm) console.warn("skipped the wat2wasm rebuild check: wabt's wat2wasm is not on PATH");
});
