/**
 * The `denofit` command line: build the program with {@linkcode buildCli}, or run `cli/main.ts`.
 *
 * @example Parse `--version`
 * ```ts
 * import { buildCli } from "./mod.ts";
 * const program = buildCli();
 * if (program.name() !== "denofit") throw new Error("wrong name");
 * ```
 *
 * @module
 */
export * from "./program.ts";
export * from "./version.ts";
