/**
 * Activations as layers ({@linkcode ReLU}, {@linkcode Tanh}, {@linkcode Sigmoid}) and {@linkcode Sequential},
 * which chains layers that map one tensor to one tensor.
 *
 * @example A small MLP
 * ```ts
 * import { Linear } from "./linear.ts";
 * import { ReLU, Sequential } from "./containers.ts";
 * import { ones } from "../tensor.ts";
 * const mlp = new Sequential([new Linear(4, 8), new ReLU(), new Linear(8, 2)]);
 * if (mlp.forward(ones([3, 4])).shape.join() !== "3,2" || mlp.parameters().length !== 4) throw new Error("mlp");
 * ```
 *
 * @module
 */

import { relu, sigmoid, tanh } from "../ops_elementwise.ts";
import type { Tensor } from "../tensor.ts";
import { Module } from "./module.ts";

/** A module mapping one tensor to one tensor. */
export interface TensorLayer extends Module {
  /** Apply the layer. */
  forward(x: Tensor): Tensor;
}

/** `max(x, 0)`. */
export class ReLU extends Module {
  /** Apply. */
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** Hyperbolic tangent. */
export class Tanh extends Module {
  /** Apply. */
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** Logistic sigmoid. */
export class Sigmoid extends Module {
  /** Apply. */
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** Layers applied in order; children are named `0`, `1`, ... like PyTorch. */
export class Sequential extends Module {
  /** The layers. */
  readonly layers: TensorLayer[];
  /**
   * Create a Sequential.
   * @param layers layers in order
   */
  constructor(layers: TensorLayer[]) {
    super();
    this.layers = layers;
    layers.forEach((l, i) => this.registerModule(String(i), l));
  }
  /** Apply every layer in turn. */
  forward(x: Tensor): Tensor {
    return this.layers.reduce((h, l) => l.forward(h), x);
  }
}
