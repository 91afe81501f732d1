// `bench --compare-config` (bench/config_ab.ts): two kernel configurations' training steps, timed
// alternately on one set of buffers, each kind of dispatch with its A and B time, the overrides that
// differ, and whether the two train to the same bits.
import { describe, expect, it } from 'vitest';
import { compareConfigs, comparisonTable } from '../bench/config_ab.js';
import { defaultBatchNormConfig, getBatchNormConfig } from '../src/ops/batchnorm.js';
import { defaultConvConfig, getConvConfig, rowMirrorsAllowed, type ConvConfig } from '../src/ops/conv2d.js';
import type { KernelConfig } from '../src/ops/kernel_config.js';
import { useGpu } from './helpers/gpu.js';

const gpu = useGpu({ poison: false });
const defaults = (): KernelConfig => ({ conv2d: { ...defaultConvConfig }, batchnorm: { ...defaultBatchNormConfig } });
const withConv = (a: KernelConfig, conv: Partial<ConvConfig>): KernelConfig => ({ ...a, conv2d: { ...a.conv2d, ...conv } });

describe('bench --compare-config', () => {
  it('pairs the kernels of the two steps, names the overrides that differ, and sees the same loss bits where the sums are the same', async () => {
    const a = defaults();
    const c = await compareConfigs(gpu(), a, withConv(a, { classRows8: 1 }), { batch: 8, rounds: 1 });
    expect(c.same_loss_bits).toBe(true);
    expect(c.same_param_bits).toBe(true);
    expect(c.params_differing).toBe(0);
    expect(Number.isFinite(c.loss_a)).toBe(true);
    expect(c.step_ms_a).toBeGreaterThan(0);
    expect(c.step_ms_b).toBeGreaterThan(0);
    // the strided input gradients' parity classes: 2-row tiles under A, 1-row under B; the rest alike
    const classes = c.rows.filter((r) => r.kernel.startsWith('conv2d_forward_row4:scatter'));
    expect(classes.length).toBeGreaterThan(0);
    for (const r of classes) expect(r.differs).toEqual(['ROWS 2->1']);
    expect(c.rows.filter((r) => !r.kernel.startsWith('conv2d_forward_row4:scatter') && r.differs.length)).toEqual([]);
    for (const r of c.rows) {
      expect(r.count).toBeGreaterThan(0);
      expect(r.count_b).toBe(r.count);
      expect(Number.isFinite(r.a_ms) && Number.isFinite(r.b_ms)).toBe(true);
    }
    expect(c.rows.reduce((s, r) => s + r.a_ms, 0)).toBeCloseTo(c.step_ms_a, 6);
    expect(comparisonTable(c)).toMatch(/parameters after them: the same bits/);
    // the configuration in force is given back
    expect(getConvConfig()).toEqual(defaultConvConfig);
    expect(getBatchNormConfig()).toEqual(defaultBatchNormConfig);
  }, 120_000);

  it('lists a kernel only one side runs with the other side at zero (a field that switches kernels)', async () => {
    const a = defaults();
    const c = await compareConfigs(gpu(), a, withConv(a, { stemTile: false }), { batch: 8, rounds: 1 });
    expect(c.same_param_bits).toBe(true); // the stem kernel gives the row kernel's bits
    const stem = c.rows.find((r) => r.kernel.startsWith('conv2d_forward_stem'))!;
    expect([stem.count, stem.count_b, stem.b_ms, stem.ratio]).toEqual([1, 0, 0, 0]);
    const onlyB = c.rows.filter((r) => r.count === 0);
    expect(onlyB.length).toBeGreaterThan(0); // the row kernel's launch (and its weight pack) for the stem
    for (const r of onlyB) expect([r.a_ms, r.ratio, r.b_ms > 0]).toEqual([0, null, true]);
  }, 120_000);

  it('sees different parameter bits where the configurations sum in different orders', async () => {
    const a = defaults();
    // more, smaller split-K chunks of the weight gradients: other partial sums
    const c = await compareConfigs(gpu(), a, withConv(a, { weightGradChunk: 16 }), { batch: 8, rounds: 1 });
    expect(c.same_param_bits).toBe(false);
    expect(c.params_differing).toBeGreaterThan(0);
    expect(comparisonTable(c)).toMatch(/\d+ differ \(the configurations sum in different orders\)/);
  }, 120_000);

  it('pairs launches that differ only in their variant (the row kernel\'s weights mirrored or not) in one row', async () => {
    const a = withConv(defaults(), { rowWeightTextures: true });
    const c = await compareConfigs(gpu(), a, withConv(a, { rowWeightTextures: false }), { batch: 8, rounds: 1 });
    expect(c.same_param_bits).toBe(true);
    for (const r of c.rows) expect(r.count_b, r.kernel).toBe(r.count);
    const mirrored = c.rows.filter((r) => r.differs.includes('variant tex_w->-'));
    // (the row kernel mirrors only with 8-wide subgroups: rowMirrorsAllowed)
    expect(mirrored.length > 0).toBe(rowMirrorsAllowed(gpu()));
    for (const r of mirrored) expect(r.kernel.startsWith('conv2d_forward_row4:tex_w')).toBe(true);
  }, 120_000);

  it('compares BatchNorm chunk sizes: channels split into chunks run the statistics passes, and sum in another order', async () => {
    const a = defaults(); // at batch 8 every channel (8 x 32 x 32 values at most) is one chunk of 8192
    const c = await compareConfigs(gpu(), a, { ...a, batchnorm: { ...a.batchnorm, chunk: 512 } }, { batch: 8, rounds: 1 });
    const stats = c.rows.find((r) => r.kernel.startsWith('batchnorm_stats'))!;
    expect([stats.count, stats.count_b > 0]).toEqual([0, true]);
    expect(c.rows.find((r) => r.kernel.startsWith('batchnorm_backward_reduce'))!.count).toBe(0);
    expect(c.same_param_bits).toBe(false);
    expect(getBatchNormConfig()).toEqual(defaultBatchNormConfig);
  }, 120_000);
});
