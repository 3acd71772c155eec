import { BLAS_ENV, CPU_MATMUL_ENV } from "../config.ts";
import { blasCandidates, ffiPermitted, loadBlas } from "./_blas.ts";
import { BLAS_AVAILABLE, BLAS_REASON, blasTest, withEnv } from "./_blas_testing.ts";
import { assert, assertThrows } from "./_test_util.ts";
import { CpuBackend } from "./mod.ts";

const MISSING = "/nonexistent/denofit-test/libopenblas.so.0";

Deno.test("CpuBackend chooses its matmul kernel by option, DENOFIT_CPU_MATMUL, then what loads", async (t) => {
  await t.step("explicit wasm and js are taken as asked, whatever the environment says", async () => {
    await withEnv({ [CPU_MATMUL_ENV]: "blas" }, () => {
      for (const k of ["wasm", "js"] as const) {
        const cpu = new CpuBackend({ matmul: k });
        assert(cpu.matmulKernel === k && cpu.matmulReason.includes("requested"), cpu.matmulReason);
        cpu.dispose();
      }
    });
  });
  await t.step("DENOFIT_CPU_MATMUL=wasm forces WebAssembly for an auto choice and says so", async () => {
    const cpu = await withEnv({ [CPU_MATMUL_ENV]: "wasm" }, () => new CpuBackend());
    assert(cpu.matmulKernel === "wasm", cpu.matmulKernel);
    assert(cpu.matmulReason.includes(`${CPU_MATMUL_ENV}=wasm`), cpu.matmulReason);
    cpu.dispose();
  });
  await t.step("a library that cannot load: auto falls back to WebAssembly with the reason", async () => {
    const cpu = await withEnv({ [BLAS_ENV]: MISSING, [CPU_MATMUL_ENV]: undefined }, () => new CpuBackend());
    assert(cpu.matmulKernel === "wasm", cpu.matmulKernel);
    const why = ffiPermitted() ? MISSING : "--allow-ffi";
    assert(cpu.matmulReason.includes(why) && cpu.description.includes("WebAssembly"), cpu.matmulReason);
    cpu.dispose();
  });
  await t.step("BLAS forced (option or variable) but unavailable is an error saying why", async () => {
    await withEnv({ [BLAS_ENV]: MISSING, [CPU_MATMUL_ENV]: undefined }, () => {
      assertThrows(() => new CpuBackend({ matmul: "blas" }), ["BLAS", "unavailable"]);
    });
    await withEnv({ [BLAS_ENV]: MISSING, [CPU_MATMUL_ENV]: "blas" }, () => {
      assertThrows(() => new CpuBackend(), ["BLAS", `${CPU_MATMUL_ENV}=blas`, "unavailable"]);
    });
  });
  await t.step("the search list names OpenBLAS first and covers MKL and Accelerate", () => {
    assert(blasCandidates("linux")[0] === "libopenblas.so.0", blasCandidates("linux").join());
    assert(blasCandidates("linux").some((p) => p.includes("mkl_rt")), "MKL on Linux");
    assert(blasCandidates("darwin").some((p) => p.includes("Accelerate")), "Accelerate on macOS");
    assert(blasCandidates("windows").some((p) => p.endsWith(".dll")), "DLLs on Windows");
  });
});

blasTest(
  "loadBlas() finds the machine's BLAS, and auto picks it with threads from the backend",
  async (t) => {
    await t.step("the library, its description and where it came from", () => {
      const { blas, reason } = loadBlas();
      assert(blas !== null && blas.path.length > 0 && reason.includes(blas.path), reason);
      assert(["openblas", "mkl", "blis", "accelerate", "blas"].includes(blas.vendor), blas.vendor);
      assert(loadBlas().blas === blas, "loaded once per process");
    });
    await t.step("sgemm computes a 2x3 @ 3x2 product, transposed or not, on shared buffers too", () => {
      const { blas } = loadBlas();
      const a = new Float32Array(new SharedArrayBuffer(4 * 7)), b = new Float32Array([1, 2, 3, 4, 5, 6]);
      a.set([9, 1, 2, 3, 4, 5, 6]); // the matrix starts at element 1
      const c = new Float32Array(5);
      blas!.sgemm(false, false, { m: 2, n: 2, k: 3 }, a, 1, 3, b, 0, 2, 0, c, 1, 2, 2);
      assert(c.join() === "0,22,28,49,64", `a @ b = ${c}`);
      blas!.sgemm(false, true, { m: 2, n: 2, k: 3 }, a, 1, 3, b, 0, 3, 1, c, 1, 2, 1);
      assert(c.join() === "0,36,60,81,141", `a @ b' added: ${c}`);
    });
    await t.step("an auto backend uses it and names it; threads carry over", async () => {
      const cpu = await withEnv({ [CPU_MATMUL_ENV]: undefined }, () => new CpuBackend({ threads: 2 }));
      assert(cpu.matmulKernel === "blas" && cpu.threads === 2, cpu.matmulReason);
      assert(
        cpu.matmulReason.includes(loadBlas().blas!.path) && cpu.description.includes("BLAS"),
        cpu.description,
      );
      // BLAS products never reach our worker threads, so the storages need no shared memory.
      cpu.alloc(10, "f32");
      assert(cpu.sharedBuffersCreated === 0, "plain buffers");
      cpu.dispose();
    });
  },
);

Deno.test("BLAS availability is reported either way", () => {
  assert(BLAS_REASON.length > 0, "a reason");
  assert(BLAS_AVAILABLE === (loadBlas().blas !== null) || Deno.env.get(BLAS_ENV) !== undefined, "consistent");
});
