import { strict as assert } from "node:assert";
import { GRU, LSTM, RNN } from "./rnn.ts";
import { add, mul } from "../ops_elementwise.ts";
import { sum } from "../ops_reduce.ts";
import { fromArray, liveTensors, tidy } from "../tensor.ts";
import { setBackend } from "../engine.ts";
import { createBackend } from "../../gpu/create_backend.ts";
import { gpuTest } from "../../gpu/_testing.ts";

interface Case {
  x: number[];
  h0: number[];
  c0?: number[];
  r_out: number[];
  r_h: number[];
  r_c?: number[];
  output: number[];
  h: number[];
  c?: number[];
  loss: number;
  grad_x: number[];
  grad_h0: number[];
  grad_c0?: number[];
  params: Record<string, number[]>;
  grads: Record<string, number[]>;
}
const fixture = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/rnn_fixture.json", import.meta.url)),
) as Record<string, Case> & { dims: { B: number; T: number; I: number; H: number } };
const { B, T, I, H } = fixture.dims;

function close(actual: ArrayLike<number>, expected: readonly number[], what: string, tol = 1e-4): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!, a = actual[i]!;
    assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${what}[${i}]: expected ${e}, got ${a}`);
  }
}

function setParams(m: LSTM | GRU | RNN, params: Record<string, number[]>): void {
  for (const [name, p] of m.namedParameters()) {
    const v = params[name];
    assert.ok(v, `fixture has ${name}`);
    p.backend.write(p.view.storage, Float32Array.from(v));
  }
}

async function matchesTorch(kind: "lstm" | "gru" | "rnn", bidir: boolean): Promise<void> {
  const before = liveTensors();
  const c = fixture[`${kind}${bidir ? "_bidir" : ""}`]!;
  const D = bidir ? 2 : 1;
  const Cls = kind === "lstm" ? LSTM : kind === "gru" ? GRU : RNN;
  const m = new Cls(I, H, { numLayers: 2, bidirectional: bidir });
  setParams(m, c.params);
  const x = fromArray(c.x, [B, T, I], { requiresGrad: true });
  const h0 = fromArray(c.h0, [2 * D, B, H], { requiresGrad: true });
  const c0 = c.c0 ? fromArray(c.c0, [2 * D, B, H], { requiresGrad: true }) : undefined;
  const r = tidy(() => {
    const r = m.forward(x, c0 ? { h: h0, c: c0 } : { h: h0 });
    let loss = add(
      sum(mul(r.output, fromArray(c.r_out, [B, T, D * H]))),
      sum(mul(r.h, fromArray(c.r_h, [2 * D, B, H]))),
    );
    if (r.c) loss = add(loss, sum(mul(r.c, fromArray(c.r_c!, [2 * D, B, H]))));
    loss.backward();
    return { ...r, output: r.output.contiguous(), loss };
  });
  close(await r.output.data(), c.output, "output");
  close(await r.h.data(), c.h, "h");
  if (c.c) close(await r.c!.data(), c.c, "c");
  close([await r.loss.item()], [c.loss], "loss");
  close(await x.grad!.data(), c.grad_x, "grad x");
  close(await h0.grad!.data(), c.grad_h0, "grad h0");
  if (c0) close(await c0.grad!.data(), c.grad_c0!, "grad c0");
  for (const [pn, p] of m.namedParameters()) close(await p.grad!.data(), c.grads[pn]!, `grad ${pn}`);
  for (const t of [x, h0, c0, r.output, r.h, r.c, r.loss]) t?.dispose();
  m.dispose();
  assert.equal(liveTensors(), before, "no tensor leaks");
}

for (const kind of ["lstm", "gru", "rnn"] as const) {
  for (const bidir of [false, true]) {
    const title = `${kind.toUpperCase()}${
      bidir ? " bidirectional" : ""
    } matches PyTorch (2 layers): outputs and every gradient`;
    Deno.test(title, () => matchesTorch(kind, bidir));
    gpuTest(`${title}, on WebGPU`, async () => {
      const { backend } = await createBackend({ prefer: "webgpu", quiet: true });
      const prev = setBackend(backend);
      try {
        await matchesTorch(kind, bidir);
      } finally {
        if (prev) setBackend(prev);
        backend.dispose();
      }
    });
  }
}

Deno.test("LSTM() stateful mode carries a detached hidden state and reset() clears it", async (t) => {
  const m = new LSTM(2, 3, { stateful: true });
  const x = fromArray([1, 2, 3, 4, 5, 6], [1, 3, 2]);
  const first = tidy(() => m.forward(x).output.dataSync());
  await t.step("second call starts from the first call's final state", () => {
    assert.ok(m.hidden !== null);
    assert.equal(m.hidden!.h.requiresGrad, false);
    assert.equal(m.hidden!.h.gradFn, null);
    const second = tidy(() => m.forward(x).output.dataSync());
    assert.notDeepEqual([...second], [...first]);
  });
  await t.step("after reset() the output repeats the first call", () => {
    m.reset();
    assert.equal(m.hidden, null);
    const again = tidy(() => m.forward(x).output.dataSync());
    close(again, [...first], "after reset", 1e-6);
  });
  await t.step("gradients do not flow into the previous batch", () => {
    const w = m.param("weight_hh_l0");
    tidy(() => {
      const loss = sum(m.forward(x).output);
      loss.backward(); // would throw on a freed graph if the carried state were still attached
    });
    assert.ok(w.grad !== null);
  });
  m.reset();
  x.dispose();
  m.dispose();
});

Deno.test("LSTM() weight dropout resamples W_hh every forward pass and is off in eval mode", () => {
  const m = new LSTM(2, 8, { weightDropout: 0.5 });
  const x = fromArray(Array.from({ length: 12 }, (_, i) => i / 12), [2, 3, 2]);
  const run = () => tidy(() => Array.from(m.forward(x).output.dataSync()));
  const a = run(), b = run();
  assert.notDeepEqual(a, b, "a new mask each forward");
  m.eval();
  assert.deepEqual(run(), run(), "deterministic in eval mode");
  const raw = m.param("weight_hh_l0");
  assert.equal(raw.shape.join(), "32,8");
  x.dispose();
  m.dispose();
});
