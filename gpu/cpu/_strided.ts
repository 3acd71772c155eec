/**
 * Elementwise loops over strided views for the CPU backend.
 *
 * Views are first coalesced (size-1 axes dropped, adjacent axes merged where every operand steps through them as
 * one), so a contiguous tensor becomes one flat run and a row-vector broadcast becomes rows of contiguous runs.
 * The loop body for each operation is generated once with `new Function` and cached: every op gets its own
 * monomorphic loop that V8 optimises like hand-written code, instead of one loop calling a per-op closure
 * (a megamorphic call per element).
 *
 * @module
 */

import type { TypedArray } from "../backend.ts";
import type { Plan } from "../_layout.ts";
export { type Layout, makePlan, type Plan } from "../_layout.ts";

/** A generated loop: writes `Y` from inputs `X` over `plan` with scalars `A`, `B`. */
type Loop = (Y: TypedArray, X: readonly TypedArray[], plan: Plan, A: number, B: number) => void;

const loops = new Map<string, Loop>();

/**
 * Get (compiling once) the loop computing `expr` over `nIn` inputs. `expr` reads the inputs as `x0`, `x1`, ...
 * and the scalars as `A` and `B`.
 */
export function elementwiseLoop(nIn: number, expr: string): Loop {
  const key = `${nIn}|${expr}`;
  let loop = loops.get(key);
  if (loop) return loop;
  const ins = Array.from({ length: nIn }, (_, k) => k);
  const src = `
    const TILE = 32;
    const S = P.strides, O = P.offsets, shape = P.shape, r = shape.length, n = shape[r - 1];
    if (P.size === 0) return;
    ${ins.map((k) => `const X${k} = X[${k}];`).join(" ")}
    const ys = S[0][r - 1]; ${ins.map((k) => `const s${k} = S[${k + 1}][r - 1];`).join(" ")}
    let yo = O[0]; ${ins.map((k) => `let o${k} = O[${k + 1}];`).join(" ")}
    const unit = ys === 1 ${ins.map((k) => `&& s${k} === 1`).join(" ")};
    const idx = []; for (let d = 0; d < r; d++) idx.push(0);
    if (!unit && r >= 2 && n >= TILE && shape[r - 2] >= TILE) {
      // Transposed or otherwise strided 2-D inner block: walk it in TILE x TILE tiles so every operand's
      // cache lines are reused within a tile.
      const m = shape[r - 2], ys2 = S[0][r - 2]; ${
    ins.map((k) => `const t${k} = S[${k + 1}][r - 2];`).join(" ")
  }
      const outer2 = P.size / (n * m);
      for (let t = 0; t < outer2; t++) {
        for (let i0 = 0; i0 < m; i0 += TILE) {
          const i1 = Math.min(m, i0 + TILE);
          for (let j0 = 0; j0 < n; j0 += TILE) {
            const j1 = Math.min(n, j0 + TILE);
            for (let i = i0; i < i1; i++) {
              let py = yo + i * ys2 + j0 * ys; ${
    ins.map((k) => `let p${k} = o${k} + i * t${k} + j0 * s${k};`).join(" ")
  }
              for (let j = j0; j < j1; j++) {
                ${ins.map((k) => `const x${k} = X${k}[p${k}]; p${k} += s${k};`).join(" ")}
                Y[py] = ${expr}; py += ys;
              }
            }
          }
        }
        for (let d = r - 3; d >= 0; d--) {
          const q = shape[d];
          yo += S[0][d]; ${ins.map((k) => `o${k} += S[${k + 1}][d];`).join(" ")}
          if (++idx[d] < q) break;
          idx[d] = 0;
          yo -= S[0][d] * q; ${ins.map((k) => `o${k} -= S[${k + 1}][d] * q;`).join(" ")}
        }
      }
      return;
    }
    const outer = P.size / n;
    for (let t = 0; t < outer; t++) {
      if (unit) {
        for (let i = 0; i < n; i++) {
          ${ins.map((k) => `const x${k} = X${k}[o${k} + i];`).join(" ")}
          Y[yo + i] = ${expr};
        }
      } else {
        let py = yo; ${ins.map((k) => `let p${k} = o${k};`).join(" ")}
        for (let i = 0; i < n; i++) {
          ${ins.map((k) => `const x${k} = X${k}[p${k}]; p${k} += s${k};`).join(" ")}
          Y[py] = ${expr}; py += ys;
        }
      }
      for (let d = r - 2; d >= 0; d--) {
        const m = shape[d];
        yo += S[0][d]; ${ins.map((k) => `o${k} += S[${k + 1}][d];`).join(" ")}
        if (++idx[d] < m) break;
        idx[d] = 0;
        yo -= S[0][d] * m; ${ins.map((k) => `o${k} -= S[${k + 1}][d] * m;`).join(" ")}
      }
    }`;
  loop = new Function("Y", "X", "P", "A", "B", src) as Loop;
  loops.set(key, loop);
  return loop;
}

/** Loop bodies of the `unary` kernel ops; `x0` is the input, `A`/`B` are alpha/beta. */
export const UNARY_EXPR: Record<string, string> = {
  neg: "-x0",
  exp: "Math.exp(x0)",
  log: "Math.log(x0)",
  sqrt: "Math.sqrt(x0)",
  rsqrt: "1 / Math.sqrt(x0)",
  tanh: "Math.tanh(x0)",
  sigmoid: "1 / (1 + Math.exp(-x0))",
  relu: "x0 < 0 ? 0 : x0",
  abs: "Math.abs(x0)",
  sign: "Math.sign(x0)",
  square: "x0 * x0",
  recip: "1 / x0",
  sin: "Math.sin(x0)",
  cos: "Math.cos(x0)",
  clamp: "x0 < A ? A : x0 > B ? B : x0",
  powScalar: "Math.pow(x0, A)",
  mulScalar: "x0 * A",
  addScalar: "x0 + A",
  reluGrad: "x0 > 0 ? 1 : 0",
  cast: "x0",
};

/** Loop bodies of the `binary` kernel ops; `x0`, `x1` are the inputs. */
export const BINARY_EXPR: Record<string, string> = {
  add: "x0 + x1",
  sub: "x0 - x1",
  mul: "x0 * x1",
  div: "x0 / x1",
  pow: "Math.pow(x0, x1)",
  max: "Math.max(x0, x1)",
  min: "Math.min(x0, x1)",
  eq: "x0 === x1 ? 1 : 0",
  ne: "x0 !== x1 ? 1 : 0",
  lt: "x0 < x1 ? 1 : 0",
  le: "x0 <= x1 ? 1 : 0",
  gt: "x0 > x1 ? 1 : 0",
  ge: "x0 >= x1 ? 1 : 0",
};

/** Loop body of the `where` kernel. */
export const WHERE_EXPR = "x0 !== 0 ? x1 : x2";

/** Loop body of the `copy` kernel. */
export const COPY_EXPR = "x0";
