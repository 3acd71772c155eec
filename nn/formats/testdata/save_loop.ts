// Child process for atomic_test.ts: saves a ~2 MB safetensors file in an endless loop, every tensor filled with
// the step number, printing "saved <step>" after each save returns. The test kills it with SIGKILL at random.
import { writeSafetensors } from "../safetensors.ts";

const path = Deno.args[0];
const first = Number(Deno.args[1] ?? "0");
if (!path) throw new Error("usage: save_loop.ts <path> [first-step]");
const n = 1 << 19;
const out = Deno.stdout;
for (let step = first;; step++) {
  const tensors = new Map([
    ["step", { dtype: "i32" as const, shape: [1], data: new Int32Array([step]) }],
    ["weights", { dtype: "f32" as const, shape: [n], data: new Float32Array(n).fill(step) }],
  ]);
  await writeSafetensors(path, tensors, { metadata: { step: String(step) } });
  await out.write(new TextEncoder().encode(`saved ${step}\n`));
}
