import { buildCli } from "./program.ts";
import { VERSION } from "../nn/version.ts";

async function runCli(args: string[]): Promise<{ code: number; out: string }> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-env", "--allow-ffi", "cli/main.ts", ...args],
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await cmd.output();
  return { code, out: new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr) };
}

Deno.test("denofit --help and --version", async (t) => {
  await t.step("help lists the tool and its options", async () => {
    const { code, out } = await runCli(["--help"]);
    if (code !== 0) throw new Error(`exit ${code}: ${out}`);
    if (!out.includes("Usage: denofit") || !out.includes("--version")) throw new Error(out);
  });
  await t.step("version prints the library version", async () => {
    const { code, out } = await runCli(["--version"]);
    if (code !== 0 || out.trim() !== VERSION) throw new Error(`exit ${code}: ${out}`);
  });
  await t.step("`deno task cli -- --help` works as the README writes it", async () => {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["task", "cli", "--", "--help"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    if (code !== 0 || !out.includes("Usage: denofit")) throw new Error(`exit ${code}: ${out}`);
  });
  await t.step("an unknown option is an error naming it", async () => {
    const { code, out } = await runCli(["--no-such-option"]);
    if (code === 0 || !out.includes("--no-such-option")) throw new Error(`exit ${code}: ${out}`);
  });
});

Deno.test("buildCli() names the program", () => {
  if (buildCli().name() !== "denofit") throw new Error("wrong program name");
});
