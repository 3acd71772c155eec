/**
 * Model-based property test of the corpus store (fast-check commands, seeded and time-bounded: see
 * `nn/_fuzz.ts`): random interleavings of ingests (some killed part-way: the source stops with an error, as a
 * killed process stops, and what was not committed is rolled back), resumes, ingests of another source under
 * the same name (refused), replacements (some killed), vocabulary builds and reopenings, checked after every
 * step against an in-memory model of what must be stored.
 */
import { strict as assert } from "node:assert";
import { fc, fuzzParams } from "../../nn/_fuzz.ts";
import type { TextRecord } from "../readers/types.ts";
import { CorpusStore, RecordHasher } from "./store.ts";

const WS = { name: "whitespace" } as const;
const WORDS = ["a", "b", "c", "d", "e", "f"];

/** Three sources: B starts like A (a resume with B must still be refused), C is unrelated. */
function sources(seed: number): TextRecord[][] {
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) >>> 0) % 1000;
  const doc = () => ({ text: Array.from({ length: 1 + (next() % 5) }, () => WORDS[next() % 6]!).join(" ") });
  const a = Array.from({ length: 9 + (next() % 6) }, doc);
  const b = [...a.slice(0, 5), ...Array.from({ length: 4 }, doc)];
  const c = Array.from({ length: 6 + (next() % 6) }, doc);
  return [a, b, c];
}

function infoOf(src: TextRecord[]) {
  const h = new RecordHasher();
  for (const r of src) h.add(r);
  return { hash: h.digest(), nDocs: h.count };
}

/** A source that stops with an error ("killed") after `n` records. */
function killedAfter(src: TextRecord[], n: number): AsyncIterable<TextRecord> {
  return (async function* () {
    for (let i = 0; i < n; i++) yield src[i]!;
    throw new Error("killed");
  })();
}

interface Model {
  /** Per corpus: which source, how many documents are stored, whether complete. */
  corpora: Map<string, { src: number; stored: number; complete: boolean }>;
}

interface Real {
  store: CorpusStore;
  path: string;
  srcs: TextRecord[][];
}

const CHUNK = 3;

function texts(store: CorpusStore, name: string): string[] {
  const out: string[] = [];
  for (
    const r of store.db.prepare(
      "SELECT d.text FROM documents d JOIN corpora c ON c.id = d.corpus_id WHERE c.name = ? ORDER BY d.idx",
    ).iterate(name)
  ) {
    out.push(String((r as { text: string }).text));
  }
  return out;
}

/** Everything the store holds agrees with the model. */
function check(m: Model, r: Real): void {
  const s = r.store;
  assert.equal(Object.values(s.db.prepare("PRAGMA integrity_check").get() as object)[0], "ok");
  const names = s.corpusNames().filter((n) => !n.endsWith("~replacing"));
  assert.deepEqual(names.sort(), [...m.corpora.keys()].sort());
  for (const [name, c] of m.corpora) {
    const stored = texts(s, name);
    assert.deepEqual(stored, r.srcs[c.src]!.slice(0, c.stored).map((d) => d.text), `documents of ${name}`);
    const row = s.db.prepare("SELECT complete, n_docs FROM corpora WHERE name = ?").get(name) as {
      complete: number;
      n_docs: number;
    };
    assert.equal(row.n_docs, c.stored);
    assert.equal(Boolean(row.complete), c.complete, `complete flag of ${name}`);
  }
}

class Ingest implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly name: string,
    readonly src: number,
    readonly killAt: number | null,
    readonly replace: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const src = r.srcs[this.src]!;
    const before = m.corpora.get(this.name);
    const other = before !== undefined && before.src !== this.src;
    const killAt = this.killAt === null ? null : Math.min(this.killAt, src.length - 1);
    const source = killAt === null ? src : killedAfter(src, killAt);
    let error: unknown = null;
    try {
      await r.store.ingest(this.name, source, {
        tokenizer: WS,
        workers: 0,
        chunkSize: CHUNK,
        sourceInfo: { ...infoOf(src), desc: `source ${this.src}` },
        ...(this.replace ? { replace: true } : {}),
      });
    } catch (e) {
      error = e;
    }
    if (other && !this.replace) {
      assert.match(String(error), /differs/, "another source under a stored name must be refused");
    } else if (before?.complete && !other) {
      assert.equal(error, null, `a stored corpus of the same source is reused: ${error}`);
    } else if (killAt === null) {
      assert.equal(error, null, String(error));
      m.corpora.set(this.name, { src: this.src, stored: src.length, complete: true });
    } else {
      assert.match(String(error), /killed/);
      if (!other) {
        // committed chunks stay, a prefix of the source; nothing beyond the kill
        const stored = r.store.db.prepare("SELECT n_docs FROM corpora WHERE name = ?").get(this.name) as
          | { n_docs: number }
          | undefined;
        const n = stored?.n_docs ?? 0;
        const had = before?.stored ?? 0;
        assert.ok(
          n >= had && n <= Math.max(killAt, had),
          `${n} stored after a kill at ${killAt} (had ${had})`,
        );
        if (stored) m.corpora.set(this.name, { src: this.src, stored: n, complete: false });
      } // a killed replacement leaves the old corpus as it was
    }
    check(m, r);
  }
  toString(): string {
    return `ingest(${this.name}, src ${this.src}${this.killAt === null ? "" : `, killed at ${this.killAt}`}${
      this.replace ? ", replace" : ""
    })`;
  }
}

class Vocab implements fc.AsyncCommand<Model, Real> {
  constructor(readonly name: string) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const c = m.corpora.get(this.name);
    let error: unknown = null;
    try {
      const v = await r.store.vocab(this.name, { tokenizer: WS, minFreq: 1 });
      const docs = [...r.store.documents(this.name, { tokenizer: WS, vocab: { minFreq: 1 } })];
      assert.equal(docs.length, c?.stored);
      for (const [i, d] of docs.entries()) {
        assert.deepEqual([...d.ids].map((id) => v.itos[id]), r.srcs[c!.src]![i]!.text.split(" "));
      }
    } catch (e) {
      error = e;
    }
    if (c?.complete) assert.equal(error, null, String(error));
    else assert.notEqual(error, null, "a vocabulary of an incomplete or missing corpus");
    check(m, r);
  }
  toString(): string {
    return `vocab(${this.name})`;
  }
}

class Reopen implements fc.AsyncCommand<Model, Real> {
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): Promise<void> {
    r.store.close();
    r.store = CorpusStore.open(r.path);
    check(m, r);
    return Promise.resolve();
  }
  toString(): string {
    return "reopen";
  }
}

const name = fc.constantFrom("x", "y");
const commands = fc.commands([
  fc.tuple(name, fc.integer({ min: 0, max: 2 }), fc.option(fc.integer({ min: 0, max: 14 })), fc.boolean())
    .map(([n, s, k, rep]) => new Ingest(n, s, k, rep)),
  name.map((n) => new Vocab(n)),
  fc.constant(new Reopen()),
], { maxCommands: 14 });

Deno.test("fuzz: corpus store: random ingest / kill / resume / replace / vocab / reopen against a model", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denofit_fuzz_store_" });
  let run = 0;
  try {
    await fc.assert(
      fc.asyncProperty(commands, fc.integer({ min: 1, max: 1 << 30 }), async (cmds, seed) => {
        const path = `${dir}/s${run++}.sqlite`;
        const real: Real = { store: CorpusStore.open(path), path, srcs: sources(seed) };
        try {
          await fc.asyncModelRun(() => ({ model: { corpora: new Map() }, real }), cmds);
        } finally {
          real.store.close();
          for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(path + suffix).catch(() => {});
        }
      }),
      fuzzParams(0.25),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
