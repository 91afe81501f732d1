import { describe, expect, it } from 'vitest';
// The autotuner's conv pass (src/ops/conv2d_autotune.ts) times ResNet-20's conv layers as a training
// step runs them: its list of layers must be the one a traced step has. (No search runs here: tests
// never autotune.)
import { traceModel } from '../bench/kernels.js';
import { checkAgainstDefaults, relativeDifference, RESNET20_CONVS } from '../src/ops/conv2d_autotune.js';
import { defaultConvConfig, getConvConfig, setConvConfig, type ConvConfig } from '../src/ops/conv2d.js';
import { useGpu } from './helpers/gpu.js';

const gpu = useGpu();

describe('autotune conv pass', () => {
  it('times every ResNet-20 conv shape a step runs, with its layers, input gradients and accumulating input gradients', async () => {
    // (the pairs' one-pass input gradients off: the conv pass times each layer's apart)
    setConvConfig({ fuseShortcutGrad: false });
    const traced = await traceModel(gpu(), 'resnet20').finally(() => setConvConfig(defaultConvConfig));
    const fromTrace = [...traced.convs.values()]
      .map((c) => ({ C: c.C, O: c.O, H: c.H, k: c.k, stride: c.stride, pad: c.pad, count: c.count, inputGrads: c.inputGrads, accumulating: c.accumulating }))
      // the fc is not a conv; every ResNet-20 map is square and no conv has a bias
      .sort((a, b) => b.H - a.H || a.C - b.C || a.O - b.O || b.k - a.k);
    for (const c of traced.convs.values()) expect([c.W, c.bias]).toEqual([c.H, false]);
    const listed = [...RESNET20_CONVS].sort((a, b) => b.H - a.H || a.C - b.C || a.O - b.O || b.k - a.k);
    expect(listed).toEqual(fromTrace);
  });
});

describe('autotune: a chosen configuration is checked against the defaults before it is cached', () => {
  // lavapipe's defaults with the H100's tiles (4-column, 1-row, 8-channel; small split-K chunks; the 1x1 convs on conv2d_pointwise; the strided input gradients in one launch; the fused shortcut)
  const other: Partial<ConvConfig> = { weightGradChunk: 128, reduceLanes: 32, rowCols: 4, rowRows: 1, rowChannels: 8, pointwiseChannels: 8, pointwiseTile: false, rowScatter: false, weightGradChannels1x1: 16, fuseShortcut: true };
  const candidate = () => ({ ...defaultConvConfig, ...other });
  /** Run fn with the dispatches of `kernel` dropped while the candidate configuration is set. */
  async function dropping<T>(kernel: string, fn: () => Promise<T>): Promise<T> {
    const g = gpu();
    const dispatch = g.dispatch;
    g.dispatch = (name, args) => {
      if (name === kernel && getConvConfig().rowCols === 4) return;
      dispatch.call(g, name, args);
    };
    try {
      return await fn();
    } finally {
      g.dispatch = dispatch;
      setConvConfig(defaultConvConfig);
    }
  }

  it('another tiling of the same convs agrees (within rounding)', async () => {
    try {
      expect(await checkAgainstDefaults(gpu(), candidate())).toBeNull();
    } finally {
      setConvConfig(defaultConvConfig);
    }
  });

  it('a configuration whose kernels leave gradients unwritten is refused', async () => {
    const msg = await dropping('conv2d_weight_grad_reduce', () => checkAgainstDefaults(gpu(), candidate()));
    expect(msg).toMatch(/16->16 k3 s1 32x32 weight gradient: NaN or unwritten elements/);
    expect(msg).not.toMatch(/forward/);
  });

  it('a configuration that computes wrong values is refused', async () => {
    // the 1x1 shortcuts' input gradients not added: dx keeps the prior, finite and wrong
    const msg = await dropping('conv2d_pointwise', () => checkAgainstDefaults(gpu(), candidate()));
    expect(msg).toMatch(/16->32 k1 s2 32x32 input gradient added: off by/);
    expect(msg).toMatch(/16->32 k1 s2 32x32 forward: NaN or unwritten elements/);
  });

  it('relativeDifference: relative to the reference\'s largest magnitude; NaN never passes', () => {
    expect(relativeDifference(Float32Array.of(1, 2.5), Float32Array.of(1, 2))).toBeCloseTo(0.25, 6);
    expect(relativeDifference(Float32Array.of(1, NaN), Float32Array.of(1, 2))).toBe(Infinity);
    expect(relativeDifference(Float32Array.of(0, 0), Float32Array.of(0, 0))).toBe(0);
  });
});
