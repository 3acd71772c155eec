/**
 * `deno task check`: formatting, lint, type-check of every file (JSDoc examples included), the mod.ts
 * export check, the import-cycle check, `deno publish --dry-run` (no error and no warning), and the JSDoc
 * examples run as tests. Exits non-zero on the first failure.
 *
 * @module
 */
import { checkModExports } from "./mod_exports.ts";
import { findImportCycles } from "./import_cycles.ts";

const PACKAGES = ["gpu", "nn", "text", "vision", "cli"];
/** Packages where even a cycle of type-only imports fails the check (elsewhere it is printed as a note). */
const STRICT_CYCLES = ["nn"];

/** Print every import cycle; return false when one runs at load time or lies in a strict package. */
export async function checkCycles(): Promise<boolean> {
  console.log("\n== import cycles");
  const runtime = await findImportCycles(PACKAGES, { runtimeOnly: true });
  const all = await findImportCycles(PACKAGES);
  const strict = all.filter((c) => STRICT_CYCLES.some((p) => c[0]!.startsWith(`${p}/`)));
  for (const c of runtime) console.error(`  runtime cycle: ${c.join(" -> ")}`);
  for (const c of strict) console.error(`  cycle in ${STRICT_CYCLES.join(", ")}: ${c.join(" -> ")}`);
  const notes = all.filter((c) => !strict.includes(c) && !runtime.some((r) => r.includes(c[0]!)));
  for (const c of notes) console.log(`  note: type-only cycle ${c.join(" -> ")}`);
  if (runtime.length + strict.length > 0) return false;
  console.log(
    `no runtime import cycle in ${PACKAGES.join(", ")}; none at all in ${STRICT_CYCLES.join(", ")}`,
  );
  return true;
}

async function sh(label: string, args: string[]): Promise<void> {
  const shown = args.filter((a) => !a.endsWith(".ts"));
  const files = args.length - shown.length;
  console.log(`\n== ${label}: deno ${shown.join(" ")}${files ? ` <${files} files>` : ""}`);
  const { code } = await new Deno.Command(Deno.execPath(), { args, stdout: "inherit", stderr: "inherit" })
    .output();
  if (code !== 0) {
    console.error(`check failed at: ${label}`);
    Deno.exit(code);
  }
}

/**
 * Publish warnings that are intended, by file, with the reason. Anything else fails the check.
 * - `nn/_npm.ts`: optional npm packages (data sets, native addons) are imported at run time on purpose; literal
 *   (analyzable) imports are prefetched, so every program importing the library would download ~300 MB.
 */
const ALLOWED_PUBLISH_WARNINGS: Record<string, string> = {
  "nn/_npm.ts": "optional npm data sets and native addons are imported at run time, never prefetched",
};

/** `deno publish --dry-run` (uncommitted changes allowed): fails on an error and on any warning not allowed. */
async function publishDryRun(): Promise<void> {
  const args = ["publish", "--dry-run", "--allow-dirty"];
  console.log(`\n== publish: deno ${args.join(" ")}`);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1" }, // plain text: the warning parser reads it
  }).output();
  const text = new TextDecoder().decode(stderr) + new TextDecoder().decode(stdout);
  const warnings = [...text.matchAll(/warning\[([^\]]+)\][^\n]*\n\s*--> ([^\n]+)/g)];
  const unexpected = warnings.filter((w) =>
    !Object.keys(ALLOWED_PUBLISH_WARNINGS).some((f) => (w[2] ?? "").includes(`/${f}:`))
  );
  const unparsed = (text.match(/warning\[/g) ?? []).length !== warnings.length;
  if (code !== 0 || unexpected.length > 0 || unparsed) {
    console.error(text);
    console.error(`check failed at: publish (${code !== 0 ? `exit ${code}` : "warnings"})`);
    Deno.exit(code || 1);
  }
  for (const w of warnings) {
    const file = Object.keys(ALLOWED_PUBLISH_WARNINGS).find((f) => (w[2] ?? "").includes(`/${f}:`))!;
    console.log(`note: allowed ${w[1]} at ${w[2]}: ${ALLOWED_PUBLISH_WARNINGS[file]}`);
  }
  console.log(
    text.split("\n").filter((l) => !/^\s+file:/.test(l) && !/^(warning|\s+(-->|\||\d+ \||info:))/.test(l))
      .join("\n").trim(),
  );
}

async function tsFiles(dir: string, out: string[] = []): Promise<string[]> {
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory && !["node_modules", "dist", ".git", ".gl", "fixtures"].includes(e.name)) {
      await tsFiles(p, out);
    } else if (e.isFile && e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

if (import.meta.main) {
  await sh("format", ["fmt", "--check"]);
  await sh("lint", ["lint"]);
  await sh("layering (tools/boundaries.ts)", ["run", "--allow-read", "tools/boundaries.ts"]);
  const all = (await tsFiles(".")).sort();
  await sh("type-check", ["check", "--doc", ...all]);
  console.log("\n== mod.ts exports");
  const problems = await checkModExports(PACKAGES);
  if (problems.length) {
    for (const p of problems) console.error(`  ${p}`);
    console.error("check failed at: mod.ts exports");
    Deno.exit(1);
  }
  console.log("every public file is re-exported by its package mod.ts");
  if (!(await checkCycles())) {
    console.error("check failed at: import cycles");
    Deno.exit(1);
  }
  await publishDryRun();
  const sources = all.filter((f) =>
    PACKAGES.some((p) => f.startsWith(`./${p}/`)) && !f.endsWith("_test.ts") && !f.endsWith("main.ts") &&
    !f.includes("/testdata/")
  ).concat(["./mod.ts"]);
  await sh("doc tests", ["test", "--allow-all", "--doc", "--reporter=dot", ...sources]);
}
