// A Model lists its layers (hence its parameter and buffer names, in open_lth's state_dict order)
// and computes logits from a batch. Parameters live in a ParamStore, BN statistics in a StateStore.
import type { BufferSpec } from '../nn/state_store.js';
import { stride2CopiesFor, type Conv2d, type ForwardContext, type Layer, type LayerParamSpec } from '../nn/layers.js';
import { isGradEnabled } from '../autograd/node.js';
import { Scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * One stage of a model's forward (a residual block, a conv-BN-ReLU, a pool) on x. Without gradients
 * (evaluation) nothing reads a stage's intermediates or its input once it has run, so they go back to
 * the pool at once: what the stage allocates besides its output, and x itself unless it is `images`
 * (the caller's). An evaluation then holds about two stages' activations instead of the whole
 * forward's, and reuses the same few buffers stage after stage. With gradients the backward needs
 * them all: a plain call. (The GPU runs the recorded work in order, so a buffer released here and
 * handed to a later stage is written only after this stage has read it.)
 */
export function stage(images: Tensor, x: Tensor, run: (x: Tensor) => Tensor): Tensor {
  if (isGradEnabled()) return run(x);
  const y = Scope.run(() => run(x), (out) => [out]);
  if (x !== images && y !== x) x.release();
  return y;
}

/** A residual block as residualBlocks runs it (CifarResNet's, ResNet-18's). */
export interface ResidualBlock {
  /** The projection shortcut's conv, or null for an identity shortcut. */
  readonly projection: Conv2d | null;
  /** The block's output; with `stride2Copy` also its stride-2 copy; with `pool` its global average pool [N, C] instead. */
  forward(ctx: ForwardContext, x: Tensor, stride2Copy: boolean, pool: boolean): Tensor;
}

/**
 * A ResNet's blocks in order from x, each a stage: a block's last BatchNorm writes its output's
 * stride-2 copy where the next block's projection reads one (stride2CopiesFor), and the last block
 * hands the head its output already pooled.
 */
export function residualBlocks(ctx: ForwardContext, images: Tensor, x: Tensor, blocks: readonly ResidualBlock[]): Tensor {
  const copies = stride2CopiesFor(blocks.map((b) => b.projection));
  const last = blocks.length - 1;
  blocks.forEach((b, i) => (x = stage(images, x, (h) => b.forward(ctx, h, copies[i], i === last))));
  return x;
}

export abstract class Model {
  abstract readonly name: string;
  abstract readonly numClasses: number;
  /** Layers in state_dict order. */
  protected abstract layers(): Layer[];
  abstract forward(ctx: ForwardContext, images: Tensor): Tensor;
  /** Parameters IMP never prunes by default (open_lth: none for ResNets, fc.weight for VGG). */
  defaultPruneIgnore(): string[] {
    return [];
  }

  /**
   * state_dict entries in PyTorch's order: per layer its parameters, then its buffers, then (for BN)
   * num_batches_tracked.
   */
  stateDictOrder(): { name: string; kind: 'param' | 'buffer' | 'count' }[] {
    const out: { name: string; kind: 'param' | 'buffer' | 'count' }[] = [];
    for (const l of this.layers()) {
      for (const p of l.paramSpecs()) out.push({ name: p.name, kind: 'param' });
      const bufs = l.bufferSpecs();
      for (const b of bufs) out.push({ name: b.name, kind: 'buffer' });
      if (bufs.some((b) => b.name.endsWith('.running_mean'))) out.push({ name: bufs[0].name.replace(/\.running_mean$/, '.num_batches_tracked'), kind: 'count' });
    }
    return out;
  }

  paramSpecs(): LayerParamSpec[] {
    return this.layers().flatMap((l) => l.paramSpecs());
  }

  bufferSpecs(): BufferSpec[] {
    return this.layers().flatMap((l) => l.bufferSpecs());
  }

  /** Names of BN layers (each has weight, bias, running_mean, running_var, num_batches_tracked). */
  batchNormNames(): string[] {
    return this.bufferSpecs()
      .filter((b) => b.name.endsWith('.running_mean'))
      .map((b) => b.name.slice(0, -'.running_mean'.length));
  }

  parameterCount(): number {
    return this.paramSpecs().reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  }
}
