import type { View } from "../../backend.ts";
import { Rng } from "../../rng.ts";
import { assert, assertClose, assertThrows, randomValues, store } from "../_test_util.ts";
import { CpuBackend } from "../mod.ts";

const cpu = new CpuBackend();

function vec(data: ArrayLike<number>, dtype: "f32" | "f64" = "f64"): View {
  return { storage: store(cpu, dtype, data), shape: [data.length], strides: [1], offset: 0 };
}

const read = (v: View) => cpu.readSync(v.storage);

Deno.test("adam kernel follows the Adam / AdamW formulas over several in-place steps", async (t) => {
  const rng = new Rng(51);
  for (const [n, decoupled] of [[37, false], [37, true], [1, true], [1031, false], [0, true]] as const) {
    await t.step(
      `${decoupled ? "AdamW (decoupled weight decay)" : "Adam with L2 weight decay"}, n=${n}`,
      () => {
        const attrs = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, decoupled, step: 0 };
        const p0 = randomValues(n, rng);
        const param = vec(p0), m = vec(new Float64Array(n)), v = vec(new Float64Array(n));
        const ref = { p: p0.slice(), m: new Float64Array(n), v: new Float64Array(n) };
        for (let step = 1; step <= 3; step++) {
          const g = randomValues(n, rng);
          cpu.run("adam", [param, vec(g), m, v], [param, m, v], { ...attrs, step });
          for (let i = 0; i < n; i++) {
            let gi = g[i]!;
            if (decoupled) ref.p[i] = ref.p[i]! - attrs.lr * attrs.weightDecay * ref.p[i]!;
            else gi += attrs.weightDecay * ref.p[i]!;
            ref.m[i] = attrs.beta1 * ref.m[i]! + (1 - attrs.beta1) * gi;
            ref.v[i] = attrs.beta2 * ref.v[i]! + (1 - attrs.beta2) * gi * gi;
            const mHat = ref.m[i]! / (1 - attrs.beta1 ** step), vHat = ref.v[i]! / (1 - attrs.beta2 ** step);
            ref.p[i] = ref.p[i]! - attrs.lr * mHat / (Math.sqrt(vHat) + attrs.eps);
          }
          assertClose(read(param), ref.p, `param after step ${step}`, { rtol: 1e-12, atol: 1e-14 });
          assertClose(read(m), ref.m, `expAvg after step ${step}`, { rtol: 1e-12, atol: 1e-14 });
          assertClose(read(v), ref.v, `expAvgSq after step ${step}`, { rtol: 1e-12, atol: 1e-14 });
        }
      },
    );
  }
  await t.step("AdamW and L2 differ when weight decay is on; step 0 is an error", () => {
    const run = (decoupled: boolean) => {
      const p = vec([1, -2, 3]);
      const attrs = { lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.5, decoupled, step: 1 };
      cpu.run("adam", [p, vec([0.1, 0.1, 0.1]), vec([0, 0, 0]), vec([0, 0, 0])], [
        p,
        vec([0, 0, 0]),
        vec([0, 0, 0]),
      ], attrs);
      return read(p);
    };
    const a = run(false), w = run(true);
    // L2: g = 0.1 + 0.5 * p dominates; first Adam step moves each weight by lr * sign(g) = 0.1.
    assertClose(a, [0.9, -1.9, 2.9], "Adam + L2 first step", { rtol: 1e-6 });
    // AdamW: p * (1 - 0.05) then - 0.1 * sign(0.1).
    assertClose(w, [0.85, -2, 2.75], "AdamW first step", { rtol: 1e-6 });
    assertThrows(
      () =>
        cpu.run("adam", [vec([1]), vec([1]), vec([0]), vec([0])], [vec([1]), vec([0]), vec([0])], {
          lr: 1,
          beta1: 0.9,
          beta2: 0.9,
          eps: 1e-8,
          weightDecay: 0,
          decoupled: false,
          step: 0,
        }),
      ["adam", "1-based"],
    );
    assertThrows(
      () =>
        cpu.run("adam", [vec([1, 2]), vec([1]), vec([0, 0]), vec([0, 0])], [
          vec([1, 2]),
          vec([0, 0]),
          vec([0, 0]),
        ], {
          lr: 1,
          beta1: 0.9,
          beta2: 0.9,
          eps: 1e-8,
          weightDecay: 0,
          decoupled: false,
          step: 1,
        }),
      ["adam", "input 1", "[1]", "[2]"],
    );
  });
});

Deno.test("sgd kernel follows the PyTorch SGD formulas (momentum, dampening, nesterov, weight decay)", () => {
  const rng = new Rng(52);
  const n = 23;
  for (
    const [momentum, dampening, nesterov, weightDecay] of [
      [0, 0, false, 0],
      [0.9, 0, false, 0.01],
      [0.9, 0.1, false, 0],
      [0.8, 0, true, 0.05],
    ] as const
  ) {
    const attrs = { lr: 0.05, momentum, dampening, nesterov, weightDecay };
    const p0 = randomValues(n, rng);
    const param = vec(p0), buf = vec(new Float64Array(n));
    const ref = { p: p0.slice(), b: new Float64Array(n) };
    for (let step = 1; step <= 3; step++) {
      const g = randomValues(n, rng);
      cpu.run("sgd", [param, vec(g), buf], [param, buf], attrs);
      for (let i = 0; i < n; i++) {
        let d = g[i]! + weightDecay * ref.p[i]!;
        if (momentum !== 0) {
          ref.b[i] = step === 1 && dampening === 0 ? d : momentum * ref.b[i]! + (1 - dampening) * d;
          d = nesterov ? d + momentum * ref.b[i]! : ref.b[i]!;
        }
        ref.p[i] = ref.p[i]! - attrs.lr * d;
      }
      assertClose(read(param), ref.p, `sgd ${JSON.stringify(attrs)} step ${step}`, {
        rtol: 1e-12,
        atol: 1e-14,
      });
    }
    if (momentum === 0) assert(read(buf).every((x) => x === 0), "momentum 0 leaves the buffer untouched");
  }
  const p = vec([1, 2], "f32");
  cpu.run("sgd", [p, vec([0.5, -0.5], "f32"), vec([0, 0], "f32")], [p, vec([0, 0], "f32")], {
    lr: 0.1,
    momentum: 0,
    dampening: 0,
    nesterov: false,
    weightDecay: 0,
  });
  assertClose(read(p), [Math.fround(0.95), Math.fround(2.05)], "f32 sgd");
});
