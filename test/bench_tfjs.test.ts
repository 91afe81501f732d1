// The TF.js comparison of `npm run bench` (bench/tfjs/resnet20_tfjs.ts) runs: the same ResNet-20
// (parameter count asserted inside), on the WebGPU backend over our Dawn, at a tiny batch. Its speed
// is the benchmark's business; this only checks that the comparison is real and trains.
import { describe, expect, it } from 'vitest';
import { RESNET20_PARAMS, tfjsTrainThroughput } from '../bench/tfjs/resnet20_tfjs.js';

describe('TF.js comparison', () => {
  it('runs training steps of the same ResNet-20 on the webgpu backend', async () => {
    const r = await tfjsTrainThroughput({ batch: 4, steps: 1, warmup: 1, seed: 3 });
    expect(r.backend).toBe('webgpu');
    expect(r.params).toBe(RESNET20_PARAMS);
    expect(r.step_ms).toHaveLength(1);
    expect(r.train_images_per_s).toBeGreaterThan(0);
    expect(Number.isFinite(r.train_images_per_s)).toBe(true);
  }, 60_000);
});
