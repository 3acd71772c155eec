import { deepStrictEqual as assertEquals } from "node:assert/strict";

const DEVICE_URL = new URL("./_device.ts", import.meta.url).href;
// prints [what preferVulkanOnLinux() returned, DENO_WEBGPU_BACKEND afterwards (or "no-perm")]
const CHILD = `
import { preferVulkanOnLinux } from "${DEVICE_URL}";
const set = preferVulkanOnLinux();
const again = preferVulkanOnLinux();
const env = Deno.permissions.querySync({ name: "env", variable: "DENO_WEBGPU_BACKEND" }).state === "granted"
  ? Deno.env.get("DENO_WEBGPU_BACKEND") ?? null
  : "no-perm";
console.log(JSON.stringify([set, again, env]));
`;

let script = "";

async function child(perm: string[], value?: string): Promise<unknown> {
  const env: Record<string, string> = { ...Deno.env.toObject() };
  delete env.DENO_WEBGPU_BACKEND;
  if (value !== undefined) env.DENO_WEBGPU_BACKEND = value;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-read", ...perm, script],
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) throw new Error(`child failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(text);
}

Deno.test({
  name: "preferVulkanOnLinux() keeps Deno's WebGPU to Vulkan on Linux unless the user chose",
  ignore: Deno.build.os !== "linux",
  async fn(t) {
    script = await Deno.makeTempFile({ suffix: ".ts" });
    await Deno.writeTextFile(script, CHILD);
    try {
      await steps(t);
    } finally {
      await Deno.remove(script);
    }
  },
});

async function steps(t: Deno.TestContext): Promise<void> {
  await t.step("unset: set to vulkan, once", async () => {
    assertEquals(await child(["--allow-env"]), [true, true, "vulkan"]);
  });
  await t.step("the user's value is kept", async () => {
    assertEquals(await child(["--allow-env"], "gl"), [false, false, "gl"]);
  });
  await t.step("permission for that one variable is enough", async () => {
    assertEquals(await child(["--allow-env=DENO_WEBGPU_BACKEND"]), [true, true, "vulkan"]);
  });
  await t.step("no env permission: nothing changes, no prompt, no throw", async () => {
    assertEquals(await child([]), [false, false, "no-perm"]);
  });
}
