/**
 * The import-cycle check: walk the static `import` / `export ... from` statements of every `.ts` file of the
 * given packages (relative specifiers only; `npm:`, `node:` and URLs are leaves) and report each cycle.
 *
 * Cycles of type-only imports (`import type`, or braces holding only `type` specifiers) are erased at run time
 * and only break the layering on paper; they are reported too unless `runtimeOnly` is set.
 *
 * @example The cycle of a small graph
 * ```ts
 * import { cyclesOf } from "./import_cycles.ts";
 * const graph = new Map([["a.ts", ["b.ts"]], ["b.ts", ["a.ts", "c.ts"]], ["c.ts", []]]);
 * const cycles = cyclesOf(graph); // findImportCycles(["nn"]) builds the graph from the files
 * if (cycles.length !== 1 || cycles[0]!.join(" -> ") !== "a.ts -> b.ts -> a.ts") throw new Error("cycle");
 * ```
 *
 * @module
 */

/** One static import found in a file. */
export interface ImportEdge {
  /** The specifier as written (e.g. `./tensor.ts`). */
  specifier: string;
  /** Whether the statement imports only types (erased at run time). */
  typeOnly: boolean;
}

const FROM =
  /^[ \t]*(import|export)\s+(type\s+)?((?:[\w$]+\s*,\s*)?(?:\*(?:\s+as\s+[\w$]+)?|\{[^}]*\}|[\w$]+))\s*from\s*["']([^"']+)["']/gm;
const BARE = /^[ \t]*import\s*["']([^"']+)["']/gm;

/** Whether an import clause (`{ a, type B }`, `X`, `* as ns`) brings in only types. */
function clauseIsTypeOnly(clause: string): boolean {
  const braces = clause.match(/^\{([^}]*)\}$/);
  if (!braces) return false;
  const names = braces[1]!.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  return names.length > 0 && names.every((n) => n.startsWith("type "));
}

/**
 * The static imports of one source text (not dynamic `import()`, not lines inside JSDoc comments).
 * @param source TypeScript source text
 * @returns every import/re-export with its specifier
 */
export function parseImports(source: string): ImportEdge[] {
  const out: ImportEdge[] = [];
  for (const m of source.matchAll(FROM)) {
    out.push({ specifier: m[4]!, typeOnly: m[2] !== undefined || clauseIsTypeOnly(m[3]!.trim()) });
  }
  for (const m of source.matchAll(BARE)) out.push({ specifier: m[1]!, typeOnly: false });
  return out;
}

async function tsFiles(dir: string, out: string[]): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory && !["testdata", "fixtures", "node_modules"].includes(e.name)) await tsFiles(p, out);
    else if (e.isFile && e.name.endsWith(".ts")) out.push(p);
  }
}

/** Normalise `a/b/../c/./d` to `a/c/d`. */
function normalise(path: string): string {
  const parts: string[] = [];
  for (const p of path.split("/")) {
    if (p === "..") parts.pop();
    else if (p !== "." && p !== "") parts.push(p);
  }
  return parts.join("/");
}

/** Options of {@linkcode findImportCycles}. */
export interface CycleOptions {
  /** Root folder holding the packages. @default "." */
  root?: string;
  /** Ignore type-only imports (report only cycles that exist at run time). @default false */
  runtimeOnly?: boolean;
}

/** The import graph of the packages: file (relative to root) -> files it imports (inside root). */
export async function importGraph(
  packages: readonly string[],
  options: CycleOptions = {},
): Promise<Map<string, string[]>> {
  const { root = ".", runtimeOnly = false } = options;
  const files: string[] = [];
  for (const pkg of packages) await tsFiles(`${root}/${pkg}`, files);
  const graph = new Map<string, string[]>();
  for (const f of files.sort()) {
    const rel = normalise(f.slice(root.length + 1));
    const dir = rel.split("/").slice(0, -1).join("/");
    const deps = parseImports(await Deno.readTextFile(f))
      .filter((e) => e.specifier.startsWith("./") || e.specifier.startsWith("../"))
      .filter((e) => !(runtimeOnly && e.typeOnly))
      .map((e) => normalise(`${dir}/${e.specifier}`));
    graph.set(rel, [...new Set(deps)]);
  }
  return graph;
}

/**
 * The strongly connected components of more than one file (or a file importing itself), each given as one
 * concrete cycle `[a, b, ..., a]` through it (Tarjan's algorithm, iterative).
 */
export function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>(), low = new Map<string, number>();
  const onStack = new Set<string>(), stack: string[] = [], comps: string[][] = [];
  let next = 0;
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: { v: string; i: number }[] = [{ v: start, i: 0 }];
    index.set(start, next), low.set(start, next++), stack.push(start), onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const deps = graph.get(top.v) ?? [];
      if (top.i < deps.length) {
        const w = deps[top.i++]!;
        if (!graph.has(w)) continue;
        if (!index.has(w)) {
          index.set(w, next), low.set(w, next++), stack.push(w), onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.v, Math.min(low.get(parent.v)!, low.get(top.v)!));
      if (low.get(top.v) !== index.get(top.v)) continue;
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== top.v);
      if (comp.length > 1 || (graph.get(top.v) ?? []).includes(top.v)) comps.push(comp);
    }
  }
  return comps.map((c) => cycleThrough(graph, new Set(c)));
}

/** One cycle inside the component `comp`, from its first file (sorted) back to it (breadth-first). */
function cycleThrough(graph: ReadonlyMap<string, readonly string[]>, comp: Set<string>): string[] {
  const start = [...comp].sort()[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!comp.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = prev.get(u)!) path.push(u);
        path.push(start);
        return [start, ...path.slice(1, -1).reverse(), start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/**
 * Every import cycle among the files of `packages`.
 * @param packages folders under `root` (e.g. `["gpu", "nn", "text"]`)
 * @returns one cycle per strongly connected component, as file paths relative to `root`, first = last
 */
export async function findImportCycles(
  packages: readonly string[],
  options: CycleOptions = {},
): Promise<string[][]> {
  return cyclesOf(await importGraph(packages, options));
}
