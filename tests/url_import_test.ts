/**
 * The toolkit as a stranger uses it: from a fresh temporary folder with no `deno.json`, `deno run --no-config`
 * a script that imports the repository's `mod.ts` by `file://` URL, and the CLI by the `file://` URL of
 * `cli/main.ts`. Any bare specifier left in library or CLI code (one that only our import map resolves) fails
 * here before a line runs.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";

const MOD_URL = new URL("../mod.ts", import.meta.url).href;
const CLI_URL = new URL("../cli/main.ts", import.meta.url).href;

/** The user's script: fastai-rule tokens, a matmul + backward, a corpus store in a temp file; prints JSON. */
const SCRIPT = `
import { CorpusStore, matmul, sum, tensor, tidy, tokenizeDocument } from "${MOD_URL}";

const tokens = tokenizeDocument("This movie is GREAT!!! Don't miss it.");

const x = tensor([[1, 2, 3], [4, 5, 6]]); // (2, 3)
const w = tensor([[1, -1], [0, 2], [3, 1]], { requiresGrad: true }); // (3, 2)
const y = tidy(() => {
  const out = matmul(x, w); // (2, 2)
  sum(out).backward(); // d sum(x @ w) / dw = x^T @ ones: row i is the column sum of x
  return out;
});

const dbPath = Deno.makeTempFileSync({ suffix: ".sqlite" });
const store = CorpusStore.open(dbPath);
const docs = [{ text: "A good film.", label: "pos" }, { text: "A bad film!", label: "neg" }];
const ingested = await store.ingest("tiny", docs, { workers: 1 });
const [first] = store.documents("tiny");
const terms = store.terms("tiny");
store.close();

console.log(JSON.stringify({
  tokens,
  y: Array.from(await y.data()),
  grad: Array.from(await w.grad!.data()),
  docs: ingested.docs,
  label: first!.label,
  stored: Array.from(first!.ids, (i) => terms[i]),
}));
`;

async function denoIn(cwd: string, args: string[]): Promise<{ code: number; stdout: string; out: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const so = new TextDecoder().decode(stdout);
  return { code, stdout: so, out: so + new TextDecoder().decode(stderr) };
}

Deno.test("mod.ts and cli/main.ts run by file:// URL without deno.json", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denofit_url_import_" });
  try {
    await t.step("the temp folder has no config to pick up", async () => {
      for (const name of ["deno.json", "deno.jsonc", "package.json"]) {
        await Deno.stat(`${dir}/${name}`).then(() => assert(false, `${dir}/${name} exists`), () => {});
      }
    });

    await t.step("a script tokenizes, trains a matmul and opens a store", async () => {
      await Deno.writeTextFile(`${dir}/user.ts`, SCRIPT);
      const args = ["run", "--no-config", "--allow-read", "--allow-write", "--allow-env", "--allow-ffi"];
      const { code, stdout, out } = await denoIn(dir, [...args, "user.ts"]);
      assertEquals(code, 0, `deno run --no-config user.ts exited ${code}:\n${out}`);
      const r = JSON.parse(stdout.trim().split("\n").at(-1)!);
      assertEquals(r.tokens, [
        "xxbos",
        "xxmaj",
        "this",
        "movie",
        "is",
        "xxup",
        "great",
        "xxrep",
        "3",
        "!",
        "xxmaj",
        "do",
        "n't",
        "miss",
        "it",
        ".",
      ]);
      assertEquals(r.y, [10, 6, 22, 12]); // [[1,2,3],[4,5,6]] @ [[1,-1],[0,2],[3,1]]
      assertEquals(r.grad, [5, 5, 7, 7, 9, 9]);
      // fastai marks no capital on a one-letter word: "A" -> "a" without xxmaj
      assertEquals([r.docs, r.label, r.stored], [2, "pos", ["xxbos", "a", "good", "film", "."]]);
    });

    await t.step("denofit --help by URL", async () => {
      const { code, out } = await denoIn(dir, ["run", "--no-config", "-A", CLI_URL, "--help"]);
      assertEquals(code, 0, `deno run --no-config cli/main.ts --help exited ${code}:\n${out}`);
      assert(out.includes("Usage: denofit") && out.includes("corpus"), out);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
