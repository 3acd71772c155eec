import { deepStrictEqual } from "node:assert/strict";
import { checkBoundaries, importSites } from "./boundaries.ts";

async function repo(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "boundaries_" });
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(`${root}/${path.split("/").slice(0, -1).join("/")}`, { recursive: true });
    await Deno.writeTextFile(`${root}/${path}`, text);
  }
  return root;
}

Deno.test("importSites() finds static, type, re-export, dynamic and side-effect imports with their lines", () => {
  const src = [
    'import { a } from "./a.ts";',
    "import type { B } from '../b.ts';",
    "import {",
    "  c,",
    '} from "./c.ts";',
    'export * from "./d.ts";',
    'const e = await import("./e.ts");',
    'import "./f.ts";',
    "// prose: from the cli/ folder, not an import",
  ].join("\n");
  deepStrictEqual(importSites(src), [
    { specifier: "./a.ts", line: 1 },
    { specifier: "../b.ts", line: 2 },
    { specifier: "./c.ts", line: 5 },
    { specifier: "./d.ts", line: 6 },
    { specifier: "./e.ts", line: 7 },
    { specifier: "./f.ts", line: 8 },
  ]);
});

Deno.test("checkBoundaries() reports each broken rule with file and line", async (t) => {
  const root = await repo({
    "cli/version.ts": "export const V = 1;\n",
    "cli/corpus.ts": 'const rows = store.db.prepare("SELECT name FROM corpora").all();\n',
    "nn/checkpoint/metadata.ts": '/** doc */\nimport { V } from "../../cli/version.ts";\n',
    "text/store/store.ts":
      'import { DatabaseSync } from "node:sqlite";\ndb.exec("PRAGMA journal_mode = WAL");\n',
    "text/learner.ts":
      'import { CorpusStore } from "./store/mod.ts";\nconst q = `INSERT INTO docs VALUES (1)`;\n',
    "text/mod.ts": 'export * from "./learner.ts";\n',
    "vision/mod.ts": "export {};\n",
    "examples/ok.ts":
      'import { a } from "../text/mod.ts";\nimport { b } from "./other.ts";\nimport c from "npm:x@1";\n',
    "examples/bad.ts": 'import { lm } from "../cli/lm.ts";\nimport { s } from "../text/store/store.ts";\n',
  });
  try {
    const problems = await checkBoundaries(root);
    await t.step("library -> cli, examples -> cli or inner files, SQL outside the store", () => {
      deepStrictEqual(problems, [
        "nn/checkpoint/metadata.ts:2: imports ../../cli/version.ts; the library must not depend on the CLI",
        "text/learner.ts:2: holds an SQL statement; SQL belongs in text/store/ (add a store method)",
        "cli/corpus.ts:1: runs a statement on the store's database; SQL belongs in text/store/ (add a store method)",
        "cli/corpus.ts:1: holds an SQL statement; SQL belongs in text/store/ (add a store method)",
        "examples/bad.ts:1: imports ../cli/lm.ts; examples must not depend on the CLI",
        "examples/bad.ts:2: imports ../text/store/store.ts; examples import only mod.ts surfaces",
      ]);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("checkBoundaries() finds nothing wrong in this repository", async () => {
  deepStrictEqual(await checkBoundaries(new URL("..", import.meta.url).pathname), []);
});
