// ResNet-18 (He et al. 2016, BasicBlock [2,2,2,2], widths 64..512) with torchvision's names:
// conv1, bn1, layer<k>.<b>.{conv1,bn1,conv2,bn2,downsample.0,downsample.1}, fc. The CIFAR stem
// (default) is conv3x3 stride 1 with no max-pool; the ImageNet stem is conv7x7 stride 2 + 3x3/2 max-pool.
import { maxPool2d } from '../ops/pooling.js';
import { BatchNorm2d, Conv2d, convBnRelu, convBnReluBeside, Linear, type ForwardContext, type Layer } from '../nn/layers.js';
import type { Tensor } from '../tensor/tensor.js';
import { Model, residualBlocks, stage, type ResidualBlock } from './model.js';

class BasicBlock implements ResidualBlock {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: [Conv2d, BatchNorm2d] | null;

  constructor(prefix: string, fIn: number, fOut: number, stride: number) {
    this.conv1 = new Conv2d(`${prefix}.conv1`, fIn, fOut, 3, stride, 1);
    this.bn1 = new BatchNorm2d(`${prefix}.bn1`, fOut);
    this.conv2 = new Conv2d(`${prefix}.conv2`, fOut, fOut, 3, 1, 1);
    this.bn2 = new BatchNorm2d(`${prefix}.bn2`, fOut);
    this.downsample = stride !== 1 || fIn !== fOut ? [new Conv2d(`${prefix}.downsample.0`, fIn, fOut, 1, stride, 0), new BatchNorm2d(`${prefix}.downsample.1`, fOut)] : null;
  }

  layers(): Layer[] {
    return [this.conv1, this.bn1, this.conv2, this.bn2, ...(this.downsample ?? [])];
  }

  get projection(): Conv2d | null {
    return this.downsample?.[0] ?? null;
  }

  /**
   * The block's output; with `stride2Copy`, also its stride-2 copy for the next block's downsample
   * (stride2CopiesFor); with `pool` (the last block), its global average pool [N, C] instead.
   */
  forward(ctx: ForwardContext, x: Tensor, stride2Copy = false, pool = false): Tensor {
    const [h, projected] = convBnReluBeside(ctx, this.conv1, this.bn1, this.projection, x);
    const z = this.conv2.forward(ctx, h);
    const skip = this.downsample && projected ? this.downsample[1].forward(ctx, projected) : x;
    // relu(skip + bn2(z)) in bn2's normalising pass, as in cifar_resnet.ts (the residual first: the
    // backward reaches conv1 before the downsample, whose 1x1 stride-2 input gradient adds in place)
    return pool ? this.bn2.forwardAvgPool(ctx, z, true, skip) : this.bn2.forward(ctx, z, true, skip, stride2Copy);
  }
}

export class ResNet18 extends Model {
  readonly name: string;
  private readonly conv1: Conv2d;
  private readonly bn1: BatchNorm2d;
  private readonly blocks: BasicBlock[] = [];
  private readonly fc: Linear;

  constructor(
    readonly stem: 'cifar' | 'imagenet' = 'cifar',
    readonly numClasses = 10,
  ) {
    super();
    this.name = stem === 'cifar' ? 'resnet18' : 'resnet18_imagenet_stem';
    this.conv1 = stem === 'cifar' ? new Conv2d('conv1', 3, 64, 3, 1, 1) : new Conv2d('conv1', 3, 64, 7, 2, 3);
    this.bn1 = new BatchNorm2d('bn1', 64);
    let current = 64;
    [64, 128, 256, 512].forEach((w, k) => {
      for (let b = 0; b < 2; b++) {
        this.blocks.push(new BasicBlock(`layer${k + 1}.${b}`, current, w, k > 0 && b === 0 ? 2 : 1));
        current = w;
      }
    });
    this.fc = new Linear('fc', 512, numClasses);
  }

  protected layers(): Layer[] {
    return [this.conv1, this.bn1, ...this.blocks.flatMap((b) => b.layers()), this.fc];
  }

  forward(ctx: ForwardContext, images: Tensor): Tensor {
    let x = stage(images, images, (im) => convBnRelu(ctx, this.conv1, this.bn1, im));
    if (this.stem === 'imagenet') x = stage(images, x, (h) => maxPool2d(h, { kernel: 3, stride: 2, padding: 1 }));
    return this.fc.forward(ctx, residualBlocks(ctx, images, x, this.blocks));
  }
}
