import type { View } from "../../backend.ts";
import { Rng } from "../../rng.ts";
import {
  assert,
  assertClose,
  assertThrows,
  type Kind,
  outView,
  randomView,
  readView,
  store,
} from "../_test_util.ts";
import { CpuBackend } from "../mod.ts";

const sig = (x: number) => 1 / (1 + Math.exp(-x));
const cpu = new CpuBackend();

function f64View(data: ArrayLike<number>, shape: number[]): View {
  return { storage: store(cpu, "f64", data), shape, strides: [shape[1]!, 1], offset: 0 };
}

/** Run a kernel on f64 copies of `inputs` and return the outputs' logical values. */
function runF64(name: "lstmCell" | "gruCell", inputs: [Float64Array, number[]][], outShapes: number[][]) {
  const ins = inputs.map(([d, s]) => f64View(d, s));
  const outs = outShapes.map((s) => outView(cpu, s, "f64"));
  cpu.run(name, ins, outs, {});
  const vals = outs.map((o) => readView(cpu, o));
  for (const v of [...ins, ...outs]) cpu.free(v.storage);
  return vals;
}

/** Indices to check by finite differences: all of them for small inputs, 24 spread-out ones otherwise. */
function probeIndices(n: number): number[] {
  if (n <= 200) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: 24 }, (_, i) => Math.floor((i * (n - 1)) / 23));
}

/** Central-difference gradient of `f` at `x`, at the probe indices (NaN elsewhere). */
function numericGrad(x: Float64Array, f: (x: Float64Array) => number, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length).fill(NaN);
  for (const i of probeIndices(x.length)) {
    const p = x.slice(), m = x.slice();
    p[i] = p[i]! + h, m[i] = m[i]! - h;
    g[i] = (f(p) - f(m)) / (2 * h);
  }
  return g;
}

const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);

/** Compare an analytic gradient with a finite-difference one where the latter was probed. */
function assertGrad(got: Float64Array, fd: Float64Array, what: string): void {
  const idx = probeIndices(fd.length);
  assertClose(idx.map((i) => got[i]!), idx.map((i) => fd[i]!), what, { rtol: 1e-6, atol: 1e-8 });
}

Deno.test("lstmCell forward matches the PyTorch formulas and backward matches finite differences", async (t) => {
  const rng = new Rng(41);
  for (const [B, H] of [[1, 1], [3, 5], [2, 17], [0, 3], [2, 1031]] as const) {
    await t.step(`B=${B}, H=${H}`, () => {
      // Gates as a transposed view (x@W^T layouts) and a stride-0 broadcast cPrev row.
      const gates = randomView(cpu, [B, 4 * H], { kind: "colmajor" as Kind, rng, dtype: "f64" });
      const cPrev = randomView(cpu, [B, H], { kind: { broadcast: 0 }, rng, dtype: "f64" });
      const h = outView(cpu, [B, H], "f64"), c = outView(cpu, [B, H], "f64");
      const act = outView(cpu, [B, 4 * H], "f64");
      cpu.run("lstmCell", [gates.view, cPrev.view], [h, c, act], {});
      const wantH: number[] = [], wantC: number[] = [];
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < H; j++) {
          const g = (k: number) => gates.values[b * 4 * H + k * H + j]!;
          const cn = sig(g(1)) * cPrev.values[b * H + j]! + sig(g(0)) * Math.tanh(g(2));
          wantC.push(cn), wantH.push(sig(g(3)) * Math.tanh(cn));
        }
      }
      assertClose(readView(cpu, h), wantH, "h", { rtol: 1e-12 });
      assertClose(readView(cpu, c), wantC, "c", { rtol: 1e-12 });

      // Loss L = sum(h * wh) + sum(c * wc): dh = wh, dc = wc.
      const wh = randomView(cpu, [B, H], { rng, dtype: "f64" });
      const wc = randomView(cpu, [B, H], { rng, dtype: "f64", kind: "padded" });
      const dGates = outView(cpu, [B, 4 * H], "f64"), dcPrev = outView(cpu, [B, H], "f64");
      cpu.run("lstmCellBackward", [act, cPrev.view, c, wh.view, wc.view], [dGates, dcPrev], {});
      const loss = (gv: Float64Array, cv: Float64Array) => {
        const [ho, co] = runF64("lstmCell", [[gv, [B, 4 * H]], [cv, [B, H]]], [[B, H], [B, H], [B, 4 * H]]);
        return dot(ho!, wh.values) + dot(co!, wc.values);
      };
      const fdGates = numericGrad(gates.values, (g) => loss(g, cPrev.values));
      const fdC = numericGrad(cPrev.values, (cv) => loss(gates.values, cv));
      assertGrad(readView(cpu, dGates), fdGates, "dGates");
      assertGrad(readView(cpu, dcPrev), fdC, "dcPrev");
    });
  }
  await t.step("bad shapes name the kernel", () => {
    const g = outView(cpu, [2, 7]);
    assertThrows(() => cpu.run("lstmCell", [g, outView(cpu, [2, 1])], [g, g, g], {}), ["lstmCell", "[2, 7]"]);
    const g8 = outView(cpu, [2, 8]);
    assertThrows(
      () =>
        cpu.run("lstmCell", [g8, outView(cpu, [3, 2])], [outView(cpu, [2, 2]), outView(cpu, [2, 2]), g8], {}),
      ["lstmCell", "cPrev", "[3, 2]", "[2, 2]"],
    );
  });
});

Deno.test("gruCell forward matches the PyTorch formulas and backward matches finite differences", async (t) => {
  const rng = new Rng(42);
  for (const [B, H] of [[1, 1], [3, 5], [2, 17], [0, 3], [2, 1031]] as const) {
    await t.step(`B=${B}, H=${H}`, () => {
      const gi = randomView(cpu, [B, 3 * H], { rng, dtype: "f64" });
      const gh = randomView(cpu, [B, 3 * H], { kind: "colmajor", rng, dtype: "f64" });
      const hPrev = randomView(cpu, [B, H], { kind: "padded", rng, dtype: "f64" });
      const h = outView(cpu, [B, H], "f64"), act = outView(cpu, [B, 3 * H], "f64");
      cpu.run("gruCell", [gi.view, gh.view, hPrev.view], [h, act], {});
      const want: number[] = [];
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < H; j++) {
          const i = (k: number) => gi.values[b * 3 * H + k * H + j]!,
            hh = (k: number) => gh.values[b * 3 * H + k * H + j]!;
          const r = sig(i(0) + hh(0)), z = sig(i(1) + hh(1)), n = Math.tanh(i(2) + r * hh(2));
          want.push((1 - z) * n + z * hPrev.values[b * H + j]!);
        }
      }
      assertClose(readView(cpu, h), want, "h", { rtol: 1e-12 });

      const wh = randomView(cpu, [B, H], { rng, dtype: "f64" });
      const dgi = outView(cpu, [B, 3 * H], "f64"), dgh = outView(cpu, [B, 3 * H], "f64");
      const dhPrev = outView(cpu, [B, H], "f64");
      cpu.run("gruCellBackward", [act, gh.view, hPrev.view, wh.view], [dgi, dgh, dhPrev], {});
      const loss = (a: Float64Array, b: Float64Array, c: Float64Array) => {
        const [ho] = runF64("gruCell", [[a, [B, 3 * H]], [b, [B, 3 * H]], [c, [B, H]]], [[B, H], [B, 3 * H]]);
        return dot(ho!, wh.values);
      };
      assertGrad(readView(cpu, dgi), numericGrad(gi.values, (x) => loss(x, gh.values, hPrev.values)), "dgi");
      assertGrad(readView(cpu, dgh), numericGrad(gh.values, (x) => loss(gi.values, x, hPrev.values)), "dgh");
      const fdH = numericGrad(hPrev.values, (x) => loss(gi.values, gh.values, x));
      assertGrad(readView(cpu, dhPrev), fdH, "dhPrev (direct path)");
    });
  }
  await t.step("f32 forward agrees with f64", () => {
    const [B, H] = [4, 9];
    const make = (dtype: "f32" | "f64") => {
      const r = new Rng(7);
      const ins = [[B, 3 * H], [B, 3 * H], [B, H]].map((s) => randomView(cpu, s, { rng: r, dtype }).view);
      const h = outView(cpu, [B, H], dtype), act = outView(cpu, [B, 3 * H], dtype);
      cpu.run("gruCell", ins, [h, act], {});
      return readView(cpu, h);
    };
    const a = make("f32"), b = make("f64");
    assertClose(a, b, "f32 vs f64", { rtol: 1e-6, atol: 1e-6 });
    assert(a.some((v, i) => v !== b[i]), "f32 run must actually round");
  });
});

/** Within one f32 rounding step of `want` (an f32 value), NaN only where `want` is NaN. */
function f32Near(got: number, want: number): boolean {
  if (want !== want) return got !== got;
  return got === want || Math.abs(got - want) <= Math.abs(want) * 2 ** -23;
}

Deno.test("f32 lstmCell on the WebAssembly kernel matches the f64 formulas to f32 rounding", async (t) => {
  const rng = new Rng(5);
  const special = [0, -0, 1e-9, -3e-5, 0.01, -0.0156, 0.0157, 3, -20, 400, -800, Infinity, -Infinity, NaN];
  // [20, 2000] takes two blocks of rows through the module's memory.
  const cases = [[64, 96, "contig"], [5, 6, "colmajor"], [3, 7, "contig"], [2, 2, "padded"], [
    20,
    2000,
    "contig",
  ]];
  for (const [B, H, kind] of cases as [number, number, "contig" | "colmajor" | "padded"][]) {
    await t.step(`B=${B}, H=${H}, ${kind} gates${H % 2 ? " (odd H: JavaScript)" : ""}`, () => {
      const gates = randomView(cpu, [B, 4 * H], { kind, rng, lo: -6, hi: 6 });
      if (B > 10) {
        const d = cpu.readSync(gates.view.storage);
        special.forEach((v, i) => [0, 1, 2, 3].forEach((k) => d[k * H + 7 * i] = v));
        cpu.write(gates.view.storage, d);
        gates.values.set(d);
      }
      const cPrev = randomView(cpu, [B, H], { kind: { broadcast: 0 }, rng, lo: -3, hi: 3 });
      const h = outView(cpu, [B, H]), c = outView(cpu, [B, H]), act = outView(cpu, [B, 4 * H]);
      cpu.run("lstmCell", [gates.view, cPrev.view], [h, c, act], {});
      const [gotH, gotC, gotA] = [readView(cpu, h), readView(cpu, c), readView(cpu, act)];
      let same = 0;
      const near = (got: number, want: number, what: string) => {
        assert(f32Near(got, Math.fround(want)), `${what}: ${got}, want ${Math.fround(want)}`);
        if (Object.is(got, Math.fround(want))) same++;
      };
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < H; j++) {
          const g = (k: number) => gates.values[b * 4 * H + k * H + j]!;
          const [i, f, gg, o] = [sig(g(0)), sig(g(1)), Math.tanh(g(2)), sig(g(3))];
          [i, f, gg, o].forEach((v, k) => near(gotA[b * 4 * H + k * H + j]!, v, `act ${k} (${b}, ${j})`));
          const cn = f * cPrev.values[b * H + j]! + i * gg;
          near(gotC[b * H + j]!, cn, `c (${b}, ${j})`);
          near(gotH[b * H + j]!, o * Math.tanh(cn), `h (${b}, ${j})`);
        }
      }
      assert(same >= 0.99 * B * H * 6, `bitwise equal ${same} of ${B * H * 6}`);

      // Backward from the stored f32 activations: only tanh(c) is computed differently.
      const dh = randomView(cpu, [B, H], { rng }), dc = randomView(cpu, [B, H], { rng, kind: "padded" });
      const dGates = outView(cpu, [B, 4 * H]), dcPrev = outView(cpu, [B, H]);
      cpu.run("lstmCellBackward", [act, cPrev.view, c, dh.view, dc.view], [dGates, dcPrev], {});
      const [gotG, gotDc] = [readView(cpu, dGates), readView(cpu, dcPrev)];
      same = 0;
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < H; j++) {
          const a = (k: number) => gotA[b * 4 * H + k * H + j]!;
          const [i, f, g, o] = [a(0), a(1), a(2), a(3)];
          const cp = cPrev.values[b * H + j]!, tc = Math.tanh(gotC[b * H + j]!);
          const dhv = dh.values[b * H + j]!, dct = dc.values[b * H + j]! + dhv * o * (1 - tc * tc);
          const want = [
            dct * g * i * (1 - i),
            dct * cp * f * (1 - f),
            dct * i * (1 - g * g),
            dhv * tc * o * (1 - o),
          ];
          want.forEach((v, k) => near(gotG[b * 4 * H + k * H + j]!, v, `dGates ${k} (${b}, ${j})`));
          near(gotDc[b * H + j]!, dct * f, `dcPrev (${b}, ${j})`);
        }
      }
      assert(same >= 0.99 * B * H * 5, `backward bitwise equal ${same} of ${B * H * 5}`);
    });
  }
  await t.step(
    "cPrev and c in one storage (as lstmSequence steps through time) give the same results",
    () => {
      const [B, H] = [8, 12];
      const gates = randomView(cpu, [B, 4 * H], { rng, lo: -4, hi: 4 });
      const cs = store(cpu, "f32", Array.from({ length: 2 * B * H }, (_, i) => Math.sin(i)));
      const step = (k: number): View => ({ storage: cs, shape: [B, H], strides: [H, 1], offset: k * B * H });
      const cPrevCopy: View = {
        storage: store(cpu, "f32", cpu.readSync(cs).slice(0, B * H)),
        shape: [B, H],
        strides: [H, 1],
        offset: 0,
      };
      const run = (cPrev: View, c: View) => {
        const h = outView(cpu, [B, H]), act = outView(cpu, [B, 4 * H]);
        cpu.run("lstmCell", [gates.view, cPrev], [h, c, act], {});
        return [...readView(cpu, h), ...readView(cpu, c), ...readView(cpu, act)];
      };
      const apart = run(cPrevCopy, outView(cpu, [B, H])), shared = run(step(0), step(1));
      assert(apart.every((v, i) => Object.is(v, shared[i])), "shared-storage results differ");
    },
  );
});
