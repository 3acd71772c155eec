import { strict as assert } from "node:assert";
import {
  AWD_LSTM_CLAS_CONFIG,
  AWD_LSTM_CLAS_CONFIG_V07,
  AWD_LSTM_LM_CONFIG,
  AWD_LSTM_LM_CONFIG_V07,
  AwdLstmClassifier,
  AwdLstmLM,
  maskedConcatPool,
  resolveConfig,
} from "./awd_lstm.ts";
import { awdLstmParamNames } from "./awd_lstm_fastai.ts";
import {
  Adam,
  type Batch,
  type Callback,
  crossEntropyFlat,
  fromArray,
  keep,
  Learner,
  liveTensors,
  ModelResetter,
  noGrad,
  RNNRegularizer,
  setBackend,
  sum,
  type Tensor,
  tidy,
} from "../../nn/mod.ts";
import { createBackend } from "../../gpu/create_backend.ts";
import { gpuTest } from "../../gpu/_testing.ts";
import { CpuBackend } from "../../gpu/cpu/mod.ts";

interface Step {
  loss: number;
  grads: Record<string, number[]>;
  after: Record<string, number[]>;
}
const fx = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/awd_lstm_fixture.json", import.meta.url)),
) as {
  dims: Record<string, number>;
  ids: number[][];
  targets: number[][];
  initial: Record<string, number[]>;
  steps: Step[];
};

function close(actual: ArrayLike<number>, expected: readonly number[], what: string, tol = 1e-4): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!, a = actual[i]!;
    assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${what}[${i}]: expected ${e}, got ${a}`);
  }
}

async function twoStepsMatchTorch(): Promise<void> {
  const { V, E, H, L, B, T } = fx.dims as Record<string, number>;
  const lm = new AwdLstmLM(V!, { embSize: E!, nHid: H!, nLayers: L!, dropMult: 0, outBias: true });
  const named = lm.stateDict();
  for (const [k, v] of Object.entries(fx.initial)) {
    const t = named.get(k)!;
    t.backend.write(t.view.storage, Float32Array.from(v));
  }
  // copies of every gradient taken right after each backward pass, read back after the fit
  const grads: Map<string, Tensor>[] = [];
  const spy: Callback = {
    afterBackward: () =>
      void grads.push(new Map([...named].map(([k, t]) => [k, keep(noGrad(() => t.grad!.mul(1)))]))),
  };
  const batches = (): Batch[] =>
    fx.ids.map((ids, s) => ({
      x: fromArray(ids, [B!, T!], { dtype: "i32" }),
      y: fromArray(fx.targets[s]!, [B!, T!], { dtype: "i32" }),
    }));
  const learn = new Learner(lm, {
    train: { length: 2, [Symbol.iterator]: () => batches()[Symbol.iterator]() },
  }, {
    loss: (p, y) => crossEntropyFlat(p, y),
    opt: (g) => new Adam(g, { beta1: 0.9, beta2: 0.99, eps: 1e-5 }),
    wd: 0.01,
    callbacks: [new ModelResetter(), new RNNRegularizer({ alpha: 2, beta: 1 }), spy],
    quiet: true,
    readEvery: 1,
  });
  await learn.fit(1, 1e-2);
  for (const [s, step] of fx.steps.entries()) {
    close([learn.recorder.losses[s]!], [step.loss], `loss of step ${s}`);
    for (const [k, g] of Object.entries(step.grads)) {
      close(await grads[s]!.get(k)!.data(), g, `step ${s} grad ${k}`);
    }
  }
  for (const [k, w] of Object.entries(fx.steps[1]!.after)) {
    close(await named.get(k)!.data(), w, `weights ${k} after 2 steps`);
  }
  for (const m of grads) for (const t of m.values()) t.dispose();
  learn.opt!.dispose();
  lm.dispose();
}

Deno.test(
  "AwdLstmLM: two training steps match PyTorch (loss with AR/TAR, every gradient, weights after AdamW)",
  twoStepsMatchTorch,
);

gpuTest("AwdLstmLM: two training steps match PyTorch, on WebGPU", async () => {
  const { backend } = await createBackend({ prefer: "webgpu", quiet: true });
  const prev = setBackend(backend);
  try {
    await twoStepsMatchTorch();
  } finally {
    if (prev) setBackend(prev);
    backend.dispose();
  }
});

Deno.test("AwdLstmLM: decoder tied to the embedding (same storage), 4 layer groups", () => {
  const lm = new AwdLstmLM(30, { embSize: 4, nHid: 6 });
  assert.equal(lm.decoder.weight, lm.encoder.encoder.weight);
  assert.equal(lm.decoder.weight.view.storage, lm.encoder.encoder.weight.view.storage);
  const groups = lm.layerGroups();
  assert.equal(groups.length, 4);
  assert.ok(groups[3]!.includes(lm.encoder.encoder.weight));
  assert.equal(groups.flat().length, new Set(lm.parameters()).size, "every parameter in exactly one group");
  assert.deepEqual(
    Array.from(lm.decoder.decoder.bias!.dataSync()),
    new Array(30).fill(0),
    "decoder bias starts at 0",
  );
  lm.dispose();
});

Deno.test("AWD-LSTM stateDict(): the model-file names, every parameter and buffer included", async (t) => {
  await t.step("language model: the fastai mapping's names, the tied weight under both names", () => {
    const lm = new AwdLstmLM(12, { embSize: 4, nHid: 6, nLayers: 2 });
    const sd = lm.stateDict();
    assert.deepEqual([...sd.keys()], awdLstmParamNames(2));
    assert.equal(sd.get("decoder.weight"), sd.get("encoder.weight"));
    assert.deepEqual(new Set(sd.values()), new Set(lm.parameters()));
    assert.deepEqual([...lm.encoder.stateDict().keys()], awdLstmParamNames(2).slice(0, -2));
    lm.dispose();
  });
  await t.step("classifier: the encoder's names, then the head as head.*", () => {
    const clas = new AwdLstmClassifier(12, 3, { embSize: 4, nHid: 6, nLayers: 1 });
    const sd = clas.stateDict();
    const head = [...sd.keys()].filter((k) => k.startsWith("head."));
    assert.deepEqual([...sd.keys()].slice(0, 5), awdLstmParamNames(1).slice(0, -2));
    assert.ok(head.includes("head.layers.0.bn.running_mean") && head.includes("head.layers.1.lin.weight"));
    const all = [...clas.parameters(), ...clas.namedBuffers().map(([, b]) => b)];
    assert.equal(sd.size, all.length);
    assert.deepEqual(new Set(sd.values()), new Set(all));
    clas.dispose();
  });
  await t.step("bidirectional layers keep their _reverse weights", () => {
    const lm = new AwdLstmLM(12, { embSize: 4, nHid: 6, nLayers: 1, bidir: true, tieWeights: false });
    const sd = lm.stateDict();
    assert.ok(sd.has("rnns.0.weightIH") && sd.has("rnns.0.weight_ih_l0_reverse"), [...sd.keys()].join());
    assert.deepEqual(new Set(sd.values()), new Set(lm.parameters()));
    lm.dispose();
  });
});

Deno.test("AWD-LSTM presets carry fastai's constants; dropMult scales the five dropouts", () => {
  assert.deepEqual(
    [
      AWD_LSTM_LM_CONFIG.embSize,
      AWD_LSTM_LM_CONFIG.nHid,
      AWD_LSTM_LM_CONFIG.nLayers,
      AWD_LSTM_LM_CONFIG.padToken,
    ],
    [400, 1152, 3, 1],
  );
  assert.equal(AWD_LSTM_LM_CONFIG_V07.nHid, 1150);
  // seeds: LM drops [0.25, 0.1, 0.2, 0.02, 0.15] * 0.7 as (dropouti, dropout, wdrop, dropoute, dropouth)
  const v07 = AWD_LSTM_LM_CONFIG_V07;
  assert.deepEqual([v07.inputP, v07.outputP, v07.weightP, v07.embedP, v07.hiddenP], [
    0.175,
    0.07,
    0.14,
    0.014,
    0.105,
  ]);
  // seeds: classifier dps [0.4, 0.5, 0.05, 0.3, 0.4] * 0.5 as (dropouti, wdrop, dropoute, dropouth, head)
  const c07 = AWD_LSTM_CLAS_CONFIG_V07;
  assert.deepEqual([c07.inputP, c07.weightP, c07.embedP, c07.hiddenP, c07.outputP], [
    0.2,
    0.25,
    0.025,
    0.15,
    0.2,
  ]);
  const c = resolveConfig(AWD_LSTM_CLAS_CONFIG, { dropMult: 0.5 });
  assert.deepEqual([c.outputP, c.hiddenP, c.inputP, c.embedP, c.weightP], [0.2, 0.15, 0.2, 0.025, 0.25]);
});

Deno.test("maskedConcatPool() pools [last, max, mean] over real tokens only", () =>
  tidy(() => {
    // B=1, T=3, H=2; first position is padding
    const out = fromArray([100, -100, 1, 4, 3, 2], [1, 3, 2]);
    const mask = fromArray([1, 0, 0], [1, 3], { dtype: "i32" });
    assert.deepEqual(Array.from(maskedConcatPool(out, mask).dataSync()), [3, 2, 3, 4, 2, 3]);
  }));

Deno.test("AwdLstmClassifier: BPT3C chunks, [emb*3, 50, n] head, 5 groups, trains", async () => {
  const clf = new AwdLstmClassifier(20, 3, { embSize: 4, nHid: 6, nLayers: 2, bptt: 3, maxLen: 6 });
  assert.equal(clf.layerGroups().length, 4, "embedding, 2 LSTM layers, head");
  assert.deepEqual(clf.head.map((b) => [b.lin.inFeatures, b.lin.outFeatures]), [[12, 50], [50, 3]]);
  // documents padded at the start; 8 tokens = chunks at 0, 3, 6; those at 3 and 6 are kept (5 tokens)
  const ids = fromArray([1, 1, 1, 5, 6, 7, 8, 9, 2, 3, 4, 5, 6, 7, 8, 9], [2, 8], { dtype: "i32" });
  const y = fromArray([0, 2], [2], { dtype: "i32" });
  tidy(() => {
    const r = clf.forward(ids);
    assert.deepEqual(r.output.shape, [2, 3]);
    assert.deepEqual(
      r.out.shape,
      [2, 5, 4],
      "chunks starting within the last maxLen tokens (fastai: sl - i <= max_len)",
    );
    sum(r.output).backward();
  });
  const emb = clf.encoder.encoder.weight;
  assert.ok(emb.grad !== null);
  clf.zeroGrad();
  const loader = {
    length: 1,
    *[Symbol.iterator]() {
      yield { x: ids.mul(1).cast("i32"), y: y.mul(1) };
    },
  };
  const learn = new Learner(clf, { train: loader }, {
    loss: (p: Tensor, t: Tensor) => crossEntropyFlat(p, t),
    quiet: true,
  });
  learn.freezeTo(-1);
  const before = Array.from(emb.dataSync());
  await learn.fit(2, 1e-2);
  assert.deepEqual(Array.from(emb.dataSync()), before, "frozen embedding group unchanged");
  learn.opt!.dispose();
  for (const t of [ids, y]) t.dispose();
  clf.dispose();
});

Deno.test("AwdLstmLM training with dropouts keeps the live-tensor count flat across epochs", async () => {
  const lm = new AwdLstmLM(25, { embSize: 6, nHid: 10, nLayers: 3 });
  const ids = Int32Array.from({ length: 4 * 7 }, (_, i) => (i * 5) % 25);
  const loader = {
    length: 3,
    *[Symbol.iterator]() {
      for (let b = 0; b < 3; b++) {
        yield {
          x: fromArray(ids, [4, 7], { dtype: "i32" }),
          y: fromArray(ids.map((v) => (v + 1) % 25), [4, 7], { dtype: "i32" }),
        };
      }
    },
  };
  const counts: number[] = [];
  const learn = new Learner(lm, { train: loader, valid: loader }, {
    loss: (p, y) => crossEntropyFlat(p, y),
    quiet: true,
    callbacks: [new ModelResetter(), new RNNRegularizer(), {
      afterEpoch: () => void counts.push(liveTensors()),
    }],
    readEvery: 2,
  });
  await learn.fitOneCycle(4, 1e-2);
  assert.equal(counts.length, 4);
  assert.equal(new Set(counts.slice(1)).size, 1, `live tensors per epoch: ${counts.join(", ")}`);
  learn.opt!.dispose();
  lm.dispose();
});

/** Train a small LM over batches of varying length on `cpu`; `count()` after every step. */
async function countsPerStep(cpu: CpuBackend, count: () => number): Promise<number[]> {
  const prev = setBackend(cpu);
  try {
    const lm = new AwdLstmLM(40, { embSize: 8, nHid: 12, nLayers: 2 });
    const lens = [7, 5, 9, 6, 8, 5, 7, 9, 6, 8, 7, 5];
    const loader = {
      length: lens.length,
      *[Symbol.iterator]() {
        for (const T of lens) {
          const ids = Int32Array.from({ length: 4 * T }, (_, i) => (i * 7 + T) % 40);
          yield {
            x: fromArray(ids, [4, T], { dtype: "i32" }),
            y: fromArray(ids.map((v) => (v + 1) % 40), [4, T], { dtype: "i32" }),
          };
        }
      },
    };
    const created: number[] = [];
    const learn = new Learner(lm, { train: loader }, {
      loss: (p, y) => crossEntropyFlat(p, y),
      opt: (groups) => new Adam(groups),
      quiet: true,
      callbacks: [new ModelResetter(), new RNNRegularizer(), {
        afterBatch: () => void created.push(count()),
      }],
      readEvery: 3,
    });
    await learn.fitOneCycle(1, 1e-2);
    assert.equal(created.length, lens.length);
    learn.opt!.dispose();
    lm.dispose();
    return created;
  } finally {
    if (prev) setBackend(prev);
    cpu.dispose();
  }
}

Deno.test("AwdLstmLM training on a threaded CPU backend stops allocating shared buffers once warm", async () => {
  // Regression guard for the demo's 10 GB RSS: every step's temporaries must come back to the backend's
  // spare list (matmul workers keep every SharedArrayBuffer they saw alive), batches of varying length included.
  // The WebAssembly kernel's worker threads (a BLAS backend allocates plain buffers: see the next test).
  const cpu = new CpuBackend({ threads: 2, matmul: "wasm" });
  const created = await countsPerStep(cpu, () => cpu.sharedBuffersCreated);
  assert.ok(created[0]! > 0, "a threaded backend allocates shared buffers");
  assert.equal(
    new Set(created.slice(5)).size,
    1,
    `shared buffers created after each step: ${created.join(", ")}`,
  );
});

Deno.test("AwdLstmLM training on the default CPU backend stops creating buffers once warm", async () => {
  // Buffer reuse by size class on every backend (BLAS or WebAssembly, one thread): no fresh memory per step.
  const cpu = new CpuBackend();
  const created = await countsPerStep(cpu, () => cpu.buffersCreated);
  assert.ok(created[0]! > 0 && cpu.sharedBuffersCreated === 0, "plain buffers on one thread");
  // Flat over the last four steps (each length has been seen twice by then).
  assert.equal(new Set(created.slice(8)).size, 1, `buffers created after each step: ${created.join(", ")}`);
});
