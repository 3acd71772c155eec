/**
 * Generator of the WebAssembly text of the CPU backend's exponential kernels (see `../_wasm_exp.ts` for the
 * driver and `build.ts` for the build): log-sum-exp and softmax-gradient rows for the cross-entropy kernels.
 *
 * Every exponential is computed in f64 by the same `f64x2` code (the last elements of a row go through it as
 * splatted vectors), so an element's result does not depend on its position: `d` is clamped below at -708
 * (`exp(-708)` is ~3e-308, which rounds to 0 in f32 and is lost next to the row's `exp(0) = 1`), split as
 * `d = k ln2 + r` with `|r| <= ln2 / 2` (Cody-Waite, fdlibm's two-part ln2; `k` rounded by adding 1.5 * 2^52),
 * `exp(r)` is the degree-11 Taylor polynomial (truncation error below 7e-15 relative) and `2^k` is built from
 * the bits of the rounded `k`. The relative error is a few units in the last place of an f64, ~10^7 times below
 * an f32 rounding step, so stored f32 results match `Math.exp` computed in f64 except at rare rounding ties. Two
 * builds: `fma` evaluates the polynomial with `f64x2.relaxed_madd` (relaxed SIMD: fused on CPUs with FMA, ~30 %
 * faster; fixed for a given engine and CPU), `plain` with SIMD128 `f64x2.mul` + `f64x2.add` only (the same
 * results on every engine). Both are accurate to a few f64 units in the last place.
 *
 * Exports (byte addresses, `n` f32 elements):
 *
 * - `maxf(p, n) -> f64`: the largest element, NaN elements skipped (-Infinity when `n` is 0 or all are NaN);
 * - `sumexp(p, n, m) -> f64`: `sum exp(x[i] - m)` accumulated in f64;
 * - `softmax_grad(p, n, lse, g) -> f64`: in place `x[i] = f32(g * exp(x[i] - lse))`; returns the largest
 *   `x[i] - lse` so that the caller can redo rows beyond the kernel's range (NaN elements may or may not show in
 *   it: their results are NaN either way, as with `Math.exp`).
 *
 * Maxima and the clamp use `pmax` (`a < b ? b : a`, a single instruction) rather than `max`, whose NaN and
 * signed-zero rules cost V8 a sequence of instructions per vector (that made the loops ~40 % slower); the clamp
 * `pmax(d, -708)` keeps a NaN `d`.
 *
 * @module
 */

/** 64 KiB pages of the module's memory (fixed): the driver stages f32 rows in it. */
export const EXP_PAGES = 16;

const C = {
  LOG2E: "1.4426950408889634",
  SHIFT: "6755399441055744.0", // 1.5 * 2^52: adding it rounds to an integer kept in the low mantissa bits
  LN2HI: "0x1.62e42feep-1", // fdlibm ln2_hi (low bits zero: k * LN2HI is exact for |k| < 2^11)
  LN2LO: "0x1.a39ef35793c76p-33", // fdlibm ln2_lo
  LO: "-708.0",
};

/** Taylor coefficients 1/11!, ..., 1/1!, 1/0! (Horner order). */
function taylor(): string[] {
  const c: number[] = [];
  let f = 1;
  for (let k = 0; k <= 11; k++) {
    if (k > 0) f *= k;
    c.push(1 / f);
  }
  return c.reverse().map((x) => x.toString());
}

const f64x2 = (x: string) => `(v128.const f64x2 ${x} ${x})`;

/**
 * Statements computing `$e{i} = exp($d{i})` for lanes `0..u` (f64x2; `$d{i}` is clamped first), interleaved
 * step by step so that the `u` dependency chains overlap.
 */
function vexp(u: number): string[] {
  const out: string[] = [];
  const each = (f: (i: number) => string) => {
    for (let i = 0; i < u; i++) out.push(f(i));
  };
  each((i) => `(local.set $d${i} (f64x2.pmax (local.get $d${i}) (local.get $lo)))`);
  each((i) =>
    `(local.set $t${i} (f64x2.add (f64x2.mul (local.get $d${i}) (local.get $log2e)) (local.get $shift)))`
  );
  each((i) => `(local.set $k${i} (f64x2.sub (local.get $t${i}) (local.get $shift)))`);
  each((i) =>
    `(local.set $r${i} (f64x2.sub (f64x2.sub (local.get $d${i}) (f64x2.mul (local.get $k${i}) (local.get $ln2hi)))` +
    ` (f64x2.mul (local.get $k${i}) (local.get $ln2lo))))`
  );
  const coef = taylor();
  each((i) => `(local.set $e${i} (local.get $c0))`);
  for (let j = 1; j < coef.length; j++) {
    each((i) =>
      FMA
        ? `(local.set $e${i} (f64x2.relaxed_madd (local.get $e${i}) (local.get $r${i}) (local.get $c${j})))`
        : `(local.set $e${i} (f64x2.add (f64x2.mul (local.get $e${i}) (local.get $r${i})) (local.get $c${j})))`
    );
  }
  each((i) =>
    `(local.set $e${i} (f64x2.mul (local.get $e${i}) (i64x2.add (i64x2.shl (local.get $t${i}) (i32.const 52))` +
    ` (local.get $one))))`
  );
  return out;
}

/** `$exp1(d) -> f64`: `exp(d)` through the vector code (`$vexp1` on a splatted `d`), as every lane computes it. */
function scalarExp(): string[] {
  return [
    "(func $vexp1 (param $d0 v128) (result v128)",
    "  " + vlocals(1).join(" ").replace("(local $d0 v128) ", ""),
    ...vconsts().map((l) => "  " + l),
    ...vexp(1).map((l) => "  " + l),
    "  (local.get $e0))",
    "(func $exp1 (param $d f64) (result f64) (f64x2.extract_lane 0 (call $vexp1 (f64x2.splat (local.get $d)))))",
  ];
}

/** Locals shared by the vector loops (`u` f64x2 lanes). */
function vlocals(u: number): string[] {
  const names = ["d", "t", "k", "r", "e"];
  return [
    names.map((n) => Array.from({ length: u }, (_, i) => `(local $${n}${i} v128)`).join(" ")).join(" "),
    "(local $lo v128) (local $log2e v128) (local $shift v128) (local $ln2hi v128) (local $ln2lo v128)",
    "(local $one v128) (local $end i32) (local $acc v128)",
    taylor().map((_, j) => `(local $c${j} v128)`).join(" "),
  ];
}

/** Constants of the vector loops, set once per call. */
function vconsts(): string[] {
  return [
    `(local.set $lo ${f64x2(C.LO)}) (local.set $log2e ${f64x2(C.LOG2E)}) (local.set $shift ${
      f64x2(C.SHIFT)
    })`,
    `(local.set $ln2hi ${f64x2(C.LN2HI)}) (local.set $ln2lo ${f64x2(C.LN2LO)})`,
    `(local.set $one (v128.const i64x2 0x3ff0000000000000 0x3ff0000000000000))`,
    ...taylor().map((c, j) => `(local.set $c${j} ${f64x2(c)})`),
  ];
}

/** Below this |x|, tanh is its odd Taylor polynomial to x^7 (relative error < 1e-16), avoiding 1 - exp(-2|x|). */
const TANH_SMALL = "0.015625";

/** Locals and constants of `tanhOf` / `sigmoidOf`. */
const ACT_LOCALS =
  "(local $sign v128) (local $small v128) (local $q3 v128) (local $q5 v128) (local $q7 v128)" +
  " (local $zero v128) (local $xx v128)";
const ACT_CONSTS = [
  "(local.set $sign (v128.const i64x2 0x8000000000000000 0x8000000000000000))",
  `(local.set $small ${f64x2(TANH_SMALL)}) (local.set $q3 ${f64x2((-1 / 3).toString())})`,
  `(local.set $q5 ${f64x2((2 / 15).toString())}) (local.set $q7 ${f64x2((-17 / 315).toString())})`,
];

/** `sigmoid(x)` from `e = exp(-|x|)` (both f64x2 expressions): `1 / (1 + e)` for x >= 0, `e / (1 + e)` below. */
function sigmoidOf(x: string, e: string): string {
  return `(f64x2.div (v128.bitselect (local.get $one) ${e} (f64x2.ge ${x} (local.get $zero)))` +
    ` (f64x2.add (local.get $one) ${e}))`;
}

/**
 * Statements setting `$out` to `tanh(x)` from `e = exp(-2|x|)`: `sign(x) (1 - e) / (1 + e)`, or the polynomial
 * `x - x^3/3 + 2x^5/15 - 17x^7/315` where `|x| < TANH_SMALL`. NaN stays NaN.
 */
function tanhOf(out: string, x: string, e: string): string[] {
  return [
    `(local.set $xx (f64x2.mul ${x} ${x}))`,
    `(local.set ${out} (v128.bitselect`,
    `  (f64x2.add ${x} (f64x2.mul (f64x2.mul ${x} (local.get $xx)) (f64x2.add (local.get $q3) (f64x2.mul (local.get $xx)`,
    `    (f64x2.add (local.get $q5) (f64x2.mul (local.get $xx) (local.get $q7)))))))`,
    `  (v128.or (f64x2.div (f64x2.sub (local.get $one) ${e}) (f64x2.add (local.get $one) ${e}))`,
    `    (v128.and ${x} (local.get $sign)))`,
    `  (f64x2.lt (f64x2.abs ${x}) (local.get $small))))`,
  ];
}

/**
 * `lstm_fwd(pg, pc, pcn, ph, B, H)`: the LSTM cell over `B` rows (`H` even) of staged f32 data: gates `(B, 4H)`
 * at `pg` (replaced by the activations i, f, g, o), cPrev `(B, H)` at `pc`, new c and h `(B, H)` written at `pcn`
 * and `ph`. `c = f cPrev + i g` and `h = o tanh(c)` use the f64 activations, as the JavaScript kernel does.
 *
 * `tanh_f64(ps, pd, n)`: `pd[i] = tanh(ps[i])` from f32 to f64, `n` rounded up to a multiple of 4.
 */
function lstmFunctions(out: (indent: number, s: string | string[]) => void): void {
  const ld = (addr: string) => `(f64x2.promote_low_f32x4 (v128.load64_zero ${addr}))`;
  const st = (addr: string, v: string) => `(v128.store64_lane 0 ${addr} (f32x4.demote_f64x2_zero ${v}))`;
  const at = (k: number) => k === 0 ? "(local.get $a)" : `(i32.add (local.get $a) (local.get $h${k}))`;
  out(2, `(func (export "lstm_fwd") (param $pg i32) (param $pc i32) (param $pcn i32) (param $pcs i32)`);
  out(4, "(param $pos i32) (param $B i32) (param $H i32)");
  out(4, vlocals(4));
  out(4, ACT_LOCALS);
  out(
    4,
    "(local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $cn v128)",
  );
  out(4, "(local $ai v128) (local $af v128) (local $ag v128) (local $ao v128)");
  out(
    4,
    "(local $b i32) (local $a i32) (local $q i32) (local $qe i32) (local $h1 i32) (local $h2 i32) (local $h3 i32)",
  );
  out(4, vconsts());
  out(4, ACT_CONSTS);
  out(4, "(local.set $h1 (i32.shl (local.get $H) (i32.const 2)))");
  out(
    4,
    "(local.set $h2 (i32.shl (local.get $H) (i32.const 3))) (local.set $h3 (i32.mul (local.get $H) (i32.const 12)))",
  );
  out(4, "(block $bb (loop $lb (br_if $bb (i32.ge_u (local.get $b) (local.get $B)))");
  out(
    6,
    "(local.set $a (i32.add (local.get $pg) (i32.mul (local.get $b) (i32.shl (local.get $H) (i32.const 4)))))",
  );
  out(6, "(local.set $q (i32.mul (local.get $b) (local.get $h1)))");
  out(6, "(local.set $qe (i32.add (local.get $q) (local.get $h1)))");
  out(6, "(block $bj (loop $lj (br_if $bj (i32.ge_u (local.get $q) (local.get $qe)))");
  for (let k = 0; k < 4; k++) out(8, `(local.set $x${k} ${ld(at(k))})`);
  for (const k of [0, 1, 3]) out(8, `(local.set $d${k} (f64x2.neg (f64x2.abs (local.get $x${k}))))`);
  out(8, `(local.set $d2 (f64x2.mul (f64x2.abs (local.get $x2)) ${f64x2("-2.0")}))`);
  out(8, vexp(4));
  out(8, `(local.set $ai ${sigmoidOf("(local.get $x0)", "(local.get $e0)")})`);
  out(8, `(local.set $af ${sigmoidOf("(local.get $x1)", "(local.get $e1)")})`);
  out(8, `(local.set $ao ${sigmoidOf("(local.get $x3)", "(local.get $e3)")})`);
  out(8, tanhOf("$ag", "(local.get $x2)", "(local.get $e2)"));
  ["$ai", "$af", "$ag", "$ao"].forEach((v, k) => out(8, st(at(k), `(local.get ${v})`)));
  out(8, "(local.set $cn (f64x2.add (f64x2.mul (local.get $af)");
  out(10, `${ld("(i32.add (local.get $pc) (local.get $q))")})`);
  out(10, "(f64x2.mul (local.get $ai) (local.get $ag))))");
  out(8, st("(i32.add (local.get $pcn) (local.get $q))", "(local.get $cn)"));
  // c and o in f64 for lstm_h (h = o tanh(c) in a second pass: independent tanh chains, 4 cells at a time).
  out(8, "(v128.store (i32.add (local.get $pcs) (i32.shl (local.get $q) (i32.const 1))) (local.get $cn))");
  out(8, "(v128.store (i32.add (local.get $pos) (i32.shl (local.get $q) (i32.const 1))) (local.get $ao))");
  out(
    8,
    "(local.set $a (i32.add (local.get $a) (i32.const 8))) (local.set $q (i32.add (local.get $q) (i32.const 8)))",
  );
  out(8, "(br $lj)))");
  out(6, "(local.set $b (i32.add (local.get $b) (i32.const 1))) (br $lb)))");
  out(2, ")");

  out(2, `(func (export "tanh_f64") (param $ps i32) (param $pd i32) (param $n i32)`);
  out(4, vlocals(2));
  out(4, ACT_LOCALS);
  out(4, "(local $x0 v128) (local $x1 v128) (local $y0 v128) (local $y1 v128)");
  out(4, vconsts());
  out(4, ACT_CONSTS);
  out(4, "(local.set $end (i32.add (local.get $ps) (i32.shl (i32.and (i32.add (local.get $n) (i32.const 3))");
  out(6, "(i32.const -4)) (i32.const 2))))");
  out(4, "(block $b (loop $l (br_if $b (i32.ge_u (local.get $ps) (local.get $end)))");
  for (let k = 0; k < 2; k++) {
    out(6, `(local.set $x${k} ${ld(`offset=${8 * k} (local.get $ps)`)})`);
    out(6, `(local.set $d${k} (f64x2.mul (f64x2.abs (local.get $x${k})) ${f64x2("-2.0")}))`);
  }
  out(6, vexp(2));
  for (let k = 0; k < 2; k++) {
    out(6, tanhOf(`$y${k}`, `(local.get $x${k})`, `(local.get $e${k})`));
    out(6, `(v128.store offset=${16 * k} (local.get $pd) (local.get $y${k}))`);
  }
  out(
    6,
    "(local.set $ps (i32.add (local.get $ps) (i32.const 16))) (local.set $pd (i32.add (local.get $pd) (i32.const 32)))",
  );
  out(6, "(br $l)))");
  out(2, ")");
}

/**
 * `lstm_h(pcs, pos, ph, n)`: `h[i] = f32(o[i] tanh(c[i]))` from f64 `c` at `pcs` and `o` at `pos` (`n` rounded up to
 * a multiple of 4). `lstm_bwd(pa, pcp, pc, pdh, pdc, pt, B, H)`: the LSTM cell backward over `B` rows (`H` even) of
 * staged f32 data, `tanh(c)` given in f64 at `pt` (from `tanh_f64`): act `(B, 4H)` at `pa` is replaced by dGates,
 * cPrev at `pcp` by dcPrev; c, dh, dc `(B, H)` at `pc`, `pdh`, `pdc`. The same f64 operations in the same order as
 * the JavaScript kernel.
 */
function lstmMore(out: (indent: number, s: string | string[]) => void): void {
  const ld = (addr: string) => `(f64x2.promote_low_f32x4 (v128.load64_zero ${addr}))`;
  const st = (addr: string, v: string) => `(v128.store64_lane 0 ${addr} (f32x4.demote_f64x2_zero ${v}))`;
  out(2, `(func (export "lstm_h") (param $pcs i32) (param $pos i32) (param $ph i32) (param $n i32)`);
  out(4, vlocals(2));
  out(4, ACT_LOCALS);
  out(4, "(local $x0 v128) (local $x1 v128) (local $y0 v128) (local $y1 v128)");
  out(4, vconsts());
  out(4, ACT_CONSTS);
  out(4, "(local.set $end (i32.add (local.get $ph) (i32.shl (i32.and (i32.add (local.get $n) (i32.const 3))");
  out(6, "(i32.const -4)) (i32.const 2))))");
  out(4, "(block $b (loop $l (br_if $b (i32.ge_u (local.get $ph) (local.get $end)))");
  for (let k = 0; k < 2; k++) {
    out(6, `(local.set $x${k} (v128.load offset=${16 * k} (local.get $pcs)))`);
    out(6, `(local.set $d${k} (f64x2.mul (f64x2.abs (local.get $x${k})) ${f64x2("-2.0")}))`);
  }
  out(6, vexp(2));
  for (let k = 0; k < 2; k++) {
    out(6, tanhOf(`$y${k}`, `(local.get $x${k})`, `(local.get $e${k})`));
    out(
      6,
      `(v128.store64_lane offset=${8 * k} 0 (local.get $ph) (f32x4.demote_f64x2_zero` +
        ` (f64x2.mul (v128.load offset=${16 * k} (local.get $pos)) (local.get $y${k}))))`,
    );
  }
  out(
    6,
    "(local.set $pcs (i32.add (local.get $pcs) (i32.const 32))) (local.set $pos (i32.add (local.get $pos) (i32.const 32)))",
  );
  out(6, "(local.set $ph (i32.add (local.get $ph) (i32.const 16))) (br $l)))");
  out(2, ")");

  const g = (name: string) => `(local.get $${name})`;
  const mul = (a: string, b: string) => `(f64x2.mul ${a} ${b})`;
  const one = (x: string) => `(f64x2.sub (local.get $one) ${x})`;
  out(2, `(func (export "lstm_bwd") (param $pa i32) (param $pcp i32) (param $pc i32) (param $pdh i32)`);
  out(4, "(param $pdc i32) (param $pt i32) (param $B i32) (param $H i32)");
  out(4, "(local $i v128) (local $f v128) (local $g v128) (local $o v128) (local $cp v128) (local $tc v128)");
  out(4, "(local $dh v128) (local $dct v128) (local $one v128)");
  out(
    4,
    "(local $b i32) (local $a i32) (local $q i32) (local $qe i32) (local $h1 i32) (local $h2 i32) (local $h3 i32)",
  );
  out(4, `(local.set $one ${f64x2("1.0")})`);
  out(4, "(local.set $h1 (i32.shl (local.get $H) (i32.const 2)))");
  out(
    4,
    "(local.set $h2 (i32.shl (local.get $H) (i32.const 3))) (local.set $h3 (i32.mul (local.get $H) (i32.const 12)))",
  );
  out(4, "(block $bb (loop $lb (br_if $bb (i32.ge_u (local.get $b) (local.get $B)))");
  out(
    6,
    "(local.set $a (i32.add (local.get $pa) (i32.mul (local.get $b) (i32.shl (local.get $H) (i32.const 4)))))",
  );
  out(6, "(local.set $q (i32.mul (local.get $b) (local.get $h1)))");
  out(6, "(local.set $qe (i32.add (local.get $q) (local.get $h1)))");
  out(6, "(block $bj (loop $lj (br_if $bj (i32.ge_u (local.get $q) (local.get $qe)))");
  const at = (k: number) => k === 0 ? "(local.get $a)" : `(i32.add (local.get $a) (local.get $h${k}))`;
  ["i", "f", "g", "o"].forEach((v, k) => out(8, `(local.set $${v} ${ld(at(k))})`));
  const row = (base: string) => `(i32.add (local.get ${base}) (local.get $q))`;
  out(8, `(local.set $cp ${ld(row("$pcp"))}) (local.set $dh ${ld(row("$pdh"))})`);
  out(8, "(local.set $tc (v128.load (i32.add (local.get $pt) (i32.shl (local.get $q) (i32.const 1)))))");
  // dct = dc + dh * o * (1 - tc * tc)
  out(
    8,
    `(local.set $dct (f64x2.add ${ld(row("$pdc"))} ${
      mul(mul(g("dh"), g("o")), one(mul(g("tc"), g("tc"))))
    }))`,
  );
  out(8, st(at(0), mul(mul(mul(g("dct"), g("g")), g("i")), one(g("i")))));
  out(8, st(at(1), mul(mul(mul(g("dct"), g("cp")), g("f")), one(g("f")))));
  out(8, st(at(2), mul(mul(g("dct"), g("i")), one(mul(g("g"), g("g"))))));
  out(8, st(at(3), mul(mul(mul(g("dh"), g("tc")), g("o")), one(g("o")))));
  out(8, st(row("$pcp"), mul(g("dct"), g("f"))));
  out(
    8,
    "(local.set $a (i32.add (local.get $a) (i32.const 8))) (local.set $q (i32.add (local.get $q) (i32.const 8)))",
  );
  out(8, "(br $lj)))");
  out(6, "(local.set $b (i32.add (local.get $b) (i32.const 1))) (br $lb)))");
  out(2, ")");
}

/** The f32 binary ops with SIMD row functions: `f32x4` results equal f64 arithmetic rounded to f32. */
export const WASM_BINARY_OPS = ["add", "sub", "mul", "div"] as const;

/**
 * `{op}_rows(pa, ra, pb, rb, py, n, rows)` for each of {@linkcode WASM_BINARY_OPS}: `y[r][i] = a[r][i] op b[r][i]`
 * over `rows` rows of `n` f32, row `r` of `a` at byte `pa + r * ra` (`ra` 0 repeats one row), of `b` likewise,
 * of `y` at `py + 4 n r`. Each row is computed in whole vectors of 4: up to 3 elements past its end are written
 * too (the next row overwrites them; the caller leaves room after the last).
 */
function binaryFunctions(out: (indent: number, s: string | string[]) => void): void {
  for (const op of WASM_BINARY_OPS) {
    out(2, `(func (export "${op}_rows") (param $pa i32) (param $ra i32) (param $pb i32) (param $rb i32)`);
    out(4, "(param $py i32) (param $n i32) (param $rows i32)");
    out(4, "(local $i i32) (local $nb i32) (local $r i32)");
    out(4, "(local.set $nb (i32.shl (local.get $n) (i32.const 2)))");
    out(4, "(block $br (loop $lr (br_if $br (i32.ge_u (local.get $r) (local.get $rows)))");
    out(6, "(local.set $i (i32.const 0))");
    out(6, "(block $bi (loop $li (br_if $bi (i32.ge_u (local.get $i) (local.get $nb)))");
    out(8, `(v128.store (i32.add (local.get $py) (local.get $i)) (f32x4.${op}`);
    out(
      10,
      "(v128.load (i32.add (local.get $pa) (local.get $i))) (v128.load (i32.add (local.get $pb) (local.get $i)))))",
    );
    out(8, "(local.set $i (i32.add (local.get $i) (i32.const 16))) (br $li)))");
    out(
      6,
      "(local.set $pa (i32.add (local.get $pa) (local.get $ra))) (local.set $pb (i32.add (local.get $pb) (local.get $rb)))",
    );
    out(6, "(local.set $py (i32.add (local.get $py) (local.get $nb)))");
    out(6, "(local.set $r (i32.add (local.get $r) (i32.const 1))) (br $lr)))");
    out(2, ")");
  }
}

/** Lanes (f64x2 vectors) per loop iteration. */
const U = 6;

/** Whether the module being generated uses `f64x2.relaxed_madd` (set by `expWat`). */
let FMA = false;

/**
 * WebAssembly text of the module: exports `memory`, `maxf`, `sumexp`, `softmax_grad`, `lstm_fwd`, `tanh_f64`.
 * With `fma`, the exponential's polynomial uses `f64x2.relaxed_madd` (needs the relaxed-SIMD proposal).
 */
export function expWat({ fma }: { fma: boolean }): string {
  FMA = fma;
  const L: string[] = [];
  const out = (indent: number, s: string | string[]) => {
    for (const line of Array.isArray(s) ? s : [s]) L.push(" ".repeat(indent) + line);
  };
  const step = 8 * U; // bytes of f32 per iteration: 2 per lane
  const loads = (i: number) =>
    `(local.set $d${i} (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero offset=${
      8 * i
    } (local.get $p)))` +
    ` (local.get $m2)))`;
  out(0, `;; Generated by gpu/cpu/_wasm/exp_wat.ts: f64 exp, ${U} f64x2 lanes per iteration, fma ${fma}.`);
  out(0, "(module");
  out(2, `(memory (export "memory") ${EXP_PAGES} ${EXP_PAGES})`);
  out(2, scalarExp());

  // maxf: `pmax(v, x) = v < x ? x : v` (one instruction, unlike the NaN-propagating `max`) skips NaN elements;
  // the scalar tail does the same with `select`.
  out(2, `(func (export "maxf") (param $p i32) (param $n i32) (result f64) (local $end i32) (local $v v128)`);
  out(4, "(local $m f32) (local $x f32)");
  out(4, "(local.set $m (f32.const -inf))");
  out(
    4,
    "(local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))",
  );
  out(4, "(if (i32.lt_u (local.get $p) (local.get $end)) (then");
  out(6, "(local.set $v (v128.const f32x4 -inf -inf -inf -inf))");
  out(6, "(loop $l");
  out(8, "(local.set $v (f32x4.pmax (local.get $v) (v128.load (local.get $p))))");
  out(8, "(local.set $p (i32.add (local.get $p) (i32.const 16)))");
  out(8, "(br_if $l (i32.lt_u (local.get $p) (local.get $end))))");
  out(
    6,
    "(local.set $m (f32.max (f32.max (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))",
  );
  out(8, "(f32.max (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))))");
  out(
    4,
    "(local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))",
  );
  out(4, "(block $b (loop $l (br_if $b (i32.ge_u (local.get $p) (local.get $end)))");
  out(6, "(local.set $x (f32.load (local.get $p)))");
  out(6, "(local.set $m (select (local.get $x) (local.get $m) (f32.lt (local.get $m) (local.get $x))))");
  out(6, "(local.set $p (i32.add (local.get $p) (i32.const 4))) (br $l)))");
  out(4, "(f64.promote_f32 (local.get $m)))");

  // sumexp
  out(2, `(func (export "sumexp") (param $p i32) (param $n i32) (param $m f64) (result f64)`);
  out(4, vlocals(U));
  out(
    4,
    `(local $m2 v128) (local $s f64) ${Array.from({ length: U }, (_, i) => `(local $a${i} v128)`).join(" ")}`,
  );
  out(4, vconsts());
  out(4, "(local.set $m2 (f64x2.splat (local.get $m)))");
  out(
    4,
    `(local.set $end (i32.add (local.get $p) (i32.mul (i32.div_u (local.get $n) (i32.const ${2 * U}))` +
      ` (i32.const ${step}))))`,
  );
  out(4, "(block $b (loop $l (br_if $b (i32.ge_u (local.get $p) (local.get $end)))");
  for (let i = 0; i < U; i++) out(6, loads(i));
  out(6, vexp(U));
  for (let i = 0; i < U; i++) out(6, `(local.set $a${i} (f64x2.add (local.get $a${i}) (local.get $e${i})))`);
  out(6, `(local.set $p (i32.add (local.get $p) (i32.const ${step}))) (br $l)))`);
  const tree = (lo: number, hi: number): string =>
    hi - lo === 1
      ? `(local.get $a${lo})`
      : `(f64x2.add ${tree(lo, (lo + hi) >> 1)} ${tree((lo + hi) >> 1, hi)})`;
  out(4, `(local.set $acc ${tree(0, U)})`);
  out(
    4,
    "(local.set $s (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))",
  );
  out(
    4,
    `(local.set $end (i32.add (local.get $end) (i32.shl (i32.rem_u (local.get $n) (i32.const ${2 * U}))` +
      ` (i32.const 2))))`,
  );
  out(4, "(block $b (loop $l (br_if $b (i32.ge_u (local.get $p) (local.get $end)))");
  out(
    6,
    "(local.set $s (f64.add (local.get $s) (call $exp1 (f64.sub (f64.promote_f32 (f32.load (local.get $p)))",
  );
  out(8, "(local.get $m)))))");
  out(6, "(local.set $p (i32.add (local.get $p) (i32.const 4))) (br $l)))");
  out(4, "(local.get $s))");

  // softmax_grad
  out(
    2,
    `(func (export "softmax_grad") (param $p i32) (param $n i32) (param $lse f64) (param $g f64) (result f64)`,
  );
  out(4, vlocals(U));
  out(4, "(local $m2 v128) (local $g2 v128) (local $dm f64) (local $d f64)");
  out(4, vconsts());
  out(4, "(local.set $m2 (f64x2.splat (local.get $lse))) (local.set $g2 (f64x2.splat (local.get $g)))");
  out(4, "(local.set $acc (f64x2.splat (f64.const -inf)))");
  out(
    4,
    `(local.set $end (i32.add (local.get $p) (i32.mul (i32.div_u (local.get $n) (i32.const ${2 * U}))` +
      ` (i32.const ${step}))))`,
  );
  out(4, "(block $b (loop $l (br_if $b (i32.ge_u (local.get $p) (local.get $end)))");
  for (let i = 0; i < U; i++) out(6, loads(i));
  for (let i = 0; i < U; i++) out(6, `(local.set $acc (f64x2.pmax (local.get $d${i}) (local.get $acc)))`);
  out(6, vexp(U));
  for (let i = 0; i < U; i++) {
    out(
      6,
      `(v128.store64_lane offset=${
        8 * i
      } 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.mul (local.get $e${i})` +
        ` (local.get $g2))))`,
    );
  }
  out(6, `(local.set $p (i32.add (local.get $p) (i32.const ${step}))) (br $l)))`);
  out(
    4,
    "(local.set $dm (f64.max (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))",
  );
  out(
    4,
    `(local.set $end (i32.add (local.get $end) (i32.shl (i32.rem_u (local.get $n) (i32.const ${2 * U}))` +
      ` (i32.const 2))))`,
  );
  out(4, "(block $b (loop $l (br_if $b (i32.ge_u (local.get $p) (local.get $end)))");
  out(6, "(local.set $d (f64.sub (f64.promote_f32 (f32.load (local.get $p))) (local.get $lse)))");
  out(6, "(local.set $dm (f64.max (local.get $dm) (local.get $d)))");
  out(6, "(f32.store (local.get $p) (f32.demote_f64 (f64.mul (call $exp1 (local.get $d)) (local.get $g))))");
  out(6, "(local.set $p (i32.add (local.get $p) (i32.const 4))) (br $l)))");
  out(4, "(local.get $dm))");
  lstmFunctions(out);
  lstmMore(out);
  binaryFunctions(out);
  out(0, ")");
  return L.join("\n") + "\n";
}
