/**
 * Memory discipline over a real training loop: 200 SGD steps of a small MLP, each step inside `tidy`, must keep
 * the live-tensor count and the backend's live storages/bytes exactly flat while the loss goes down.
 */
import {
  add,
  argmax,
  crossEntropy,
  dropout,
  keep,
  liveTensors,
  matmul,
  noGrad,
  randn,
  relu,
  setBackend,
  type Tensor,
  tidy,
  transpose,
  zeros,
} from "../nn/mod.ts";
import { type Backend, CpuBackend, createWebGpuBackend, seed } from "../gpu/mod.ts";

async function trainFlat(backend: Backend): Promise<void> {
  seed(5);
  const prevBackend = setBackend(backend);
  const live0 = liveTensors(), storages0 = backend.stats().liveStorages;
  const x = keep(randn([64, 10]));
  const y = keep(tidy(() => argmax(matmul(x, randn([10, 3])), { axis: 1 })));
  const params = [randn([32, 10], { std: 0.3 }), zeros([32]), randn([3, 32], { std: 0.3 }), zeros([3])]
    .map((p) => keep(p.requireGrad()));
  const momentum = params.map((p) => keep(zeros(p.shape)));
  const [w1, b1, w2, b2] = params as [Tensor, Tensor, Tensor, Tensor];

  const step = (): Tensor =>
    tidy(() => {
      const h = dropout(relu(add(matmul(x, transpose(w1)), b1)), 0.1); // (64, 32)
      const loss = crossEntropy(add(matmul(h, transpose(w2)), b2), y);
      loss.backward();
      noGrad(() =>
        params.forEach((p, i) => {
          const buf = momentum[i]!;
          backend.run("sgd", [p.view, p.grad!.view, buf.view], [p.view, buf.view], {
            lr: 0.1,
            momentum: 0.9,
            weightDecay: 0,
            dampening: 0,
            nesterov: false,
          });
          p.zeroGrad();
        })
      );
      return loss.detach();
    });

  const firstLoss = step();
  const first = (await firstLoss.data())[0]!;
  firstLoss.dispose();
  const liveAfter1 = liveTensors(), stats1 = backend.stats();
  let last = NaN;
  for (let i = 1; i < 200; i++) {
    const loss = step();
    if (i === 199) last = (await loss.data())[0]!;
    loss.dispose();
    if (liveTensors() !== liveAfter1) {
      throw new Error(`step ${i}: ${liveTensors()} live tensors, was ${liveAfter1}`);
    }
  }
  const stats200 = backend.stats();
  if (stats200.liveStorages !== stats1.liveStorages || stats200.liveBytes !== stats1.liveBytes) {
    throw new Error(`backend memory grew: ${JSON.stringify(stats1)} -> ${JSON.stringify(stats200)}`);
  }
  if (!(last < first * 0.5)) throw new Error(`loss did not fall: ${first} -> ${last}`);
  for (const t of [x, y, ...params, ...momentum]) t.dispose();
  if (liveTensors() !== live0) {
    throw new Error(`${liveTensors() - live0} tensors left after disposing everything`);
  }
  if (backend.stats().liveStorages !== storages0) throw new Error("storages left after disposing everything");
  if (prevBackend) setBackend(prevBackend);
}

Deno.test("200 training steps inside tidy keep liveTensors() and CPU backend memory flat", async () => {
  await trainFlat(new CpuBackend());
});

const gpu = await createWebGpuBackend();
Deno.test({
  name: "200 training steps inside tidy keep liveTensors() and WebGPU backend memory flat" +
    (gpu.backend ? "" : ` (skipped: ${gpu.reason})`),
  ignore: gpu.backend === null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    try {
      await trainFlat(gpu.backend!);
    } finally {
      gpu.backend!.dispose();
    }
  },
});
