import { deepStrictEqual as assertEquals, ok as assert, rejects, throws } from "node:assert/strict";
import { Rng } from "../../gpu/rng.ts";
import { createWebGpuBackend } from "../../gpu/mod.ts";
import { gpuTest } from "../../gpu/_testing.ts";
import { setBackend } from "../engine.ts";
import { liveTensors } from "../tensor.ts";
import { ExactIndex } from "./exact.ts";
import { normalizeRows, type SearchResult } from "./types.ts";

/** Throws `cls` with `msg` in its message. */
function throwsWith(fn: () => unknown, cls: ErrorConstructor | RangeErrorConstructor, msg: string): void {
  throws(fn, (e: unknown) => e instanceof cls && e.message.includes(msg));
}

async function rejectsWith(fn: () => Promise<unknown>, cls: ErrorConstructor, msg: string): Promise<void> {
  await rejects(fn, (e: unknown) => e instanceof cls && e.message.includes(msg));
}

function randomRows(rng: Rng, n: number, dim: number): Float32Array {
  return Float32Array.from({ length: n * dim }, () => rng.normal());
}

/** Brute force in f64: every score, sorted by (score desc, id asc). */
function bruteForce(db: Float32Array, queries: Float32Array, dim: number, k: number): SearchResult {
  const d = normalizeRows(Float32Array.from(db), dim), q = normalizeRows(Float32Array.from(queries), dim);
  const n = d.length / dim, nq = q.length / dim;
  const ids = new Int32Array(nq * k).fill(-1), scores = new Float32Array(nq * k).fill(-Infinity);
  for (let i = 0; i < nq; i++) {
    const all = Array.from({ length: n }, (_, j) => {
      let s = 0;
      for (let c = 0; c < dim; c++) s += q[i * dim + c]! * d[j * dim + c]!;
      return { j, s };
    }).sort((a, b) => b.s - a.s || a.j - b.j);
    all.slice(0, k).forEach((e, r) => {
      ids[i * k + r] = e.j;
      scores[i * k + r] = e.s;
    });
  }
  return { queries: nq, k, ids, scores };
}

function assertSameResult(got: SearchResult, want: SearchResult, tol = 1e-5): void {
  assertEquals([got.queries, got.k], [want.queries, want.k]);
  for (let i = 0; i < want.ids.length; i++) {
    const gs = got.scores[i]!, ws = want.scores[i]!;
    if (ws === -Infinity) {
      assertEquals([got.ids[i], gs], [-1, -Infinity], `slot ${i} should be empty`);
      continue;
    }
    assert(Math.abs(gs - ws) <= tol, `slot ${i}: score ${gs} vs ${ws}`);
    // ids may only differ where two scores are within float32 rounding of each other
    if (got.ids[i] !== want.ids[i]) {
      const q = Math.floor(i / want.k);
      const row = Array.from(want.scores.subarray(q * want.k, (q + 1) * want.k));
      assert(
        row.some((s, r) => r !== i % want.k && Math.abs(s - ws) <= tol),
        `slot ${i}: id ${got.ids[i]} vs ${want.ids[i]}`,
      );
    }
  }
}

async function matchesBruteForce(t: Deno.TestContext): Promise<void> {
  const rng = new Rng(7);
  const shapes = [
    { n: 1, dim: 3, nq: 1, k: 1 },
    { n: 3, dim: 17, nq: 5, k: 5 }, // k larger than the index: padded
    { n: 17, dim: 1, nq: 3, k: 4 },
    { n: 1031, dim: 17, nq: 37, k: 10, blockSize: 100, queryBatch: 8 }, // partial last block and batch
    { n: 2000, dim: 100, nq: 300, k: 10 },
  ];
  for (const { n, dim, nq, k, ...opts } of shapes) {
    await t.step(`${n} x ${dim}, ${nq} queries, k ${k}, ${JSON.stringify(opts)}`, async () => {
      const db = randomRows(rng, n, dim), q = randomRows(rng, nq, dim);
      const index = new ExactIndex(dim, opts);
      assertEquals(index.add(db), 0);
      assertSameResult(await index.search(q, k), bruteForce(db, q, dim, k));
      index.dispose();
    });
  }
}

Deno.test("ExactIndex.search() matches a brute-force search", async (t) => {
  const live = liveTensors();
  await matchesBruteForce(t);
  assertEquals(liveTensors(), live, "search leaked tensors");
});

gpuTest("ExactIndex.search() matches a brute-force search, on WebGPU", async (t) => {
  const made = await createWebGpuBackend();
  if (!made.backend) throw new Error(made.reason);
  const prev = setBackend(made.backend);
  try {
    await matchesBruteForce(t);
  } finally {
    if (prev) setBackend(prev);
    made.backend.dispose();
  }
});

Deno.test("ExactIndex keeps ids, ties and growth straight", async (t) => {
  await t.step("ties keep the smaller id, across blocks", async () => {
    const index = new ExactIndex(2, { blockSize: 2 });
    index.add(Float32Array.of(0, 1, 1, 0, 2, 0, 0, 3, 5, 0)); // ids 1, 2, 4 all equal (1, 0)
    const r = await index.search(Float32Array.of(1, 0), 4);
    assertEquals(Array.from(r.ids), [1, 2, 4, 0]);
    assertEquals(Array.from(r.scores), [1, 1, 1, 0]);
    index.dispose();
  });
  await t.step("vectors added after a search are found (the partial block is rebuilt)", async () => {
    const index = new ExactIndex(2, { blockSize: 4 });
    index.add(Float32Array.of(1, 0, 0, 1, -1, 0));
    assertEquals(Array.from((await index.search(Float32Array.of(1, 1), 1)).ids), [0]);
    assertEquals(index.add(Float32Array.of(1, 1, 0, -1, 3, 3.1)), 3);
    const r = await index.search(Float32Array.of(1, 1, 0, -2), 2);
    assertEquals(Array.from(r.ids), [3, 5, 4, 0]); // (0, -2): id 4, then the tie 0 = 2 keeps 0
    assertEquals(index.size, 6);
    index.dispose();
  });
  await t.step("the query array is not changed; zero vectors score 0", async () => {
    const index = new ExactIndex(2);
    index.add(Float32Array.of(0, 0, 3, 4));
    const q = Float32Array.of(6, 8);
    const r = await index.search(q, 2);
    assertEquals(Array.from(q), [6, 8]);
    assertEquals(Array.from(r.ids), [1, 0]);
    assert(Math.abs(r.scores[0]! - 1) < 1e-6 && r.scores[1] === 0);
    index.dispose();
  });
  await t.step("an empty index returns empty slots", async () => {
    const r = await new ExactIndex(3).search(Float32Array.of(1, 2, 3), 2);
    assertEquals(Array.from(r.ids), [-1, -1]);
  });
});

Deno.test("ExactIndex rejects bad input with the place at fault", async () => {
  const index = new ExactIndex(3);
  throwsWith(() => index.add(Float32Array.of(1, 2)), RangeError, "2 numbers are not whole rows of 3");
  throwsWith(() => index.add(Float32Array.of(1, 2, 3, 4, NaN, 6)), RangeError, "element 1 of row 1 is NaN");
  await rejectsWith(
    () => index.search(Float32Array.of(1, 2, 3), 0),
    RangeError,
    "k must be a positive integer",
  );
  throwsWith(() => new ExactIndex(0), RangeError, "dim must be a positive integer");
  assertEquals(index.size, 0);
});

Deno.test("ExactIndex.save()/load() round-trip and reject damaged files", async (t) => {
  const dir = await Deno.makeTempDir();
  const rng = new Rng(3);
  const db = randomRows(rng, 50, 7);
  const index = new ExactIndex(7);
  index.add(db);
  const path = `${dir}/words.dfvx`;
  await t.step("round trip", async () => {
    await index.save(path);
    const back = await ExactIndex.load(path, { blockSize: 8 });
    assertEquals([back.dim, back.size], [7, 50]);
    assertEquals(back.vectors(), index.vectors());
    const q = randomRows(rng, 4, 7);
    assertEquals(await back.search(q, 3), await index.search(q, 3));
    back.dispose();
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["words.dfvx"]);
  });
  await t.step("truncated file", async () => {
    const bytes = await Deno.readFile(path);
    await Deno.writeFile(`${dir}/cut.dfvx`, bytes.subarray(0, bytes.length - 4));
    await rejectsWith(() => ExactIndex.load(`${dir}/cut.dfvx`), Error, "cut.dfvx is truncated or corrupt");
  });
  await t.step("not an index", async () => {
    await Deno.writeTextFile(`${dir}/x.txt`, "hello world, not vectors");
    await rejectsWith(() => ExactIndex.load(`${dir}/x.txt`), Error, "x.txt is not an exact index file");
  });
  index.dispose();
  await Deno.remove(dir, { recursive: true });
});
