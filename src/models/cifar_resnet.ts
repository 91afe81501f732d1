// CIFAR ResNets (He et al. 2016, Sec. 4.2), as open_lth's `cifar_resnet_<depth>[_<width>]`:
// stem conv3x3 -> BN -> ReLU; 3 segments of N blocks with widths w, 2w, 4w (depth = 6N + 2);
// block = conv3x3 -> BN -> ReLU -> conv3x3 -> BN, plus shortcut (identity, or 1x1 stride-2 conv + BN
// where the shape changes), then ReLU; global average pool; fc. No conv biases.
// Parameter names: conv, bn, blocks.N.{conv1,bn1,conv2,bn2,shortcut.0,shortcut.1}, fc.
import { BatchNorm2d, Conv2d, convBnRelu, convBnReluBeside, Linear, type ForwardContext, type Layer } from '../nn/layers.js';
import type { Tensor } from '../tensor/tensor.js';
import { Model, residualBlocks, stage, type ResidualBlock } from './model.js';

class Block implements ResidualBlock {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly shortcut: [Conv2d, BatchNorm2d] | null;

  constructor(prefix: string, fIn: number, fOut: number, downsample: boolean) {
    const stride = downsample ? 2 : 1;
    this.conv1 = new Conv2d(`${prefix}.conv1`, fIn, fOut, 3, stride, 1);
    this.bn1 = new BatchNorm2d(`${prefix}.bn1`, fOut);
    this.conv2 = new Conv2d(`${prefix}.conv2`, fOut, fOut, 3, 1, 1);
    this.bn2 = new BatchNorm2d(`${prefix}.bn2`, fOut);
    // open_lth: a projection shortcut whenever the shape changes, always stride 2.
    this.shortcut = downsample || fIn !== fOut ? [new Conv2d(`${prefix}.shortcut.0`, fIn, fOut, 1, 2, 0), new BatchNorm2d(`${prefix}.shortcut.1`, fOut)] : null;
  }

  layers(): Layer[] {
    return [this.conv1, this.bn1, this.conv2, this.bn2, ...(this.shortcut ?? [])];
  }

  get projection(): Conv2d | null {
    return this.shortcut?.[0] ?? null;
  }

  /**
   * The block's output; with `stride2Copy`, its last BatchNorm also writes the output's stride-2 copy,
   * for the next block's projection shortcut (stride2CopiesFor); with `pool` (the last block), the
   * output's global average pool [N, C] instead (BatchNorm2d.forwardAvgPool: one launch each way).
   */
  forward(ctx: ForwardContext, x: Tensor, stride2Copy = false, pool = false): Tensor {
    // conv1 and the shortcut's 1x1 stride-2 conv both read x: one launch where the configuration
    // fuses them (Conv2d.forwardWithShortcut)
    const [h, projected] = convBnReluBeside(ctx, this.conv1, this.bn1, this.projection, x);
    const z = this.conv2.forward(ctx, h);
    const skip = this.shortcut && projected ? this.shortcut[1].forward(ctx, projected) : x;
    // relu(skip + bn2(z)) in bn2's normalising pass (the same bits as addRelu(skip, bn2(z)), one
    // pass over the activations fewer). The residual is the op's first input, so the backward
    // reaches conv1 before the shortcut: conv1 leaves x's gradient to the shortcut's backward, which
    // computes both parts in one pass (fuseShortcutGrad); where that does not apply, the 1x1
    // stride-2 conv's input gradient is the one that adds into x's gradient in place (a quarter of
    // the pixels) instead of zero-filling the other three quarters
    return pool ? this.bn2.forwardAvgPool(ctx, z, true, skip) : this.bn2.forward(ctx, z, true, skip, stride2Copy);
  }
}

export class CifarResNet extends Model {
  readonly name: string;
  private readonly conv: Conv2d;
  private readonly bn: BatchNorm2d;
  private readonly blocks: Block[] = [];
  private readonly fc: Linear;

  constructor(
    readonly depth: number,
    readonly width = 16,
    readonly numClasses = 10,
    name?: string,
  ) {
    super();
    if ((depth - 2) % 6 !== 0 || depth < 8) throw new Error(`CIFAR ResNet depth must be 6N+2 with N >= 1, got ${depth}`);
    this.name = name ?? `cifar_resnet_${depth}_${width}`;
    const n = (depth - 2) / 6;
    this.conv = new Conv2d('conv', 3, width, 3, 1, 1);
    this.bn = new BatchNorm2d('bn', width);
    let current = width;
    const plan = [width, 2 * width, 4 * width];
    plan.forEach((filters, segment) => {
      for (let b = 0; b < n; b++) {
        this.blocks.push(new Block(`blocks.${this.blocks.length}`, current, filters, segment > 0 && b === 0));
        current = filters;
      }
    });
    this.fc = new Linear('fc', current, numClasses);
  }

  protected layers(): Layer[] {
    return [this.conv, this.bn, ...this.blocks.flatMap((b) => b.layers()), this.fc];
  }

  forward(ctx: ForwardContext, images: Tensor): Tensor {
    const x = stage(images, images, (im) => convBnRelu(ctx, this.conv, this.bn, im));
    // the last block's output goes to the head already pooled
    return this.fc.forward(ctx, residualBlocks(ctx, images, x, this.blocks));
  }
}
