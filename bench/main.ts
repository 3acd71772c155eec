/**
 * `deno task bench [suite...]`: runs `bench/<suite>.ts` and every `bench/<suite>_*.ts` (for example `gpu`, `text`
 * runs `text_tokenize.ts`, `text_subword.ts`, ...). Each suite module exports `run(): Promise<void>` and prints one
 * JSON object per line through {@linkcode emit} in `_report.ts`. With no suite named, all suites run.
 *
 * @module
 */

async function suiteFiles(prefixes: string[]): Promise<string[]> {
  const dir = new URL(".", import.meta.url);
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || !e.name.endsWith(".ts") || e.name.startsWith("_") || e.name === "main.ts") continue;
    const base = e.name.slice(0, -3);
    if (prefixes.length === 0 || prefixes.some((p) => base === p || base.startsWith(`${p}_`))) {
      names.push(e.name);
    }
  }
  return names.sort();
}

if (import.meta.main) {
  const files = await suiteFiles(Deno.args.filter((a) => !a.startsWith("-")));
  if (files.length === 0) {
    console.error(`bench: no suite matches ${Deno.args.join(" ")}; suites live in bench/<suite>.ts`);
    Deno.exit(2);
  }
  for (const f of files) {
    // a template literal Deno can analyze (it lists bench/*.ts), so `deno publish` need not warn about it
    const mod = await import(`./${f}`) as { run?: () => Promise<void> };
    if (typeof mod.run !== "function") throw new Error(`bench/${f} does not export run()`);
    await mod.run();
  }
}
