import { assert, assertClose, assertThrows, gradcheck, vals } from "./_gradcheck.ts";
import { gruSequence, lstmSequence, rnnSequence, type RnnWeights } from "./ops_rnn.ts";
import { add, mul, sigmoid, sub, tanh } from "./ops_elementwise.ts";
import { matmul } from "./ops_linalg.ts";
import { concat, narrow, reshape, slice, stack, transpose, unsqueeze } from "./ops_shape.ts";
import { softmax, sum } from "./ops_reduce.ts";
import { liveTensors, randn, type Tensor, tidy } from "./tensor.ts";
import { noGrad, setBackend } from "./engine.ts";
import { seed } from "../gpu/rng.ts";
import { type Backend, CpuBackend, createWebGpuBackend } from "../gpu/mod.ts";

const linear = (x: Tensor, w: Tensor, b: Tensor) => add(matmul(x, transpose(w)), b);
const part = (t: Tensor, k: number, H: number) => narrow(t, { axis: 1, start: k * H, length: H });

/** Full weights of one layer (every field given). */
interface W extends RnnWeights {
  wih: Tensor;
  bih: Tensor;
  bhh: Tensor;
}

/** One LSTM step from tensor ops (PyTorch's equations). */
function lstmStepRef(x: Tensor, h: Tensor, c: Tensor, w: W): [Tensor, Tensor] {
  const H = h.shape[1]!;
  const g = add(linear(x, w.wih, w.bih), linear(h, w.whh, w.bhh));
  const c2 = add(mul(sigmoid(part(g, 1, H)), c), mul(sigmoid(part(g, 0, H)), tanh(part(g, 2, H))));
  return [mul(sigmoid(part(g, 3, H)), tanh(c2)), c2];
}

/** One GRU step from tensor ops (PyTorch's equations). */
function gruStepRef(x: Tensor, h: Tensor, w: W): Tensor {
  const H = h.shape[1]!;
  const gi = linear(x, w.wih, w.bih), gh = linear(h, w.whh, w.bhh);
  const r = sigmoid(add(part(gi, 0, H), part(gh, 0, H))), z = sigmoid(add(part(gi, 1, H), part(gh, 1, H)));
  const n = tanh(add(part(gi, 2, H), mul(r, part(gh, 2, H))));
  return add(mul(sub(1, z), n), mul(z, h));
}

function weights(gates: number, F: number, H: number): W {
  const o = { requiresGrad: true };
  return {
    wih: randn([gates * H, F], o),
    whh: randn([gates * H, H], o),
    bih: randn([gates * H], o),
    bhh: randn([gates * H], o),
  };
}

/** Run a whole sequence through the reference step, in `reverse` order when asked. */
function sequenceRef(
  kind: "lstm" | "gru",
  x: Tensor,
  w: W,
  h0: Tensor,
  c0: Tensor,
  reverse: boolean,
): Tensor[] {
  const T = x.shape[0]!;
  const outs: Tensor[] = new Array(T);
  let h = h0, c = c0;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    if (kind === "lstm") [h, c] = lstmStepRef(slice(x, [t]), h, c, w);
    else h = gruStepRef(slice(x, [t]), h, w);
    outs[t] = h;
  }
  return kind === "lstm" ? [stack(outs, 0), h, c] : [stack(outs, 0), h];
}

/** The outputs of `run` (the caller disposes them) and the gradient of every input under a fixed objective. */
function runWithGrads(inputs: Tensor[], run: () => Tensor[]): { outs: Tensor[]; grads: Tensor[] } {
  for (const t of inputs) t.zeroGrad();
  const outs = tidy(() => {
    seed(99);
    const outs = run();
    let loss = sum(mul(outs[0]!, randn(outs[0]!.shape)));
    for (const o of outs.slice(1)) loss = add(loss, sum(mul(o, randn(o.shape))));
    loss.backward();
    return outs;
  });
  return { outs, grads: inputs.map((t) => t.grad!) };
}

/** The values of {@linkcode runWithGrads}' outputs, then of the gradients (read asynchronously). */
async function outputsAndGrads(inputs: Tensor[], run: () => Tensor[]): Promise<number[][]> {
  const { outs, grads } = runWithGrads(inputs, run);
  const values: number[][] = [];
  for (const t of [...outs, ...grads]) values.push(Array.from(await t.data()));
  for (const t of outs) t.dispose();
  return values;
}

Deno.test("lstmSequence() and gruSequence() match the unfused equations, forward and backward", async (t) => {
  for (const kind of ["lstm", "gru"] as const) {
    for (const reverse of [false, true]) {
      await t.step(`${kind}${reverse ? " reverse" : ""}, T 3, B 2, F 3, H 5`, async () => {
        seed(1);
        const w = weights(kind === "lstm" ? 4 : 3, 3, 5);
        const x = randn([3, 2, 3], { requiresGrad: true });
        const h0 = randn([2, 5], { requiresGrad: true }), c0 = randn([2, 5], { requiresGrad: true });
        const inputs = [x, h0, ...(kind === "lstm" ? [c0] : []), w.wih, w.whh, w.bih, w.bhh];
        const mine = await outputsAndGrads(inputs, () => {
          if (kind === "gru") {
            const r = gruSequence(x, w, { h0, reverse });
            return [r.output, r.h];
          }
          const r = lstmSequence(x, w, { h0, c0, reverse });
          return [r.output, r.h, r.c];
        });
        const ref = await outputsAndGrads(inputs, () => sequenceRef(kind, x, w, h0, c0, reverse));
        mine.forEach((m, i) =>
          assertClose(m, ref[i]!, { rtol: 1e-5, atol: 1e-5, what: `${kind} value ${i}` })
        );
        for (const input of [...inputs, c0]) if (!input.disposed) input.dispose();
      });
    }
  }
});

Deno.test("the sequence ops' gradients match finite differences (f64)", async (t) => {
  const shapes = (G: number) => [
    { shape: [2, 2, 3] },
    { shape: [G, 3] },
    { shape: [G, 2] },
    { shape: [G] },
    {
      shape: [G],
    },
    { shape: [2, 2] },
    { shape: [2, 2] },
  ];
  for (const reverse of [false, true]) {
    await t.step(
      `lstmSequence${reverse ? " reverse" : ""}`,
      () =>
        gradcheck("lstmSequence", (x, wih, whh, bih, bhh, h0, c0) => {
          const r = lstmSequence(x!, { wih, whh: whh!, bih, bhh }, { h0: h0!, c0: c0!, reverse });
          return concat([reshape(r.output, [-1]), reshape(r.c, [-1])]);
        }, shapes(8)),
    );
    await t.step(
      `gruSequence${reverse ? " reverse" : ""}`,
      () =>
        gradcheck("gruSequence", (x, wih, whh, bih, bhh, h0) => {
          return gruSequence(x!, { wih, whh: whh!, bih, bhh }, { h0: h0!, reverse }).output;
        }, shapes(6).slice(0, 6)),
    );
  }
  await t.step("rnnSequence", () =>
    gradcheck("rnnSequence", (x, wih, whh, bih, bhh, h0) => {
      return rnnSequence(x!, { wih, whh: whh!, bih, bhh }, { h0: h0! }).output;
    }, shapes(2).slice(0, 6)));
  await t.step(
    "an already projected input (no W_ih)",
    () =>
      gradcheck("lstmSequence projected", (xp, whh, c0) => {
        return lstmSequence(xp!, { whh: whh! }, { c0: c0! }).output;
      }, [{ shape: [2, 1, 8] }, { shape: [8, 2] }, { shape: [1, 2] }]),
  );
});

/** A GRU decoder with dot-product attention over `enc (S, B, H)`, its output fed back as the next input. */
function decode(
  enc: Tensor,
  h0: Tensor,
  x0: Tensor,
  out: { w: Tensor; b: Tensor },
  steps: number,
  cell: (x: Tensor, h: Tensor) => Tensor,
): Tensor {
  let h = h0, x = x0;
  const outs: Tensor[] = [];
  for (let t = 0; t < steps; t++) {
    const scores = sum(mul(enc, unsqueeze(h, 0)), { axis: -1 }); // (S, B)
    const ctx = sum(mul(unsqueeze(softmax(scores, 0), -1), enc), { axis: 0 }); // (B, H)
    h = cell(concat([x, ctx], 1), h); // (B, H)
    x = tanh(linear(h, out.w, out.b)); // (B, E): fed back
    outs.push(x);
  }
  return stack(outs, 0);
}

Deno.test("a GRU decoder runs one step at a time through gruSequence (attention, output fed back)", async (t) => {
  const S = 4, B = 3, E = 2, H = 5, steps = 4;
  seed(5);
  const w = weights(3, E + H, H);
  const enc = randn([S, B, H], { requiresGrad: true }), h0 = randn([B, H], { requiresGrad: true });
  const x0 = randn([B, E], { requiresGrad: true });
  const out = { w: randn([E, H], { requiresGrad: true }), b: randn([E], { requiresGrad: true }) };
  const inputs = [enc, h0, x0, out.w, out.b, w.wih, w.whh, w.bih, w.bhh];
  const viaOp = (x: Tensor, h: Tensor) => gruSequence(unsqueeze(x, 0), w, { h0: h }).h;
  await t.step("outputs and every gradient equal the unfused decoder", async () => {
    const mine = await outputsAndGrads(inputs, () => [decode(enc, h0, x0, out, steps, viaOp)]);
    const ref = await outputsAndGrads(
      inputs,
      () => [decode(enc, h0, x0, out, steps, (x, h) => gruStepRef(x, h, w))],
    );
    mine.forEach((m, i) => assertClose(m, ref[i]!, { rtol: 1e-5, atol: 1e-5, what: `decoder value ${i}` }));
  });
  await t.step("one step is five kernel launches and one recurrent graph node", () => {
    const cpu = new CpuBackend();
    const prev = setBackend(cpu);
    const names: string[] = [];
    const run = cpu.run.bind(cpu);
    cpu.run = ((name, ins, outs, attrs) => {
      names.push(name);
      return run(name, ins, outs, attrs);
    }) as typeof cpu.run;
    try {
      tidy(() => {
        const w1 = weights(3, E, H);
        const x = randn([1, B, E]), h = randn([B, H]);
        names.length = 0;
        const r = gruSequence(x, w1, { h0: h });
        assert(
          names.join() === "matmul,binary,copy,matmul,gruCell",
          `launches of one step: ${names.join(", ")}`,
        );
        assert(r.h.gradFn?.name === "gruSequence" && r.h.gradFn.inputs[1] === h, "the node takes h0 itself");
      });
    } finally {
      if (prev) setBackend(prev);
    }
  });
  await t.step("teacher-forced single steps equal one call over the sequence", async () => {
    const xs = randn([steps, B, E + H]);
    const whole = await outputsAndGrads(
      inputs.slice(5),
      () => [gruSequence(xs, w, { h0: noGrad(() => h0.mul(1)) }).output],
    );
    const stepped = await outputsAndGrads(inputs.slice(5), () => {
      let h = noGrad(() => h0.mul(1));
      const outs: Tensor[] = [];
      for (let s = 0; s < steps; s++) {
        h = gruSequence(slice(xs, [[s, s + 1]]), w, { h0: h }).h;
        outs.push(h);
      }
      return [stack(outs, 0)];
    });
    whole.forEach((v, i) => assertClose(v, stepped[i]!, { rtol: 1e-6, atol: 1e-6, what: `value ${i}` }));
    xs.dispose();
  });
  for (const x of inputs) x.dispose();
});

Deno.test("the sequence ops check their inputs and free what they do not return", async (t) => {
  await t.step("bad shapes name the op and the shapes", () =>
    tidy(() => {
      const w = weights(4, 3, 2);
      const x = randn([5, 2, 3]);
      assertThrows(() => lstmSequence(x, { ...w, whh: randn([8, 3]) }), "lstmSequence", "W_hh", "[8, 3]");
      assertThrows(() => lstmSequence(randn([5, 2, 4]), w), "lstmSequence", "W_ih", "[8, 3]", "[5, 2, 4]");
      assertThrows(() => lstmSequence(x, w, { h0: randn([3, 2]) }), "lstmSequence", "h0", "[2, 2]", "[3, 2]");
      assertThrows(() => lstmSequence(x, w, { c0: randn([2, 3]) }), "lstmSequence", "c0", "[2, 3]");
      assertThrows(() => gruSequence(randn([0, 2, 3]), weights(3, 3, 2)), "gruSequence", "T >= 1");
      assertThrows(() => gruSequence(x, { whh: randn([6, 2]) }), "gruSequence", "projected", "[5, 2, 3]");
      assertThrows(() => gruSequence(x, { ...weights(3, 3, 2), bhh: randn([5]) }), "gruSequence", "b_hh");
    }));
  await t.step("without a graph only the results stay alive", () => {
    const w = weights(4, 3, 2);
    const x = randn([5, 2, 3]);
    const before = liveTensors();
    const r = noGrad(() => lstmSequence(x, w));
    assert(liveTensors() === before + 3, `${liveTensors() - before} tensors alive, expected output, h, c`);
    for (const v of [r.output, r.h, r.c, x, w.wih, w.whh, w.bih, w.bhh]) v.dispose();
  });
  await t.step("an empty batch gives empty outputs and zero gradients", () =>
    tidy(() => {
      const w = weights(3, 3, 2);
      const x = randn([2, 0, 3], { requiresGrad: true });
      const r = gruSequence(x, w);
      assert(r.output.shape.join() === "2,0,2" && r.h.shape.join() === "0,2", "shapes");
      sum(r.output).backward();
      assert(w.whh.grad !== null && vals(w.whh.grad).every((v) => v === 0), "zero W_hh gradient");
    }));
});

/** Outputs and gradients of both sequence ops at awkward sizes (T 1 and 3; B 1 and 3; H 17), on `backend`. */
async function awkward(backend: Backend): Promise<number[][]> {
  const prev = setBackend(backend);
  try {
    const all: number[][] = [];
    for (const [T, B] of [[1, 3], [3, 1]] as const) {
      seed(3);
      const F = 3, H = 17;
      const lw = weights(4, F, H), gw = weights(3, F, H);
      const x = randn([T, B, F], { requiresGrad: true }), h0 = randn([B, H], { requiresGrad: true });
      const inputs = [x, h0, lw.wih, lw.whh, lw.bih, lw.bhh, gw.wih, gw.whh, gw.bih, gw.bhh];
      all.push(
        ...await outputsAndGrads(inputs, () => {
          const l = lstmSequence(x, lw, { h0, reverse: true });
          const g = gruSequence(x, gw, { h0 });
          return [l.output, l.c, g.output];
        }),
      );
      for (const t of inputs) t.dispose();
    }
    return all;
  } finally {
    if (prev) setBackend(prev);
  }
}

const gpu = await createWebGpuBackend();
Deno.test({
  name: "lstmSequence() and gruSequence() agree on WebGPU and the CPU at awkward sizes" +
    (gpu.backend ? "" : ` (skipped: ${gpu.reason})`),
  ignore: gpu.backend === null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    try {
      const cpu = await awkward(new CpuBackend()), webgpu = await awkward(gpu.backend!);
      cpu.forEach((c, i) => assertClose(webgpu[i]!, c, { rtol: 1e-4, atol: 1e-4, what: `value ${i}` }));
    } finally {
      gpu.backend!.dispose();
    }
  },
});
