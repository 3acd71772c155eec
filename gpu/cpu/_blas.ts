/**
 * The machine's BLAS through Deno FFI (`Deno.dlopen`), as numpy and PyTorch use it: `cblas_sgemm` on our
 * `Float32Array`s in place (plain or shared buffers; no copies where the layout allows), with the library's own
 * threads set from the backend's `threads`.
 *
 * {@linkcode loadBlas} looks for, in order: the file named by `DENOFIT_BLAS` (see `../config.ts`), OpenBLAS
 * (`libopenblas.so.0`, Debian's `libopenblas0-pthread`; Homebrew's `libopenblas.dylib`; `libopenblas.dll`), Intel
 * MKL (`libmkl_rt.so.2`), BLIS, Apple Accelerate, and last the system `libblas.so.3` (Debian alternatives) unless
 * it is the reference BLAS, which is slower than the WebAssembly kernel (~7 against ~35 GFLOP/s here). Nothing
 * found, or no `--allow-ffi`, and the caller falls back to WebAssembly with the reason.
 *
 * Threads: BLAS libraries keep one global thread count, so {@linkcode Blas.sgemm} sets it (only when it changes)
 * from the caller's count; calls come from the main thread only (the backend never hands a BLAS product to its
 * worker threads), so two of our threads never call the library at once. OpenBLAS reads `OPENBLAS_CORETYPE`
 * (and `OPENBLAS_L2_SIZE`) at load: where they are set (some machines set them to dodge bugs of old builds on new
 * CPUs) its kernels are those of the named core; {@linkcode Blas.description} names the core in use and the
 * variables.
 *
 * @module
 */

/** A loaded BLAS. */
export interface Blas {
  /** The file it was loaded from. */
  readonly path: string;
  /** The library's family: `openblas`, `mkl`, `blis`, `accelerate` or `blas` (another CBLAS). */
  readonly vendor: string;
  /** Human description: library, version and build, the core its kernels target, thread control. */
  readonly description: string;
  /**
   * Row-major `C (M, N) = alpha? A (M, K) @ B (K, N) + beta C`: `cblas_sgemm` with `A[aOff + i * lda + k]`
   * (transposed: `A[aOff + k * lda + i]`), likewise B, and `C[cOff + i * ldc + j]`. `threads` is the number of
   * threads the library may use for this call.
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    dims: { m: number; n: number; k: number },
    a: Float32Array,
    aOff: number,
    lda: number,
    b: Float32Array,
    bOff: number,
    ldb: number,
    beta: number,
    c: Float32Array,
    cOff: number,
    ldc: number,
    threads: number,
  ): void;
}

/** What {@linkcode loadBlas} found: the library, or null and why not. */
export interface BlasResult {
  /** The library, or null when none could be loaded. */
  blas: Blas | null;
  /** Where it came from, or why there is none (each place tried and what it said). */
  reason: string;
}

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  openblas_set_num_threads: { parameters: ["i32"], result: "void", optional: true },
  goto_set_num_threads: { parameters: ["i32"], result: "void", optional: true },
  openblas_get_config: { parameters: [], result: "pointer", optional: true },
  openblas_get_corename: { parameters: [], result: "pointer", optional: true },
  MKL_Set_Num_Threads: { parameters: ["i32"], result: "void", optional: true },
  MKL_Get_Version_String: { parameters: ["buffer", "i32"], result: "void", optional: true },
  bli_thread_set_num_threads: { parameters: ["i64"], result: "void", optional: true },
  bli_info_get_version_str: { parameters: [], result: "pointer", optional: true },
  // The reference BLAS (netlib) exports this and none of the vendor symbols above: see identify().
  xerbla_array_: { parameters: [], result: "void", optional: true },
} as const satisfies Deno.ForeignLibraryInterface;

type Library = Deno.DynamicLibrary<typeof SYMBOLS>;

/** Library names and paths to try, most specific first, for this operating system. */
export function blasCandidates(os: string = Deno.build.os): string[] {
  if (os === "darwin") {
    return [
      "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
      "/usr/local/opt/openblas/lib/libopenblas.dylib",
      "libmkl_rt.dylib",
      "/System/Library/Frameworks/Accelerate.framework/Accelerate",
    ];
  }
  if (os === "windows") return ["libopenblas.dll", "openblas.dll", "mkl_rt.2.dll", "mkl_rt.dll"];
  const arch = Deno.build.arch === "aarch64" ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
  return [
    "libopenblas.so.0",
    `/usr/lib/${arch}/libopenblas.so.0`,
    `/usr/lib/${arch}/openblas-pthread/libopenblas.so.0`,
    "/usr/lib64/libopenblas.so.0",
    "/usr/local/lib/libopenblas.so.0",
    "/opt/OpenBLAS/lib/libopenblas.so.0",
    "libopenblas.so",
    "libmkl_rt.so.2",
    "libmkl_rt.so",
    "libblis.so.4",
    "libblis.so",
    "libblas.so.3",
    `/usr/lib/${arch}/libblas.so.3`,
  ];
}

function cString(p: Deno.PointerValue): string {
  return p === null ? "" : new Deno.UnsafePointerView(p).getCString();
}

/** The family, description and thread setter of an opened library; null when it is the reference BLAS. */
function identify(lib: Library, path: string):
  | Omit<Blas, "sgemm" | "path"> & {
    setThreads: ((n: number) => void) | null;
  }
  | null {
  const s = lib.symbols;
  if (s.openblas_get_config) {
    const config = cString(s.openblas_get_config()),
      core = s.openblas_get_corename ? cString(s.openblas_get_corename()) : "";
    const env = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"].map((v) => [v, envOf(v)] as const)
      .filter(([, x]) => x !== null).map(([v, x]) => `${v}=${x}`);
    const set = s.openblas_set_num_threads ?? s.goto_set_num_threads;
    return {
      vendor: "openblas",
      description: `${config || "OpenBLAS"}${core ? `, kernels for core ${core}` : ""}${
        env.length ? ` (${env.join(", ")} set in the environment)` : ""
      }`,
      setThreads: set ? (n) => set(n) : null,
    };
  }
  if (s.MKL_Set_Num_Threads) {
    const buf = new Uint8Array(256);
    s.MKL_Get_Version_String?.(buf, buf.length);
    const text = new TextDecoder().decode(buf.subarray(0, Math.max(0, buf.indexOf(0)))).trim();
    const set = s.MKL_Set_Num_Threads;
    return { vendor: "mkl", description: text || "Intel MKL", setThreads: (n) => set(n) };
  }
  if (s.bli_thread_set_num_threads) {
    const set = s.bli_thread_set_num_threads;
    const version = s.bli_info_get_version_str ? cString(s.bli_info_get_version_str()) : "";
    return { vendor: "blis", description: `BLIS ${version}`.trim(), setThreads: (n) => set(BigInt(n)) };
  }
  if (path.includes("Accelerate")) {
    return { vendor: "accelerate", description: "Apple Accelerate (its own threads)", setThreads: null };
  }
  if (s.xerbla_array_) return null;
  return { vendor: "blas", description: `CBLAS from ${path} (no thread control)`, setThreads: null };
}

function envOf(name: string): string | null {
  try {
    return Deno.env.get(name) ?? null;
  } catch {
    return null;
  }
}

/** Whether this process may call `Deno.dlopen`. */
export function ffiPermitted(): boolean {
  try {
    return typeof Deno.dlopen === "function" &&
      Deno.permissions.querySync({ name: "ffi" }).state === "granted";
  } catch {
    return false;
  }
}

const opened = new Map<string, BlasResult>();

/** Wrap an opened library as a {@linkcode Blas}. */
function wrap(lib: Library, path: string, id: NonNullable<ReturnType<typeof identify>>): Blas {
  const gemm = lib.symbols.cblas_sgemm;
  let current = -1;
  return {
    path,
    vendor: id.vendor,
    description: id.description,
    sgemm(transA, transB, { m, n, k }, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, threads) {
      if (id.setThreads && threads !== current) {
        id.setThreads(threads);
        current = threads;
      }
      gemm(
        101, // CblasRowMajor
        transA ? 112 : 111,
        transB ? 112 : 111,
        m,
        n,
        k,
        1,
        aOff === 0 ? a : a.subarray(aOff),
        lda,
        bOff === 0 ? b : b.subarray(bOff),
        ldb,
        beta,
        cOff === 0 ? c : c.subarray(cOff),
        ldc,
      );
    },
  };
}

/** Try one candidate: the library, null with why (not found, not a CBLAS, the reference BLAS). */
function tryOpen(path: string): { blas: Blas | null; why: string } {
  let lib: Library;
  try {
    lib = Deno.dlopen(path, SYMBOLS);
  } catch (e) {
    const msg = (e as Error).message.split("\n")[0]!;
    return { blas: null, why: /cblas_sgemm/.test(msg) ? "no cblas_sgemm" : "not found" };
  }
  const id = identify(lib, path);
  if (id === null) {
    lib.close();
    return { blas: null, why: "the reference BLAS (slower than the WebAssembly kernel), skipped" };
  }
  return { blas: wrap(lib, path, id), why: "" };
}

/**
 * Find and open the machine's BLAS (once per process and library; later calls return the same one).
 *
 * @param library A file to load instead of searching (`DENOFIT_BLAS`); null to search.
 * @returns The library and where it came from, or null and why (no `--allow-ffi`, each place tried).
 * @example Use BLAS when the machine has one
 * ```ts
 * import { loadBlas } from "./_blas.ts";
 * const { blas, reason } = loadBlas();
 * if (reason.length === 0) throw new Error("the outcome must be explained");
 * if (blas) {
 *   const c = new Float32Array(1);
 *   blas.sgemm(false, false, { m: 1, n: 1, k: 2 }, new Float32Array([1, 2]), 0, 2, new Float32Array([3, 4]), 0, 1, 0, c, 0, 1, 1);
 *   if (c[0] !== 11) throw new Error(`got ${c[0]}`);
 * }
 * ```
 */
export function loadBlas(library: string | null = null): BlasResult {
  const key = library ?? "";
  const hit = opened.get(key);
  if (hit) return hit;
  let result: BlasResult;
  if (!ffiPermitted()) {
    result = { blas: null, reason: "FFI is not permitted (run with --allow-ffi to use the machine's BLAS)" };
  } else {
    const paths = library === null ? blasCandidates() : [library];
    const notes: string[] = [];
    result = { blas: null, reason: "" };
    for (const path of paths) {
      const { blas, why } = tryOpen(path);
      if (blas) {
        result = { blas, reason: `${blas.description} loaded from ${path}` };
        break;
      }
      if (why !== "not found") notes.push(`${path}: ${why}`);
    }
    if (!result.blas) {
      const where = library === null ? `${paths.length} places searched (${paths[0]}, ...)` : library;
      result.reason = `no usable BLAS: ${notes.length ? notes.join("; ") : `${where}: not found`}` +
        (library === null ? "; install libopenblas0-pthread (Debian) or name one with DENOFIT_BLAS" : "");
    }
  }
  opened.set(key, result);
  return result;
}
