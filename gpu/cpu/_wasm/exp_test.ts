import { assert } from "../_test_util.ts";
import { wasmExpKernel } from "../_wasm_exp.ts";
import { WASM_EXP_FMA_BASE64, WASM_EXP_PLAIN_BASE64 } from "../_wasm_exp_bytes.ts";

const decode = (b64: string) => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));

Deno.test("the committed WebAssembly exp kernels compute exp and tanh", async (t) => {
  await t.step("both modules validate; only the fma one uses relaxed SIMD; both instantiate here", () => {
    const fma = decode(WASM_EXP_FMA_BASE64), plain = decode(WASM_EXP_PLAIN_BASE64);
    assert(WebAssembly.validate(plain) && WebAssembly.validate(fma), "exp modules do not validate");
    // 0xfd 0x87 0x02 is f64x2.relaxed_madd.
    const has = (b: Uint8Array) => b.some((x, i) => x === 0xfd && b[i + 1] === 0x87 && b[i + 2] === 0x02);
    assert(has(fma) && !has(plain), "relaxed_madd only in the fma module");
    assert(
      wasmExpKernel() !== null && wasmExpKernel({ fma: false }) !== null,
      "an exp module does not instantiate",
    );
  });
  for (const fma of [true, false]) {
    await t.step(
      `${fma ? "fma" : "plain"} build: sumexp, maxf, softmax_grad and tanh_f64 against Math`,
      () => {
        const w = wasmExpKernel({ fma })!;
        const n = 1003, x = new Float32Array(n);
        for (let i = 0; i < n; i++) x[i] = Math.fround(Math.sin(i * 12.9898) * 40 - 20);
        w.f32.set(x, 0);
        let m = -Infinity, s = 0;
        for (const v of x) m = Math.max(m, v);
        for (const v of x) s += Math.exp(v - m);
        assert(w.maxf(0, n) === m, `maxf ${w.maxf(0, n)}, want ${m}`);
        const got = w.sumexp(0, n, m);
        assert(Math.abs(got - s) <= 1e-14 * s, `sumexp ${got}, Math.exp sum ${s}`);
        // Every tail length: the tail goes through the same vector code.
        for (let k = 1; k <= 9; k++) {
          let want = 0;
          for (let i = 0; i < k; i++) want += Math.exp(x[i]! - 3);
          const g = w.sumexp(0, k, 3);
          assert(Math.abs(g - want) <= 1e-14 * want, `sumexp of ${k}: ${g}, want ${want}`);
        }
        w.softmaxGrad(0, n, m + 1, -0.5);
        let diff = 0;
        for (let i = 0; i < n; i++) if (w.f32[i] !== Math.fround(-0.5 * Math.exp(x[i]! - (m + 1)))) diff++;
        assert(diff <= 2, `softmax_grad: ${diff} of ${n} differ from Math.exp rounded to f32`);
        const tx = Float32Array.from({ length: 37 }, (_, i) => (i - 18) ** 3 / 300 + (i % 3) * 1e-3);
        w.f32.set(tx, 0);
        w.tanhF64(0, 4096, tx.length);
        for (let i = 0; i < tx.length; i++) {
          const want = Math.tanh(tx[i]!), g = w.f64[512 + i]!;
          assert(
            Math.abs(g - want) <= 1e-15 * Math.abs(want) + 1e-300,
            `tanh(${tx[i]}) = ${g}, want ${want}`,
          );
        }
        // maxf skips NaN (vector body and scalar tail alike); sumexp then propagates it.
        w.f32.set(x, 0);
        w.f32[500] = NaN, w.f32[n - 1] = NaN;
        assert(w.maxf(0, n) === m, `maxf with NaN elements ${w.maxf(0, n)}, want ${m}`);
        assert(Number.isNaN(w.sumexp(0, n, m)), "sumexp of a row with NaN");
        w.f32.fill(NaN, 0, 7);
        assert(w.maxf(0, 0) === -Infinity && w.maxf(0, 7) === -Infinity, "maxf of nothing / all NaN");
      },
    );
  }
});
