/**
 * Layering rules of `deno task check` (`deno run --allow-read tools/boundaries.ts` prints each violation with
 * its file and line and exits 1):
 *
 * 1. **The library never depends on the CLI**: no module of `gpu/`, `nn/`, `text/` or `vision/` (tests and
 *    JSDoc examples included) imports from `cli/`.
 * 2. **Examples use the public surface**: a module of `examples/` imports other examples, `npm:`/`node:`/mapped
 *    packages and `mod.ts` files only — never `cli/`, never a package's inner file.
 * 3. **SQL lives in the store**: outside `text/store/`, no module of the library, the CLI or the examples opens
 *    SQLite (`node:sqlite`), prepares a statement (`db.prepare`, `db.exec`) or holds an SQL statement in a
 *    string.
 *
 * @example An example importing a library file directly breaks rule 2
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { checkBoundaries } from "./boundaries.ts";
 * const root = await Deno.makeTempDir();
 * for (const d of ["examples", "text", "cli"]) await Deno.mkdir(`${root}/${d}`);
 * await Deno.writeTextFile(`${root}/examples/demo.ts`, 'import { x } from "../text/store.ts";\n');
 * const [v] = await checkBoundaries(root);
 * strictEqual(v, "examples/demo.ts:1: imports ../text/store.ts; examples import only mod.ts surfaces");
 * await Deno.remove(root, { recursive: true });
 * ```
 *
 * @module
 */
import { dirname, join, relative, resolve } from "node:path";

/** Library packages: they must not import `cli/`. */
export const LIBRARY_PACKAGES = ["gpu", "nn", "text", "vision"];
/** Where SQL is allowed. */
export const STORE_DIR = "text/store";

const IMPORT_PATTERNS = [
  /\b(?:import|export)\s+(?:type\s+)?[^;'"`]*?\bfrom\s*["']([^"']+)["']/g, // import x from "a"; export * from "a"
  /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g, // import("a")
  /\bimport\s+["']([^"']+)["']/g, // import "a";
];

const SQL_PATTERNS: [RegExp, string][] = [
  [/["']node:sqlite["']/, "opens SQLite (node:sqlite)"],
  [/\bdb\.(?:prepare|exec)\s*\(/, "runs a statement on the store's database"],
  [
    /["'`]\s*(?:SELECT\b[^"'`]*\bFROM|INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(?:TABLE|INDEX)|DROP\s+(?:TABLE|INDEX)|ALTER\s+TABLE|PRAGMA\s+\w)/,
    "holds an SQL statement",
  ],
];

/** One import of a module: the specifier and its 1-based line. */
export interface ImportSite {
  /** As written. */
  specifier: string;
  /** Line of the specifier. */
  line: number;
}

/**
 * Every import specifier of a module's text (static, dynamic, re-exports; JSDoc examples included).
 *
 * @param source the module's text
 * @returns the specifiers with their lines, in order
 */
export function importSites(source: string): ImportSite[] {
  const sites: ImportSite[] = [];
  for (const re of IMPORT_PATTERNS) {
    for (const m of source.matchAll(re)) {
      const at = m.index! + m[0].lastIndexOf(m[1]!);
      sites.push({ specifier: m[1]!, line: source.slice(0, at).split("\n").length });
    }
  }
  return sites.sort((a, b) => a.line - b.line);
}

async function tsFiles(dir: string, out: string[] = []): Promise<string[]> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return out;
    throw e;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory && !["node_modules", "fixtures"].includes(e.name)) await tsFiles(p, out);
    else if (e.isFile && e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

function localTarget(root: string, file: string, specifier: string): string | undefined {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return undefined;
  return relative(root, resolve(dirname(file), specifier));
}

function importViolations(root: string, file: string, source: string, rel: string): string[] {
  const out: string[] = [];
  const isExample = rel.startsWith("examples/");
  for (const { specifier, line } of importSites(source)) {
    const target = localTarget(root, file, specifier);
    if (target === undefined) continue;
    const where = `${rel}:${line}: imports ${specifier}`;
    if (target.startsWith("cli/")) {
      out.push(`${where}; ${isExample ? "examples" : "the library"} must not depend on the CLI`);
    } else if (isExample && !target.startsWith("examples/") && !target.endsWith("mod.ts")) {
      out.push(`${where}; examples import only mod.ts surfaces`);
    }
  }
  return out;
}

function sqlViolations(source: string, rel: string): string[] {
  const out: string[] = [];
  source.split("\n").forEach((text, i) => {
    for (const [re, what] of SQL_PATTERNS) {
      if (re.test(text)) {
        out.push(`${rel}:${i + 1}: ${what}; SQL belongs in ${STORE_DIR}/ (add a store method)`);
      }
    }
  });
  return out;
}

/**
 * Check the three rules on a repository.
 *
 * @param root the repository root @default "."
 * @returns one message per violation (`file:line: what; rule`), empty when the layering holds
 */
export async function checkBoundaries(root = "."): Promise<string[]> {
  const problems: string[] = [];
  for (const dir of [...LIBRARY_PACKAGES, "cli", "examples"]) {
    for (const file of await tsFiles(join(root, dir))) {
      const rel = relative(root, file);
      const source = await Deno.readTextFile(file);
      if (dir !== "cli") problems.push(...importViolations(root, file, source, rel));
      if (!rel.startsWith(`${STORE_DIR}/`)) problems.push(...sqlViolations(source, rel));
    }
  }
  return problems;
}

if (import.meta.main) {
  const problems = await checkBoundaries();
  for (const p of problems) console.error(`  ${p}`);
  if (problems.length) {
    console.error(`${problems.length} layering violation${problems.length === 1 ? "" : "s"}`);
    Deno.exit(1);
  }
  console.log(
    "no library module imports cli/; examples import only mod.ts surfaces; SQL only in text/store/",
  );
}
