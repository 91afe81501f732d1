// Every network of paper.md runs a training step on the GPU: finite loss, a gradient for every
// parameter, BN statistics updated (batch 2 at 32x32; the appendix networks at batch 128 are for a GPU).
import { describe, expect, it } from 'vitest';
import { backward } from '../src/autograd/backward.js';
import { noGrad } from '../src/autograd/node.js';
import { createModel } from '../src/models/registry.js';
import { Network } from '../src/nn/network.js';
import { crossEntropy } from '../src/ops/cross_entropy.js';
import { Scope } from '../src/tensor/scope.js';
import { Tensor } from '../src/tensor/tensor.js';
import { useGpu } from './helpers/gpu.js';
import { Rng } from './helpers/random.js';

const gpu = useGpu({ poison: false });

describe('the paper\'s networks train on the GPU', () => {
  for (const name of ['resnet20', 'resnet56', 'wrn16_8', 'vgg11', 'vgg13', 'resnet18', 'resnet18_imagenet_stem']) {
    it(`${name}: one step gives a finite loss and a finite, non-zero gradient for every parameter`, async () => {
      const rng = new Rng();
      const net = new Network(gpu(), createModel(name));
      net.init(rng.int(1 << 30));
      const scope = Scope.open();
      const x = Tensor.fromArray(gpu(), rng.normals(2 * 3 * 32 * 32), [2, 3, 32, 32]);
      const y = Tensor.fromArray(gpu(), [rng.int(10), rng.int(10)], [2], 'u32');
      const logits = net.forward(x, true);
      expect(logits.shape).toEqual([2, 10]);
      const loss = crossEntropy(logits, y);
      backward(loss, undefined, net.params.entries.map((e) => e.value));
      const [l] = await loss.readF32();
      expect(Number.isFinite(l), `loss ${l} (seed ${rng.seed})`).toBe(true);
      const grads = net.unflatten(await net.readFlat('grads'));
      for (const [pname, g] of grads) {
        let finite = true, nonzero = false;
        for (const v of g) {
          if (!Number.isFinite(v)) finite = false;
          if (v !== 0) nonzero = true;
        }
        expect(finite, `${pname} gradient finite`).toBe(true);
        // The ImageNet stem max-pools away gradients of some positions, never of whole tensors.
        expect(nonzero, `${pname} gradient non-zero`).toBe(true);
      }
      scope.close();
      net.destroy();
    });
  }
});

describe('evaluation gives each stage\'s buffers back as it goes', () => {
  for (const name of ['resnet20', 'vgg11', 'resnet18_imagenet_stem']) {
    it(`${name}: the same logits without gradients as with them, from a fraction of the buffers`, async () => {
      const rng = new Rng();
      const g = gpu();
      const net = new Network(g, createModel(name));
      net.init(rng.int(1 << 30));
      const x = Tensor.fromArray(g, rng.normals(2 * 3 * 32 * 32), [2, 3, 32, 32]);
      const run = async (grad: boolean) => {
        const scope = Scope.open();
        const before = g.stats().inUseBuffers;
        const logits = grad ? net.forward(x, false) : noGrad(() => net.forward(x, false));
        const held = g.stats().inUseBuffers - before;
        const values = await logits.readF32();
        scope.close();
        return { held, values };
      };
      const withGrad = await run(true);
      const without = await run(false);
      expect(Array.from(without.values), `seed ${rng.seed}`).toEqual(Array.from(withGrad.values));
      expect(without.values.every(Number.isFinite)).toBe(true);
      // with gradients every activation stays for the backward; without, about two stages' worth
      expect(without.held).toBeLessThan(withGrad.held / 3);
      expect(without.held).toBeLessThanOrEqual(12);
      net.destroy();
    });
  }
});
