/**
 * Optimizers over parameter groups, each step one fused backend kernel per parameter (`sgd`, `adam`), updating
 * parameters and state in place on the device: SGD with momentum, Adam, and AdamW with decoupled ("true")
 * weight decay (Loshchilov & Hutter, https://arxiv.org/abs/1711.05101). Every group has its own learning rate,
 * momentum (SGD momentum or Adam's beta1, what one-cycle schedules) and weight decay, so discriminative
 * learning rates are one `lr` per group. Also gradient clipping by global norm, computed on the device.
 *
 * @example One SGD step
 * ```ts
 * import { tensor } from "./tensor.ts";
 * import { SGD } from "./optim.ts";
 * const w = tensor([1, 2], { requiresGrad: true });
 * w.grad = tensor([0.5, -1]);
 * new SGD([{ params: [w], lr: 0.1 }], { momentum: 0 }).step();
 * const v = Array.from(w.dataSync());
 * if (Math.abs(v[0]! - 0.95) > 1e-6 || Math.abs(v[1]! - 2.1) > 1e-6) throw new Error(`${v}`);
 * ```
 *
 * @module
 */

import { noGrad } from "./engine.ts";
import { add, clamp, div, mul, sqrt } from "./ops_elementwise.ts";
import { sum } from "./ops_reduce.ts";
import { keep, type Tensor, tidy, zerosLike } from "./tensor.ts";
import { fmt } from "./_shape.ts";

/** A group of parameters sharing hyper-parameters; unset values fall back to the optimizer's defaults. */
export interface ParamGroup {
  /** Parameters (leaf tensors). A tensor may appear in only one group. */
  params: Tensor[];
  /** Learning rate. */
  lr?: number;
  /** SGD momentum, or Adam's beta1. */
  mom?: number;
  /** Weight decay. */
  wd?: number;
}

/** A group with every hyper-parameter resolved. */
export interface ResolvedGroup {
  /** Parameters. */
  params: Tensor[];
  /** Learning rate. */
  lr: number;
  /** SGD momentum / Adam beta1. */
  mom: number;
  /** Weight decay. */
  wd: number;
}

/** Hyper-parameters a schedule can set per group. */
export type Hyper = "lr" | "mom" | "wd";

/** Defaults shared by the optimizers. */
export interface OptimizerOptions {
  /** Learning rate for groups without one. @default 1e-3 */
  lr?: number;
  /** Weight decay for groups without one. @default 0 */
  wd?: number;
}

/** Base class: parameter groups, per-group hyper-parameters, `zeroGrad`, and the per-parameter state. */
export abstract class Optimizer {
  /** Parameter groups with resolved hyper-parameters. */
  readonly groups: ResolvedGroup[];
  /** Number of `step()` calls so far. */
  stepCount = 0;
  /** Per-parameter state tensors (momentum buffers, Adam moments), kept outside every `tidy`. */
  protected readonly state: Map<Tensor, Tensor[]> = new Map();

  /**
   * Create an Optimizer.
   * @param groups parameter groups (or one array of parameters)
   * @param defaults hyper-parameters for groups that do not set them
   */
  constructor(groups: ParamGroup[] | Tensor[], defaults: { lr: number; mom: number; wd: number }) {
    const list: ParamGroup[] = groups.length > 0 && "params" in (groups[0] as object)
      ? groups as ParamGroup[]
      : [{ params: groups as Tensor[] }];
    const seen = new Set<Tensor>();
    this.groups = list.map((g, i) => {
      for (const p of g.params) {
        if (seen.has(p)) throw new Error(`Optimizer: parameter ${p} appears twice (group ${i})`);
        if (p.dtype === "i32") throw new TypeError(`Optimizer: parameter ${p} in group ${i} is not float`);
        seen.add(p);
      }
      return {
        params: g.params,
        lr: g.lr ?? defaults.lr,
        mom: g.mom ?? defaults.mom,
        wd: g.wd ?? defaults.wd,
      };
    });
  }

  /** Every parameter of every group. */
  get params(): Tensor[] {
    return this.groups.flatMap((g) => g.params);
  }

  /**
   * Set a hyper-parameter: one value for every group, or one value per group.
   * @param name `lr`, `mom` or `wd`
   * @param values a number, or an array with one number per group
   */
  setHyper(name: Hyper, values: number | readonly number[]): void {
    if (typeof values !== "number" && values.length !== this.groups.length) {
      throw new Error(`setHyper(${name}): ${values.length} values for ${this.groups.length} groups`);
    }
    this.groups.forEach((g, i) => g[name] = typeof values === "number" ? values : values[i]!);
  }

  /** Drop every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** Update every parameter that has a gradient (frozen parameters have none and are skipped). */
  step(): void {
    this.stepCount++;
    noGrad(() => {
      for (const g of this.groups) {
        for (const p of g.params) {
          if (p.grad === null || p.grad.disposed) continue;
          if (!p.isContiguous || !p.grad.isContiguous) {
            throw new Error(
              `${this.constructor.name}.step: parameter ${p} and its gradient must be contiguous`,
            );
          }
          if (fmt(p.grad.shape) !== fmt(p.shape)) {
            throw new Error(
              `${this.constructor.name}.step: gradient ${fmt(p.grad.shape)} for parameter ${p}`,
            );
          }
          this.update(p, p.grad, g);
        }
      }
    });
  }

  /** The state tensors of `p`, created with `make` on first use. */
  protected stateOf(p: Tensor, n: number): Tensor[] {
    let s = this.state.get(p);
    if (!s) {
      s = Array.from({ length: n }, () => keep(zerosLike(p)));
      this.state.set(p, s);
    }
    return s;
  }

  /** Named state tensors for checkpoints: `group.param.slot` -> tensor. */
  stateTensors(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    this.groups.forEach((g, gi) =>
      g.params.forEach((p, pi) => this.state.get(p)?.forEach((t, si) => out.set(`${gi}.${pi}.${si}`, t)))
    );
    return out;
  }

  /** Replace the state tensors of `p` (checkpoint restore); the previous ones are freed. */
  setStateOf(p: Tensor, slots: Tensor[]): void {
    this.state.get(p)?.forEach((t) => t.dispose());
    this.state.set(p, slots.map((t) => keep(t)));
  }

  /** Free every state tensor. */
  dispose(): void {
    for (const s of this.state.values()) for (const t of s) t.dispose();
    this.state.clear();
  }

  /** Apply one update to `p` with gradient `grad` and the group's hyper-parameters. */
  protected abstract update(p: Tensor, grad: Tensor, group: ResolvedGroup): void;
}

/** Options of {@linkcode SGD}. */
export interface SGDOptions extends OptimizerOptions {
  /** Momentum. @default 0.9 */
  momentum?: number;
  /** Dampening of the momentum. @default 0 */
  dampening?: number;
  /** Nesterov momentum. @default false */
  nesterov?: boolean;
}

/** Stochastic gradient descent with momentum (PyTorch's formula: `buf = mom*buf + g`, `p -= lr*buf`). */
export class SGD extends Optimizer {
  #dampening: number;
  #nesterov: boolean;
  /**
   * Create a SGD.
   * @param groups parameter groups or a list of parameters
   */
  constructor(groups: ParamGroup[] | Tensor[], options: SGDOptions = {}) {
    super(groups, { lr: options.lr ?? 1e-3, mom: options.momentum ?? 0.9, wd: options.wd ?? 0 });
    this.#dampening = options.dampening ?? 0;
    this.#nesterov = options.nesterov ?? false;
  }
  /** One fused `sgd` kernel launch on `p` (in place). */
  protected update(p: Tensor, grad: Tensor, g: ResolvedGroup): void {
    const [buf] = this.stateOf(p, 1) as [Tensor];
    p.backend.run("sgd", [p.view, grad.view, buf.view], [p.view, buf.view], {
      lr: g.lr,
      momentum: g.mom,
      weightDecay: g.wd,
      dampening: this.#dampening,
      nesterov: this.#nesterov,
    });
  }
}

/** Options of {@linkcode Adam}. */
export interface AdamOptions extends OptimizerOptions {
  /** beta1 (the "momentum" schedules change). @default 0.9 */
  beta1?: number;
  /** beta2. @default 0.99 (fastai; PyTorch uses 0.999) */
  beta2?: number;
  /** Epsilon. @default 1e-5 (fastai; PyTorch uses 1e-8) */
  eps?: number;
  /** Decoupled weight decay `p -= lr*wd*p` (AdamW); else L2 added to the gradient. @default true */
  decoupled?: boolean;
}

/** Adam (Kingma & Ba, https://arxiv.org/abs/1412.6980); with `decoupled` (the default) it is AdamW. */
export class Adam extends Optimizer {
  /** beta2. */
  beta2: number;
  /** Epsilon. */
  eps: number;
  /** Whether weight decay is decoupled. */
  readonly decoupled: boolean;
  /** Steps taken per parameter (bias correction starts per parameter, like PyTorch). */
  #steps = new Map<Tensor, number>();
  /**
   * Create an Adam.
   * @param groups parameter groups or a list of parameters
   */
  constructor(groups: ParamGroup[] | Tensor[], options: AdamOptions = {}) {
    super(groups, { lr: options.lr ?? 1e-3, mom: options.beta1 ?? 0.9, wd: options.wd ?? 0 });
    this.beta2 = options.beta2 ?? 0.99;
    this.eps = options.eps ?? 1e-5;
    this.decoupled = options.decoupled ?? true;
  }
  /** One fused `adam` kernel launch on `p` (in place; bias correction per parameter). */
  protected update(p: Tensor, grad: Tensor, g: ResolvedGroup): void {
    const [m, v] = this.stateOf(p, 2) as [Tensor, Tensor];
    const step = (this.#steps.get(p) ?? 0) + 1;
    this.#steps.set(p, step);
    p.backend.run("adam", [p.view, grad.view, m.view, v.view], [p.view, m.view, v.view], {
      lr: g.lr,
      beta1: g.mom,
      beta2: this.beta2,
      eps: this.eps,
      weightDecay: g.wd,
      decoupled: this.decoupled,
      step,
    });
  }
  /** Steps taken by parameter `p` (for checkpoints). */
  stepsOf(p: Tensor): number {
    return this.#steps.get(p) ?? 0;
  }
  /** Set the steps taken by parameter `p` (checkpoint restore). */
  setStepsOf(p: Tensor, n: number): void {
    this.#steps.set(p, n);
  }
}

/**
 * Scale every gradient by `min(1, maxNorm / (norm + 1e-6))` where `norm` is the global L2 norm of all of
 * them (PyTorch `clip_grad_norm_`). Runs on the device; nothing is read back.
 *
 * @param params parameters whose gradients to clip (those without a gradient are skipped)
 * @param maxNorm largest allowed global norm
 * @returns the global norm before clipping, as a 0-d tensor the caller disposes (null when no gradients)
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): Tensor | null {
  if (!(maxNorm > 0)) throw new RangeError(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const withGrad = params.filter((p) => p.grad !== null && !p.grad.disposed);
  if (withGrad.length === 0) return null;
  return noGrad(() =>
    tidy(() => {
      let total: Tensor | null = null;
      for (const p of withGrad) {
        const s = sum(mul(p.grad!, p.grad!));
        total = total === null ? s : add(total, s);
      }
      const norm = sqrt(total!);
      const coef = clamp(div(maxNorm, add(norm, 1e-6)), { max: 1 });
      for (const p of withGrad) {
        const scaled = keep(mul(p.grad!, coef));
        p.grad!.dispose();
        p.grad = scaled;
      }
      return norm;
    })
  );
}
