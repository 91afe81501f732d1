// CIFAR VGG as open_lth's `cifar_vgg_<depth>`: conv3x3 (bias) -> BN -> ReLU modules named
// layers.<i>.conv / layers.<i>.bn, 2x2 max-pools at each 'M' (layers.<i> with no parameters),
// then a 2x2 average pool over the final 2x2 map and fc 512 -> classes. open_lth keeps fc out of IMP.
import { maxPool2d } from '../ops/pooling.js';
import { BatchNorm2d, Conv2d, convBnRelu, Linear, type ForwardContext, type Layer } from '../nn/layers.js';
import type { Tensor } from '../tensor/tensor.js';
import { Model, stage } from './model.js';

type Plan = (number | 'M')[];

export const VGG_PLANS: Record<number, Plan> = {
  11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512],
  13: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512],
  16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512],
  19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512],
};

export class Vgg extends Model {
  readonly name: string;
  private readonly plan: (([Conv2d, BatchNorm2d]) | 'M')[] = [];
  private readonly fc: Linear;

  constructor(
    readonly depth: number,
    readonly numClasses = 10,
  ) {
    super();
    const plan = VGG_PLANS[depth];
    if (!plan) throw new Error(`VGG depth must be one of ${Object.keys(VGG_PLANS).join(', ')}, got ${depth}`);
    this.name = `vgg${depth}`;
    let filters = 3;
    plan.forEach((spec, i) => {
      if (spec === 'M') this.plan.push('M');
      else {
        this.plan.push([new Conv2d(`layers.${i}.conv`, filters, spec, 3, 1, 1, true), new BatchNorm2d(`layers.${i}.bn`, spec)]);
        filters = spec;
      }
    });
    if (this.plan[this.plan.length - 1] === 'M') throw new Error(`vgg${depth}: the plan must end with a conv (its BatchNorm pools the head)`);
    this.fc = new Linear('fc', 512, numClasses);
  }

  override defaultPruneIgnore(): string[] {
    return ['fc.weight'];
  }

  protected layers(): Layer[] {
    return [...this.plan.flatMap((p) => (p === 'M' ? [] : p)), this.fc];
  }

  forward(ctx: ForwardContext, images: Tensor): Tensor {
    let x = images;
    // nn.AvgPool2d(2) over the final 2x2 map equals the global average: the last conv's BatchNorm
    // pools its own output (BatchNorm2d.forwardAvgPool; every plan ends with a conv)
    const last = this.plan.length - 1;
    this.plan.forEach((p, i) => {
      const unit = (h: Tensor) => (p === 'M' ? maxPool2d(h, { kernel: 2, stride: 2, padding: 0 }) : i === last ? p[1].forwardAvgPool(ctx, p[0].forward(ctx, h), true) : convBnRelu(ctx, p[0], p[1], h));
      x = stage(images, x, unit);
    });
    return this.fc.forward(ctx, x);
  }
}
