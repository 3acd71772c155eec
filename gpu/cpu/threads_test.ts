import type { View } from "../backend.ts";
import { Rng } from "../rng.ts";
import { assert, assertThrows, type Kind, outView, randomView, readView } from "./_test_util.ts";
import { CpuBackend } from "./mod.ts";

Deno.test("CpuBackend({ threads }) splits large matmuls across workers with bitwise-identical results", async (t) => {
  // The WebAssembly kernel's split across our worker threads (BLAS products use the library's threads instead).
  const one = new CpuBackend({ matmul: "wasm" });
  const three = new CpuBackend({ threads: 3, matmul: "wasm" });
  assert(three.threads === 3 && one.threads === 1, "threads getter");
  // Every case is above the threading threshold (30 MFLOP for the WebAssembly kernel, 4 MFLOP for row products).
  const cases: [string, number[], number[], Kind, Kind][] = [
    ["columns split, b transposed", [100, 200], [200, 1030], "contig", "colmajor"],
    ["row-times-matrix split (M = 2)", [2, 1152], [1152, 1030], "contig", "colmajor"],
    ["a transposed, odd N", [70, 600], [600, 401], "colmajor", "contig"],
    ["batches split, shared weights", [7, 64, 256], [7, 256, 200], "contig", { broadcast: 0 }],
    [
      "wasm block edges (MC 128, KC 256, NC 1024), both transposed",
      [130, 300],
      [300, 1100],
      "colmajor",
      "colmajor",
    ],
    ["rows split (tall, narrow output), a transposed", [1030, 300], [300, 70], "colmajor", "contig"],
    ["rows split, b transposed, k past KC", [517, 900], [900, 40], "contig", "colmajor"],
  ];
  for (const [name, as, bs, ka, kb] of cases) {
    await t.step(name, () => {
      const results = [one, three].map((cpu) => {
        const a = randomView(cpu, as, { kind: ka, rng: new Rng(5) });
        const b = randomView(cpu, bs, { kind: kb, rng: new Rng(6) });
        const cShape = [...as.slice(0, -1), bs[bs.length - 1]!];
        const c = outView(cpu, cShape);
        cpu.run("matmul", [a.view, b.view], [c], {});
        cpu.run("matmul", [a.view, b.view], [c], { accumulate: true });
        return readView(cpu, c);
      });
      const [r1, r3] = results as [Float64Array, Float64Array];
      assert(r1.length > 0 && r1.some((v) => v !== 0), "non-trivial result");
      for (let i = 0; i < r1.length; i++) {
        assert(r1[i] === r3[i], `${name}: element ${i} ${r3[i]} != ${r1[i]}`);
      }
    });
  }
  await t.step('the JavaScript kernel (matmul: "js") threads with identical bits too', () => {
    const [js1, js2] = [new CpuBackend({ matmul: "js" }), new CpuBackend({ matmul: "js", threads: 2 })];
    // Split by columns (40 x 500), then by rows (600 x 40).
    for (const [m, k, n] of [[40, 300, 500], [600, 300, 40]] as const) {
      const [r1, r2] = [js1, js2].map((cpu) => {
        const a = randomView(cpu, [m, k], { rng: new Rng(7) }),
          b = randomView(cpu, [k, n], { rng: new Rng(8) });
        const c = outView(cpu, [m, n]);
        cpu.run("matmul", [a.view, b.view], [c], {});
        return readView(cpu, c);
      }) as [Float64Array, Float64Array];
      assert(
        r1.some((v) => v !== 0) && r1.every((v, i) => v === r2[i]),
        `js kernel ${[m, k, n]}: threads differ`,
      );
    }
    js1.dispose(), js2.dispose();
  });
  await t.step("storages of a threaded backend are shared; bad thread counts are errors", () => {
    const s = three.alloc(4, "f64");
    const v: View = { storage: s, shape: [2, 2], strides: [2, 1], offset: 0 };
    three.write(s, new Float64Array([1, 2, 3, 4]));
    const c = outView(three, [2, 2], "f64");
    three.run("matmul", [v, v], [c], {});
    assert(readView(three, c).join() === "7,10,15,22", "small product on the caller");
    assertThrows(() => new CpuBackend({ threads: 0 }), ["threads", "0"]);
  });
  three.dispose();
  one.dispose();
});
