import { assert } from "../_test_util.ts";
import { WASM_FMA_BASE64, WASM_PLAIN_BASE64 } from "../_wasm_matmul_bytes.ts";
import { buildWasm, bytesModule, WASM_MODULES } from "./build.ts";
import { probeProgram } from "../../../tools/programs.ts";

// wabt is optional (CI has only Deno): without it the rebuild steps are ignored and the reason printed
const wat2wasm = await probeProgram("wat2wasm", { needed: "the wat2wasm rebuild checks" });

Deno.test("the committed WebAssembly modules match their source", async (t) => {
  for (const spec of Object.values(WASM_MODULES)) {
    await t.step(`${spec.name}: the committed .wat files are what the generator writes`, async () => {
      for (const fma of [true, false]) {
        const file = new URL(`./${spec.name}_${fma ? "fma" : "plain"}.wat`, import.meta.url);
        assert(
          (await Deno.readTextFile(file)) === spec.wat(fma),
          `${file.pathname} is stale: run gpu/cpu/_wasm/build.ts ${spec.name}`,
        );
      }
    });
    await t.step({
      name: `${spec.name}: the committed bytes equal a fresh wat2wasm build${
        wat2wasm.ok ? "" : ` (ignored: ${wat2wasm.reason})`
      }`,
      ignore: !wat2wasm.ok,
      fn: async () => {
        const { bytes } = await buildWasm(spec);
        const file = `../_wasm_${spec.name}_bytes.ts`;
        const committed = await Deno.readTextFile(new URL(file, import.meta.url));
        assert(
          committed === bytesModule(spec, bytes),
          `gpu/cpu/_wasm_${spec.name}_bytes.ts is stale: run gpu/cpu/_wasm/build.ts ${spec.name}`,
        );
      },
    });
  }
  await t.step("matmul: both modules validate; the plain one needs only SIMD128", () => {
    const decode = (b64: string) => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    assert(WebAssembly.validate(decode(WASM_PLAIN_BASE64)), "plain module does not validate");
    const fma = decode(WASM_FMA_BASE64);
    // 0xfd 0x85 0x02 is f32x4.relaxed_madd; the plain module must not contain it.
    const has = (b: Uint8Array) => b.some((x, i) => x === 0xfd && b[i + 1] === 0x85 && b[i + 2] === 0x02);
    assert(has(fma) && !has(decode(WASM_PLAIN_BASE64)), "relaxed_madd only in the fma module");
  });
});
