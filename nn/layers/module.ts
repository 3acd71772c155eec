/**
 * {@linkcode Module}: the base class of every layer and model. It owns named parameters (leaf tensors kept
 * outside every `tidy`), buffers (running statistics) and child modules, and a training/evaluation switch that
 * dropout and batch-norm layers read. Shared (tied) parameters are listed once.
 *
 * @example Parameters of a small composite model
 * ```ts
 * import { Module } from "./module.ts";
 * import { zeros } from "../tensor.ts";
 * class Net extends Module {
 *   w = this.registerParameter("w", zeros([2, 3]));
 * }
 * const net = new Net();
 * if (net.parameters().length !== 1 || !net.w.requiresGrad) throw new Error("params");
 * net.eval();
 * if (net.training) throw new Error("eval mode");
 * net.dispose();
 * ```
 *
 * @module
 */

import { keep, type Tensor } from "../tensor.ts";

/** Base class of layers and models. */
export class Module {
  /** Training mode (dropout active, batch statistics used). */
  training = true;
  #params = new Map<string, Tensor>();
  #buffers = new Map<string, Tensor>();
  #children = new Map<string, Module>();

  /**
   * Register `t` as a trainable parameter named `name` (marks it `requiresGrad` and keeps it out of `tidy`).
   * @returns `t`
   */
  registerParameter(name: string, t: Tensor): Tensor {
    if (this.#params.has(name)) {
      throw new Error(`${this.constructor.name}: parameter "${name}" registered twice`);
    }
    keep(t);
    t.requireGrad();
    this.#params.set(name, t);
    return t;
  }

  /** Replace the tensor behind a registered parameter (weight tying, loading); the old one is not freed. */
  setParameter(name: string, t: Tensor): void {
    if (!this.#params.has(name)) throw new Error(`${this.constructor.name}: no parameter "${name}"`);
    keep(t);
    t.requireGrad();
    this.#params.set(name, t);
  }

  /** Register a non-trainable tensor saved with the model (e.g. running mean). @returns `t` */
  registerBuffer(name: string, t: Tensor): Tensor {
    keep(t);
    this.#buffers.set(name, t);
    return t;
  }

  /** Replace a buffer's tensor (the caller frees the old one). */
  setBuffer(name: string, t: Tensor): void {
    if (!this.#buffers.has(name)) throw new Error(`${this.constructor.name}: no buffer "${name}"`);
    this.#buffers.set(name, keep(t));
  }

  /** Register a child module. @returns `m` */
  registerModule<M extends Module>(name: string, m: M): M {
    this.#children.set(name, m);
    return m;
  }

  /** Whether this is a normalisation layer (its parameters stay trainable when its group is frozen). */
  get isNorm(): boolean {
    return false;
  }

  /** This module and every descendant, depth first. */
  modules(): Module[] {
    return [this, ...[...this.#children.values()].flatMap((c) => c.modules())];
  }

  /** Direct children with their names. */
  children(): [string, Module][] {
    return [...this.#children];
  }

  /** Every parameter with its dotted name (`encoder.rnns.0.weight_hh`); a shared tensor appears once. */
  namedParameters(prefix = ""): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    const visit = (m: Module, pre: string) => {
      for (const [n, t] of m.#params) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([pre + n, t]);
      }
      for (const [n, c] of m.#children) visit(c, `${pre}${n}.`);
    };
    visit(this, prefix);
    return out;
  }

  /** Every parameter (shared tensors once). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Every buffer with its dotted name. */
  namedBuffers(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [...this.#buffers].map(([n, t]) => [prefix + n, t]);
    for (const [n, c] of this.#children) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  /** Parameters and buffers by name (what a checkpoint saves). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /** Set training mode on this module and every descendant. @returns `this` */
  train(on = true): this {
    this.training = on;
    for (const c of this.#children.values()) c.train(on);
    return this;
  }

  /** Evaluation mode (no dropout, running batch-norm statistics). @returns `this` */
  eval(): this {
    return this.train(false);
  }

  /** Drop every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Reset recurrent state (stateful RNNs override; containers forward to their children). */
  reset(): void {
    for (const c of this.#children.values()) c.reset();
  }

  /** Free every parameter and buffer. */
  dispose(): void {
    for (const t of this.parameters()) t.dispose();
    for (const [, t] of this.namedBuffers()) t.dispose();
  }
}
