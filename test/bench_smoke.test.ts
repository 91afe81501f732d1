// Smoke test of the benchmark's ceiling micro-kernels on tiny sizes: each computes what it claims
// (so the ceilings measure real work), and the GPU timer returns finite durations. No timing
// assertions: speed is the benchmark's business, not the tests'.
// @kernels bench_fma bench_read bench_write bench_copy bench_empty
import { describe, expect, it } from 'vitest';
import { recordCopyKernel, recordEmpty, recordFma, recordRead, recordWrite, streamThreads, type StreamShape } from '../bench/ceilings.js';
import { benchKernels, repetition, traceModel } from '../bench/kernels.js';
import { capture, type Recorded } from '../bench/capture.js';
import type { Ceilings } from '../bench/ceilings.js';
import { conv2dWeightGradInto, defaultConvConfig, rowMirrorsAllowed, setConvConfig, type ConvDims } from '../src/ops/conv2d.js';
import { Scope } from '../src/tensor/scope.js';
import { GpuTimer, timeGpu } from '../src/gpu/timer.js';
import { Tensor } from '../src/tensor/tensor.js';
import { expectClose } from './helpers/compare.js';
import { useGpu } from './helpers/gpu.js';
import { f32, Rng } from './helpers/random.js';

const gpu = useGpu();

describe('bench ceiling kernels', () => {
  it('bench_fma: every chain of every invocation matches a float64 recomputation', async () => {
    const threads = 300; // not a multiple of the workgroup
    const iters = 7;
    const m = Math.fround(0.9999);
    const c = Math.fround(1e-4);
    for (const [wg, chains, unroll] of [[64, 4, 1], [64, 8, 1], [256, 12, 1], [64, 16, 1], [64, 8, 4], [256, 16, 8]]) {
      const out = Tensor.empty(gpu(), [threads + 5], 'f32');
      // iters = 7 is not a multiple of the unroll: the launcher rounds it up and says so
      const run = recordFma(gpu(), out, threads, iters, { wg, chains, unroll }, m, c);
      expect(run).toBe(Math.ceil(iters / unroll) * unroll);
      const got = await out.readF32();
      const ref = new Float64Array(threads + 5).fill(NaN);
      for (let t = 0; t < threads; t++) {
        const s = Math.fround(Math.fround(t % 1024) * Math.fround(1e-3));
        let sum = 0;
        for (let k = 0; k < chains; k++) {
          for (let lane = 0; lane < 4; lane++) {
            let a = lane === 0 ? s : Math.fround(s + lane);
            if (k > 0) a = Math.fround(a + Math.fround(0.1 * k));
            for (let i = 0; i < run; i++) a = a * m + c;
            sum += a;
          }
        }
        ref[t] = sum;
      }
      expectClose(got.subarray(0, threads), ref.subarray(0, threads), { atol: 1e-4, rtol: 1e-5 }, `bench_fma wg=${wg} chains=${chains} unroll=${unroll}`);
      expect(Number.isNaN(got[threads]), 'bench_fma writes past threads').toBe(true); // poisoned tail untouched
    }
  });

  it('bench_fma f16 variant: the same chains in half precision (loose tolerance), nothing past threads', async () => {
    if (!gpu().device.features.has('shader-f16')) return; // the benchmark skips it too
    const threads = 200;
    const out = Tensor.empty(gpu(), [threads + 3], 'f32');
    recordFma(gpu(), out, threads, 5, { wg: 64, chains: 16 }, 0.9999, 1e-4, true);
    const got = await out.readF32();
    const ref = new Float64Array(threads);
    for (let t = 0; t < threads; t++) {
      const s = (t % 1024) * 1e-3;
      for (let k = 0; k < 16; k++) for (let lane = 0; lane < 4; lane++) ref[t] += s + lane + 0.1 * k;
    }
    // f16 rounds m = 0.9999 to 1 and c = 1e-4 away against values near 1..5: the sums stay at their start
    expectClose(got.subarray(0, threads), ref, { atol: 0, rtol: 5e-3 }, 'bench_fma f16'); // one missing chain would be ~1.5% off
    expect(got.subarray(threads).every((v) => Number.isNaN(v)), 'bench_fma f16 writes past threads').toBe(true);
  });

  it('bench_read: each invocation sums its strided (or, contiguous, consecutive) vec4s', async () => {
    const rng = new Rng();
    for (const shape of [{ wg: 64, per: 8 }, { wg: 256, per: 4 }, { wg: 64, per: 2, width: 4 }, { wg: 64, per: 8, contiguous: true }, { wg: 64, per: 2, width: 4, contiguous: true }] as StreamShape[]) {
      const width = shape.width ?? 1;
      const n4 = width === 1 ? 1003 : 1004;
      const data = f32(Array.from({ length: n4 * 4 }, () => rng.normal()));
      const src = Tensor.fromArray(gpu(), data, [n4 * 4]);
      const threads = streamThreads(n4, shape.per, width);
      const out = Tensor.empty(gpu(), [threads]);
      recordRead(gpu(), src, out, n4, shape);
      const ref = new Float64Array(threads);
      const floats = 4 * width; // per element
      for (let t = 0; t < threads; t++) {
        for (let k = 0; k < shape.per; k++) {
          const i = shape.contiguous ? t * shape.per + k : t + k * threads;
          if (i < n4 / width) for (let l = 0; l < floats; l++) ref[t] += data[floats * i + l];
        }
      }
      expectClose(await out.readF32(), ref, { atol: 1e-5, rtol: 1e-5 }, `bench_read ${JSON.stringify(shape)} seed=${rng.seed}`);
    }
  });

  it('bench_write fills exactly n4 vec4s; bench_copy copies exactly n4 vec4s', async () => {
    const rng = new Rng();
    for (const shape of [{ wg: 64, per: 8 }, { wg: 256, per: 16 }, { wg: 64, per: 4, width: 4 }, { wg: 64, per: 8, contiguous: true }, { wg: 64, per: 4, width: 4, contiguous: true }] as StreamShape[]) {
      const n4 = shape.width === 4 ? 776 : 777;
      const dst = Tensor.empty(gpu(), [n4 * 4 + 8]); // poisoned with NaN
      recordWrite(gpu(), dst, n4, shape, 2.5);
      const w = await dst.readF32();
      expect(w.subarray(0, n4 * 4).every((v) => v === 2.5), `bench_write ${JSON.stringify(shape)}`).toBe(true);
      expect(w.subarray(n4 * 4).every((v) => Number.isNaN(v)), 'bench_write past n4').toBe(true);

      const data = f32(Array.from({ length: n4 * 4 + 8 }, () => rng.normal()));
      const src = Tensor.fromArray(gpu(), data, [n4 * 4 + 8]);
      const out = Tensor.empty(gpu(), [n4 * 4 + 8]);
      recordCopyKernel(gpu(), src, out, n4, shape);
      const got = await out.readF32();
      const bad = got.subarray(0, n4 * 4).findIndex((v, i) => v !== data[i]);
      expect(bad, `bench_copy ${JSON.stringify(shape)} seed=${rng.seed}: first differing element`).toBe(-1);
      expect(got.subarray(n4 * 4).every((v) => Number.isNaN(v)), 'bench_copy past n4').toBe(true);
    }
  });

  it('bench_empty dispatches without error; the timer gives finite durations for regions and spans', async () => {
    const timer = new GpuTimer(gpu(), 8);
    try {
      const r = await timeGpu(timer, () => {
        for (let i = 0; i < 10; i++) recordEmpty(gpu());
      }, { reps: 3 });
      expect(r.samples).toHaveLength(3);
      for (const s of r.samples) expect(Number.isFinite(s) && s >= 0, `region sample ${s}`).toBe(true);
      const a = Tensor.zeros(gpu(), [1024]);
      const b = Tensor.empty(gpu(), [1024]);
      const s = await timeGpu(timer, () => gpu().copy(a, b), { reps: 2, mode: 'span' });
      for (const x of s.samples) expect(Number.isFinite(x) && x >= 0, `span sample ${x}`).toBe(true);
      expect(() => timer.region(() => gpu().copy(a, b))).toThrow(/span/);
      await timer.read();
      await gpu().sync();
    } finally {
      timer.destroy();
    }
  });

  it("the bench's ResNet-20 trace counts each conv shape's layers, input gradients and accumulating input gradients", async () => {
    const t = await traceModel(gpu(), 'resnet20');
    const conv = (key: string) => {
      const c = t.convs.get(key);
      if (!c) throw new Error(`no conv ${key} in ${[...t.convs.keys()].join(', ')}`);
      return [c.count, c.inputGrads, c.accumulating];
    };
    expect(conv('3x32x32>16k3s1p1')).toEqual([1, 0, 0]); // the stem: fed the images
    // stage 1: 3 identity blocks, 2 convs each; each block's first conv adds into the skip's gradient
    expect(conv('16x32x32>16k3s1p1')).toEqual([6, 6, 3]);
    // stage 2's first block: the 3x3 stride-2 conv writes dx, the 1x1 shortcut adds into it
    // (by default in one pass with the 1x1 shortcut's: neither writes nor adds one of its own)
    expect(conv('16x32x32>32k3s2p1')).toEqual([1, 1, 0]);
    expect(conv('16x32x32>32k1s2p0')).toEqual([1, 1, 0]);
    expect(conv('32x16x16>32k3s1p1')).toEqual([5, 5, 2]);
    // the default configuration runs the shortcut's forward on its own, and x's gradient of each pair in one pass
    expect(t.shortcutPairs.size).toBe(0);
    expect(t.convs.get('16x32x32>32k1s2p0')!.fusedForwards).toBe(0);
    expect([...t.shortcutGradPairs.keys()]).toEqual(['16x32x32>32k3p1', '32x16x16>64k3p1']);
    for (const key of ['16x32x32>32k3s2p1', '16x32x32>32k1s2p0', '32x16x16>64k3s2p1', '32x16x16>64k1s2p0']) expect(t.convs.get(key)!.fusedInputGrads, key).toBe(1);
  });

  it("the bench's VGG-11 trace notes each max pool's shape and window", async () => {
    const t = await traceModel(gpu(), 'vgg11');
    expect([...t.maxPools.values()].map((p) => [p.C, p.H, p.W, p.OH, p.OW, p.K, p.S, p.P, p.count])).toEqual([
      [64, 32, 32, 16, 16, 2, 2, 0, 1],
      [128, 16, 16, 8, 8, 2, 2, 0, 1],
      [256, 8, 8, 4, 4, 2, 2, 0, 1],
      [512, 4, 4, 2, 2, 2, 2, 0, 1],
    ]);
    expect((await traceModel(gpu(), 'resnet20')).maxPools.size).toBe(0);
  });

  it('the kernel list times the evaluation, telemetry and intervention kernels and the pre-training augmentations', async () => {
    // rated against made-up ceilings: only which entries come out, with what work, is checked here
    const c = { fma_gflops: 100, fma_f16_gflops: 50, read_gbps: 20, write_gbps: 20, copy_gbps: 20, copy_gbps_by_size: [], copy_buffer_gbps: 20, empty_dispatch_us: 1, empty_pass_us: 1, dispatch_encode_cpu_us: 1, submit_us: 1, submit_roundtrip_us: 1 } as unknown as Ceilings;
    const filter = /^(accuracy_count|reduce\.sum_abs|noise\.|rng\.|permute\.shuffle_(input_channel|layer_same_sign)|augment_sample .*(rotation|blur)|data\.gather)/;
    const { entries } = await benchKernels(gpu(), ['resnet20'], c, { reps: 1, batch: 4, filter });
    expect(entries.filter((e) => e.error)).toEqual([]);
    const ops = entries.map((e) => `${e.op} ${e.shape}`);
    expect(ops).toEqual([
      'data.gather 4 images for crop+flip+rotation (1 dispatch, one per chunk)',
      'augment_sample 4x3x32x32 crop+flip+rotation',
      'data.gather 4 images for 4x blur+crop+flip (1 dispatch, one per chunk)',
      'augment_sample 4x3x32x32 4x blur+crop+flip',
      'accuracy_count 4x10',
      'reduce.sum_abs 273664',
      'permute.shuffle_layer_same_sign blocks.6.conv2.weight 64x64x3x3',
      'permute.shuffle_input_channel blocks.6.conv2.weight 64x64x3x3',
      'noise.add_masked blocks.6.conv2.weight 64x64x3x3',
      'rng.normal 273664',
      'rng.uniform 273664',
    ]);
    for (const e of entries) {
      expect(e.per_step, e.name).toBe(0);
      expect(e.ms, e.name).toBeGreaterThan(0);
      expect(e.gbps, e.name).toBeGreaterThan(0);
    }
    // the augmentation's output (4 x 3 x 32 x 32 f32) written alone by bench_write, rated as the entry
    for (const e of entries.filter((x) => x.op === 'augment_sample')) {
      expect(e.write_floor_ms, e.name).toBeGreaterThan(0);
      expect(e.write_floor_percent, e.name).toBeCloseTo((100 * (e.bytes! / (e.write_floor_ms! * 1e6))) / e.ceiling_value!, 9);
    }
    expect(entries.find((e) => e.op === 'noise.add_masked')!.dispatches).toEqual(['add_noise_masked']);
    expect(entries.find((e) => e.op === 'rng.normal')!.bytes).toBe(4 * 273664);
  });

  it("times each repetition with its mirror copies, as a step runs them, except the shortcut's weight gradient, which finds x mirrored by its partner's", async () => {
    const t = await traceModel(gpu(), 'resnet20');
    expect(t.convs.get('16x32x32>32k1s2p0')!.partner).toEqual({ k: 3, pad: 1 });
    expect(t.convs.get('16x32x32>32k3s2p1')!.partner).toBeUndefined();
    const g = gpu();
    const scope = Scope.open();
    try {
      const d3: ConvDims = { N: 2, C: 16, H: 16, W: 16, O: 32, OH: 8, OW: 8, KH: 3, KW: 3, stride: 2, pad: 1 };
      const d1: ConvDims = { ...d3, KH: 1, KW: 1, pad: 0 };
      const rng = new Rng();
      const x = Tensor.fromArray(g, f32(rng.array(2 * 16 * 16 * 16)), [2, 16, 16, 16]);
      const dy = Tensor.fromArray(g, f32(rng.array(2 * 32 * 8 * 8)), [2, 32, 8, 8]);
      const cfg = { ...defaultConvConfig, weightGradTextures: true };
      // (the conv launches only: the test GPU also poisons each new tensor with a fill)
      const convs = (work: Recorded[]) => work.filter((w) => w.kind === 'dispatch' && w.name.startsWith('conv2d_'));
      const main = convs(capture(g, () => conv2dWeightGradInto(x, dy, Tensor.empty(g, [32, 16, 3, 3]), d3, cfg)).work);
      const shortcut = convs(capture(g, () => conv2dWeightGradInto(x, dy, Tensor.empty(g, [32, 16, 1, 1]), d1, cfg)).work);
      expect(main.map((w) => (w.kind === 'dispatch' ? w.args.variant : w.kind))).toEqual(['tex_x', 'vec4']);
      // (the 1x1 one on conv2d_weight_grad_pointwise where subgroups are 8 wide: its 16-channel variant)
      expect(shortcut.map((w) => (w.kind === 'dispatch' ? w.args.variant : w.kind))).toEqual([rowMirrorsAllowed(g) ? 'c16_tex' : 'tex_x', 'vec4']);
      const copiesOf = (rep: () => void) => {
        const c0 = g.stats().textureCopies;
        rep();
        return g.stats().textureCopies - c0;
      };
      const mainRep = repetition(g, main, false);
      expect([copiesOf(mainRep), copiesOf(mainRep)]).toEqual([1, 1]);
      const shortcutRep = repetition(g, shortcut, true);
      expect([copiesOf(shortcutRep), copiesOf(shortcutRep)]).toEqual([0, 0]);
      expect(copiesOf(repetition(g, shortcut, false))).toBe(1);
      await g.sync();
    } finally {
      scope.close();
    }
  });

  it('with fuseShortcutGrad off, the 3x3 stride-2 conv writes dx and the 1x1 shortcut adds into it', async () => {
    setConvConfig({ fuseShortcutGrad: false });
    try {
      const t = await traceModel(gpu(), 'resnet20');
      const conv = (key: string) => t.convs.get(key)!;
      expect([conv('16x32x32>32k3s2p1').accumulating, conv('16x32x32>32k1s2p0').accumulating, conv('16x32x32>32k1s2p0').fusedInputGrads]).toEqual([0, 1, 0]);
      expect(t.shortcutGradPairs.size).toBe(0);
    } finally {
      setConvConfig(defaultConvConfig);
    }
  });

  it('with fuseShortcut, the trace counts each downsampling block\'s two forwards as one fused launch', async () => {
    setConvConfig({ fuseShortcut: true });
    try {
      const t = await traceModel(gpu(), 'resnet20');
      expect([...t.shortcutPairs.keys()]).toEqual(['16x32x32>32k3p1', '32x16x16>64k3p1']);
      for (const key of ['16x32x32>32k3s2p1', '16x32x32>32k1s2p0', '32x16x16>64k3s2p1', '32x16x16>64k1s2p0']) {
        const c = t.convs.get(key)!;
        expect([c.count, c.inputGrads, c.fusedForwards], key).toEqual([1, 1, 1]);
      }
      // its backward is unchanged: x's gradient in one pass
      expect([t.convs.get('16x32x32>32k1s2p0')!.accumulating, t.convs.get('16x32x32>32k1s2p0')!.fusedInputGrads]).toEqual([0, 1]);
      expect(t.shortcutGradPairs.size).toBe(2);
    } finally {
      setConvConfig(defaultConvConfig);
    }
  });
});
