/**
 * Entry point of the `denofit` command: `deno task cli -- --help`.
 *
 * @module
 */
import { buildCli } from "./program.ts";

if (import.meta.main) {
  const program = buildCli();
  program.exitOverride();
  try {
    await program.parseAsync(Deno.args, { from: "user" });
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    if (typeof code === "number") Deno.exit(code);
    console.error(`denofit: ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
