/**
 * Reverse-mode automatic differentiation over the graph that ops record while grad mode is on.
 *
 * Each op that has a tensor input with `requiresGrad` records a {@linkcode Node}: its inputs, its outputs and a
 * function mapping output gradients to input gradients. {@linkcode backward} walks the nodes in reverse
 * topological order (an explicit stack, so graph depth is unlimited), sums gradients of tensors used more than
 * once, and adds the result to `grad` of every leaf with `requiresGrad`. Gradient functions run with grad
 * mode off, so there are no higher-order gradients; the graph is kept, so a second `backward` adds again.
 *
 * @example Gradient of a product
 * ```ts
 * import { tensor, tidy } from "./tensor.ts";
 * const x = tensor([1, 2, 3], { requiresGrad: true });
 * tidy(() => x.mul(x).sum().backward()); // d/dx sum(x^2) = 2x
 * const g = Array.from(x.grad!.dataSync());
 * if (g.join() !== "2,4,6") throw new Error(`wrong gradient ${g}`);
 * x.dispose();
 * ```
 *
 * @module
 */

import { isGradEnabled, withGrad } from "./engine.ts";
import { type BackwardFn, keep, type Node, ones, type Tensor, tidy } from "./_tensor_core.ts";
import { _contig, addRaw } from "./_kernel.ts";
import { fmt } from "./_shape.ts";

export type { BackwardFn, Node } from "./_tensor_core.ts";

/** Whether an op over `inputs` must record a node (grad mode on and some input requires grad). */
export function needsGrad(...inputs: readonly Tensor[]): boolean {
  if (!isGradEnabled()) return false;
  for (const t of inputs) if (t.requiresGrad) return true;
  return false;
}

/**
 * Record `outputs = name(inputs)` with gradient function `backward` when {@linkcode needsGrad} says so.
 * @returns the first output (for chaining in single-output ops)
 */
export function record(
  name: string,
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  backward: BackwardFn,
): Tensor {
  if (needsGrad(...inputs)) {
    const node: Node = { name, inputs, outputs, backward };
    outputs.forEach((o, i) => {
      o.gradFn = node;
      o.outputIndex = i;
      o.requiresGrad = true;
    });
  }
  return outputs[0]!;
}

/**
 * Run `fn`, an op composed of other ops, in a `tidy` unless it records a graph over `inputs` (then its
 * intermediates are graph state that backward reads, freed with the caller's scope).
 * @returns what `fn` returns
 */
export function _composite<T>(inputs: readonly Tensor[], fn: () => T): T {
  return needsGrad(...inputs) ? fn() : tidy(fn);
}

/** Nodes reachable from `root`, consumers before producers (iterative post-order DFS, reversed). */
function topoOrder(root: Node): Node[] {
  const order: Node[] = [];
  const visited = new Set<Node>([root]);
  const stack: { node: Node; next: number }[] = [{ node: root, next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next < top.node.inputs.length) {
      const child = top.node.inputs[top.next++]!.gradFn;
      if (child && !visited.has(child)) {
        visited.add(child);
        stack.push({ node: child, next: 0 });
      }
    } else {
      stack.pop();
      order.push(top.node);
    }
  }
  return order.reverse();
}

function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  if (leaf.grad === null || leaf.grad.disposed) {
    // a contiguous tensor object of its own (sharing storage when `g` is a contiguous view)
    const own = g.isContiguous ? (g._exclusive ? g : g._viewAs(g.shape, g.strides, g.offset)) : _contig(g);
    leaf.grad = keep(own);
  } else {
    const sum = addRaw(leaf.grad, g);
    leaf.grad.dispose();
    leaf.grad = keep(sum);
  }
}

/**
 * Back-propagate from `root`: every leaf with `requiresGrad` reachable from it gets its gradient added to `grad`.
 * Intermediate gradients are freed as soon as they are used.
 * @param root the tensor to differentiate (usually a scalar loss)
 * @param grad d(objective)/d(root); required unless `root` has one element
 */
export function backward(root: Tensor, grad?: Tensor): void {
  root.assertAlive("backward");
  if (!root.requiresGrad) {
    throw new Error(
      `backward: tensor ${
        fmt(root.shape)
      } does not require grad (no input had requiresGrad, or it was made under noGrad)`,
    );
  }
  if (grad === undefined && root.size !== 1) {
    throw new Error(
      `backward: tensor ${fmt(root.shape)} is not a scalar; pass a gradient of shape ${fmt(root.shape)}`,
    );
  }
  if (grad !== undefined) {
    grad.assertAlive("backward");
    if (fmt(grad.shape) !== fmt(root.shape) || grad.dtype !== root.dtype) {
      throw new RangeError(
        `backward: gradient ${fmt(grad.shape)} ${grad.dtype} does not match tensor ${
          fmt(root.shape)
        } ${root.dtype}`,
      );
    }
  }
  withGrad(false, () =>
    tidy(() => {
      const g0 = grad === undefined
        ? ones(root.shape, { dtype: root.dtype, backend: root.backend })
        : grad._viewAs(grad.shape, grad.strides, grad.offset);
      if (root.gradFn === null) {
        accumulateLeaf(root, g0);
        return;
      }
      const grads = new Map<Tensor, Tensor>([[root, g0]]);
      for (const node of topoOrder(root.gradFn)) {
        const gOut = node.outputs.map((o) => grads.get(o) ?? null);
        for (const o of node.outputs) grads.delete(o);
        if (gOut.every((g) => g === null)) continue;
        let gIn: readonly (Tensor | null)[];
        try {
          gIn = tidy(() => node.backward(gOut));
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          throw new Error(`backward of ${node.name}: ${msg}`, { cause: err });
        }
        const owned = new Set<Tensor>();
        node.inputs.forEach((input, i) => {
          let g = gIn[i] ?? null;
          if (g === null || !input.requiresGrad) return;
          if (fmt(g.shape) !== fmt(input.shape)) {
            throw new Error(
              `backward of ${node.name}: gradient ${fmt(g.shape)} for input ${i} of shape ${
                fmt(input.shape)
              }`,
            );
          }
          if (owned.has(g)) g = g._viewAs(g.shape, g.strides, g.offset);
          owned.add(g);
          if (input.gradFn === null) {
            accumulateLeaf(input, g);
            return;
          }
          const prev = grads.get(input);
          if (prev === undefined) grads.set(input, g);
          else {
            grads.set(input, addRaw(prev, g));
            prev.dispose();
            g.dispose();
          }
        });
        for (const g of gOut) if (g !== null && !owned.has(g)) g.dispose();
      }
    }));
}
