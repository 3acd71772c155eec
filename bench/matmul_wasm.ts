/**
 * CPU matmul kernels side by side: the WebAssembly SIMD kernel (`CpuBackend`'s default for f32) against the
 * JavaScript f64-accumulating one (`CpuBackend({ matmul: "js" })`), on one and two threads, for a square product
 * and the shapes of the ULMFiT demo's language model (`bench/train_step.ts`): the tied decoder over 2,624 rows
 * (64 x bptt 41) and a vocabulary of 3,000 with its two gradient products, and one LSTM time step's gate product.
 * Prints GFLOP/s per case as JSON lines.
 *
 * `deno task bench matmul_wasm` (`MATMUL_WASM_QUICK=1` for fewer iterations).
 *
 * @module
 */

import type { View } from "../gpu/backend.ts";
import { CpuBackend } from "../gpu/cpu/mod.ts";
import { wasmMatmulFma } from "../gpu/cpu/_wasm_matmul.ts";
import { WASM_PAGES } from "../gpu/cpu/_wasm/matmul_wat.ts";
import { emit, timeMs } from "./_report.ts";

/** (name, m, k, n, a transposed, b transposed) */
const CASES: [string, number, number, number, boolean, boolean][] = [
  ["square_1024", 1024, 1024, 1024, false, false],
  ["decoder_fwd_2624x96@96x3000_bT", 2624, 96, 3000, false, true],
  ["decoder_fwd_2624x96@96x3000", 2624, 96, 3000, false, false],
  ["decoder_dx_2624x3000@3000x96", 2624, 3000, 96, false, false],
  ["decoder_dw_2624x3000^T@2624x96", 3000, 2624, 96, true, false],
  ["lstm_step_64x96@96x384_bT", 64, 96, 384, false, true],
];

function view(cpu: CpuBackend, rows: number, cols: number, transposed: boolean): View {
  const storage = cpu.alloc(rows * cols, "f32");
  cpu.write(storage, Float32Array.from({ length: rows * cols }, () => Math.random() - 0.5));
  // A transposed operand is the transpose of a contiguous (cols, rows) matrix, as autograd produces it.
  return { storage, shape: [rows, cols], strides: transposed ? [1, rows] : [cols, 1], offset: 0 };
}

/** Run the suite. */
export async function run(): Promise<void> {
  const quick = Deno.env.get("MATMUL_WASM_QUICK") === "1";
  const fma = wasmMatmulFma();
  for (const kernel of ["js", "wasm"] as const) {
    for (const threads of [1, 2]) {
      const cpu = new CpuBackend({ threads, matmul: kernel });
      for (const [name, m, k, n, ta, tb] of CASES) {
        const a = view(cpu, m, k, ta), b = view(cpu, k, n, tb), c = view(cpu, m, n, false);
        const flops = 2 * m * n * k;
        const budget = (kernel === "js" ? 4e9 : 2e10) * (quick ? 0.25 : 1);
        const iters = Math.max(3, Math.min(200, Math.round(budget / flops / 5)));
        const ms = await timeMs(() => cpu.run("matmul", [a, b], [c], {}), { iters, warmup: 2 });
        emit({
          suite: "matmul_wasm",
          case: `${name}_${kernel}_threads${threads}`,
          backend: "cpu",
          value: +(flops / (ms * 1e6)).toFixed(2),
          unit: "GFLOP/s",
          kernel,
          threads,
          ms: +ms.toFixed(3),
          ...(kernel === "wasm" ? { fma, wasm_memory_kb: WASM_PAGES * 64 } : {}),
        });
        for (const v of [a, b, c]) cpu.free(v.storage);
      }
      cpu.dispose();
    }
  }
}

if (import.meta.main) await run();
