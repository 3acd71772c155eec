/**
 * Every op, a small MLP and one 2-layer LSTM step against PyTorch: forward outputs and input gradients from
 * `tests/fixtures/ops/torch_ops.json` (made by `tests/fixtures/torch_ops.py`), matched in f32 within 1e-5
 * relative (plus 1e-6 absolute for values near zero).
 */
import {
  abs,
  add,
  clamp,
  concat,
  cos,
  cosineSimilarity,
  crossEntropy,
  div,
  embedding,
  exp,
  expand,
  fromArray,
  gather,
  gruSequence,
  gt,
  indexSelect,
  log,
  logSoftmax,
  logSumExp,
  lstmSequence,
  matmul,
  max,
  maximum,
  mean,
  min,
  minimum,
  mul,
  neg,
  permute,
  pow,
  reciprocal,
  relu,
  reshape,
  rsqrt,
  scatterAdd,
  setBackend,
  sigmoid,
  sin,
  slice,
  softmax,
  sqrt,
  square,
  stack,
  sub,
  sum,
  tanh,
  type Tensor,
  tidy,
  topk,
  transpose,
  where,
  zeros,
} from "../nn/mod.ts";
import { argmax } from "../nn/ops_reduce.ts";
import { type Backend, CpuBackend, createWebGpuBackend } from "../gpu/mod.ts";

interface Arr {
  shape: number[];
  data: number[];
}
interface Case {
  name: string;
  inputs: Arr[];
  ints: Arr[];
  out: Arr;
  gradOut: Arr;
  grads: (Arr | null)[];
  extra?: Arr;
}

const fixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/ops/torch_ops.json", import.meta.url)),
) as { torch: string; cases: Case[] };

type Fn = (x: Tensor[], i: Tensor[]) => Tensor | { out: Tensor; extra: Tensor };

function linear(x: Tensor, w: Tensor, b: Tensor): Tensor {
  return add(matmul(x, transpose(w)), b);
}

/** One step of a 2-layer LSTM: `lstmSequence` over a one-step sequence per layer. */
function lstm2(x: Tensor[]): Tensor {
  const [input, h0, c0, ...ps] = x as [Tensor, Tensor, Tensor, ...Tensor[]];
  let inp = input;
  const hs: Tensor[] = [], cs: Tensor[] = [];
  for (let l = 0; l < 2; l++) {
    const [wih, whh, bih, bhh] = ps.slice(4 * l, 4 * l + 4) as [Tensor, Tensor, Tensor, Tensor];
    const step = reshape(inp, [1, ...inp.shape]); // (1, batch, F)
    const { h, c } = lstmSequence(step, { wih, whh, bih, bhh }, { h0: slice(h0, [l]), c0: slice(c0, [l]) });
    hs.push(h);
    cs.push(c);
    inp = h;
  }
  return concat([reshape(inp, [-1]), reshape(stack(hs), [-1]), reshape(stack(cs), [-1])]);
}

/**
 * The fused LSTM cell on given gates: `lstmSequence` over one step of an already projected input with
 * `W_hh = 0` and `h0 = 0`, so the gates are exactly `gates`.
 */
function lstmCellOf(gates: Tensor, c0: Tensor): Tensor {
  const [B, G] = gates.shape as [number, number];
  const r = lstmSequence(reshape(gates, [1, B, G]), { whh: zeros([G, G / 4]) }, { c0 });
  return concat([r.h, r.c], 1);
}

/**
 * The fused GRU cell on given `gi`, `gh`: per row, `gruSequence` over one step of an already projected input
 * with `W_hh = 0` and `b_hh` = that row of `gh`, so the hidden-side gates are exactly `gh`.
 */
function gruCellOf(gi: Tensor, gh: Tensor, h: Tensor): Tensor {
  const [B, G] = gi.shape as [number, number];
  const rows = Array.from({ length: B }, (_, b) => {
    const x = reshape(slice(gi, [[b, b + 1]]), [1, 1, G]);
    return gruSequence(x, { whh: zeros([G, G / 3]), bhh: slice(gh, [b]) }, { h0: slice(h, [[b, b + 1]]) }).h;
  });
  return concat(rows, 0);
}

const OPS: Record<string, Fn> = {
  add: ([a, b]) => add(a!, b!),
  add_scalar: ([a]) => add(a!, 1.5),
  sub: ([a, b]) => sub(a!, b!),
  mul: ([a, b]) => mul(a!, b!),
  div: ([a, b]) => div(a!, b!),
  neg: ([a]) => neg(a!),
  pow: ([a, b]) => pow(a!, b!),
  pow_scalar: ([a]) => pow(a!, 3),
  exp: ([a]) => exp(a!),
  log: ([a]) => log(a!),
  sqrt: ([a]) => sqrt(a!),
  square: ([a]) => square(a!),
  tanh: ([a]) => tanh(a!),
  rsqrt: ([a]) => rsqrt(a!),
  reciprocal: ([a]) => reciprocal(a!),
  sin: ([a]) => sin(a!),
  cos: ([a]) => cos(a!),
  logsumexp: ([a]) => logSumExp(a!, { axis: [0, 2] }),
  sigmoid: ([a]) => sigmoid(a!),
  relu: ([a]) => relu(a!),
  abs: ([a]) => abs(a!),
  clamp: ([a]) => clamp(a!, { min: -0.5, max: 0.7 }),
  maximum: ([a, b]) => maximum(a!, b!),
  minimum: ([a, b]) => minimum(a!, b!),
  where: ([a, b]) => where(gt(a!, 0), { then: a!, else: mul(b!, 2) }),
  sum_all: ([a]) => sum(a!),
  sum_axes_keepdim: ([a]) => sum(a!, { axis: [0, 2], keepdim: true }),
  mean_axis: ([a]) => mean(a!, { axis: 1 }),
  max_axis: ([a]) => max(a!, { axis: -1 }),
  min_axes: ([a]) => min(a!, { axis: [0, 1] }),
  argmax: ([a]) => ({ out: mul(a!, 1), extra: argmax(a!, { axis: 1 }) }),
  softmax_last: ([a]) => softmax(a!),
  softmax_axis0: ([a]) => softmax(a!, 0),
  log_softmax: ([a]) => logSoftmax(a!),
  log_softmax_axis1: ([a]) => logSoftmax(a!, 1),
  matmul_2d: ([a, b]) => matmul(a!, b!),
  matmul_transposed: ([a, b]) => matmul(transpose(a!), transpose(b!)),
  matmul_batched_broadcast: ([a, b]) => matmul(a!, b!),
  matmul_vector: ([a, b]) => matmul(a!, b!),
  permute: ([a]) => permute(a!, [2, 0, 1]),
  expand: ([a]) => expand(a!, [2, 3, 4]),
  slice_step: ([a]) => slice(a!, [[0, 4, 2], [1]]),
  concat: ([a, b]) => concat([a!, b!, a!], 1),
  stack: ([a, b]) => stack([a!, b!], 1),
  reshape_transposed: ([a]) => reshape(transpose(a!), [-1]),
  embedding: ([t], [i]) => embedding(t!, i!),
  index_select: ([x], [i]) => indexSelect(x!, i!, { axis: 1 }),
  gather: ([x], [i]) => gather(x!, i!, { axis: 1 }),
  scatter_add: ([s], [i]) => scatterAdd(s!, i!, { rows: 4 }),
  topk: ([x]) => {
    const { values, indices } = topk(x!, 3);
    return { out: values, extra: indices };
  },
  cross_entropy_mean: ([x], [t]) => crossEntropy(x!, t!),
  cross_entropy_sum: ([x], [t]) => crossEntropy(x!, t!, { reduction: "sum" }),
  cross_entropy_none: ([x], [t]) => crossEntropy(x!, t!, { reduction: "none" }),
  cosine_similarity: ([a, b]) => cosineSimilarity(a!, b!),
  lstm_cell: ([g, c]) => lstmCellOf(g!, c!),
  gru_cell: ([gi, gh, h]) => gruCellOf(gi!, gh!, h!),
  mlp: ([x, w1, b1, w2, b2], [t]) => crossEntropy(linear(relu(linear(x!, w1!, b1!)), w2!, b2!), t!),
  lstm_2layer_step: (x) => lstm2(x),
};

function close(what: string, actual: ArrayLike<number>, expected: Arr, rtol = 1e-5, atol = 1e-6): void {
  if (actual.length !== expected.data.length) {
    throw new Error(`${what}: ${actual.length} values, expected ${expected.data.length}`);
  }
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!, e = expected.data[i]!;
    const err = Math.abs(a - e) - rtol * Math.abs(e);
    if (err > atol) throw new Error(`${what}[${i}]: got ${a}, PyTorch ${e} (|diff| ${Math.abs(a - e)})`);
    worst = Math.max(worst, err);
  }
}

async function runCases(t: Deno.TestContext, backend: Backend): Promise<void> {
  const names = new Set(fixture.cases.map((c) => c.name));
  for (const name of Object.keys(OPS)) {
    if (!names.has(name)) throw new Error(`fixture has no case "${name}"; rerun tests/fixtures/torch_ops.py`);
  }
  const prev = setBackend(backend);
  try {
    for (const c of fixture.cases) {
      await t.step(c.name, async () => {
        const fn = OPS[c.name];
        if (!fn) throw new Error(`no op mapped for fixture case "${c.name}"`);
        const xs = c.inputs.map((a) => fromArray(a.data, a.shape, { dtype: "f32", requiresGrad: true }));
        const ints = c.ints.map((a) => fromArray(a.data, a.shape, { dtype: "i32" }));
        const { out, extra } = tidy(() => {
          const r = fn(xs, ints);
          const out = "extra" in r ? r.out : r;
          out.backward(fromArray(c.gradOut.data, c.gradOut.shape, { dtype: "f32" }));
          return { out, extra: "extra" in r ? r.extra : null };
        });
        try {
          if (out.shape.join() !== c.out.shape.join()) {
            throw new Error(`${c.name}: shape [${out.shape}], PyTorch [${c.out.shape}]`);
          }
          close(`${c.name} forward`, await out.data(), c.out);
          if (extra) close(`${c.name} indices`, await extra.data(), c.extra!, 0, 0);
          for (const [i, g] of c.grads.entries()) {
            const x = xs[i]!;
            if (g === null) {
              if (x.grad !== null) throw new Error(`${c.name}: input ${i} got a gradient, PyTorch none`);
              continue;
            }
            if (x.grad === null) throw new Error(`${c.name}: input ${i} got no gradient`);
            close(`${c.name} grad of input ${i}`, await x.grad.data(), g);
          }
        } finally {
          for (const x of [...xs, ...ints, out, extra]) x?.dispose();
        }
      });
    }
  } finally {
    if (prev) setBackend(prev);
  }
}

Deno.test(`ops match PyTorch ${fixture.torch} forward and backward (f32, CPU backend)`, async (t) => {
  await runCases(t, new CpuBackend());
});

const gpu = await createWebGpuBackend();
Deno.test({
  name: `ops match PyTorch ${fixture.torch} forward and backward (f32, WebGPU backend)` +
    (gpu.backend ? "" : ` (skipped: ${gpu.reason})`),
  ignore: gpu.backend === null,
  // The WebGPU backend keeps its device and pipelines alive until disposed at the end.
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    try {
      await runCases(t, gpu.backend!);
    } finally {
      gpu.backend!.dispose();
    }
  },
});
