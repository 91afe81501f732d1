// Reverse-mode autodiff in the micrograd style: every op output that needs a gradient carries a
// GradNode (its inputs and a backward closure); `backward(loss)` sorts the graph topologically
// and runs the closures in reverse. Gradients accumulate when a tensor feeds two ops (residual
// connections). Parameter gradients land in their persistent `grad` buffers.
import type { Tensor } from '../tensor/tensor.js';

export interface BackwardContext {
  /**
   * The tensor to write input i's gradient into. For a parameter seen for the first time this is
   * its persistent grad buffer, so weight-gradient kernels write there directly with no copy.
   */
  gradOutput(i: number): Tensor;
  /** True when input i needs a gradient (skip computing it otherwise). */
  needsGrad(i: number): boolean;
  /**
   * Input i's gradient so far, when it has one that nothing else still reads: an op whose kernel
   * can add its contribution in place (dst += ...) may do so and return this same tensor for i,
   * which saves the separate accumulation pass. Null otherwise; ops that cannot accumulate ignore it.
   */
  accumulator?(i: number): Tensor | null;
  /**
   * Leave this node's part of an input's gradient to the backward of `t`, which computes it together
   * with its own (conv2dWithShortcut's pair: the second of two convs of x computes x's whole gradient
   * in one pass). True when t's backward is still to run in this pass (the engine then checks that it
   * does); false, and nothing deferred, otherwise.
   */
  deferTo?(t: Tensor): boolean;
  /** The same object for every node of one backward pass (what a deferral is remembered with). */
  pass?: object;
}

export interface GradNode {
  op: string;
  inputs: Tensor[];
  /** Write the input gradients (via ctx.gradOutput) given the output gradient; return them (null = none). */
  backward(gradOut: Tensor, ctx: BackwardContext): (Tensor | null)[];
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Run fn with gradient recording off (evaluation). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Attach a backward to an op's output when any input needs a gradient. Returns the output. */
export function record(op: string, inputs: Tensor[], output: Tensor, backward: GradNode['backward']): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    output.requiresGrad = true;
    output.node = { op, inputs, backward };
  }
  return output;
}
