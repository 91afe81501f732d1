// The layers the paper's networks are built from. A layer knows its parameter names and shapes
// (open_lth's PyTorch names, so checkpoints load into open_lth models 1:1) and how to run forward
// with the ops; autograd records the backward.
import { batchNorm2d, batchNorm2dAvgPool } from '../ops/batchnorm.js';
import { conv2d, conv2dFusesShortcut, conv2dWithShortcut, wantStride2Copies } from '../ops/conv2d.js';
import { linear } from '../ops/linear.js';
import type { ParamSpec, ParamStore } from '../tensor/param_store.js';
import type { Tensor } from '../tensor/tensor.js';
import type { BufferSpec, StateStore } from './state_store.js';

export interface ForwardContext {
  params: ParamStore;
  buffers: StateStore;
  training: boolean;
}

/** How a layer's parameters are initialised (see src/nn/init.ts). */
export type InitKind = 'kaiming_normal' | 'uniform_fan_in' | 'uniform01' | 'zeros';

export interface LayerParamSpec extends ParamSpec {
  init: InitKind;
  fanIn: number;
}

export interface Layer {
  paramSpecs(): LayerParamSpec[];
  bufferSpecs(): BufferSpec[];
}

export class Conv2d implements Layer {
  constructor(
    readonly name: string,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    readonly stride = 1,
    readonly padding = 0,
    readonly bias = false,
  ) {}

  paramSpecs(): LayerParamSpec[] {
    const fanIn = this.inChannels * this.kernel * this.kernel;
    const specs: LayerParamSpec[] = [{ name: `${this.name}.weight`, shape: [this.outChannels, this.inChannels, this.kernel, this.kernel], prunable: true, init: 'kaiming_normal', fanIn }];
    if (this.bias) specs.push({ name: `${this.name}.bias`, shape: [this.outChannels], prunable: false, init: 'uniform_fan_in', fanIn });
    return specs;
  }

  bufferSpecs(): BufferSpec[] {
    return [];
  }

  forward(ctx: ForwardContext, x: Tensor): Tensor {
    const w = ctx.params.get(`${this.name}.weight`).value;
    const b = this.bias ? ctx.params.get(`${this.name}.bias`).value : null;
    return conv2d(x, w, b, { stride: this.stride, padding: this.padding });
  }

  /** Does this conv read only its input's even rows and columns (1x1, stride 2, no padding), so that it can read the input's stride-2 copy? */
  readsStride2(): boolean {
    return this.kernel === 1 && this.stride === 2 && this.padding === 0;
  }

  /** Is `shortcut` a projection conv2dWithShortcut runs beside this one (1x1, stride 2, no padding, no bias)? */
  pairsWith(shortcut: Conv2d): boolean {
    return shortcut.readsStride2() && !shortcut.bias;
  }

  /**
   * Do this conv of x and the projection shortcut's run as one launch (pairsWith, and
   * conv2dFusesShortcut: the configuration and shapes allow)?
   */
  fusesWith(ctx: ForwardContext, x: Tensor, shortcut: Conv2d): boolean {
    if (!this.pairsWith(shortcut)) return false;
    const b = this.bias ? ctx.params.get(`${this.name}.bias`).value : null;
    return conv2dFusesShortcut(x, ctx.params.get(`${this.name}.weight`).value, b, { stride: this.stride, padding: this.padding }, ctx.params.get(`${shortcut.name}.weight`).value);
  }

  /**
   * [this conv of x, the projection shortcut's conv of x]: conv2dWithShortcut where pairsWith (one
   * launch where fusesWith; x's gradient in one pass where the configuration allows), else each
   * layer's forward. Same bits either way.
   */
  forwardWithShortcut(ctx: ForwardContext, x: Tensor, shortcut: Conv2d): [Tensor, Tensor] {
    if (!this.pairsWith(shortcut)) return [this.forward(ctx, x), shortcut.forward(ctx, x)];
    const w = ctx.params.get(`${this.name}.weight`).value;
    const b = this.bias ? ctx.params.get(`${this.name}.bias`).value : null;
    return conv2dWithShortcut(x, w, b, { stride: this.stride, padding: this.padding }, ctx.params.get(`${shortcut.name}.weight`).value);
  }
}

export class BatchNorm2d implements Layer {
  constructor(
    readonly name: string,
    readonly channels: number,
  ) {}

  paramSpecs(): LayerParamSpec[] {
    return [
      { name: `${this.name}.weight`, shape: [this.channels], prunable: false, init: 'uniform01', fanIn: this.channels },
      { name: `${this.name}.bias`, shape: [this.channels], prunable: false, init: 'zeros', fanIn: this.channels },
    ];
  }

  bufferSpecs(): BufferSpec[] {
    return [
      { name: `${this.name}.running_mean`, shape: [this.channels], init: 0 },
      { name: `${this.name}.running_var`, shape: [this.channels], init: 1 },
    ];
  }

  /**
   * With `relu`, the ReLU that follows is fused into the BN kernels; with `residual`, so is the
   * residual add before it: act(residual + BN(x)). With `stride2Copy` (training), the output's
   * stride-2 copy is written too, where the layout allows (batchNorm2d).
   */
  forward(ctx: ForwardContext, x: Tensor, relu = false, residual?: Tensor, stride2Copy = false): Tensor {
    return batchNorm2d(
      x,
      ctx.params.get(`${this.name}.weight`).value,
      ctx.params.get(`${this.name}.bias`).value,
      ctx.buffers.get(`${this.name}.running_mean`),
      ctx.buffers.get(`${this.name}.running_var`),
      { training: ctx.training, relu, residual, stride2Copy },
    );
  }

  /** globalAvgPool(this.forward(ctx, x, relu, residual)), in one launch each way where batchNorm2dAvgPool can: a network's head. */
  forwardAvgPool(ctx: ForwardContext, x: Tensor, relu = false, residual?: Tensor): Tensor {
    return batchNorm2dAvgPool(
      x,
      ctx.params.get(`${this.name}.weight`).value,
      ctx.params.get(`${this.name}.bias`).value,
      ctx.buffers.get(`${this.name}.running_mean`),
      ctx.buffers.get(`${this.name}.running_var`),
      { training: ctx.training, relu, residual },
    );
  }
}

export class Linear implements Layer {
  constructor(
    readonly name: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
  ) {}

  paramSpecs(): LayerParamSpec[] {
    return [
      { name: `${this.name}.weight`, shape: [this.outFeatures, this.inFeatures], prunable: true, init: 'kaiming_normal', fanIn: this.inFeatures },
      { name: `${this.name}.bias`, shape: [this.outFeatures], prunable: false, init: 'uniform_fan_in', fanIn: this.inFeatures },
    ];
  }

  bufferSpecs(): BufferSpec[] {
    return [];
  }

  forward(ctx: ForwardContext, x: Tensor): Tensor {
    return linear(x, ctx.params.get(`${this.name}.weight`).value, ctx.params.get(`${this.name}.bias`).value);
  }
}

/**
 * For each residual block of a sequence (given each block's projection shortcut conv, or null),
 * whether its last BatchNorm should write its output's stride-2 copy: where the next block's
 * projection reads only even rows and columns (a 1x1 stride-2 conv) and the configuration asks for
 * copies (wantStride2Copies). batchNorm2d writes none in eval mode.
 */
export function stride2CopiesFor(projections: (Conv2d | null)[]): boolean[] {
  const on = wantStride2Copies();
  return projections.map((_, i) => on && (projections[i + 1]?.readsStride2() ?? false));
}

/** conv -> BN -> ReLU, the unit VGG and the ResNet stems are made of (BN and ReLU in one kernel). */
export function convBnRelu(ctx: ForwardContext, conv: Conv2d, bn: BatchNorm2d, x: Tensor): Tensor {
  return bn.forward(ctx, conv.forward(ctx, x), true);
}

/**
 * A residual block's first half, with or without a projection shortcut (conv -> BN) beside it:
 * [relu(bn(conv(x))), the shortcut conv of x (null without one)]. The shortcut's BN is left to the
 * caller. Both convs read x, so they run as one launch where they can (Conv2d.forwardWithShortcut).
 */
export function convBnReluBeside(ctx: ForwardContext, conv: Conv2d, bn: BatchNorm2d, shortcut: Conv2d | null, x: Tensor): [Tensor, Tensor | null] {
  if (!shortcut) return [convBnRelu(ctx, conv, bn, x), null];
  const [y, ysc] = conv.forwardWithShortcut(ctx, x, shortcut);
  return [bn.forward(ctx, y, true), ysc];
}
