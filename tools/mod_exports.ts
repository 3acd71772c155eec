/**
 * The mod.ts export check: every public file of a package (not `_private.ts`, not `*_test.ts`, not
 * `main.ts`, not under a `_folder/` or `testdata/`) must be reachable through `export ... from` chains that
 * start at the package's `mod.ts`.
 *
 * @module
 */

const EXPORT_FROM = /export\s+(?:\*|\{[^}]*\}|type\s+\{[^}]*\})\s+from\s+["'](\.{1,2}\/[^"']+)["']/g;

function isPublic(rel: string): boolean {
  const parts = rel.split("/");
  const name = parts[parts.length - 1]!;
  if (!name.endsWith(".ts") || name.endsWith("_test.ts") || name === "main.ts") return false;
  return !parts.some((p) => p.startsWith("_") || p === "testdata" || p === "fixtures");
}

async function walk(dir: string, out: string[]): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) await walk(p, out);
    else if (e.isFile) out.push(p);
  }
}

/** Return one message per public file that its package's mod.ts does not re-export. */
export async function checkModExports(packages: string[], root = "."): Promise<string[]> {
  const problems: string[] = [];
  for (const pkg of packages) {
    const files: string[] = [];
    await walk(`${root}/${pkg}`, files);
    const reached = new Set<string>();
    const queue = [new URL(`${root}/${pkg}/mod.ts`, `file://${Deno.cwd()}/`).pathname];
    while (queue.length) {
      const file = queue.pop()!;
      if (reached.has(file)) continue;
      reached.add(file);
      let text: string;
      try {
        text = await Deno.readTextFile(file);
      } catch {
        problems.push(`${file}: re-exported but missing`);
        continue;
      }
      for (const m of text.matchAll(EXPORT_FROM)) queue.push(new URL(m[1]!, `file://${file}`).pathname);
    }
    for (const f of files) {
      const abs = new URL(f, `file://${Deno.cwd()}/`).pathname;
      const rel = f.slice(`${root}/${pkg}/`.length);
      if (isPublic(rel) && !reached.has(abs)) {
        problems.push(`${pkg}/${rel} is public but not re-exported by ${pkg}/mod.ts`);
      }
    }
  }
  return problems;
}
