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
export * from "./ulmfit.ts";
export * from "./corpus.ts";
export * from "./vocab.ts";
export * from "./lm.ts";
export * from "./clas.ts";
export * from "./lr_find.ts";
export * from "./info.ts";
