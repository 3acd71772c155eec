/**
 * Adapter and device setup for the WebGPU backend: the adapter's own limits requested in `requiredLimits`,
 * `shader-f16` and `timestamp-query` enabled when offered, the fallback (CPU) adapter detected, and device loss
 * and uncaptured errors recorded so later calls throw instead of hanging. On Linux, Deno's WebGPU is kept to
 * its Vulkan backend unless `DENO_WEBGPU_BACKEND` says otherwise ({@linkcode preferVulkanOnLinux}).
 *
 * @module
 */

/** What the backend knows about its device. */
export interface DeviceInfo {
  /** The device. */
  device: GPUDevice;
  /** Adapter description (e.g. `"llvmpipe (LLVM 15.0.6, 256 bits)"`). */
  description: string;
  /** Adapter vendor string. */
  vendor: string;
  /** True for a software/CPU adapter (llvmpipe, SwiftShader, WARP). */
  isFallback: boolean;
  /** Features enabled on the device. */
  features: ReadonlySet<string>;
}

/** Result of {@linkcode requestDevice}: a device or the reason there is none. */
export type DeviceResult = { ok: true; info: DeviceInfo } | { ok: false; reason: string };

const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|softpipe|warp|microsoft basic render/i;

/** Copy every numeric limit of the adapter into a `requiredLimits` record. */
export function adapterLimits(adapter: GPUAdapter): Record<string, number> {
  const out: Record<string, number> = {};
  const limits = adapter.limits as unknown as Record<string, unknown>;
  for (const key in limits) {
    const v = limits[key];
    if (typeof v === "number") out[key] = v;
  }
  return out;
}

/** The variable Deno reads, once per isolate, to pick wgpu's backends (`vulkan`, `gl`, `vulkan,gl`...). */
export const WEBGPU_BACKEND_VAR = "DENO_WEBGPU_BACKEND";
let vulkanSetHere = false;

/**
 * On Linux, set `DENO_WEBGPU_BACKEND=vulkan` when it is unset, before `navigator.gpu` is first used. By default
 * Deno 2.9 starts every wgpu backend, GL (EGL) included, in each isolate that uses WebGPU, and picks the Vulkan
 * adapter anyway. Creating and dropping those EGL instances in several isolates of one process (test modules,
 * doc tests, workers) corrupts the heap on Mesa: glibc aborts at exit with `corrupted size vs. prev_size in
 * fastbins` or `double free or corruption`. With Vulkan alone it does not happen, and the adapter is the same.
 * A value the user set is kept (`DENO_WEBGPU_BACKEND=gl` for a machine without Vulkan). Without env
 * permission nothing changes and nothing is prompted.
 * @returns whether this module set the variable (now or on an earlier call)
 */
export function preferVulkanOnLinux(): boolean {
  if (vulkanSetHere || Deno.build.os !== "linux") return vulkanSetHere;
  if (Deno.permissions.querySync({ name: "env", variable: WEBGPU_BACKEND_VAR }).state !== "granted") {
    return false;
  }
  if (Deno.env.get(WEBGPU_BACKEND_VAR) !== undefined) return false;
  Deno.env.set(WEBGPU_BACKEND_VAR, "vulkan");
  return vulkanSetHere = true;
}

/** Request an adapter and a device with the adapter's limits; never throws. */
export async function requestDevice(
  powerPreference: GPUPowerPreference = "high-performance",
): Promise<DeviceResult> {
  const vulkanOnly = preferVulkanOnLinux(); // before the first requestAdapter() of this isolate
  if (typeof navigator === "undefined" || !("gpu" in navigator) || !navigator.gpu) {
    return { ok: false, reason: "navigator.gpu is missing (this runtime has no WebGPU)" };
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await navigator.gpu.requestAdapter({ powerPreference });
  } catch (err) {
    return { ok: false, reason: `requestAdapter() failed: ${(err as Error).message}` };
  }
  if (!adapter) {
    const hint = vulkanOnly ? `; without Vulkan, ${WEBGPU_BACKEND_VAR}=gl tries the GL backend` : "";
    return { ok: false, reason: `requestAdapter() returned null (no Vulkan/Metal/DX12 driver${hint})` };
  }
  const wanted: GPUFeatureName[] = [];
  for (const f of ["shader-f16", "timestamp-query"] as const) if (adapter.features.has(f)) wanted.push(f);
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredFeatures: wanted,
      requiredLimits: adapterLimits(adapter),
    });
  } catch (err) {
    return { ok: false, reason: `requestDevice() failed: ${(err as Error).message}` };
  }
  const info = adapter.info;
  const description = info.description || info.device || info.vendor || "unknown adapter";
  return {
    ok: true,
    info: {
      device,
      description,
      vendor: info.vendor,
      isFallback: Boolean(info.isFallbackAdapter) || SOFTWARE_NAMES.test(description),
      features: new Set([...device.features]),
    },
  };
}
