import { Rng } from "../../rng.ts";
import { assert } from "../_test_util.ts";
import { WASM_FMA_BASE64, WASM_PLAIN_BASE64 } from "../_wasm_matmul_bytes.ts";
import { WASM_MR, WASM_NR } from "./matmul_wat.ts";

type Fn = (...args: number[]) => void;

/** Both shipped modules, instantiated directly (the driver picks one; the other must be right too). */
function modules(): [string, Record<string, Fn>, Float32Array][] {
  const decode = (b64: string) => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
  const out: [string, Record<string, Fn>, Float32Array][] = [];
  for (const [name, b64] of [["fma", WASM_FMA_BASE64], ["plain", WASM_PLAIN_BASE64]] as const) {
    const bytes = decode(b64);
    if (!WebAssembly.validate(bytes)) continue; // An engine without relaxed SIMD: the driver uses the plain one.
    const x = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
    out.push([
      name,
      x as unknown as Record<string, Fn>,
      new Float32Array((x.memory as WebAssembly.Memory).buffer),
    ]);
  }
  return out;
}

Deno.test("the WebAssembly kernel modules pack and multiply like a naive loop", async (t) => {
  const rng = new Rng(3);
  const mods = modules();
  assert(mods.some(([n]) => n === "plain"), "the plain SIMD128 module always validates");
  for (const [name, x, f] of mods) {
    await t.step(`${name}: pack_t4 / pack_n8, block() with add 0 and 1, kc not a multiple of 4`, () => {
      // A (mc x kc) and B (kc x nc), row-major, staged at float offsets SA and SB.
      const [mc, kc, nc] = [2 * WASM_MR, 7, 3 * WASM_NR];
      const SA = 0, SB = 4096, PA = 8192, PB = 12288, PC = 16384;
      const A = Float32Array.from({ length: mc * kc }, () => rng.random() * 2 - 1);
      const B = Float32Array.from({ length: kc * nc }, () => rng.random() * 2 - 1);
      f.set(A, SA), f.set(B, SB);
      x.pack_t4!(4 * SA, 4 * kc, mc / WASM_MR, kc, 4 * PA);
      x.pack_n8!(4 * SB, 4 * nc, nc / WASM_NR, kc, 4 * PB);
      for (let i = 0; i < mc; i++) {
        for (let k = 0; k < kc; k++) {
          const got = f[PA + Math.floor(i / WASM_MR) * kc * WASM_MR + k * WASM_MR + (i % WASM_MR)];
          assert(got === A[i * kc + k], `${name} pack_t4: A[${i}][${k}]`);
        }
      }
      const C0 = Float32Array.from({ length: mc * nc }, () => rng.random());
      for (const add of [0, 1]) {
        f.set(C0, PC);
        x.block!(mc, nc, kc, 4 * PA, 4 * PB, 4 * PC, 4 * nc, add);
        for (let i = 0; i < mc; i++) {
          for (let j = 0; j < nc; j++) {
            let s = 0, mag = 0;
            for (let k = 0; k < kc; k++) {
              s += A[i * kc + k]! * B[k * nc + j]!, mag += Math.abs(A[i * kc + k]! * B[k * nc + j]!);
            }
            const want = add ? C0[i * nc + j]! + s : s;
            const err = Math.abs(f[PC + i * nc + j]! - want);
            assert(
              err <= (kc + 2) * 2 ** -24 * (mag + Math.abs(want)),
              `${name} add ${add}: C[${i}][${j}] off by ${err}`,
            );
          }
        }
      }
    });
    await t.step(`${name}: pack_t8 and pack_n4 are transposes of each other's layout`, () => {
      const [rows, kc] = [WASM_NR, 10];
      const S = 0, P = 4096, S2 = 8192, P2 = 12288;
      const X = Float32Array.from({ length: rows * kc }, (_, i) => i + 1);
      f.set(X, S);
      x.pack_t8!(4 * S, 4 * kc, 1, kc, 4 * P);
      for (let k = 0; k < kc; k++) {
        for (let r = 0; r < rows; r++) {
          assert(f[P + k * rows + r] === X[r * kc + k], `${name} pack_t8 [${k}][${r}]`);
        }
      }
      // pack_n4 on the k-major copy (kc rows of 8) gives two 4-column slivers.
      f.copyWithin(S2, P, P + rows * kc);
      x.pack_n4!(4 * S2, 4 * rows, 2, kc, 4 * P2);
      for (let s = 0; s < 2; s++) {
        for (let k = 0; k < kc; k++) {
          for (let c = 0; c < 4; c++) {
            assert(
              f[P2 + s * kc * 4 + k * 4 + c] === X[(4 * s + c) * kc + k],
              `${name} pack_n4 [${s}][${k}][${c}]`,
            );
          }
        }
      }
    });
  }
});
