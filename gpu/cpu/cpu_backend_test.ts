import type { View } from "../backend.ts";
import { assert, assertClose, assertThrows, outView } from "./_test_util.ts";
import { CpuBackend } from "./mod.ts";

Deno.test("CpuBackend stores, converts, reads back and accounts for memory", async (t) => {
  const cpu = new CpuBackend();
  await t.step("alloc zero-fills each dtype; write converts and honours the offset", async () => {
    const f = cpu.alloc(5, "f32"), i = cpu.alloc(4, "i32"), d = cpu.alloc(3, "f64");
    assert(cpu.readSync(f).every((x) => x === 0), "f32 zeroed");
    cpu.write(f, new Float64Array([0.1, 2.5]), 3);
    assertClose(await cpu.read(f), [0, 0, 0, Math.fround(0.1), 2.5], "f32 write at offset 3");
    cpu.write(i, new Float32Array([1.9, -2.7, 3, 4]));
    assertClose(cpu.readSync(i), [1, -2, 3, 4], "f32 -> i32 truncates");
    cpu.write(d, new Float64Array([1e-300, 0.1, -0]));
    assert(cpu.readSync(d)[0] === 1e-300 && cpu.readSync(d)[1] === 0.1, "f64 keeps full precision");
    assert(cpu.readSync(f) instanceof Float32Array && cpu.readSync(i) instanceof Int32Array, "typed arrays");
    const copy = cpu.readSync(f);
    copy[0] = 99;
    assert(cpu.readSync(f)[0] === 0, "read returns a copy");
    const s = cpu.stats();
    assert(s.liveStorages === 3 && s.liveBytes === 5 * 4 + 4 * 4 + 3 * 8, `stats ${JSON.stringify(s)}`);
    for (const x of [f, i, d]) cpu.free(x);
    const after = cpu.stats();
    assert(
      after.liveStorages === 0 && after.liveBytes === 0 && after.peakBytes === 60,
      JSON.stringify(after),
    );
  });
  await t.step("bad sizes, dtypes, offsets and foreign storages are errors", () => {
    assertThrows(() => cpu.alloc(-1, "f32"), ["size", "-1"]);
    assertThrows(() => cpu.alloc(2.5, "f32"), ["size", "2.5"]);
    assertThrows(() => cpu.alloc(2, "f16" as "f32"), ["dtype", "f16"]);
    const s = cpu.alloc(3, "f32");
    assertThrows(() => cpu.write(s, new Float32Array(2), 2), ["2 elements at offset 2", `#${s.id}`, "3"]);
    const other = new CpuBackend();
    const foreign = other.alloc(3, "f32");
    const mine = cpu.alloc(3, "f32");
    assert(foreign.id === 1 && mine.id !== foreign.id, "ids are per backend");
    assertThrows(() => cpu.readSync({ id: 999, size: 3, dtype: "f32" }), ["#999", "never allocated"]);
    assertThrows(() => cpu.readSync({ ...mine }), [`#${mine.id}`, "another backend"]);
  });
  await t.step("empty storages and views work", () => {
    const e = cpu.alloc(0, "f32");
    assert(cpu.readSync(e).length === 0, "empty read");
    const v = { storage: e, shape: [0, 3], strides: [3, 1], offset: 0 };
    cpu.run("unary", [v], [v], { op: "exp" });
  });
  await t.step("dispose frees everything and refuses further use", () => {
    cpu.dispose();
    assert(cpu.stats().liveStorages === 0 && cpu.stats().liveBytes === 0, "nothing live after dispose");
    assertThrows(() => cpu.alloc(1, "f32"), ["disposed"]);
  });
});

Deno.test("CpuBackend with threads reuses freed shared buffers", async (t) => {
  const cpu = new CpuBackend({ threads: 2, reuseBytes: 8 << 20, matmul: "wasm" });
  await t.step("a freed buffer comes back zeroed for a size of the same class", () => {
    const a = cpu.alloc(1000, "f32");
    cpu.write(a, new Float32Array(1000).fill(7));
    cpu.free(a);
    assert(cpu.spareBytes >= 4000 && cpu.spareBytes <= 5000, `spare ${cpu.spareBytes}`);
    const created = cpu.sharedBuffersCreated;
    const b = cpu.alloc(960, "f32"); // 3840 bytes: the same size class as 4000
    assert(cpu.sharedBuffersCreated === created && cpu.spareBytes === 0, "reused, not created");
    const got = cpu.readSync(b);
    assert(got.length === 960 && got.every((x) => x === 0), "reused storage is zeroed and exactly 960 long");
    cpu.free(b);
  });
  await t.step("steps of varying length stop creating buffers once every size class was seen", () => {
    const perStep: number[] = [];
    for (const seqLen of [41, 47, 38, 52, 40, 44, 39, 47, 41, 52, 38, 40]) {
      const before = cpu.sharedBuffersCreated;
      const temps = [seqLen * 64 * 30, seqLen * 64 * 30, seqLen * 64 * 4, 64 * 96, 64 * 96, 300]
        .map((n) => cpu.alloc(n, "f32"));
      for (const s of temps) cpu.free(s);
      perStep.push(cpu.sharedBuffersCreated - before);
    }
    assert(perStep.slice(4).every((n) => n === 0), `buffers created per step: ${perStep.join(",")}`);
    assert(cpu.spareBytes <= 8 << 20, `spare ${cpu.spareBytes} over the 8 MiB cap`);
  });
  await t.step("threaded matmul on reused, longer buffers matches one thread", () => {
    const one = new CpuBackend({ matmul: "wasm" });
    const m = 128, K = 130, N = 150; // 5 MFLOP: above the 4 MFLOP threading threshold
    const av = Float32Array.from({ length: m * K }, (_, i) => Math.sin(i));
    const bv = Float32Array.from({ length: K * N }, (_, i) => Math.cos(i));
    const outs = [cpu, one].map((be) => {
      // Dirty spare buffers first so that reuse (and its zeroing) is exercised.
      for (const n of [m * K + 5, K * N + 3, m * N + 7]) {
        const s = be.alloc(n, "f32");
        be.write(s, new Float32Array(n).fill(3));
        be.free(s);
      }
      const a = be.alloc(m * K, "f32"), b = be.alloc(K * N, "f32"), c = be.alloc(m * N, "f32");
      be.write(a, av);
      be.write(b, bv);
      const v = (s: typeof a, r: number, k: number) => ({
        storage: s,
        shape: [r, k],
        strides: [k, 1],
        offset: 0,
      });
      be.run("matmul", [v(a, m, K), v(b, K, N)], [v(c, m, N)], {});
      return be.readSync(c);
    });
    assertClose(outs[0]!, outs[1]!, "2 threads vs 1", { atol: 0, rtol: 0 });
    one.dispose();
  });
  cpu.dispose();
  assert(cpu.spareBytes === 0, "dispose drops the spare buffers");
});

Deno.test("CpuBackend on one thread reuses freed plain buffers, zeroed", () => {
  const cpu = new CpuBackend({ reuseBytes: 1 << 20 });
  const a = cpu.alloc(1000, "f32");
  cpu.write(a, new Float32Array(1000).fill(7));
  cpu.free(a);
  const created = cpu.buffersCreated;
  const b = cpu.alloc(500, "f64"); // 4000 bytes: the class of the freed 4000-byte buffer
  assert(cpu.buffersCreated === created && cpu.sharedBuffersCreated === 0, "reused a plain buffer");
  const got = cpu.readSync(b);
  assert(got instanceof Float64Array && got.length === 500 && got.every((x) => x === 0), "zeroed, 500 f64");
  const big = cpu.alloc(1 << 19, "f32"); // 2 MiB: over the 1 MiB cap, so never kept
  cpu.free(big);
  assert(cpu.spareBytes === 0, `spare ${cpu.spareBytes}: a buffer over reuseBytes is not kept`);
  cpu.dispose();
});

Deno.test("a freed storage, a bad view and a wrong kernel call are errors naming what is wrong", () => {
  const cpu = new CpuBackend();
  const x = outView(cpu, [2, 3]), y = outView(cpu, [2, 3]);
  cpu.free(x.storage);
  assertThrows(() => cpu.run("unary", [x], [y], { op: "exp" }), ["storage #1", "freed", "unary", "input 0"]);
  assertThrows(() => cpu.readSync(x.storage), ["storage #1", "freed"]);
  assertThrows(() => cpu.free(x.storage), ["storage #1", "freed"]);
  const z = outView(cpu, [2, 3]);
  const tooBig: View = { ...z, shape: [3, 3], strides: [3, 1] };
  assertThrows(() => cpu.run("unary", [tooBig], [outView(cpu, [3, 3])], { op: "exp" }), [
    "unary",
    "[3, 3]",
    "outside storage",
  ]);
  assertThrows(() => cpu.run("binary", [z, outView(cpu, [2, 4])], [y], { op: "add" }), [
    "binary add",
    "[2, 4]",
    "[2, 3]",
  ]);
  assertThrows(() => cpu.run("binary", [z], [y], { op: "add" }), ["binary", "expects 2 input(s)", "[2, 3]"]);
  assertThrows(() => cpu.write(z.storage, new Float32Array(7)), ["7 elements", "storage #"]);
  // Live: y, z (2x3), the 3x3 and 2x4 outputs; f32 = 4 bytes each.
  const s = cpu.stats();
  assert(s.liveStorages === 4 && s.liveBytes === (6 + 6 + 9 + 8) * 4, `stats ${JSON.stringify(s)}`);
  const big = cpu.alloc(1000, "f64");
  cpu.free(big);
  const after = cpu.stats();
  assert(
    after.liveBytes === s.liveBytes && after.peakBytes === s.liveBytes + 8000,
    `peak ${JSON.stringify(after)}`,
  );
});
