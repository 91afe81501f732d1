// One GPU per test file, opened before the tests and destroyed after them. New tensors are
// poisoned (NaN / 0xdeadbeef) so a kernel that leaves elements unwritten fails its comparison.
import { afterAll, beforeAll } from 'vitest';
import { Gpu } from '../../src/gpu/runtime.js';

export function useGpu(options: { poison?: boolean } = {}): () => Gpu {
  let gpu: Gpu | null = null;
  beforeAll(async () => {
    gpu = await Gpu.create({ debug: process.env.EARLY_PHASE_DEBUG === '1' });
    gpu.poisonNewTensors = options.poison ?? true;
  });
  afterAll(async () => {
    if (gpu) {
      await gpu.sync();
      gpu.destroy();
    }
  });
  return () => {
    if (!gpu) throw new Error('GPU not ready');
    return gpu;
  };
}
