import { describe, expect, it } from 'vitest';
// @kernels conv2d_forward_stem conv2d_pointwise conv2d_pointwise_tile transpose2d conv2d_forward conv2d_forward_row4 conv2d_pack_weights conv2d_input_grad conv2d_weight_grad conv2d_weight_grad_row4 conv2d_weight_grad_pointwise conv2d_weight_grad_reduce conv2d_bias_grad
// @gradcheck conv2d_input_grad conv2d_weight_grad conv2d_weight_grad_row4 conv2d_weight_grad_pointwise conv2d_weight_grad_reduce conv2d_bias_grad conv2d_forward_row4
import { backward } from '../src/autograd/backward.js';
import { add } from '../src/ops/elementwise.js';
import {
  conv2d,
  conv2dForwardInto,
  conv2dInputGradInto,
  conv2dWeightGradInto,
  defaultConvConfig,
  getConvConfig,
  packConvWeights,
  packConvWeightsAll,
  parseConvConfig,
  rowMirrorsAllowed,
  setConvConfig,
  type ConvConfig,
  type ConvDims,
  splitKChunk,
} from '../src/ops/conv2d.js';
import { autotuneCacheKey, autotuneConv } from '../src/ops/conv2d_autotune.js';
import { describeCpu } from '../src/train/environment.js';
import { leaf } from '../src/tensor/param_store.js';
import { Scope } from '../src/tensor/scope.js';
import { Tensor } from '../src/tensor/tensor.js';
import { bitsOf, expectClose } from './helpers/compare.js';
import { expectGradClose } from './helpers/gradcheck.js';
import { dispatchName, recordDispatches, useGpu, type RecordedDispatch } from './helpers/gpu.js';
import { f32, Rng } from './helpers/random.js';
import { conv2dBiasGradRef, conv2dForwardRef, conv2dInputGradRef, conv2dWeightGradRef, convOutSize, type ConvShape } from './reference/conv2d.js';

const gpu = useGpu();

interface Case extends ConvShape {
  name: string;
  bias: boolean;
}

const cases: Case[] = [
  { name: 'batch 1, 3 channels, 7x7, 3x3 pad 1, bias', N: 1, C: 3, H: 7, W: 7, O: 5, KH: 3, KW: 3, stride: 1, pad: 1, bias: true },
  { name: 'stride 2 odd sizes 9x11, O=10', N: 2, C: 5, H: 9, W: 11, O: 10, KH: 3, KW: 3, stride: 2, pad: 1, bias: false },
  { name: '1x1 stride 2 (ResNet shortcut)', N: 3, C: 6, H: 9, W: 9, O: 12, KH: 1, KW: 1, stride: 2, pad: 0, bias: false },
  { name: '7x7 stride 2 pad 3 (ImageNet stem), bias', N: 1, C: 3, H: 23, W: 21, O: 8, KH: 7, KW: 7, stride: 2, pad: 3, bias: true },
  { name: '16->16 3x3 8x8, bias', N: 4, C: 16, H: 8, W: 8, O: 16, KH: 3, KW: 3, stride: 1, pad: 1, bias: true },
  { name: 'non-square 2x3 kernel, no padding', N: 2, C: 4, H: 6, W: 5, O: 9, KH: 2, KW: 3, stride: 1, pad: 0, bias: true },
  { name: 'stride 3, 10x10', N: 1, C: 2, H: 10, W: 10, O: 3, KH: 3, KW: 3, stride: 3, pad: 1, bias: false },
  { name: '16->32 stride 2 32x32 (ResNet downsample)', N: 2, C: 16, H: 32, W: 32, O: 32, KH: 3, KW: 3, stride: 2, pad: 1, bias: false },
  // shapes for conv2d_forward_row4 (W % 4S == 0, OW*S == W): odd row counts, rows longer than a
  // subgroup (halo loads at subgroup edges), rows that straddle subgroups, 1x1 stride 1 and 2
  { name: 'row kernel: 3x3 pad 1, odd H, W=64, O=10, bias', N: 2, C: 3, H: 5, W: 64, O: 10, KH: 3, KW: 3, stride: 1, pad: 1, bias: true },
  { name: 'row kernel: 3x3 pad 1, W=96 (8-column tiles across subgroup edges), O=20', N: 2, C: 5, H: 3, W: 96, O: 20, KH: 3, KW: 3, stride: 1, pad: 1, bias: false },
  { name: 'row kernel: 3x3 stride 2, W=24, odd OH', N: 3, C: 5, H: 13, W: 24, O: 9, KH: 3, KW: 3, stride: 2, pad: 1, bias: false },
  { name: 'row kernel: 1x1 stride 2 (shortcut) 16x16, C % 4 == 0 (channel-packed weights)', N: 2, C: 8, H: 16, W: 16, O: 12, KH: 1, KW: 1, stride: 2, pad: 0, bias: false },
  { name: 'row kernel: 1x1 stride 2, odd W=15 (dx tail not a multiple of 4)', N: 1, C: 4, H: 6, W: 15, O: 9, KH: 1, KW: 1, stride: 2, pad: 0, bias: false },
  { name: 'row kernel: 1x1 stride 1, W=12, bias', N: 2, C: 7, H: 3, W: 12, O: 17, KH: 1, KW: 1, stride: 1, pad: 0, bias: true },
  { name: 'row kernel: 4x4 stride 2 pad 1 (padded parity classes)', N: 2, C: 3, H: 10, W: 16, O: 5, KH: 4, KW: 4, stride: 2, pad: 1, bias: true },
  // 4 channels on the output side: 4 channels per invocation (OB = 4), forward and input gradient
  { name: 'row kernel: 4->4 3x3 pad 1 (OB = 4 both ways), bias', N: 2, C: 4, H: 5, W: 16, O: 4, KH: 3, KW: 3, stride: 1, pad: 1, bias: true },
  { name: 'row kernel: 4->4 3x3 stride 2 (OB = 4 parity classes)', N: 2, C: 4, H: 8, W: 16, O: 4, KH: 3, KW: 3, stride: 2, pad: 1, bias: false },
  // conv2d_pointwise (1x1, C % 4 == 0, O % 4 == 0, OW % 8 == 0, OH*OW % 16 == 0, even sizes for stride 2)
  { name: 'pointwise: 1x1 stride 2 16->32 32x32 (ResNet-20 shortcut)', N: 2, C: 16, H: 32, W: 32, O: 32, KH: 1, KW: 1, stride: 2, pad: 0, bias: false },
  { name: 'pointwise: 1x1 stride 1, O=20 (partial channel block), bias', N: 3, C: 8, H: 6, W: 8, O: 20, KH: 1, KW: 1, stride: 1, pad: 0, bias: true },
  { name: 'pointwise: 1x1 stride 2, 8-wide grid (a tile spans two rows)', N: 3, C: 8, H: 12, W: 16, O: 12, KH: 1, KW: 1, stride: 2, pad: 0, bias: false },
  { name: 'pointwise: 1x1 stride 2, 4 channels, tiles past a workgroup', N: 5, C: 4, H: 14, W: 32, O: 4, KH: 1, KW: 1, stride: 2, pad: 0, bias: true },
  // conv2d_pointwise_tile (contraction K <= 32, K <= R dst channels) runs the forwards above and the
  // input gradient of the 4-channel one ('up' variant), conv2d_pointwise the other input gradients
  // 72 dst channels forward: two channel blocks of the tile kernel
  { name: 'pointwise: 1x1 stride 1 28->72, two channel blocks', N: 2, C: 28, H: 4, W: 8, O: 72, KH: 1, KW: 1, stride: 1, pad: 0, bias: true },
  // narrowing: the input gradient on the tile kernel (K = O = 8 <= R = C = 24), forward on conv2d_pointwise (K = 24 > R = 8)
  { name: 'pointwise: 1x1 stride 2 24->8, narrowing', N: 2, C: 24, H: 16, W: 16, O: 8, KH: 1, KW: 1, stride: 2, pad: 0, bias: true },
  // conv2d_forward_stem (3x3 stride 1 pad 1, C <= 4, W % 16 == 0) runs these forwards: 1 to 4 input
  // channels, one and three 16-column tiles a row (halos inside the row), a partial channel block,
  // and more tiles than a workgroup has lanes
  { name: 'stem: 3->16, W=32 (ResNet-20 first conv)', N: 2, C: 3, H: 5, W: 32, O: 16, KH: 3, KW: 3, stride: 1, pad: 1, bias: false },
  { name: 'stem: 1->5, W=16, one row, bias', N: 3, C: 1, H: 1, W: 16, O: 5, KH: 3, KW: 3, stride: 1, pad: 1, bias: true },
  { name: 'stem: 2->7, W=48, odd H', N: 1, C: 2, H: 7, W: 48, O: 7, KH: 3, KW: 3, stride: 1, pad: 1, bias: false },
  { name: 'stem: 4->20 (two channel blocks), W=16, 96 tiles, bias', N: 4, C: 4, H: 24, W: 16, O: 20, KH: 3, KW: 3, stride: 1, pad: 1, bias: true },
];

/** Tolerance for a float32 sum of `len` products of O(1) terms. */
function tolFor(len: number) {
  return { atol: 2e-6 * len, rtol: 1e-4 };
}

interface Run {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
  db: Float32Array | null;
}

async function runGpu(s: Case, x: Float64Array, w: Float64Array, b: Float64Array | null, r: Float64Array): Promise<Run> {
  const scope = Scope.open();
  try {
    const tx = leaf(gpu(), x, [s.N, s.C, s.H, s.W], 'x');
    const tw = leaf(gpu(), w, [s.O, s.C, s.KH, s.KW], 'w');
    const tb = b ? leaf(gpu(), b, [s.O], 'b') : null;
    const y = conv2d(tx, tw, tb, { stride: s.stride, padding: s.pad });
    const { OH, OW } = convOutSize(s);
    expect(y.shape).toEqual([s.N, s.O, OH, OW]);
    backward(y, Tensor.fromArray(gpu(), r, y.shape));
    return {
      y: await y.readF32(),
      dx: await tx.grad!.readF32(),
      dw: await tw.grad!.readF32(),
      db: tb ? await tb.grad!.readF32() : null,
    };
  } finally {
    scope.close();
  }
}

/**
 * runGpu after setConvConfig(cfg) (on top of the configuration in force), with the dispatches it
 * recorded: the graph is built and dispatched before runGpu's first await, inside the recording.
 */
async function runWithConfig(cfg: Partial<ConvConfig>, s: Case, x: Float64Array, w: Float64Array, b: Float64Array | null, r: Float64Array): Promise<Run & { dispatches: RecordedDispatch[] }> {
  setConvConfig(cfg);
  const { result, dispatches } = recordDispatches(gpu(), () => runGpu(s, x, w, b, r));
  return { ...(await result), dispatches };
}

function inputs(rng: Rng, s: Case) {
  const { OH, OW } = convOutSize(s);
  return {
    x: f32(rng.array(s.N * s.C * s.H * s.W)),
    w: f32(rng.array(s.O * s.C * s.KH * s.KW)),
    b: s.bias ? f32(rng.array(s.O)) : null,
    r: f32(rng.array(s.N * s.O * OH * OW)),
  };
}

async function checkCase(s: Case, label: string): Promise<void> {
  const rng = new Rng();
  const { x, w, b, r } = inputs(rng, s);
  const got = await runGpu(s, x, w, b, r);
  const { OH, OW } = convOutSize(s);
  const tag = `${label} ${s.name} seed=${rng.seed}`;
  expectClose(got.y, conv2dForwardRef(x, w, b, s), tolFor(s.C * s.KH * s.KW), `forward ${tag}`);
  expectClose(got.dx, conv2dInputGradRef(r, w, s), tolFor(s.O * s.KH * s.KW), `input grad ${tag}`);
  expectClose(got.dw, conv2dWeightGradRef(r, x, s), tolFor(s.N * OH * OW), `weight grad ${tag}`);
  if (got.db) expectClose(got.db, conv2dBiasGradRef(r, s), tolFor(s.N * OH * OW), `bias grad ${tag}`);
}

describe('split-K chunk of the weight gradient', () => {
  it("the configuration's chunk, raised only where the grid or one binding of partial sums would not hold it", () => {
    const MiB = 1 << 20;
    // ResNet-20's 64->64 3x3 at batch 128 in 4-column tiles: 2,048 tiles, partials of 64*576*4 bytes a chunk
    expect(splitKChunk(2048, 256, 64 * 576 * 4, 128 * MiB)).toBe(256);
    // VGG's 512->512 3x3 at 4x4, batch 128, chunk 128 (the H100's): 512 chunks of 9.4 MB would be 4.6 GB
    const part = 512 * 4608 * 4;
    const c = splitKChunk(128 * 4 * 4, 128 / 4, part, 128 * MiB);
    expect(Math.ceil((128 * 16) / c) * part).toBeLessThanOrEqual(128 * MiB);
    expect(c).toBe(Math.ceil((128 * 16) / Math.floor((128 * MiB) / part)));
    expect(splitKChunk(10_000_000, 1, 4, 1 << 30)).toBe(Math.ceil(10_000_000 / 65535)); // the grid's 65,535 chunks
    expect(splitKChunk(100, 8, 200 * MiB, 128 * MiB)).toBe(100); // a single chunk's partials over the limit: one chunk
  });
});

describe('conv2d kernels match the float64 reference', () => {
  for (const s of cases) {
    it(s.name, async () => {
      await checkCase(s, 'default config');
    });
  }

  it('other configs (small workgroups, many split-K chunks) still match', async () => {
    const cfg: Partial<ConvConfig> = { forwardWorkgroup: 8, inputGradWorkgroup: 16, weightGradWorkgroup: 8, weightGradChunk: 37, reduceWorkgroup: 32, reduceLanes: 8, biasGradWorkgroup: 8 };
    setConvConfig(cfg);
    try {
      expect(getConvConfig()).toMatchObject(cfg);
      for (const i of [1, 3, 4]) await checkCase(cases[i], 'config ' + JSON.stringify(cfg));
    } finally {
      setConvConfig(defaultConvConfig);
    }
    expect(getConvConfig()).toEqual(defaultConvConfig);
  });

  // [config, the cases it changes]: the 3x3 row-kernel shapes (stride 1 with subgroup-edge halos,
  // stride 2 parity classes), or the 1x1 ones (row kernel with packed channels, or conv2d_pointwise)
  const row3 = (c: Case) => c.name.startsWith('row kernel: 3x3');
  const stem = (c: Case) => c.name.startsWith('stem') || (c.name.startsWith('row kernel: 3x3 pad 1, odd H') && c.C <= 4);
  const oneByOne = (c: Case) => c.KH === 1 && c.KW === 1 && (c.name.startsWith('row kernel') || c.name.startsWith('pointwise'));
  const configs: [Partial<ConvConfig>, (c: Case) => boolean][] = [
    [{ rowCols: 4, rowRows: 1, rowWorkgroup: 16, weightGradChannels: 8, weightGradRows: 1, weightGradChunk: 20 }, row3],
    [{ rowCols: 4 }, row3], // 4-column x 2-row tiles for the stride-1 convs too
    [{ rowCols: 8, rowWorkgroup: 16, rowChannels: 8 }, row3], // 8-column tiles, workgroups of two subgroups
    // 8-column tiles of two rows in the stride-1 convs, of one in the parity classes (the defaults: 1 and 2)
    [{ rowRows8: 2, classRows8: 1 }, (c) => row3(c) || c.stride > 1],
    [{ rowRows8: 2, rowWorkgroup: 16, rowChannels: 8 }, row3],
    // 4 channels an invocation: half weight blocks (odd blocks take channels 4..7 of theirs), every path
    [{ rowChannels: 4 }, (c) => row3(c) || oneByOne(c)],
    [{ rowChannels: 4, rowChannelPack: false, pointwise: false, rowRows: 1 }, (c) => row3(c) || oneByOne(c)],
    [{ rowChannels: 4, rowDirectWeights: true, pointwise: false }, (c) => c.name.startsWith('row kernel')],
    // several invocations per element in the split-K reduce, with chunk counts that are not multiples of the lanes
    [{ weightGradChunk: 12, reduceLanes: 4 }, (c) => row3(c) || oneByOne(c)],
    [{ weightGradChunk: 8, reduceLanes: 16, reduceWorkgroup: 32 }, row3],
    [{ rowChannels: 8, rowChannelPack: false, pointwise: false }, (c) => row3(c) || oneByOne(c)],
    [{ rowKernel: false, pointwise: false }, row3],
    [{ rowScatter: false }, (c) => c.stride > 1], // strided input gradients on conv2d_input_grad, the row kernel elsewhere
    [{ pointwise: false }, oneByOne], // the row kernel with 4 channels packed per weight vec4
    // conv2d_pointwise where the default takes conv2d_pointwise_tile (contractions of <= 32 channels)
    [{ pointwiseTile: false }, oneByOne],
    [{ pointwise: true, pointwiseTile: false, pointwiseChannels: 8, rowWorkgroup: 16 }, oneByOne],
    [{ pointwise: true, pointwiseTile: false, pointwiseChannels: 16 }, oneByOne],
    // the row kernel where the default takes conv2d_forward_stem (at most 4 input channels)
    [{ stemTile: false }, stem],
    // 1x1 weight gradients with 8 or 16 output channels a workgroup instead of the default 32
    [{ weightGradChannels1x1: 16 }, oneByOne],
    [{ weightGradChannels1x1: 8, weightGradRows: 1, weightGradChunk: 20 }, oneByOne],
    // every lane loads all its channels' taps (a GPU's choice), with and without channel packing
    [{ rowDirectWeights: true, pointwise: false }, (c) => c.name.startsWith('row kernel')],
    [{ rowDirectWeights: true, rowCols: 4, rowChannels: 8, rowRows: 1, rowChannelPack: false, pointwise: false }, (c) => c.name.startsWith('row kernel')],
    // every lane loads all its channels' dy in the weight gradient, 16 and 8 channels a workgroup
    [{ weightGradDirectDy: true, weightGradChunk: 20 }, (c) => c.name.startsWith('row kernel')],
    [{ weightGradDirectDy: true, weightGradChannels: 8, weightGradRows: 1 }, (c) => c.name.startsWith('row kernel')],
  ];
  for (const [cfg, which] of configs) {
    it(`${cases.filter(which).length} shapes with ${JSON.stringify(cfg)}`, async () => {
      setConvConfig(cfg);
      try {
        for (const s of cases.filter(which)) await checkCase(s, JSON.stringify(cfg));
      } finally {
        setConvConfig(defaultConvConfig);
      }
    });
  }

  it('is deterministic: same inputs, same config, same bits', async () => {
    const s: Case = { name: 'determinism', N: 3, C: 8, H: 12, W: 10, O: 12, KH: 3, KW: 3, stride: 1, pad: 1, bias: true };
    setConvConfig({ weightGradChunk: 50 });
    try {
      const rng = new Rng();
      const { x, w, b, r } = inputs(rng, s);
      const a = await runGpu(s, x, w, b, r);
      const c = await runGpu(s, x, w, b, r);
      for (const k of ['y', 'dx', 'dw', 'db'] as const) {
        expect(bitsOf(c[k]!), `${k} bits differ seed=${rng.seed}`).toEqual(bitsOf(a[k]!));
      }
    } finally {
      setConvConfig(defaultConvConfig);
    }
  });
});

describe('conv2d_forward_stem gives the row kernel\'s bits', () => {
  // the same products in the same order (c, kh, kw ascending, the bias last): y is bit for bit the same
  for (const s of cases.filter((c) => c.name.startsWith('stem'))) {
    it(s.name, async () => {
      const rng = new Rng();
      const { x, w, b, r } = inputs(rng, s);
      try {
        const ys: Float32Array[] = [];
        for (const stemTile of [true, false]) {
          const run = await runWithConfig({ stemTile }, s, x, w, b, r);
          ys.push(run.y);
          const kernels = run.dispatches.map((d) => d.kernel);
          expect(kernels.includes('conv2d_forward_stem'), `stemTile ${stemTile}: ${kernels.join(', ')}`).toBe(stemTile);
          if (!stemTile) expect(kernels).toContain('conv2d_forward_row4');
        }
        expect(bitsOf(ys[0]), `seed=${rng.seed}`).toEqual(bitsOf(ys[1]));
      } finally {
        setConvConfig(defaultConvConfig);
      }
    });
  }
});

describe('conv2d 1x1 weight gradients give the same bits with 8, 16 or 32 output channels a workgroup', () => {
  // each (o, c) sums the same products in the same order whichever workgroup owns o
  for (const s of cases.filter((c) => c.KH === 1 && c.KW === 1 && c.O > 8)) {
    it(s.name, async () => {
      const rng = new Rng();
      const { x, w, b, r } = inputs(rng, s);
      try {
        const runs: Float32Array[] = [];
        for (const weightGradChannels1x1 of [32, 16, 8]) {
          const run = await runWithConfig({ weightGradChannels1x1, weightGradPointwise: false }, s, x, w, b, r);
          runs.push(run.dw);
          // shapes outside the row kernel (odd widths) take the generic weight gradient, which has no such setting
          const wg = run.dispatches.filter((d) => d.kernel === 'conv2d_weight_grad_row4').map((d) => d.overrides?.OB);
          if (s.name.startsWith('pointwise')) expect(wg.length, 'the row weight gradient runs').toBe(1);
          if (wg.length) expect(wg, 'the weight gradient runs with the configured channels').toEqual([weightGradChannels1x1]);
        }
        for (const k of [1, 2]) expect(bitsOf(runs[k]), `dw bits differ (${[32, 16, 8][k]} against 32) seed=${rng.seed}`).toEqual(bitsOf(runs[0]));
      } finally {
        setConvConfig(defaultConvConfig);
      }
    });
  }
});

describe('conv2d_weight_grad_pointwise (weightGradPointwise) gives the bits of conv2d_weight_grad_row4', () => {
  // the same chunks and the same per-(o, c) order of fmas: the same partials, the same reduce. The
  // shapes (32 input channels, then 16): ResNet-20's 32->64 shortcut, a last chunk cut short (weightGradChunk
  // 20: 5 tiles a chunk), stride 1 with a partial block of 32 output channels
  const pwCases: [Case, Partial<ConvConfig>][] = [
    [{ name: 'ResNet-20 32->64 shortcut', N: 2, C: 32, H: 16, W: 16, O: 64, KH: 1, KW: 1, stride: 2, pad: 0, bias: false }, {}],
    [{ name: 'chunks cut short, O=20', N: 3, C: 32, H: 12, W: 24, O: 20, KH: 1, KW: 1, stride: 2, pad: 0, bias: false }, { weightGradChunk: 28 }],
    [{ name: 'stride 1, O=40 (a partial block of 32), bias', N: 3, C: 32, H: 6, W: 8, O: 40, KH: 1, KW: 1, stride: 1, pad: 0, bias: true }, { weightGradChunk: 20 }],
    // 16 input channels (variant c16: lanes over output channels, x broadcast)
    [{ name: 'ResNet-20 16->32 shortcut (16 input channels)', N: 2, C: 16, H: 32, W: 32, O: 32, KH: 1, KW: 1, stride: 2, pad: 0, bias: false }, {}],
    [{ name: '16 input channels, chunks cut short, O=44 (a partial block of 32)', N: 3, C: 16, H: 12, W: 24, O: 44, KH: 1, KW: 1, stride: 2, pad: 0, bias: false }, { weightGradChunk: 28 }],
    [{ name: '16 input channels, stride 1, O=12, bias', N: 2, C: 16, H: 6, W: 8, O: 12, KH: 1, KW: 1, stride: 1, pad: 0, bias: true }, { weightGradChunk: 20 }],
  ];
  for (const [s, cfg] of pwCases) {
    it(s.name, async () => {
      const rng = new Rng();
      const { x, w, b, r } = inputs(rng, s);
      try {
        const pw = await runWithConfig({ ...cfg, weightGradPointwise: true }, s, x, w, b, r);
        const row = await runWithConfig({ ...cfg, weightGradPointwise: false }, s, x, w, b, r);
        // (the kernel needs 8-wide subgroups; with 16-wide ones, test/slow/subgroup16.test.ts, the row kernel runs)
        const [runs, skipped] = rowMirrorsAllowed(gpu()) ? ['conv2d_weight_grad_pointwise', 'conv2d_weight_grad_row4'] : ['conv2d_weight_grad_row4', 'conv2d_weight_grad_pointwise'];
        expect(pw.dispatches.map((d) => d.kernel)).toContain(runs);
        expect(pw.dispatches.map((d) => d.kernel)).not.toContain(skipped);
        expect(row.dispatches.map((d) => d.kernel)).toContain('conv2d_weight_grad_row4');
        const { OH, OW } = convOutSize(s);
        expectClose(pw.dw, conv2dWeightGradRef(r, x, s), tolFor(s.N * OH * OW), `dw seed=${rng.seed}`);
        expect(bitsOf(pw.dw), `dw bits differ from the row kernel's seed=${rng.seed}`).toEqual(bitsOf(row.dw));
      } finally {
        setConvConfig(defaultConvConfig);
      }
    });
  }
});

describe('conv2d through texture mirrors (weightGradTextures, rowTextures, rowWeightTextures) gives the bits of storage loads', () => {
  // which inputs a launch mirrors (weightGradMirrors): x where 2+ blocks of 16 output channels read
  // it, dy where 6+ subgroups of kernel-row lanes do (32 channels x 3 rows / 2 a lane / 8 a subgroup);
  // the sizes leave the textures' last rows partly filled (x 6,144 floats: 1.5 rows of 4,096)
  const texCases: [Case, string][] = [
    [{ name: 'x and dy mirrored, partial last rows', N: 2, C: 32, H: 6, W: 16, O: 20, KH: 3, KW: 3, stride: 1, pad: 1, bias: true }, 'tex'],
    [{ name: 'dy mirrored (one block of output channels)', N: 2, C: 32, H: 4, W: 8, O: 12, KH: 3, KW: 3, stride: 1, pad: 1, bias: false }, 'tex_dy'],
    [{ name: 'x mirrored (one subgroup of kernel rows), stride 2', N: 2, C: 4, H: 16, W: 16, O: 24, KH: 3, KW: 3, stride: 2, pad: 1, bias: false }, 'tex_x'],
  ];
  /** Run s with the mirror setting `field` on, then off (the configuration restored after): both runs and the inputs. */
  async function onAndOff(field: 'weightGradTextures' | 'rowTextures' | 'rowWeightTextures', s: Case, rest: Partial<ConvConfig> = {}) {
    const rng = new Rng();
    const inp = inputs(rng, s);
    try {
      const on = await runWithConfig({ ...rest, [field]: true }, s, inp.x, inp.w, inp.b, inp.r);
      const off = await runWithConfig({ ...rest, [field]: false }, s, inp.x, inp.w, inp.b, inp.r);
      return { on, off, ...inp, tag: `seed=${rng.seed}` };
    } finally {
      setConvConfig(defaultConvConfig);
    }
  }
  const namesOf = (run: { dispatches: RecordedDispatch[] }, kernel: string) => run.dispatches.filter((d) => d.kernel === kernel).map(dispatchName);

  for (const [s, variant] of texCases) {
    it(`${s.name}: variant ${variant}, the float64 reference, the bits without mirrors`, async () => {
      const { on, off, x, r, tag } = await onAndOff('weightGradTextures', s);
      const { OH, OW } = convOutSize(s);
      expect(namesOf(on, 'conv2d_weight_grad_row4')).toEqual([`conv2d_weight_grad_row4:${variant}`]);
      expectClose(on.dw, conv2dWeightGradRef(r, x, s), tolFor(s.N * OH * OW), `weight grad ${tag}`);
      expect(namesOf(off, 'conv2d_weight_grad_row4')).toEqual(['conv2d_weight_grad_row4']);
      expect(bitsOf(on.dw), `dw bits differ ${tag}`).toEqual(bitsOf(off.dw));
    });
  }

  it('conv2d_forward_row4 mirrors x where 4+ blocks of output channels read it (rowTextures): the reference, the bits without', async () => {
    const s: Case = { name: '8->64 3x3, four channel blocks', N: 2, C: 8, H: 6, W: 16, O: 64, KH: 3, KW: 3, stride: 1, pad: 1, bias: true };
    const { on, off, x, w, b, tag } = await onAndOff('rowTextures', s, { rowWeightTextures: false });
    // (only with 8-wide subgroups: rowMirrorsAllowed)
    if (rowMirrorsAllowed(gpu())) expect(namesOf(on, 'conv2d_forward_row4')).toContain('conv2d_forward_row4:tex');
    else expect(namesOf(on, 'conv2d_forward_row4')).not.toContain('conv2d_forward_row4:tex');
    expectClose(on.y, conv2dForwardRef(x, w, b, s), tolFor(s.C * s.KH * s.KW), `forward ${tag}`);
    expect(namesOf(off, 'conv2d_forward_row4')).not.toContain('conv2d_forward_row4:tex');
    expect(bitsOf(on.y), `y bits differ ${tag}`).toEqual(bitsOf(off.y));
    expect(bitsOf(on.dx), `dx bits differ ${tag}`).toEqual(bitsOf(off.dx));
  });

  it('a fresh stride-1 input gradient mirrors dy where its weight gradient will (2 blocks of output channels), and the weight gradient reads that copy', async () => {
    // 32 channels x 3 kernel rows / 2 a lane = 48 lanes: 6 subgroups read dy in the weight gradient
    const s: Case = { name: '32->32 3x3', N: 2, C: 32, H: 6, W: 16, O: 32, KH: 3, KW: 3, stride: 1, pad: 1, bias: false };
    const copies = gpu().stats().textureCopies;
    const { on, off, x, w, r, tag } = await onAndOff('rowTextures', s, { rowWeightTextures: false, weightGradTextures: true });
    const names = namesOf(on, 'conv2d_forward_row4');
    // the forward (2 blocks) reads x from storage; the input gradient mirrors dy (only with 8-wide subgroups)
    expect(names).toEqual(rowMirrorsAllowed(gpu()) ? ['conv2d_forward_row4', 'conv2d_forward_row4:tex'] : ['conv2d_forward_row4', 'conv2d_forward_row4']);
    expect(namesOf(on, 'conv2d_weight_grad_row4')).toEqual(['conv2d_weight_grad_row4:tex']);
    // x and dy copied once each with the mirror shared (then the same run with rowTextures off: x and dy again)
    expect(gpu().stats().textureCopies - copies).toBe(4);
    const { OH, OW } = convOutSize(s);
    expectClose(on.dx, conv2dInputGradRef(r, w, s), tolFor(s.O * 9), `input grad ${tag}`);
    expectClose(on.dw, conv2dWeightGradRef(r, x, s), tolFor(s.N * OH * OW), `weight grad ${tag}`);
    expect(bitsOf(on.dx), `dx bits differ ${tag}`).toEqual(bitsOf(off.dx));
    expect(bitsOf(on.dw), `dw bits differ ${tag}`).toEqual(bitsOf(off.dw));
  });

  // the row kernel's packed weights through a mirror (rowWeightTextures): forwards and stride-1 input
  // gradients, with x mirrored too (tex_xw) or not (tex_w); channel-packed 1x1 weights (pointwise off);
  // weights loaded by every lane (rowDirectWeights)
  const weightTexCases: [Case, Partial<ConvConfig>, string[]][] = [
    [{ name: '8->64 3x3, bias: x mirrored too', N: 2, C: 8, H: 6, W: 16, O: 64, KH: 3, KW: 3, stride: 1, pad: 1, bias: true }, { rowTextures: true }, ['tex_xw', 'tex_w']],
    [{ name: '5->20 3x3 stride 2, odd OH', N: 2, C: 5, H: 13, W: 24, O: 20, KH: 3, KW: 3, stride: 2, pad: 1, bias: false }, {}, ['tex_w']],
    [{ name: '1x1 8->12 stride 2, channel-packed weights', N: 2, C: 8, H: 16, W: 16, O: 12, KH: 1, KW: 1, stride: 2, pad: 0, bias: false }, { pointwise: false }, ['tex_w']],
    [{ name: '6->20 3x3, every lane loads the weights', N: 2, C: 6, H: 5, W: 16, O: 20, KH: 3, KW: 3, stride: 1, pad: 1, bias: true }, { rowDirectWeights: true }, ['tex_w']],
  ];
  for (const [s, rest, variants] of weightTexCases) {
    it(`conv2d_forward_row4 reads its packed weights through a mirror (rowWeightTextures), ${s.name}: the reference, the bits without`, async () => {
      const { on, off, x, w, b, r, tag } = await onAndOff('rowWeightTextures', s, rest);
      const names = namesOf(on, 'conv2d_forward_row4');
      // (only with 8-wide subgroups: rowMirrorsAllowed)
      for (const v of variants) expect(names.includes(`conv2d_forward_row4:${v}`), `${v} ${tag}`).toBe(rowMirrorsAllowed(gpu()));
      expect(namesOf(off, 'conv2d_forward_row4').some((n) => n.includes('tex_w') || n.includes('tex_xw'))).toBe(false);
      const { OH, OW } = convOutSize(s);
      expectClose(on.y, conv2dForwardRef(x, w, b, s), tolFor(s.C * s.KH * s.KW), `forward ${tag}`);
      expectClose(on.dx, conv2dInputGradRef(r, w, s), tolFor(s.O * s.KH * s.KW), `input grad ${tag}`);
      expectClose(on.dw, conv2dWeightGradRef(r, x, s), tolFor(s.N * OH * OW), `weight grad ${tag}`);
      expect(bitsOf(on.y), `y bits differ ${tag}`).toEqual(bitsOf(off.y));
      expect(bitsOf(on.dx), `dx bits differ ${tag}`).toEqual(bitsOf(off.dx));
    });
  }

  it('a 1x1 conv makes no mirror of its own (its launch is too short to pay for the copy)', async () => {
    const s: Case = { name: '1x1 8->40 (two blocks of 32 output channels)', N: 1, C: 8, H: 8, W: 8, O: 40, KH: 1, KW: 1, stride: 1, pad: 0, bias: false };
    const { on } = await onAndOff('weightGradTextures', s, { weightGradPointwise: false });
    expect(namesOf(on, 'conv2d_weight_grad_row4')).toEqual(['conv2d_weight_grad_row4']);
    const { on: pw } = await onAndOff('weightGradTextures', { ...s, name: '1x1 32->40', C: 32 }, { weightGradPointwise: true });
    const pwKernel = rowMirrorsAllowed(gpu()) ? 'conv2d_weight_grad_pointwise' : 'conv2d_weight_grad_row4'; // 8-wide subgroups only
    expect(namesOf(pw, pwKernel)).toEqual([pwKernel]);
  });

  for (const weightGradPointwise of [true, false]) {
    it(`a 1x1 weight gradient reads x through the mirror its block's 3x3 one left, with no copy; once x is written (host, dispatch) or a capture begins, from storage (weightGradPointwise ${weightGradPointwise})`, async () => {
      // (conv2d_weight_grad_pointwise needs 8-wide subgroups: rowMirrorsAllowed)
      const wg1x1 = weightGradPointwise && rowMirrorsAllowed(gpu()) ? 'conv2d_weight_grad_pointwise' : 'conv2d_weight_grad_row4';
      // the stride-2 pair of a ResNet block: the 3x3 launch mirrors x (two blocks of 16 output channels read it)
      // (conv2d_weight_grad_pointwise takes 32 input channels)
      const s3: Case = { name: '3x3', N: 2, C: weightGradPointwise ? 32 : 8, H: 16, W: 16, O: 32, KH: 3, KW: 3, stride: 2, pad: 1, bias: false };
      const s1: Case = { ...s3, name: '1x1', KH: 1, KW: 1, pad: 0 };
      const rng = new Rng();
      const g = gpu();
      const dims = (s: Case): ConvDims => ({ ...s, ...convOutSize(s) });
      const { OH, OW } = convOutSize(s1);
      const x = f32(rng.array(s3.N * s3.C * s3.H * s3.W));
      const x2 = f32(rng.array(x.length));
      const r1 = f32(rng.array(s1.N * s1.O * OH * OW));
      const cfg = { ...defaultConvConfig, weightGradTextures: true, weightGradPointwise };
      const scope = Scope.open();
      try {
        const xt = Tensor.fromArray(g, x, [s3.N, s3.C, s3.H, s3.W]);
        const r3t = Tensor.fromArray(g, f32(rng.array(s3.N * s3.O * OH * OW)), [s3.N, s3.O, OH, OW]);
        const r1t = Tensor.fromArray(g, r1, [s1.N, s1.O, OH, OW]);
        const dw3 = Tensor.empty(g, [s3.O, s3.C, 3, 3]);
        const dw1 = Tensor.empty(g, [s1.O, s1.C, 1, 1]);
        const plain = Tensor.empty(g, [s1.O, s1.C, 1, 1]);
        const mirrored = () => g.mirrorHolds(xt);
        const weightGrad1x1 = () => recordDispatches(g, () => conv2dWeightGradInto(xt, r1t, dw1, dims(s1), cfg)).dispatches.filter((d) => d.kernel === wg1x1).map(dispatchName);
        const leaveMirror = () => {
          const names = recordDispatches(g, () => conv2dWeightGradInto(xt, r3t, dw3, dims(s3), cfg)).dispatches.map(dispatchName);
          // x mirrored (with 32 input channels dy too: variant tex)
          expect(names).toContain(weightGradPointwise ? 'conv2d_weight_grad_row4:tex' : 'conv2d_weight_grad_row4:tex_x');
          expect(mirrored()).toBe(true);
        };
        leaveMirror();
        const copies = g.stats().textureCopies;
        expect(weightGrad1x1()).toEqual([`${wg1x1}:tex_x`]);
        expect(g.stats().textureCopies).toBe(copies);
        conv2dWeightGradInto(xt, r1t, plain, dims(s1), { ...cfg, weightGradTextures: false });
        const got = await dw1.readF32();
        expectClose(got, conv2dWeightGradRef(r1, x, s1), tolFor(s1.N * OH * OW), `through the 3x3's mirror seed=${rng.seed}`);
        expect(bitsOf(got)).toEqual(bitsOf(await plain.readF32()));
        // x written by the host: the mirror is stale, x comes from storage (new values, new gradient)
        g.write(xt, Float32Array.from(x2));
        expect(mirrored()).toBe(false);
        expect(weightGrad1x1()).toEqual([wg1x1]);
        expectClose(await dw1.readF32(), conv2dWeightGradRef(r1, x2, s1), tolFor(s1.N * OH * OW), `after a host write seed=${rng.seed}`);
        // x written by a dispatch
        leaveMirror();
        xt.fillBits(0);
        expect(mirrored()).toBe(false);
        expect(weightGrad1x1()).toEqual([wg1x1]);
        expect(Array.from(await dw1.readF32()).every((v) => v === 0)).toBe(true);
        // a capture (whose replay would run without the copy that filled the mirror) forgets it, and so does a dropped one
        g.write(xt, Float32Array.from(x));
        leaveMirror();
        g.beginCapture();
        expect(mirrored()).toBe(false);
        g.abortCapture();
        expect(mirrored()).toBe(false);
      } finally {
        scope.close();
      }
    });
  }

  it("a mirror one kernel filled serves another kernel's binding with no copy, unless the dispatch refills that texture for another binding", async () => {
    const rng = new Rng();
    const g = gpu();
    const cfg = { ...defaultConvConfig, weightGradTextures: true, rowTextures: true };
    const scope = Scope.open();
    try {
      // a 64->64 3x3 conv's backward: the input gradient's launch mirrors dy as its x (4 blocks of
      // output channels, rowTextures), then the weight gradient's reads that mirror as its dy
      const s: Case = { name: '64->64', N: 2, C: 64, H: 8, W: 8, O: 64, KH: 3, KW: 3, stride: 1, pad: 1, bias: false };
      const { x, w, r } = inputs(rng, s);
      const copies = g.stats().textureCopies;
      setConvConfig(cfg);
      const run = await runGpu(s, x, w, null, r);
      // forward: x and the packed weights; input gradient: dy (into the forward's x texture) and the
      // flipped weights; weight gradient: x (no longer held) and not dy (6 without sharing). With
      // 16-wide subgroups the row kernel mirrors nothing: x and dy for the weight gradient.
      expect(g.stats().textureCopies - copies).toBe(rowMirrorsAllowed(g) ? 5 : 2);
      const { OH, OW } = convOutSize(s);
      expectClose(run.dw, conv2dWeightGradRef(r, x, s), tolFor(s.N * OH * OW), `weight grad seed=${rng.seed}`);
      expectClose(run.dx, conv2dInputGradRef(r, w, s), tolFor(s.O * 9), `input grad seed=${rng.seed}`);

      // x and dy the same size: the second launch's x is the first one's dy (held by the dyt texture),
      // and its dy is new, so it refills the dyt texture: x must not read it from there
      const q: Case = { name: '32->32', N: 2, C: 32, H: 6, W: 16, O: 32, KH: 3, KW: 3, stride: 1, pad: 1, bias: false };
      const d: ConvDims = { ...q, ...convOutSize(q) };
      const [a, b, c] = [0, 1, 2].map(() => f32(rng.array(q.N * q.C * q.H * q.W)));
      const [at, bt, ct] = [a, b, c].map((v) => Tensor.fromArray(g, v, [q.N, q.C, q.H, q.W]));
      const dw = Tensor.empty(g, [q.O, q.C, 3, 3]);
      const names = () => recordDispatches(g, () => conv2dWeightGradInto(bt, ct, dw, d, cfg)).dispatches.filter((x) => x.kernel === 'conv2d_weight_grad_row4').map(dispatchName);
      conv2dWeightGradInto(at, bt, Tensor.empty(g, [q.O, q.C, 3, 3]), d, cfg);
      expect(g.mirrorHolds(bt)).toBe(true);
      expect(names()).toEqual(['conv2d_weight_grad_row4:tex']);
      expectClose(await dw.readF32(), conv2dWeightGradRef(c, b, q), tolFor(q.N * q.H * q.W), `x held by the texture dy refills seed=${rng.seed}`);
    } finally {
      setConvConfig(defaultConvConfig);
      scope.close();
    }
  });

  it('a mirrored input that is a view into a larger buffer (a nonzero offset) reads its own elements', async () => {
    const s = texCases[0][0];
    const rng = new Rng();
    const { x, r } = inputs(rng, s);
    const { OH, OW } = convOutSize(s);
    const d: ConvDims = { N: s.N, C: s.C, H: s.H, W: s.W, O: s.O, OH, OW, KH: s.KH, KW: s.KW, stride: s.stride, pad: s.pad };
    const scope = Scope.open();
    try {
      const lead = 64; // 256 bytes: a binding's offset alignment
      const pad = Float64Array.from({ length: lead }, () => 1e6); // what a wrong offset would read
      const bigX = Tensor.fromArray(gpu(), Float64Array.from([...pad, ...x]), [lead + x.length]);
      const bigR = Tensor.fromArray(gpu(), Float64Array.from([...pad, ...r]), [lead + r.length]);
      const dwView = Tensor.empty(gpu(), [s.O, s.C, s.KH, s.KW]);
      const dwPlain = Tensor.empty(gpu(), [s.O, s.C, s.KH, s.KW]);
      const cfg = { ...defaultConvConfig, weightGradTextures: true };
      const { dispatches } = recordDispatches(gpu(), () => conv2dWeightGradInto(bigX.view(lead, [s.N, s.C, s.H, s.W]), bigR.view(lead, [s.N, s.O, OH, OW]), dwView, d, cfg));
      expect(dispatches.map(dispatchName)).toContain('conv2d_weight_grad_row4:tex');
      conv2dWeightGradInto(Tensor.fromArray(gpu(), x, [s.N, s.C, s.H, s.W]), Tensor.fromArray(gpu(), r, [s.N, s.O, OH, OW]), dwPlain, d, { ...defaultConvConfig, weightGradTextures: false });
      const got = await dwView.readF32();
      expectClose(got, conv2dWeightGradRef(r, x, s), tolFor(s.N * OH * OW), `weight grad seed=${rng.seed}`);
      expect(bitsOf(got)).toEqual(bitsOf(await dwPlain.readF32()));
    } finally {
      scope.close();
    }
  });
});

describe('conv2d row kernels: direct loads of weights and dy, 4- or 8-column tiles of 1 or 2 rows, and 4 channels an invocation give the same bits', () => {
  // the same values in the same order, loaded per lane instead of broadcast, or tiled differently:
  // bit-identical results
  for (const s of cases.filter((c) => c.name.startsWith('row kernel: 3x3') || c.name.includes('OB = 4') || c.name.startsWith('16->32 stride 2'))) {
    it(s.name, async () => {
      const rng = new Rng();
      const { x, w, b, r } = inputs(rng, s);
      try {
        const a = await runWithConfig({ rowDirectWeights: false, weightGradDirectDy: false, rowCols: 8, rowRows8: 2, classRows8: 2 }, s, x, w, b, r);
        // where a launch takes 8-column tiles, they are 2 rows high
        const tiles = a.dispatches.filter((d) => d.kernel === 'conv2d_forward_row4' && d.overrides?.COLS8).map((d) => d.overrides?.ROWS);
        expect(tiles.every((rows) => rows === 2), `ROWS of the 8-column launches: ${tiles}`).toBe(true);
        for (const other of [{ rowRows8: 1, classRows8: 1 }, { rowDirectWeights: true, weightGradDirectDy: true }, { rowDirectWeights: false, weightGradDirectDy: false, rowCols: 4 }, { rowDirectWeights: true, rowCols: 4 }, { rowChannels: 4, rowCols: 4, rowDirectWeights: false }, { rowChannels: 4, rowDirectWeights: true }]) {
          setConvConfig(other);
          const c = await runGpu(s, x, w, b, r);
          for (const k of ['y', 'dx', 'dw'] as const) expect(bitsOf(c[k]), `${k} bits differ with ${JSON.stringify(other)} seed=${rng.seed}`).toEqual(bitsOf(a[k]));
        }
      } finally {
        setConvConfig(defaultConvConfig);
      }
    });
  }
});

describe("conv2d packs a conv's weights for both directions in one dispatch", () => {
  const dims = (N: number, C: number, H: number, W: number, O: number, K: number, stride: number, pad: number): ConvDims => {
    const OH = Math.floor((H + 2 * pad - K) / stride) + 1;
    const OW = Math.floor((W + 2 * pad - K) / stride) + 1;
    return { N, C, H, W, O, OH, OW, KH: K, KW: K, stride, pad };
  };
  const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  /** The packed layout as shaders/conv2d_pack_weights.wgsl documents it, on the CPU: [ceil(OO/8), CI, KHp, 8] vec4s. */
  function packReference(w: Float32Array, d: ConvDims, flip: boolean, t: { kh0: number; kw0: number; step: number; KHp: number; KWp: number }): Float32Array {
    const [OO, CI] = flip ? [d.C, d.O] : [d.O, d.C];
    const out = new Float32Array(Math.ceil(OO / 8) * CI * t.KHp * 8 * 4);
    for (let ob = 0; ob < Math.ceil(OO / 8); ob++)
      for (let ci = 0; ci < CI; ci++)
        for (let r = 0; r < t.KHp; r++)
          for (let j = 0; j < 8; j++)
            for (let u = 0; u < t.KWp; u++) {
              const oo = ob * 8 + j;
              if (oo >= OO) continue;
              const src = flip
                ? ((ci * d.C + oo) * d.KH + t.kh0 + t.step * (t.KHp - 1 - r)) * d.KW + t.kw0 + t.step * (t.KWp - 1 - u)
                : ((oo * d.C + ci) * d.KH + t.kh0 + t.step * r) * d.KW + t.kw0 + t.step * u;
              out[((((ob * CI + ci) * t.KHp + r) * 8 + j) * 4) + u] = w[src];
            }
    return out;
  }
  const packed: { name: string; d: ConvDims }[] = [
    { name: '3x3 stride 1, O=12 (a partial block of 8), C=5', d: dims(2, 5, 8, 8, 12, 3, 1, 1) },
    { name: '3x3 stride 2 (four parity classes), 16->20', d: dims(2, 16, 16, 16, 20, 3, 2, 1) },
    { name: '4x4 stride 2 pad 1 (two taps per class), 3->5', d: dims(2, 3, 10, 16, 5, 4, 2, 1) },
    // pack sizes that are odd multiples of 8 vec4s (9 and 5 per block): rounding between the views
    { name: '3x3 stride 2, 3->5 (rounded views)', d: dims(2, 3, 8, 16, 5, 3, 2, 1) },
  ];
  for (const { name, d } of packed) {
    it(`${name}: each view holds packConvWeights' bits, the rounding between them is 0, one dispatch`, async () => {
      const rng = new Rng();
      const scope = Scope.open();
      try {
        const cfg = getConvConfig();
        const w = Tensor.fromArray(gpu(), f32(rng.array(d.O * d.C * d.KH * d.KW)), [d.O, d.C, d.KH, d.KW]);
        const before = gpu().stats().dispatches;
        gpu().poisonNewTensors = false;
        packConvWeightsAll(w, d, cfg);
        gpu().poisonNewTensors = true;
        expect(gpu().stats().dispatches - before).toBe(1);
        const packs = packConvWeightsAll(w, d, cfg); // into a NaN-poisoned tensor: unwritten elements show
        expect(packs).not.toBeNull();
        const { forward, inputGrad } = packs!;
        const wv = await w.readF32();
        const fwd = await packConvWeights(w, false, cfg).readF32(); // into a NaN-poisoned tensor too
        expect(bits(fwd).equals(bits(packReference(wv, d, false, { kh0: 0, kw0: 0, step: 1, KHp: d.KH, KWp: d.KW }))), `forward against the CPU layout, seed=${rng.seed}`).toBe(true);
        expect(bits(await forward.readF32()).equals(bits(fwd)), `forward seed=${rng.seed}`).toBe(true);
        const S = d.stride;
        expect(inputGrad.length).toBe(S * S);
        for (let rh = 0; rh < S; rh++) {
          for (let rw = 0; rw < S; rw++) {
            const kh0 = (rh + d.pad) % S;
            const kw0 = (rw + d.pad) % S;
            const taps = { kh0, kw0, step: S, KHp: Math.ceil((d.KH - kh0) / S), KWp: Math.ceil((d.KW - kw0) / S) };
            const want = await packConvWeights(w, true, cfg, S === 1 ? undefined : taps).readF32();
            expect(bits(want).equals(bits(packReference(wv, d, true, taps))), `class (${rh}, ${rw}) against the CPU layout, seed=${rng.seed}`).toBe(true);
            expect(bits(await inputGrad[rh * S + rw].readF32()).equals(bits(want)), `class (${rh}, ${rw}) seed=${rng.seed}`).toBe(true);
          }
        }
        // the whole range, rounding included: no NaN from the poison, zeros between the views
        const views = [forward, ...inputGrad];
        const last = views[views.length - 1];
        const span = (last.offset - forward.offset) / 4 + last.size;
        const all = await new Tensor(gpu(), forward.buf, forward.offset, [span], 'f32', false).readF32();
        for (const [k, v] of views.entries()) {
          expect(v.offset % 256, `view ${k} is bindable`).toBe(0);
          const end = (v.offset - forward.offset) / 4 + v.size;
          const next = k + 1 < views.length ? (views[k + 1].offset - forward.offset) / 4 : span;
          for (let i = end; i < next; i++) expect(all[i], `rounding after view ${k}, element ${i}`).toBe(0);
        }
      } finally {
        scope.close();
      }
    });
  }

  it('none where a direction packs otherwise: pointwise or channel-packed 1x1, kernels past 4 taps, "valid" stride-1 kernels', () => {
    const scope = Scope.open();
    try {
      const cases: [ConvDims, Partial<ConvConfig>][] = [
        [dims(2, 16, 32, 32, 32, 1, 2, 0), {}],
        [dims(2, 8, 16, 16, 12, 1, 2, 0), { pointwise: false }],
        [dims(2, 8, 16, 16, 12, 1, 2, 0), { pointwise: false, rowChannelPack: false }], // 3 of the 4 classes have no tap
        [dims(1, 3, 12, 12, 4, 5, 1, 2), {}],
        [dims(1, 3, 12, 12, 4, 3, 1, 0), {}],
      ];
      for (const [d, over] of cases) {
        const w = Tensor.zeros(gpu(), [d.O, d.C, d.KH, d.KW]);
        expect(packConvWeightsAll(w, d, { ...getConvConfig(), ...over }), JSON.stringify({ ...d, ...over })).toBeNull();
      }
    } finally {
      scope.close();
    }
  });

  for (const d of [dims(2, 16, 16, 16, 16, 3, 1, 1), dims(2, 16, 32, 32, 32, 3, 2, 1)]) {
    it(`the conv op (packs made in its forward) gives the launchers' bits: y and dx, ${d.C}->${d.O} stride ${d.stride}`, async () => {
      const rng = new Rng();
      const scope = Scope.open();
      try {
        const xs = f32(rng.array(d.N * d.C * d.H * d.W));
        const ws = f32(rng.array(d.O * d.C * d.KH * d.KW));
        const dys = f32(rng.array(d.N * d.O * d.OH * d.OW));
        const x = leaf(gpu(), xs, [d.N, d.C, d.H, d.W], 'x');
        const w = leaf(gpu(), ws, [d.O, d.C, d.KH, d.KW], 'w');
        const before = gpu().stats().dispatches;
        gpu().poisonNewTensors = false;
        const y = conv2d(x, w, null, { stride: d.stride, padding: d.pad });
        gpu().poisonNewTensors = true;
        expect(gpu().stats().dispatches - before, 'forward: one pack, one conv').toBe(2);
        const seed = Tensor.fromArray(gpu(), dys, y.shape);
        const b0 = gpu().stats().dispatches;
        gpu().poisonNewTensors = false;
        backward(y, seed);
        gpu().poisonNewTensors = true;
        // dx: one row conv (stride 1) or one per parity class, no packing; dw: its two passes
        expect(gpu().stats().dispatches - b0, 'backward: no pack dispatches').toBe(d.stride === 1 ? 3 : 6);
        const x2 = Tensor.fromArray(gpu(), xs, x.shape);
        const w2 = Tensor.fromArray(gpu(), ws, w.shape);
        const y2 = Tensor.empty(gpu(), y.shape);
        const dx2 = Tensor.empty(gpu(), x.shape);
        conv2dForwardInto(x2, w2, null, y2, d);
        conv2dInputGradInto(Tensor.fromArray(gpu(), dys, y.shape), w2, dx2, d);
        expect(bits(await y.readF32()).equals(bits(await y2.readF32())), `y seed=${rng.seed}`).toBe(true);
        expect(bits(await x.grad!.readF32()).equals(bits(await dx2.readF32())), `dx seed=${rng.seed}`).toBe(true);
      } finally {
        scope.close();
      }
    });
  }
});

describe('conv2d rowScatter picks the strided input gradient kernel', () => {
  // true: one scatter launch of the row kernel per parity class; false: conv2d_input_grad, all classes in one launch
  for (const rowScatter of [true, false]) {
    it(`rowScatter ${rowScatter}`, async () => {
      const s: Case = { name: 'scatter', N: 2, C: 8, H: 16, W: 16, O: 12, KH: 3, KW: 3, stride: 2, pad: 1, bias: false };
      const g = gpu();
      setConvConfig({ rowScatter });
      const scope = Scope.open();
      try {
        const rng = new Rng();
        const { x, w, r } = inputs(rng, s);
        const tx = leaf(g, x, [s.N, s.C, s.H, s.W], 'x');
        const y = conv2d(tx, leaf(g, w, [s.O, s.C, 3, 3], 'w'), null, { stride: 2, padding: 1 });
        const gy = Tensor.fromArray(g, r, y.shape);
        const names = recordDispatches(g, () => backward(y, gy)).dispatches.map(dispatchName);
        expectClose(await tx.grad!.readF32(), conv2dInputGradRef(r, w, s), tolFor(s.O * 9), `dx rowScatter=${rowScatter} seed=${rng.seed}`);
        const scatter = names.filter((k) => k === 'conv2d_forward_row4:scatter').length;
        const generic = names.filter((k) => k === 'conv2d_input_grad').length;
        expect([scatter, generic], names.join(' ')).toEqual(rowScatter ? [4, 0] : [0, 1]);
      } finally {
        scope.close();
        setConvConfig(defaultConvConfig);
      }
    });
  }
});

describe('conv2d_pointwise_tile gives the bits of conv2d_pointwise', () => {
  // the same products summed in the same order (k ascending, one fma each), whichever kernel runs
  for (const s of cases.filter((c) => c.name.startsWith('pointwise'))) {
    it(s.name, async () => {
      const rng = new Rng();
      const { x, w, b, r } = inputs(rng, s);
      try {
        const runs = [];
        for (const pointwiseTile of [true, false]) runs.push(await runWithConfig({ pointwiseTile }, s, x, w, b, r));
        const [tile, plain] = runs.map((run) => run.dispatches.map((d) => d.kernel));
        expect(tile, 'the tile kernel runs').toContain('conv2d_pointwise_tile');
        expect(plain, 'only conv2d_pointwise runs').not.toContain('conv2d_pointwise_tile');
        expect(bitsOf(runs[0].y), `y bits differ seed=${rng.seed}`).toEqual(bitsOf(runs[1].y));
        expect(bitsOf(runs[0].dx), `dx bits differ seed=${rng.seed}`).toEqual(bitsOf(runs[1].dx));
      } finally {
        setConvConfig(defaultConvConfig);
      }
    });
  }
});

describe('conv2d input gradients accumulate in place when x feeds two convs (residual blocks)', () => {
  // x -> conv a and conv b, out = a + b: the second conv backward adds its dx into the first one's
  // (ACCUM kernels) instead of a separate add pass. Float64 reference: dx = dx_a + dx_b.
  const pairs: [string, Case, Case][] = [
    ['downsample block: 3x3 stride 2 (parity classes) + 1x1 stride 2 shortcut',
      { name: 'a', N: 2, C: 8, H: 16, W: 16, O: 12, KH: 3, KW: 3, stride: 2, pad: 1, bias: false },
      { name: 'b', N: 2, C: 8, H: 16, W: 16, O: 12, KH: 1, KW: 1, stride: 2, pad: 0, bias: false }],
    // fewer output channels than input ones: the 1x1 input gradient on conv2d_pointwise_tile (K = O <= C = R)
    ['downsample block, narrowing: 3x3 stride 2 + 1x1 stride 2 shortcut',
      { name: 'a', N: 2, C: 12, H: 16, W: 16, O: 8, KH: 3, KW: 3, stride: 2, pad: 1, bias: false },
      { name: 'b', N: 2, C: 12, H: 16, W: 16, O: 8, KH: 1, KW: 1, stride: 2, pad: 0, bias: false }],
    ['projection at stride 1, narrowing: 3x3 stride 1 + 1x1 stride 1',
      { name: 'a', N: 2, C: 12, H: 4, W: 8, O: 8, KH: 3, KW: 3, stride: 1, pad: 1, bias: false },
      { name: 'b', N: 2, C: 12, H: 4, W: 8, O: 8, KH: 1, KW: 1, stride: 1, pad: 0, bias: true }],
    ['identity-shaped: 3x3 stride 1 (row kernel, flipped weights) twice',
      { name: 'a', N: 2, C: 5, H: 6, W: 8, O: 7, KH: 3, KW: 3, stride: 1, pad: 1, bias: false },
      { name: 'b', N: 2, C: 5, H: 6, W: 8, O: 7, KH: 3, KW: 3, stride: 1, pad: 1, bias: true }],
    ['W = 5: generic kernels, which cannot accumulate (a separate add)',
      { name: 'a', N: 1, C: 4, H: 5, W: 5, O: 4, KH: 1, KW: 1, stride: 1, pad: 0, bias: false },
      { name: 'b', N: 1, C: 4, H: 5, W: 5, O: 4, KH: 3, KW: 3, stride: 1, pad: 1, bias: false }],
  ];
  // pairs with a 1x1 conv: on the row kernel, on conv2d_pointwise_tile (the default) and on conv2d_pointwise
  const oneByOne = (name: string) => name.startsWith('downsample') || name.startsWith('projection');
  // (the tile kernel runs an input gradient whose contraction, O, is at most 32 and at most C)
  const kernelOf = (cfg: Partial<ConvConfig>, s: Case) => (cfg.pointwise === false ? 'row kernel' : cfg.pointwiseTile === false || s.O > Math.min(32, s.C) ? 'conv2d_pointwise' : 'conv2d_pointwise_tile');
  for (const [name, sa, sb] of pairs) for (const cfg of oneByOne(name) ? [{ pointwise: false }, { pointwise: true }, { pointwise: true, pointwiseTile: false }] : [{}]) for (const swap of oneByOne(name) ? [false, true] : [false]) {
    it(`${name}${'pointwise' in cfg ? ` (${kernelOf(cfg, sb)})` : ''}${swap ? ', the 1x1 conv first' : ''}`, async () => {
      setConvConfig(cfg);
      const rng = new Rng();
      const x = f32(rng.array(sa.N * sa.C * sa.H * sa.W));
      const wa = f32(rng.array(sa.O * sa.C * sa.KH * sa.KW));
      const wb = f32(rng.array(sb.O * sb.C * sb.KH * sb.KW));
      const { OH, OW } = convOutSize(sa);
      const r = f32(rng.array(sa.N * sa.O * OH * OW));
      const g = gpu();
      const scope = Scope.open();
      try {
        const tx = leaf(g, x, [sa.N, sa.C, sa.H, sa.W], 'x');
        const ya = conv2d(tx, leaf(g, wa, [sa.O, sa.C, sa.KH, sa.KW], 'wa'), null, { stride: sa.stride, padding: sa.pad });
        const yb = conv2d(tx, leaf(g, wb, [sb.O, sb.C, sb.KH, sb.KW], 'wb'), sb.bias ? leaf(g, new Float64Array(sb.O), [sb.O], 'b') : null, { stride: sb.stride, padding: sb.pad });
        const out = swap ? add(yb, ya) : add(ya, yb);
        const gout = Tensor.fromArray(g, r, out.shape);
        const names = recordDispatches(g, () => backward(out, gout)).dispatches.map(dispatchName);
        const refB = conv2dInputGradRef(r, wb, sb);
        const ref = conv2dInputGradRef(r, wa, sa).map((v, i) => v + refB[i]);
        expectClose(await tx.grad!.readF32(), ref, tolFor(sa.O * 9 * 2), `dx ${name} seed=${rng.seed}`);
        // the second conv's backward accumulates: the 1x1 one with the 3x3 conv's gradient first (swap), as in ResNet-20
        // (at stride 1 the kernel has no variant: ACCUM)
        const variant = sb.stride === 1 ? '' : swap ? ':upacc' : ':up';
        if ('pointwise' in cfg && cfg.pointwise) expect(names, names.join(' ')).toContain(kernelOf(cfg, sb) + variant);
        const separate = names.filter((k) => k === 'add' || k === 'add_inplace').length;
        expect(separate, names.join(' ')).toBe(name.includes('separate add') ? 1 : 0);
      } finally {
        scope.close();
        setConvConfig(defaultConvConfig);
      }
    });
  }

  it('an accumulating stride-1 input gradient mirrors dy where its weight gradient will, which reads that copy: the reference, the bits without', async () => {
    // 32 channels x 3 kernel rows / 2 a lane: 6 subgroups of the weight gradient read dy
    const s: Case = { name: '32->32', N: 2, C: 32, H: 6, W: 16, O: 32, KH: 3, KW: 3, stride: 1, pad: 1, bias: false };
    const rng = new Rng();
    const x = f32(rng.array(s.N * s.C * s.H * s.W));
    const [wa, wb] = [0, 1].map(() => f32(rng.array(s.O * s.C * 9)));
    const r = f32(rng.array(s.N * s.O * s.H * s.W));
    const g = gpu();
    const run = async (rowTextures: boolean) => {
      setConvConfig({ rowTextures, rowWeightTextures: false, weightGradTextures: true });
      const scope = Scope.open();
      try {
        const tx = leaf(g, x, [s.N, s.C, s.H, s.W], 'x');
        const out = add(conv2d(tx, leaf(g, wa, [s.O, s.C, 3, 3], 'wa'), null, { padding: 1 }), conv2d(tx, leaf(g, wb, [s.O, s.C, 3, 3], 'wb'), null, { padding: 1 }));
        const launches = recordDispatches(g, () => backward(out, Tensor.fromArray(g, r, out.shape))).dispatches.filter((d) => d.kernel === 'conv2d_forward_row4');
        return { launches: launches.map((d) => `${dispatchName(d)}${d.overrides?.ACCUM ? ' acc' : ''}`), dx: await tx.grad!.readF32() };
      } finally {
        scope.close();
        setConvConfig(defaultConvConfig);
      }
    };
    const on = await run(true);
    const off = await run(false);
    // the first conv's input gradient is written fresh, the second's added into it; both mirror dy (8-wide subgroups only)
    const m = rowMirrorsAllowed(g) ? ':tex' : '';
    expect(on.launches).toEqual([`conv2d_forward_row4${m}`, `conv2d_forward_row4${m} acc`]);
    expect(off.launches).toEqual(['conv2d_forward_row4', 'conv2d_forward_row4 acc']);
    const refB = conv2dInputGradRef(r, wb, s);
    expectClose(on.dx, conv2dInputGradRef(r, wa, s).map((v, i) => v + refB[i]), tolFor(s.O * 9 * 2), `dx seed=${rng.seed}`);
    expect(bitsOf(on.dx), `dx bits differ seed=${rng.seed}`).toEqual(bitsOf(off.dx));
  });
});

describe('conv2d backward computes only what is needed', () => {
  it('input without a gradient (first layer): only dw and db, still correct', async () => {
    const s: Case = { name: 'first layer', N: 2, C: 3, H: 8, W: 8, O: 16, KH: 3, KW: 3, stride: 1, pad: 1, bias: true };
    const rng = new Rng();
    const { x, w, b, r } = inputs(rng, s);
    const scope = Scope.open();
    try {
      const tx = Tensor.fromArray(gpu(), x, [s.N, s.C, s.H, s.W]);
      const tw = leaf(gpu(), w, [s.O, s.C, s.KH, s.KW], 'w');
      const tb = leaf(gpu(), b!, [s.O], 'b');
      const y = conv2d(tx, tw, tb, { stride: s.stride, padding: s.pad });
      const before = gpu().stats().dispatches;
      backward(y, Tensor.fromArray(gpu(), r, y.shape));
      const { OH, OW } = convOutSize(s);
      expectClose(await tw.grad!.readF32(), conv2dWeightGradRef(r, x, s), tolFor(s.N * OH * OW), `dw seed=${rng.seed}`);
      expectClose(await tb.grad!.readF32(), conv2dBiasGradRef(r, s), tolFor(s.N * OH * OW), `db seed=${rng.seed}`);
      // seed upload + weight grad (2 passes) + bias grad: no input-gradient kernels ran
      expect(gpu().stats().dispatches - before).toBeLessThanOrEqual(5);
      expect(tx.grad).toBeNull();
    } finally {
      scope.close();
    }
  });
});

describe('conv2d gradients pass finite-difference checks', () => {
  const strided: Case = { name: 'gradcheck', N: 2, C: 2, H: 5, W: 4, O: 3, KH: 3, KW: 3, stride: 2, pad: 1, bias: true };
  // stride 1, W % 4 == 0: the input gradient runs on conv2d_forward_row4 with flipped weights
  const same: Case = { name: 'gradcheck', N: 1, C: 3, H: 3, W: 8, O: 2, KH: 3, KW: 3, stride: 1, pad: 1, bias: true };
  // stride 2 with OW % 4 == 0: the input gradient runs on conv2d_forward_row4 variant scatter (parity classes)
  const strided8: Case = { name: 'gradcheck', N: 1, C: 2, H: 5, W: 8, O: 3, KH: 3, KW: 3, stride: 2, pad: 1, bias: false };
  // 1x1 stride 2 with C, O, OW multiples of 4: conv2d_pointwise both ways
  const pointwise: Case = { name: 'gradcheck', N: 1, C: 4, H: 4, W: 16, O: 4, KH: 1, KW: 1, stride: 2, pad: 0, bias: true };
  // 1x1 with 32 input channels: the weight gradient runs on conv2d_weight_grad_pointwise
  const pointwise32: Case = { name: 'gradcheck', N: 1, C: 32, H: 4, W: 8, O: 3, KH: 1, KW: 1, stride: 2, pad: 0, bias: false };
  // 1x1 with 16 input channels: conv2d_weight_grad_pointwise's variant c16
  const pointwise16: Case = { name: 'gradcheck', N: 1, C: 16, H: 4, W: 8, O: 3, KH: 1, KW: 1, stride: 2, pad: 0, bias: false };
  // 3 channels, W % 16 == 0: the forward runs on conv2d_forward_stem (its finite differences against the weight gradient)
  const stem: Case = { name: 'gradcheck', N: 1, C: 3, H: 3, W: 16, O: 2, KH: 3, KW: 3, stride: 1, pad: 1, bias: true };
  for (const [which, s, cfg] of [[1, stem], [2, stem], [0, strided], [1, strided], [2, strided], [0, same], [1, same], [0, strided8], [1, strided8], [0, pointwise, { pointwise: true }], [1, pointwise, { pointwise: true }], [0, pointwise, { pointwise: false }], [1, pointwise32, { weightGradPointwise: true }], [1, pointwise16, { weightGradPointwise: true }]] as [number, Case, Partial<ConvConfig>?][]) {
    it(`d${['x', 'w', 'b'][which]} (${s.KH}x${s.KW} stride ${s.stride}, pad ${s.pad}, W=${s.W}, bias ${s.bias}${cfg ? ', ' + JSON.stringify(cfg) : ''})`, async () => {
      const rng = new Rng();
      const { x, w, b, r } = inputs(rng, s);
      setConvConfig(cfg ?? {});
      let got: Run;
      try {
        got = await runGpu(s, x, w, b, r);
      } finally {
        setConvConfig(defaultConvConfig);
      }
      const forward = ([xx, ww, bb]: Float64Array[]) => conv2dForwardRef(xx, ww, bb, s);
      const grad = [got.dx, got.dw, got.db!][which];
      expectGradClose(grad, forward, [x, w, b!], r, which, { atol: 1e-4, rtol: 1e-3 }, `d${['x', 'w', 'b'][which]} seed=${rng.seed}`);
    });
  }
});

describe('conv2d argument checks', () => {
  it('rejects bad shapes with the op and shapes in the message', () => {
    const x = Tensor.zeros(gpu(), [2, 3, 8, 8]);
    expect(() => conv2d(x, Tensor.zeros(gpu(), [4, 5, 3, 3]), null)).toThrow(/conv2d: x \[2, 3, 8, 8\] has 3 channels but w \[4, 5, 3, 3\] expects 5/);
    expect(() => conv2d(x, Tensor.zeros(gpu(), [4, 3, 3]), null)).toThrow(/conv2d: w must have rank 4, got \[4, 3, 3\]/);
    expect(() => conv2d(x, Tensor.zeros(gpu(), [4, 3, 3, 3]), Tensor.zeros(gpu(), [5]))).toThrow(/conv2d: bias \[5\] must be \[4\]/);
    expect(() => conv2d(x, Tensor.zeros(gpu(), [4, 3, 9, 9]), null)).toThrow(/conv2d: kernel 9x9 \(padding 0\) larger than input/);
    expect(() => conv2d(x, Tensor.zeros(gpu(), [4, 3, 3, 3]), null, { stride: 0 })).toThrow(/conv2d: stride must be a positive integer/);
    expect(() => conv2d(Tensor.zeros(gpu(), [2, 3, 8, 8], 'u32'), Tensor.zeros(gpu(), [4, 3, 3, 3]), null)).toThrow(/conv2d: x must be f32/);
    expect(() => setConvConfig({ forwardWorkgroup: 12 })).toThrow(/forwardWorkgroup=12/);
    expect(() => setConvConfig({ reduceLanes: 3 })).toThrow(/reduceLanes=3/);
    expect(() => setConvConfig({ reduceLanes: 128 })).toThrow(/reduceLanes=128 must be a power of two dividing reduceWorkgroup/);
    expect(() => setConvConfig({ weightGradChnk: 128 } as Partial<ConvConfig>)).toThrow(/unknown field weightGradChnk/);
    expect(getConvConfig()).toEqual(defaultConvConfig); // a rejected config changes nothing
  });

  it('a configuration passed straight to a launcher is checked too (a bad one would launch a wrong grid)', () => {
    const g = gpu();
    const d = { N: 2, C: 16, H: 8, W: 8, O: 32, OH: 4, OW: 4, KH: 1, KW: 1, stride: 2, pad: 0 };
    const x = Tensor.zeros(g, [2, 16, 8, 8]);
    const dy = Tensor.zeros(g, [2, 32, 4, 4]);
    const w = Tensor.zeros(g, [32, 16, 1, 1]);
    const bad = { ...defaultConvConfig, weightGradChannels: 32 };
    const { dispatches } = recordDispatches(g, () => {
      expect(() => conv2dWeightGradInto(x, dy, w, d, bad)).toThrow(/conv2d configuration: weightGradChannels=32 must be 8 or 16/);
      expect(() => conv2dForwardInto(x, w, null, dy, d, { ...defaultConvConfig, rowCols: 3 })).toThrow(/rowCols=3/);
      expect(() => conv2dInputGradInto(dy, w, x, d, { ...defaultConvConfig, pointwiseChannels: 4 })).toThrow(/pointwiseChannels=4/);
    });
    expect(dispatches).toEqual([]); // nothing launched before the check
  });

  it('parses a configuration written as JSON (bench --conv-config, EARLY_PHASE_CONV_CONFIG)', () => {
    expect(parseConvConfig('{"weightGradChunk":128,"reduceLanes":32}', 'x')).toEqual({ ...defaultConvConfig, weightGradChunk: 128, reduceLanes: 32 });
    expect(() => parseConvConfig('{weightGradChunk:128}', '--conv-config')).toThrow(/--conv-config: not JSON/);
    expect(() => parseConvConfig('[128]', '--conv-config')).toThrow(/expected a JSON object/);
    expect(() => parseConvConfig('{"rowRows":3}', 'EARLY_PHASE_CONV_CONFIG')).toThrow(/EARLY_PHASE_CONV_CONFIG: rowRows=3/);
    expect(() => parseConvConfig('{"rows":1}', 'EARLY_PHASE_CONV_CONFIG')).toThrow(/EARLY_PHASE_CONV_CONFIG: unknown field rows/);
  });

  it("the autotune cache key names the adapter's device and, for a CPU adapter, the host CPU", () => {
    const key = autotuneCacheKey(gpu());
    const d = gpu().dev.description;
    expect(key).toContain(d.device);
    expect(key).toContain(`webgpu ${d.webgpuPackageVersion}`);
    if (d.isFallbackAdapter || /llvmpipe/.test(d.device)) expect(key).toContain(`|cpu ${describeCpu()}|`);
  });

  it('EARLY_PHASE_CONV_CONFIG pins the configuration instead of the autotune search', async () => {
    const before = process.env.EARLY_PHASE_CONV_CONFIG;
    process.env.EARLY_PHASE_CONV_CONFIG = '{"weightGradChunk":128,"reduceLanes":32}';
    const lines: string[] = [];
    try {
      const r = await autotuneConv(gpu(), { log: (l) => lines.push(l) });
      expect(r.tried).toBe(0);
      expect(getConvConfig()).toEqual({ ...defaultConvConfig, weightGradChunk: 128, reduceLanes: 32 });
      expect(lines.join('\n')).toMatch(/pinned by EARLY_PHASE_CONV_CONFIG/);
      process.env.EARLY_PHASE_CONV_CONFIG = '{"reduceLanes":5}';
      await expect(autotuneConv(gpu())).rejects.toThrow(/reduceLanes=5/);
    } finally {
      if (before === undefined) delete process.env.EARLY_PHASE_CONV_CONFIG;
      else process.env.EARLY_PHASE_CONV_CONFIG = before;
      setConvConfig(defaultConvConfig);
    }
  });
});
