import type { View } from "../../backend.ts";
import { Rng } from "../../rng.ts";
import { assertClose, assertThrows, type Kind, outView, randomView, readView, store } from "../_test_util.ts";
import { CpuBackend } from "../mod.ts";

Deno.test("gather and scatterAdd kernels move rows by id", async (t) => {
  const cpu = new CpuBackend();
  const rng = new Rng(33);
  await t.step("gather rows of a (possibly transposed) table, with repeats", () => {
    for (const [V, D, N] of [[1, 1, 1], [17, 3, 40], [1031, 5, 7], [4, 6, 0], [3, 0, 2]] as const) {
      for (const kind of ["contig", "colmajor", "padded"] as Kind[]) {
        const table = randomView(cpu, [V, D], { kind, rng });
        const idsData = Array.from({ length: N }, () => rng.int(V));
        const ids: View = { storage: store(cpu, "i32", idsData), shape: [N], strides: [1], offset: 0 };
        const y = outView(cpu, [N, D]);
        cpu.run("gather", [table.view, ids], [y], {});
        const want = idsData.flatMap((id) => Array.from(table.values.subarray(id * D, (id + 1) * D)));
        assertClose(readView(cpu, y), want, `gather ${[V, D, N]} ${kind}`);
      }
    }
  });
  await t.step("scatterAdd accumulates duplicate ids", () => {
    for (const [V, D, N] of [[1, 1, 3], [17, 3, 40], [5, 1031, 9], [4, 6, 0]] as const) {
      const src = randomView(cpu, [N, D], { kind: "colmajor", rng });
      const idsData = Array.from({ length: N }, () => rng.int(V));
      const ids: View = { storage: store(cpu, "i32", idsData), shape: [N], strides: [1], offset: 0 };
      const table = outView(cpu, [V, D], "f64");
      cpu.write(table.storage, new Float64Array(V * D).fill(0.5));
      cpu.run("scatterAdd", [src.view, ids], [table], {});
      const want = new Float64Array(V * D).fill(0.5);
      idsData.forEach((id, i) => {
        for (let d = 0; d < D; d++) want[id * D + d] = want[id * D + d]! + src.values[i * D + d]!;
      });
      assertClose(readView(cpu, table), want, `scatterAdd ${[V, D, N]}`, { rtol: 1e-12 });
    }
  });
  await t.step("ids outside [0, V) are errors naming the id and the shapes", () => {
    const table = randomView(cpu, [4, 2], { rng });
    const ids: View = { storage: store(cpu, "i32", [0, 4]), shape: [2], strides: [1], offset: 0 };
    assertThrows(() => cpu.run("gather", [table.view, ids], [outView(cpu, [2, 2])], {}), [
      "gather",
      "id 4",
      "position 1",
      "[4, 2]",
    ]);
    const neg: View = { storage: store(cpu, "i32", [-1, 0]), shape: [2], strides: [1], offset: 0 };
    const before = readView(cpu, table.view);
    assertThrows(() => cpu.run("scatterAdd", [outView(cpu, [2, 2]), neg], [table.view], {}), [
      "scatterAdd",
      "id -1",
    ]);
    assertClose(readView(cpu, table.view), before, "a failed scatterAdd leaves the table untouched");
    const f32ids = outView(cpu, [2]);
    assertThrows(() => cpu.run("gather", [table.view, f32ids], [outView(cpu, [2, 2])], {}), [
      "gather",
      "i32",
    ]);
  });
});
