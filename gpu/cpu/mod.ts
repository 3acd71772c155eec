/**
 * The CPU reference backend: every kernel in plain TypeScript, the reference the WebGPU kernels are tested
 * against and the fallback when no adapter exists.
 *
 * @example Softmax of one row
 * ```ts
 * import { CpuBackend } from "./mod.ts";
 * const cpu = new CpuBackend();
 * const x = cpu.alloc(2, "f32"), y = cpu.alloc(2, "f32");
 * cpu.write(x, new Float32Array([0, 0]));
 * const v = (s: typeof x) => ({ storage: s, shape: [1, 2], strides: [2, 1], offset: 0 });
 * cpu.run("softmax", [v(x)], [v(y)], { log: false });
 * if (cpu.readSync(y)[0] !== 0.5) throw new Error("softmax of equal logits must be 0.5");
 * ```
 *
 * @module
 */
export * from "./cpu_backend.ts";
