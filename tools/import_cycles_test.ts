import { cyclesOf, findImportCycles, parseImports } from "./import_cycles.ts";

function assertEq(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: got ${a}, expected ${e}`);
}

Deno.test("parseImports() finds static imports and re-exports, and tells type-only ones apart", () => {
  const src = [
    `import { a, b } from "./a.ts";`,
    `import type { T } from "./t.ts";`,
    `import { type U, type V } from "./u.ts";`,
    `import { type W, w } from "./w.ts";`,
    `import * as ns from "./ns.ts";`,
    `import D, { e } from "./d.ts";`,
    `import {`,
    `  many,`,
    `  lines,`,
    `} from "../up/m.ts";`,
    `import "./side.ts";`,
    `export * from "./all.ts";`,
    `export { x } from "./x.ts";`,
    `export type { Y } from "./y.ts";`,
    ` * import { inDoc } from "./doc.ts";`,
    `const later = await import("./dynamic.ts");`,
    `export function f() { return 1; }`,
    `import { z } from "npm:zod@3";`,
  ].join("\n");
  assertEq(
    parseImports(src).map((e) => `${e.specifier}${e.typeOnly ? " (type)" : ""}`),
    [
      "./a.ts",
      "./t.ts (type)",
      "./u.ts (type)",
      "./w.ts",
      "./ns.ts",
      "./d.ts",
      "../up/m.ts",
      "./all.ts",
      "./x.ts",
      "./y.ts (type)",
      "npm:zod@3",
      "./side.ts",
    ],
    "imports",
  );
});

Deno.test("cyclesOf() reports one cycle per strongly connected component", async (t) => {
  await t.step("a DAG has none", () => {
    assertEq(cyclesOf(new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]])), [], "dag");
  });
  await t.step("two cycles, a self-import, and a tail outside the cycle", () => {
    const g = new Map([
      ["a", ["b"]],
      ["b", ["c", "x"]],
      ["c", ["a"]],
      ["x", ["y"]],
      ["y", ["x"]],
      ["s", ["s"]],
      ["tail", ["a"]],
    ]);
    const cycles = cyclesOf(g).map((c) => c.join(" -> ")).sort();
    assertEq(cycles, ["a -> b -> c -> a", "s -> s", "x -> y -> x"], "cycles");
  });
  await t.step("the cycle printed is a real path", () => {
    const g = new Map([["a", ["b", "d"]], ["b", ["c"]], ["c", ["d"]], ["d", ["a"]]]);
    assertEq(cyclesOf(g), [["a", "d", "a"]], "shortest cycle through the first file");
  });
});

Deno.test("findImportCycles() walks a package folder and resolves relative specifiers", async (t) => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/pkg/sub`, { recursive: true });
    await Deno.mkdir(`${root}/pkg/testdata`, { recursive: true });
    await Deno.writeTextFile(`${root}/pkg/a.ts`, `import { b } from "./sub/b.ts";\nexport const a = b;\n`);
    await Deno.writeTextFile(
      `${root}/pkg/sub/b.ts`,
      `import type { A } from "../a.ts";\nexport const b = 1;\n`,
    );
    await Deno.writeTextFile(`${root}/pkg/c.ts`, `import "./a.ts";\nimport "node:fs";\n`);
    await Deno.writeTextFile(`${root}/pkg/testdata/t.ts`, `import "./t.ts";\n`);
    await t.step("a type-only back edge is a cycle by default", async () => {
      assertEq(await findImportCycles(["pkg"], { root }), [["pkg/a.ts", "pkg/sub/b.ts", "pkg/a.ts"]], "all");
    });
    await t.step("and none at run time", async () => {
      assertEq(await findImportCycles(["pkg"], { root, runtimeOnly: true }), [], "runtime");
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
