/**
 * Optional external programs (wat2wasm, Debian's python3 with torch, spm_train, fasttext, ...) for tests and
 * benchmarks. A fresh machine has only Deno, and `new Deno.Command(cmd).output()` throws synchronously when
 * `cmd` cannot be spawned, so every probe goes through {@linkcode runOptional} or {@linkcode probeProgram},
 * which never throw: tests that need a missing program register with `ignore: true` and print the reason,
 * benchmarks skip the peer and say so.
 *
 * @example Ignore a test when a program is missing
 * ```ts
 * import { probeProgram } from "./programs.ts";
 * const wat2wasm = await probeProgram("wat2wasm");
 * const test: Deno.TestDefinition = {
 *   name: `rebuild${wat2wasm.ok ? "" : ` (ignored: ${wat2wasm.reason})`}`,
 *   ignore: !wat2wasm.ok,
 *   fn() {},
 * };
 * if (test.ignore === wat2wasm.ok) throw new Error("ignore follows the probe");
 * ```
 *
 * @module
 */

/** What {@linkcode probeProgram} found. */
export interface ProgramProbe {
  /** True when the program started and exited with code 0. */
  ok: boolean;
  /** Why it is not usable (empty when `ok`), e.g. `wat2wasm is not on PATH`. */
  reason: string;
}

/** Why `cmd` could not be spawned, from the error `Deno.Command` threw. */
function spawnFailure(cmd: string, err: unknown): string {
  if (err instanceof Deno.errors.NotFound) return `${cmd} is not on PATH`;
  if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
    return `no permission to run ${cmd} (--allow-run)`;
  }
  return `${cmd} could not be started: ${err instanceof Error ? err.message : String(err)}`;
}

/**
 * Run a command that may be missing: its output, or the reason it could not be started. Never throws for a
 * missing program or a missing `--allow-run`.
 *
 * @example
 * ```ts
 * import { runOptional } from "./programs.ts";
 * const r = await runOptional("no-such-program-denofit", { args: ["--version"] });
 * if (r.output || !r.reason.includes("not on PATH")) throw new Error(r.reason);
 * ```
 * @param cmd program name or path
 * @param options `Deno.Command` options (stdout and stderr default to "piped", stdin to "null")
 * @returns `output` when the program ran (whatever its exit code), else `reason`
 */
export async function runOptional(
  cmd: string,
  options: Deno.CommandOptions = {},
): Promise<{ output: Deno.CommandOutput; reason: "" } | { output: null; reason: string }> {
  try {
    const output = await new Deno.Command(cmd, {
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
      ...options,
    })
      .output();
    return { output, reason: "" };
  } catch (err) {
    return { output: null, reason: spawnFailure(cmd, err) };
  }
}

/**
 * Whether `cmd ...args` runs and exits 0; when it does not and `needed` is given, prints once (to stderr)
 * `<needed> ignored: <reason>`.
 *
 * @example
 * ```ts
 * import { probeProgram } from "./programs.ts";
 * const deno = await probeProgram(Deno.execPath(), { args: ["--version"] });
 * if (!deno.ok) throw new Error(deno.reason);
 * ```
 * @param cmd program name or path
 * @param options `args` (default `["--version"]`); `needed`: what needs the program, for the message
 * @returns whether the program is usable, and why not
 */
export async function probeProgram(
  cmd: string,
  { args = ["--version"], needed }: { args?: string[]; needed?: string } = {},
): Promise<ProgramProbe> {
  const { output, reason } = await runOptional(cmd, { args });
  let why = reason;
  if (output && !output.success) {
    const err = new TextDecoder().decode(output.stderr).trim().split("\n").at(-1) ?? "";
    why = `${[cmd, ...args].join(" ")} exited with code ${output.code}${err ? `: ${err.slice(0, 200)}` : ""}`;
  }
  if (why && needed) console.warn(`${needed} ignored: ${why}`);
  return { ok: why === "", reason: why };
}
