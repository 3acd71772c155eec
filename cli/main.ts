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
    // `deno task cli -- --help` forwards the `--` separator itself: drop it so options reach the command.
    const args = Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args;
    await program.parseAsync(args, { from: "user" });
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    if (typeof code === "number") Deno.exit(code);
    console.error(`denofit: ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
