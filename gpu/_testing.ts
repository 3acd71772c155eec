/**
 * Test helpers: whether a WebGPU adapter exists here (tests that need one register with
 * `ignore: !WEBGPU_AVAILABLE` so they are reported as ignored, and this module prints why once), and a scoped
 * `DENOFIT_BACKEND` setting.
 *
 * @module
 */

import { BACKEND_ENV } from "./config.ts";
import { preferVulkanOnLinux } from "./webgpu/_device.ts";

async function probe(): Promise<{ ok: boolean; reason: string }> {
  preferVulkanOnLinux(); // before navigator.gpu is first touched: see its note on the heap corruption at exit
  if (!("gpu" in navigator) || !navigator.gpu) return { ok: false, reason: "navigator.gpu is missing" };
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) {
      return { ok: false, reason: "requestAdapter() returned null (no Vulkan/Metal/DX12 driver)" };
    }
    return { ok: true, reason: adapter.info.description || "adapter found" };
  } catch (err) {
    return { ok: false, reason: `requestAdapter() failed: ${(err as Error).message}` };
  }
}

const result = await probe();

/** True when a WebGPU adapter (a real GPU or llvmpipe) is available to the tests. */
export const WEBGPU_AVAILABLE: boolean = result.ok;

/** Why WebGPU is or is not available (the adapter description when it is). */
export const WEBGPU_REASON: string = result.reason;

if (!WEBGPU_AVAILABLE) console.warn(`WebGPU tests skipped (reported as ignored): ${WEBGPU_REASON}`);

/** Register a test that needs WebGPU; ignored with a printed reason when there is no adapter. */
export function gpuTest(name: string, fn: (t: Deno.TestContext) => void | Promise<void>): void {
  Deno.test({
    name: WEBGPU_AVAILABLE ? name : `${name} (skipped: no WebGPU adapter)`,
    ignore: !WEBGPU_AVAILABLE,
    fn,
  });
}

/** Run `fn` with `BACKEND_ENV` set to `value` (unset for undefined), restoring it afterwards. */
export async function withBackendEnv<T>(value: string | undefined, fn: () => T | Promise<T>): Promise<T> {
  const saved = Deno.env.get(BACKEND_ENV);
  if (value === undefined) Deno.env.delete(BACKEND_ENV);
  else Deno.env.set(BACKEND_ENV, value);
  try {
    return await fn();
  } finally {
    if (saved === undefined) Deno.env.delete(BACKEND_ENV);
    else Deno.env.set(BACKEND_ENV, saved);
  }
}
