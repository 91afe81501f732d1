import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticCifar } from '../src/data/synthetic.js';
import { noGrad } from '../src/autograd/node.js';
import { createModel } from '../src/models/registry.js';
import { Network } from '../src/nn/network.js';
import { Scope } from '../src/tensor/scope.js';
import { CifarTrainData } from '../src/train/cifar_train_data.js';
import { validateHparams } from '../src/train/hparams.js';
import { evaluate } from '../src/train/training_loop.js';
import { bitsOf } from './helpers/compare.js';
import { useGpu } from './helpers/gpu.js';

const gpu = useGpu();

// 72 test images at batch 16: four full batches and a partial one of 8 (padding it adds 8 images, at
// most an eighth of 72: padded)
describe('evaluate: the partial last batch', () => {
  let data: CifarTrainData;
  let net: Network;
  beforeAll(() => {
    data = new CifarTrainData(gpu(), syntheticCifar(32, 72, 5), validateHparams({ model: 'resnet8_4', batch: 16 }), 3);
    net = new Network(gpu(), createModel('resnet8_4', 10));
    net.init(9);
  });
  afterAll(() => {
    data.destroy();
    net.destroy();
  });

  const logitsOf = async (start: number, count: number, rows?: number): Promise<Float32Array> => {
    const scope = Scope.open();
    try {
      const { images, count: n } = data.testBatch(start, count, rows);
      expect(n).toBe(count);
      expect(images.shape[0]).toBe(rows ?? count);
      return (await noGrad(() => net.forward(images, false)).readF32()).subarray(0, count * 10);
    } finally {
      scope.close();
    }
  };

  // (first: the other test pools a partial batch's buffers)
  it('runs on the buffers the full batches pooled, and scores only its own images', async () => {
    // full batches first: the pool then holds a full batch's buffers
    await evaluate(gpu(), net, data, 16, 64);
    const before = gpu().pool.stats();
    const padded = await evaluate(gpu(), net, data, 16);
    const after = gpu().pool.stats();
    expect(after.created, 'no buffer created for the partial batch').toBe(before.created);
    expect(after.liveBytes).toBe(before.liveBytes);
    expect(padded.count).toBe(72);
    // the same images in one batch of 72 (no padding): the same hits; the loss, a mean per batch
    // summed in another grouping, to rounding
    const whole = await evaluate(gpu(), net, data, 72);
    expect(padded.accuracy).toBe(whole.accuracy);
    expect(padded.loss).toBeCloseTo(whole.loss, 5);
    expect(Number.isFinite(padded.loss)).toBe(true);
  });
  it('padded to a full batch, its rows have the logits they have unpadded, bit for bit', async () => {
    const alone = await logitsOf(64, 8);
    const padded = await logitsOf(64, 8, 16);
    expect(alone.every(Number.isFinite)).toBe(true);
    expect(bitsOf(padded)).toEqual(bitsOf(alone));
    expect(() => data.testBatch(64, 8, 4)).toThrow(/4 rows cannot hold 8 images/);
  });

  it('is not padded where that would add more than an eighth to the images evaluated', async () => {
    // 40 images at batch 16: 16, 16, 8; padding would add 8 of 40 (1/5): the last batch keeps its size
    const seen: number[] = [];
    const spy = { ...data, testBatch: (s: number, c: number, r?: number) => (seen.push(r ?? c), data.testBatch(s, c, r)) } as unknown as CifarTrainData;
    await evaluate(gpu(), net, spy, 16, 40);
    expect(seen).toEqual([16, 16, 8]);
    seen.length = 0;
    await evaluate(gpu(), net, spy, 16, 72);
    expect(seen).toEqual([16, 16, 16, 16, 16]);
  });
});
