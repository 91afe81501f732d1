// bench/gpu/check.ts, the correctness check bench/gpu/run.sh runs on a GPU machine before timing
// anything: its comparison must catch a wrong value and a NaN, and its conv and training checks pass here.
import { describe, expect, it } from 'vitest';
import { checkBatchNorm, checkBatchNormHead, checkConv, checkShortcutPair, resnet20BatchNormShapes, resnet20ConvShapes, trainingLossBits } from '../bench/gpu/check.js';
import { getConvConfig } from '../src/ops/conv2d.js';
import { closeness } from './reference/closeness.js';
import { useGpu } from './helpers/gpu.js';

const gpu = useGpu({ poison: false });

describe('device check (bench/gpu/check.ts)', () => {
  it('closeness counts values out of tolerance and NaN, and names the worst', () => {
    const e = [1, 2, 3, 4];
    expect(closeness([1, 2, 3, 4], e, 1e-6, 0).bad).toBe(0);
    const off = closeness([1, 2, 3.01, 4], e, 1e-6, 0);
    expect(off.bad).toBe(1);
    expect(off.worst_index).toBe(2);
    const nan = closeness([1, NaN, 3, 4], e, 1e-6, 0);
    expect(nan.bad).toBe(1);
    expect(nan.nan).toBe(1);
    expect(closeness([1, 2, 3], e, 1, 1).bad).toBeGreaterThan(0); // a short result is out of tolerance
  });

  it('BatchNorm with its fused ReLU, and with the residual add too, matches the float64 references', async () => {
    expect(resnet20BatchNormShapes(2).map((b) => `${b.c}x${b.h}x${b.w}`)).toEqual(['16x32x32', '32x16x16', '64x8x8']);
    for (const residual of [false, true]) {
      const c = await checkBatchNorm(gpu(), { n: 2, c: 5, h: 16, w: 16 }, residual, 99);
      expect(c.ok, JSON.stringify(c)).toBe(true);
      expect(c.residual_grad !== undefined).toBe(residual);
      // a block's end writes the stride-2 copy (W % 16 == 0 here), checked exactly
      expect(c.stride2_copy?.n).toBe(residual ? 2 * 5 * 8 * 8 : undefined);
    }
  });

  it("a network's head: BatchNorm and the average pool in one launch each way match the float64 references", async () => {
    const c = await checkBatchNormHead(gpu(), { n: 3, c: 4, h: 8, w: 8 }, 7);
    expect(c.ok, JSON.stringify(c)).toBe(true);
    expect(c.forward.n).toBe(12);
  });

  it('ResNet-20 conv shapes (batch 1) match the float64 references through autograd', async () => {
    const shapes = resnet20ConvShapes(1);
    expect(shapes).toHaveLength(8);
    for (const s of [shapes[0], shapes[2], shapes[3]]) {
      const c = await checkConv(gpu(), s, 1234);
      expect(c.ok, JSON.stringify(c)).toBe(true);
    }
  });

  it('a downsampling block\'s two convs in one launch match the float64 references, and the configuration is left as it was', async () => {
    const before = getConvConfig();
    const c = await checkShortcutPair(gpu(), 1, 8, 16, 16, 4321);
    expect(c.ok, JSON.stringify(c)).toBe(true);
    expect(c.input_grad_one_pass.n, 'the one-pass input gradient was checked').toBe(8 * 16 * 16);
    expect([c.weight_grad_one_pass.n, c.shortcut_weight_grad_one_pass.n], 'the one-pass weight gradients were checked').toEqual([16 * 8 * 9, 16 * 8]);
    expect(getConvConfig()).toEqual(before);
  });

  it('five training steps from the same seed give the same loss bits, replayed or recorded afresh', async () => {
    const a = await trainingLossBits(gpu(), 4, 7);
    const b = await trainingLossBits(gpu(), 4, 7);
    const plain = await trainingLossBits(gpu(), 4, 7, false);
    expect(a).toHaveLength(5);
    expect(new Set(a).size, 'the loss changes from step to step').toBeGreaterThan(1);
    expect(a).toEqual(b);
    expect(a).toEqual(plain);
  });
});
