import { checkModExports } from "./mod_exports.ts";

Deno.test("checkModExports() flags a public file missing from mod.ts", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/pkg/sub`, { recursive: true });
    await Deno.writeTextFile(
      `${root}/pkg/mod.ts`,
      `export * from "./a.ts";\nexport * from "./sub/mod.ts";\n`,
    );
    await Deno.writeTextFile(`${root}/pkg/a.ts`, "export const a = 1;\n");
    await Deno.writeTextFile(`${root}/pkg/b.ts`, "export const b = 1;\n");
    await Deno.writeTextFile(`${root}/pkg/_private.ts`, "export const p = 1;\n");
    await Deno.writeTextFile(`${root}/pkg/a_test.ts`, "");
    await Deno.writeTextFile(`${root}/pkg/sub/mod.ts`, `export { c } from "./c.ts";\n`);
    await Deno.writeTextFile(`${root}/pkg/sub/c.ts`, "export const c = 1;\n");
    const problems = await checkModExports(["pkg"], root);
    if (problems.length !== 1 || !problems[0]!.includes("pkg/b.ts")) {
      throw new Error(JSON.stringify(problems));
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
