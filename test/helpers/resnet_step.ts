// One ResNet-20 training step (or another CIFAR network's: forward, cross-entropy, backward) on a small
// random batch, for tests that compare the bits of a step under two kernel configurations.
import { backward } from '../../src/autograd/backward.js';
import type { Gpu } from '../../src/gpu/runtime.js';
import { createModel } from '../../src/models/registry.js';
import { Network } from '../../src/nn/network.js';
import { crossEntropy } from '../../src/ops/cross_entropy.js';
import { Scope } from '../../src/tensor/scope.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { recordDispatches, type RecordedDispatch } from './gpu.js';
import { f32, type Rng } from './random.js';

/** A step's inputs: the initialisation seed and a batch of 4 random images and labels. */
export interface StepData {
  seed: number;
  images: Float64Array;
  labels: number[];
}

export function resnet20StepData(rng: Rng): StepData {
  return { seed: rng.int(1 << 30), images: f32(rng.normals(4 * 3 * 32 * 32)), labels: Array.from({ length: 4 }, () => rng.int(10)) };
}

/**
 * The step's dispatches, its loss and every parameter's gradient (the flat gradient buffer), under the
 * configuration in force; `model` another of the registry's CIFAR networks.
 */
export async function resnet20Step(g: Gpu, data: StepData, model = 'resnet20'): Promise<{ dispatches: RecordedDispatch[]; loss: Float32Array; grads: Float32Array }> {
  const net = new Network(g, createModel(model));
  const scope = Scope.open();
  try {
    net.init(data.seed);
    const x = Tensor.fromArray(g, data.images, [4, 3, 32, 32]);
    const y = Tensor.fromArray(g, data.labels, [4], 'u32');
    const { result: loss, dispatches } = recordDispatches(g, () => {
      const l = crossEntropy(net.forward(x, true), y);
      backward(l, undefined, net.params.entries.map((e) => e.value));
      return l;
    });
    return { dispatches, loss: await loss.readF32(), grads: await net.readFlat('grads') };
  } finally {
    scope.close();
    net.destroy();
  }
}
