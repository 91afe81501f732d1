// Per-kernel timings at the shapes a model uses, through the public ops: each op is called once on
// random inputs while its recorded work (dispatches, copies) is captured; that work is then replayed
// between GPU timestamps (warm-up, then the median of `reps`). Backward passes are timed by calling the
// op's recorded backward with only the gradient of interest requested (input grad, weight grad, ...).
//
// The shapes come from tracing the real model: a batch-1 eval forward and backward with the layer
// classes' forward methods wrapped to note their input shapes (and the relu/add dispatches' sizes,
// gradient accumulations included), scaled to the benchmark batch. Work is counted as useful work only: conv 2*N*O*OH*OW*C*KH*KW FLOPs per
// direction; memory-bound kernels the bytes of their tensors read + written (scratch ignored).
//
// A step profile replays every dispatch and copy of one real training step one at a time and sums
// the GPU time per kernel: it covers the kernels the op list leaves out (max pool, accumulation, ...).
import { backward } from '../src/autograd/backward.js';
import { noGrad, type BackwardContext } from '../src/autograd/node.js';
import { Augmenter, defaultChunkImages, GpuDataset } from '../src/data/gpu_dataset.js';
import type { Gpu } from '../src/gpu/runtime.js';
import { GpuTimer, median, timeGpu } from '../src/gpu/timer.js';
import { createModel } from '../src/models/registry.js';
import { BatchNorm2d, Conv2d, Linear, type ForwardContext } from '../src/nn/layers.js';
import { Network } from '../src/nn/network.js';
import { batchNorm2d, batchNorm2dAvgPool, batchNormPoolFuses, stride2CopyFits } from '../src/ops/batchnorm.js';
import { conv2d, conv2dOutputSize, conv2dReadsStride2Copy, conv2dWithShortcut, shortcutInputGradOutcome, shortcutWeightGradOutcome } from '../src/ops/conv2d.js';
import { noteStride2Copy } from '../src/ops/stride2_copy.js';
import { countCorrect, crossEntropy } from '../src/ops/cross_entropy.js';
import { add, addInPlace, addRelu, relu } from '../src/ops/elementwise.js';
import { floatsOf } from '../src/gpu/lanes.js';
import { linear } from '../src/ops/linear.js';
import { SEGMENT_STRUCTURES, shuffleWeights } from '../src/ops/permute.js';
import { globalAvgPool, maxPool2d } from '../src/ops/pooling.js';
import { countSignChanges, dot, squaredDistance, sum, sumAbs, sumSquares } from '../src/ops/reduce.js';
import { addNoiseMasked, fillNormal, fillUniform } from '../src/ops/rng.js';
import { SgdMasked } from '../src/optim/sgd.js';
import { Scope } from '../src/tensor/scope.js';
import { Tensor } from '../src/tensor/tensor.js';
import { capture, endsAnyPass, endsPass, kernelNames, replay, type Recorded } from './capture.js';
import { copyCeilingFor, recordWrite, STREAM_SHAPES, type CeilingName, type Ceilings } from './ceilings.js';
import { perfSampling } from './perf_control.js';
import { convBytes, roofline, type Bound, type ConvGeometry } from './roofline.js';
import { recordTrainStep, trainSetup } from './end_to_end.js';

export interface KernelEntry {
  /** Unique: model, op and shape. */
  name: string;
  model: string;
  op: string;
  shape: string;
  batch: number;
  /** Times one training step runs it (0: not part of a step, e.g. telemetry reductions). */
  per_step: number;
  /** The kernels (and copies) replayed, in order. */
  dispatches: string[];
  /** Median GPU time, ms (of the pass with the lowest median, when the kernels ran in several passes). */
  ms: number;
  /** Each pass's median, ms, in pass order (several passes only). */
  pass_ms?: number[];
  min_ms: number;
  max_ms: number;
  flops?: number;
  gflops?: number;
  /** Bytes the kernel moves: for a bandwidth-timed entry its own traffic (gbps = bytes / time). */
  bytes?: number;
  gbps?: number;
  /**
   * Where the kernel moves more than the compulsory bytes (each operand read once, each result written
   * once; e.g. two-pass BatchNorm reads x twice): those, which set roofline_ms. Absent: `bytes` are.
   */
  compulsory_bytes?: number;
  ceiling: CeilingName;
  /** The ceiling's value this entry is held to (for copy_gbps: at its working set; see Ceilings.copy_gbps_by_size). */
  ceiling_value?: number;
  percent_of_ceiling: number;
  /**
   * A bandwidth-timed entry that mostly writes (the augmentation: 4 bytes of f32 out per byte in): the
   * least time the bench's write kernel (bench_write, every stream shape, the best kept) takes to write
   * the entry's output bytes alone, in the same pass, ms; and the percent_of_ceiling the entry would
   * reach if it took that long. On lavapipe writes cost more than reads, and at a working set of a few
   * MiB the stores alone fall short of the copy ceiling the entry is held to.
   */
  write_floor_ms?: number;
  write_floor_percent?: number;
  /** Each dispatch timed alone, when the op records several. */
  parts?: { kernel: string; ms: number }[];
  /** The fixed cost of running this many dispatches/copies in a timed pass (empty pass + empty dispatches), ms. */
  floor_ms?: number;
  /** Within 3x of floor_ms: launch overhead, not bandwidth or FLOPs, sets its time (tiny tensors). */
  launch_bound?: boolean;
  /** Least time the measured ceilings allow: max(flops / FMA ceiling, bytes / bandwidth) (bench/roofline.ts). */
  roofline_ms?: number;
  /** 100 * roofline_ms / ms. */
  percent_of_roofline?: number;
  /** Which term of the roofline is the largest. */
  bound?: Bound;
  /**
   * Useful multiply-adds per float of compulsory traffic, (flops / 2) / (bytes / 4), where both are
   * counted. On lavapipe every float a kernel moves through storage costs a per-lane access in each
   * of the 8 invocations of a subgroup, and the conv kernels' percentage of the FMA ceiling follows
   * this number (docs/writing-kernels.md): the ones at 21 or less stay near 25% however they are tiled.
   */
  macs_per_float?: number;
  error?: string;
}

export interface StepProfile {
  model: string;
  batch: number;
  dispatches: number;
  copies: number;
  /** Sum over the step's dispatches and copies, each timed alone (median of reps), ms. */
  gpu_ms: number;
  kernels: { kernel: string; count: number; ms: number; percent: number }[];
}

/** What an entry counts: FLOPs against the FMA ceiling (with its compulsory bytes, for the roofline, where counted), or bytes against a bandwidth ceiling. */
type Work = { flops: number; bytes?: number; ceiling: 'fma_gflops' } | { bytes: number; compulsoryBytes?: number; ceiling: Exclude<CeilingName, 'fma_gflops'> };

export interface KernelBenchOptions {
  reps: number;
  batch: number;
  log?: (line: string) => void;
  /** Include the per-kernel profile of one training step. */
  profile?: boolean;
  /** Time only the entries whose `op shape` matches (e.g. /batchnorm/). */
  filter?: RegExp;
  /**
   * Time every entry in this many passes over the whole list and keep each entry's pass with the
   * lowest median (default 1). On a shared VM, interference comes in episodes of seconds that can
   * double every rep of whatever runs then; a second pass a minute later rarely meets the same one.
   */
  passes?: number;
}

interface Ctx {
  gpu: Gpu;
  timer: GpuTimer;
  ceilings: Ceilings;
  reps: number;
  log: (line: string) => void;
  entries: KernelEntry[];
  filter?: RegExp;
}

// ---------------------------------------------------------------- tracing the model's shapes

interface ConvShape extends Omit<ConvGeometry, 'N'> {
  pad: number;
  /** Layers with this shape, and how many of them need an input gradient (not fed the images). */
  count: number;
  inputGrads: number;
  /** Of those, how many add their input gradient into one already there (BackwardContext.accumulator). */
  accumulating: number;
  /** Layers whose forward runs inside a block's fused conv + shortcut launch (conv2dWithShortcut), not alone. */
  fusedForwards: number;
  /** Layers whose input gradient is computed in one pass with its pair's (conv2dWithShortcut's backward), not alone. */
  fusedInputGrads: number;
  /** Layers whose weight gradient is computed in one pass with its pair's, not alone. */
  fusedWeightGrads: number;
  /**
   * Layers (1x1 stride 2) whose forward and weight gradient read x's stride-2 copy, which x's producer
   * wrote beside it (src/ops/stride2_copy.ts), instead of x.
   */
  fromCopies: number;
  /** A projection shortcut: the kernel size and padding of its block's conv of the same x (ShortcutPair). */
  partner?: { k: number; pad: number };
}

/** BatchNorms of one shape: how many, how many end a residual block, and of those how many also write their output's stride-2 copy. */
interface BnShape {
  C: number;
  H: number;
  W: number;
  count: number;
  residual: number;
  residualCopies: number;
  /** Of the residual ones, how many are a network's head with its average pool (BatchNorm2d.forwardAvgPool). */
  residualPools: number;
  /** Of the others, how many are a head with its average pool (VGG's last BatchNorm, with its ReLU). */
  plainPools: number;
}

/** A block's stride-2 conv whose forward launch also computes its 1x1 stride-2 projection shortcut. */
interface ShortcutPair {
  C: number;
  H: number;
  W: number;
  O: number;
  k: number;
  pad: number;
  bias: boolean;
  count: number;
}

interface ModelShapes {
  convs: Map<string, ConvShape>;
  /** Pairs whose forward is one launch, pairs whose x gradient is one pass, and pairs whose weight gradients are. */
  shortcutPairs: Map<string, ShortcutPair>;
  shortcutGradPairs: Map<string, ShortcutPair>;
  shortcutWeightGradPairs: Map<string, ShortcutPair>;
  /** BatchNorm2d layers per shape; `residual` of them end a residual block (act(residual + BN(x)) fused). */
  bns: Map<string, BnShape>;
  /** Per-image element count -> dispatches per step of: relu_forward, add (forward and gradient
   * accumulation), add_inplace (accumulation), add_relu_forward. */
  relus: Map<number, number>;
  adds: Map<number, number>;
  addInplaces: Map<number, number>;
  addRelus: Map<number, number>;
  linears: Map<string, { inF: number; outF: number; count: number }>;
  /** Global average pools; `heads`: of those, how many pool a residual BatchNorm's output through BatchNorm2d.forwardAvgPool (one launch each way where batchNormPoolFuses). */
  pools: Map<string, { C: number; H: number; W: number; count: number; heads: number }>;
  /** Max-pool layers per shape (VGG), window K, stride S, padding P. */
  maxPools: Map<string, { C: number; H: number; W: number; OH: number; OW: number; K: number; S: number; P: number; count: number }>;
  paramCount: number;
  largestWeight: { name: string; shape: number[] };
}

function bump<K, V extends { count: number }>(m: Map<K, V>, key: K, make: () => V): V {
  let v = m.get(key);
  if (!v) m.set(key, (v = make()));
  else v.count++;
  return v;
}

/** Shapes of every conv / BN / linear / relu / add / pool of one forward, per image (batch 1). */
export async function traceModel(gpu: Gpu, modelName: string): Promise<ModelShapes> {
  const model = createModel(modelName);
  const net = new Network(gpu, model);
  const shapes: ModelShapes = { convs: new Map(), shortcutPairs: new Map(), shortcutGradPairs: new Map(), shortcutWeightGradPairs: new Map(), bns: new Map(), relus: new Map(), adds: new Map(), addInplaces: new Map(), addRelus: new Map(), linears: new Map(), pools: new Map(), maxPools: new Map(), paramCount: model.parameterCount(), largestWeight: { name: '', shape: [] } };
  const convFwd = Conv2d.prototype.forward;
  const convPairFwd = Conv2d.prototype.forwardWithShortcut;
  const bnFwd = BatchNorm2d.prototype.forward;
  const bnPoolFwd = BatchNorm2d.prototype.forwardAvgPool;
  const linFwd = Linear.prototype.forward;
  let images: Tensor | null = null;
  // note one conv layer's shape and output (fused: its forward ran in a conv + shortcut launch)
  const noteConv = (conv: Conv2d, x: Tensor, y: Tensor, fused: boolean, fromCopy: boolean): ConvShape => {
    const [, C, H, W] = x.shape;
    const key = `${C}x${H}x${W}>${conv.outChannels}k${conv.kernel}s${conv.stride}p${conv.padding}${conv.bias ? 'b' : ''}`;
    const s = bump(shapes.convs, key, () => ({ C, H, W, O: conv.outChannels, k: conv.kernel, stride: conv.stride, pad: conv.padding, bias: conv.bias, count: 1, inputGrads: 0, accumulating: 0, fusedForwards: 0, fusedInputGrads: 0, fusedWeightGrads: 0, fromCopies: 0 }));
    if (x !== images) s.inputGrads++;
    if (fromCopy) s.fromCopies++;
    if (fused) s.fusedForwards++;
    // count the layers whose backward finds a gradient of x to add into (as in the training step)
    const node = y.node;
    if (node?.op === 'conv2d') {
      const bw = node.backward;
      node.backward = (g, c) =>
        bw(g, {
          ...c,
          accumulator: (i) => {
            const acc = c.accumulator?.(i) ?? null;
            if (i === 0 && acc) s.accumulating++;
            return acc;
          },
        });
    }
    return s;
  };
  // conv2dWithShortcut's pairs, to see after the backward whether each computed x's gradient in one pass
  const pairs: { y: Tensor; shapes: [ConvShape, ConvShape]; pair: ShortcutPair }[] = [];
  // does this layer's conv read x's stride-2 copy (asked before it runs)?
  const readsCopy = (conv: Conv2d, ctx: ForwardContext, x: Tensor) =>
    conv2dReadsStride2Copy(x, ctx.params.get(`${conv.name}.weight`).value, { stride: conv.stride, padding: conv.padding });
  Conv2d.prototype.forward = function (this: Conv2d, ctx: ForwardContext, x: Tensor) {
    const fromCopy = readsCopy(this, ctx, x);
    const y = convFwd.call(this, ctx, x);
    noteConv(this, x, y, false, fromCopy);
    return y;
  };
  Conv2d.prototype.forwardWithShortcut = function (this: Conv2d, ctx: ForwardContext, x: Tensor, sc: Conv2d) {
    // not a pair (conv2dWithShortcut), the two layers' own forwards run (and note themselves)
    const paired = this.pairsWith(sc);
    const fused = this.fusesWith(ctx, x, sc);
    const fromCopy = !fused && readsCopy(sc, ctx, x);
    const [y, ysc] = convPairFwd.call(this, ctx, x, sc);
    if (paired) {
      const [, C, H, W] = x.shape;
      const key = `${C}x${H}x${W}>${this.outChannels}k${this.kernel}p${this.padding}${this.bias ? 'b' : ''}`;
      const pair = { C, H, W, O: this.outChannels, k: this.kernel, pad: this.padding, bias: this.bias, count: 1 };
      pairs.push({ y, shapes: [noteConv(this, x, y, fused, false), noteConv(sc, x, ysc, fused, fromCopy)], pair });
      if (fused) bump(shapes.shortcutPairs, key, () => ({ ...pair }));
    }
    return [y, ysc];
  };
  // note one BatchNorm of x's shape (ending a residual block or not)
  const noteBn = (x: Tensor, residual: boolean): BnShape => {
    const [, C, H, W] = x.shape;
    const b = bump(shapes.bns, `${C}x${H}x${W}`, () => ({ C, H, W, count: 1, residual: 0, residualCopies: 0, residualPools: 0, plainPools: 0 }));
    if (residual) b.residual++;
    return b;
  };
  BatchNorm2d.prototype.forward = function (this: BatchNorm2d, ctx: ForwardContext, x: Tensor, relu?: boolean, residual?: Tensor, stride2Copy?: boolean) {
    const [, C, H, W] = x.shape;
    const b = noteBn(x, residual !== undefined);
    const y = bnFwd.call(this, ctx, x, relu, residual, stride2Copy);
    // the trace runs in eval mode, where no copy is made: note what training would write, and hand
    // the next conv a stand-in so that it takes the path it takes in a training step
    if (residual && stride2Copy && stride2CopyFits(y.shape)) {
      b.residualCopies++;
      noteStride2Copy(y, Tensor.zeros(gpu, [y.shape[0], C, H / 2, W / 2], 'f32', 'trace.stride2'));
    }
    return y;
  };
  // a network's head: its last BatchNorm and the average pool (in eval mode, as the trace runs, the
  // two ops apart: the pool's dispatch is counted below, and `heads` notes it)
  const heads: { C: number; hw: number }[] = [];
  BatchNorm2d.prototype.forwardAvgPool = function (this: BatchNorm2d, ctx: ForwardContext, x: Tensor, relu?: boolean, residual?: Tensor) {
    const [, C, H, W] = x.shape;
    const b = noteBn(x, residual !== undefined);
    if (residual) b.residualPools++;
    else b.plainPools++;
    heads.push({ C, hw: H * W });
    return bnPoolFwd.call(this, ctx, x, relu, residual);
  };
  Linear.prototype.forward = function (this: Linear, ctx: ForwardContext, x: Tensor) {
    bump(shapes.linears, `${this.inFeatures}>${this.outFeatures}`, () => ({ inF: this.inFeatures, outF: this.outFeatures, count: 1 }));
    return linFwd.call(this, ctx, x);
  };
  try {
    Scope.run(() => {
      images = Tensor.zeros(gpu, [1, 3, 32, 32], 'f32', 'trace.images');
      const { work } = capture(gpu, () => {
        const logits = net.forward(images!, false);
        backward(logits, Tensor.zeros(gpu, logits.shape));
      });
      for (const p of pairs) {
        const { C, H, W, O, k, pad, bias } = p.pair;
        p.shapes[1].partner = { k, pad };
        const key = `${C}x${H}x${W}>${O}k${k}p${pad}${bias ? 'b' : ''}`;
        if (shortcutInputGradOutcome(p.y) === 'fused') {
          for (const s of p.shapes) s.fusedInputGrads++;
          bump(shapes.shortcutGradPairs, key, () => ({ ...p.pair }));
        }
        if (shortcutWeightGradOutcome(p.y) === 'fused') {
          for (const s of p.shapes) s.fusedWeightGrads++;
          bump(shapes.shortcutWeightGradPairs, key, () => ({ ...p.pair }));
        }
      }
      const streams: [string, Map<number, number>][] = [['relu_forward', shapes.relus], ['add', shapes.adds], ['add_inplace', shapes.addInplaces], ['add_relu_forward', shapes.addRelus]];
      for (const w of work) {
        if (w.kind !== 'dispatch') continue;
        const u = w.args.uniforms ?? {};
        const stream = streams.find(([name]) => name === w.name);
        if (stream) {
          const n = Number(u.n) * floatsOf(w.args.variant); // uniform n counts elements
          stream[1].set(n, (stream[1].get(n) ?? 0) + 1);
        }
        if (w.name === 'avgpool_global_forward') {
          const C = Number(u.rows);
          const hw = Number(u.hw) * floatsOf(w.args.variant);
          const side = Math.round(Math.sqrt(hw));
          bump(shapes.pools, `${C}x${hw}`, () => ({ C, H: side, W: hw / side, count: 1, heads: 0 }));
        }
        if (w.name === 'maxpool2d_forward') {
          const [C, H, W, OH, OW] = [u.planes, u.h, u.w, u.oh, u.ow].map(Number); // planes = C at batch 1
          const o = w.args.overrides ?? {};
          const [K, S, P] = [o.K, o.S, o.P].map(Number);
          bump(shapes.maxPools, `${C}x${H}x${W}k${K}s${S}p${P}`, () => ({ C, H, W, OH, OW, K, S, P, count: 1 }));
        }
      }
      for (const h of heads) {
        const pool = shapes.pools.get(`${h.C}x${h.hw}`);
        if (!pool) throw new Error(`trace: a head's average pool (${h.C} channels of ${h.hw}) did not dispatch`);
        pool.heads++;
      }
    });
  } finally {
    Conv2d.prototype.forward = convFwd;
    Conv2d.prototype.forwardWithShortcut = convPairFwd;
    BatchNorm2d.prototype.forward = bnFwd;
    BatchNorm2d.prototype.forwardAvgPool = bnPoolFwd;
    Linear.prototype.forward = linFwd;
    await gpu.sync().catch(() => undefined);
    net.destroy();
  }
  let best = { name: '', size: 0, shape: [] as number[] };
  for (const p of model.paramSpecs()) {
    const size = p.shape.reduce((a, b) => a * b, 1);
    if (p.prunable && size > best.size) best = { name: p.name, size, shape: p.shape };
  }
  shapes.largestWeight = { name: best.name, shape: best.shape };
  return shapes;
}

// ---------------------------------------------------------------- measuring

function randn(gpu: Gpu, shape: number[], seed: number, std = 1): Tensor {
  return fillNormal(Tensor.empty(gpu, shape, 'f32', 'bench.input'), seed, 0, 0, std);
}

const dims = (s: readonly number[]) => s.join('x');

/**
 * One timed repetition of captured work: it copies its inputs into texture mirrors as the step does
 * (a mirror still holding them from the last repetition would let it skip the copy), except where the
 * step finds them there already (mirrorsHeld: the shortcut's weight gradient, after its partner's).
 */
export function repetition(gpu: Gpu, work: readonly Recorded[], mirrorsHeld: boolean): () => void {
  return () => {
    if (!mirrorsHeld) gpu.forgetMirrors();
    replay(gpu, work);
  };
}

async function measure(
  c: Ctx,
  meta: { model: string; op: string; shape: string; batch: number; perStep: number; work: Work },
  recorded: Recorded[],
  opts: { parts?: boolean; mirrorsHeld?: boolean } = {},
): Promise<KernelEntry | null> {
  if (c.filter && !c.filter.test(`${meta.op} ${meta.shape}`)) {
    await c.gpu.sync(); // run the captured work now, before the caller releases its buffers
    return null;
  }
  const { gpu, timer, reps } = c;
  const name = `${meta.model === '-' ? '' : meta.model + ' '}${meta.op} ${meta.shape}`;
  const mode = endsAnyPass(recorded) ? 'span' : 'region';
  // one warm-up run (lavapipe compiles a pipeline's machine code in the first submit that runs it), then the timed ones
  replay(gpu, recorded);
  await gpu.sync();
  perfSampling(true, name);
  const again = (work: Recorded[]) => repetition(gpu, work, opts.mirrorsHeld ?? false);
  const t = await timeGpu(timer, again(recorded), { warmup: 0, reps, mode }).finally(() => perfSampling(false));
  const e: KernelEntry = {
    name,
    model: meta.model,
    op: meta.op,
    shape: meta.shape,
    batch: meta.batch,
    per_step: meta.perStep,
    dispatches: kernelNames(recorded),
    ms: t.ms,
    min_ms: t.min,
    max_ms: t.max,
    ceiling: meta.work.ceiling,
    percent_of_ceiling: NaN,
  };
  if ('flops' in meta.work) {
    e.flops = meta.work.flops;
    e.gflops = meta.work.flops / (t.ms * 1e6);
    if (meta.work.bytes !== undefined) e.bytes = meta.work.bytes;
  } else {
    e.bytes = meta.work.bytes;
    e.gbps = meta.work.bytes / (t.ms * 1e6);
    if (meta.work.compulsoryBytes !== undefined && meta.work.compulsoryBytes !== meta.work.bytes) e.compulsory_bytes = meta.work.compulsoryBytes;
  }
  rateAgainst(e, c.ceilings);
  if (e.flops !== undefined && e.bytes) e.macs_per_float = e.flops / 2 / (e.bytes / 4);
  if (opts.parts !== false && recorded.length > 1 && recorded.length <= 8) {
    e.parts = [];
    for (const r of recorded) {
      const p = await timeGpu(timer, again([r]), { warmup: 0, reps, mode: endsPass(r) ? 'span' : 'region' });
      e.parts.push({ kernel: r.kind === 'dispatch' ? r.name : 'copyBufferToBuffer', ms: p.ms });
    }
  }
  c.entries.push(e);
  const rate = e.gflops !== undefined ? `${e.gflops.toFixed(1)} GFLOP/s` : `${e.gbps!.toFixed(2)} GB/s`;
  c.log(`  ${e.name}: ${e.ms.toFixed(3)} ms, ${rate}, ${e.percent_of_ceiling.toFixed(1)}% of ${e.ceiling}${e.launch_bound ? ' (launch-bound)' : ''}, ${e.percent_of_roofline!.toFixed(0)}% of its roofline (${e.bound})`);
  return e;
}

/**
 * Set what an entry's numbers are against the ceilings (ceiling_value, percent_of_ceiling, floor_ms,
 * launch_bound, roofline_ms, percent_of_roofline, bound) from its time, work, ceiling name and the
 * dispatches and copies it replays. The kernels' passes each rate their entries against the ceilings
 * measured so far; benchKernels rates the entries it keeps again against the best of every pass's.
 * An entry that failed is left as it is.
 */
export function rateAgainst(e: KernelEntry, ceilings: Ceilings): KernelEntry {
  if (e.error) return e;
  // a copy-bound entry against the copy bandwidth at its own working set (cache-resident or not)
  const ceilingValue = e.ceiling === 'copy_gbps' ? copyCeilingFor(ceilings, e.bytes ?? 0) : ceilings[e.ceiling];
  e.ceiling_value = ceilingValue;
  e.percent_of_ceiling = (100 * (e.ceiling === 'fma_gflops' ? (e.gflops ?? NaN) : (e.gbps ?? NaN))) / ceilingValue;
  if (e.write_floor_ms !== undefined && e.bytes !== undefined) e.write_floor_percent = (100 * (e.bytes / (e.write_floor_ms * 1e6))) / ceilingValue;
  e.floor_ms = (ceilings.empty_pass_us + e.dispatches.length * ceilings.empty_dispatch_us) / 1000;
  e.launch_bound = e.ms < 3 * e.floor_ms;
  // a FLOP-counted entry's bytes are mixed reads and writes: the copy kernel's read + write bandwidth
  const gbps = e.ceiling === 'fma_gflops' ? (e.bytes !== undefined ? copyCeilingFor(ceilings, e.bytes) : ceilings.copy_gbps) : ceilingValue;
  const r = roofline({ flops: e.flops, bytes: e.compulsory_bytes ?? e.bytes, gflops: ceilings.fma_gflops, gbps, floorMs: e.floor_ms });
  e.roofline_ms = r.roofline_ms;
  e.percent_of_roofline = (100 * r.roofline_ms) / e.ms;
  e.bound = r.bound;
  return e;
}

/** Run one op's measurements in a scope (inputs released after); a failure becomes an entry with an error. */
async function guarded(c: Ctx, what: string, fn: () => Promise<void>): Promise<void> {
  const scope = Scope.open();
  try {
    await fn();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    c.log(`  ${what}: FAILED ${msg}`);
    c.entries.push({ name: what, model: '', op: what, shape: '', batch: 0, per_step: 0, dispatches: [], ms: NaN, min_ms: NaN, max_ms: NaN, ceiling: 'fma_gflops', percent_of_ceiling: NaN, error: msg });
  } finally {
    await c.gpu.sync().catch(() => undefined);
    scope.close();
  }
}

function onlyGrads(grads: (Tensor | null)[], which: number[]): BackwardContext {
  return {
    needsGrad: (i) => which.includes(i),
    gradOutput: (i) => {
      const g = grads[i];
      if (!g) throw new Error(`no gradient buffer for input ${i}`);
      return g;
    },
  };
}

/**
 * A conv shape's entries: its forward, input gradient (fresh and accumulating), weight gradient and bias
 * gradient as a step runs them. Layers that read x's stride-2 copy (fromCopies) also get a forward and
 * weight gradient timed that way, under the shape with ", from x's stride-2 copy" after it (writing the
 * copy is timed in its BatchNorm's entry), and per_step counts each layer in the entry of its kind.
 */
async function convEntries(c: Ctx, model: string, N: number, s: ConvShape): Promise<void> {
  if (s.fromCopies > 0) await convShapeEntries(c, model, N, s, true);
  await convShapeEntries(c, model, N, s, false);
}

/** convEntries' entries of one kind: the layers that read x's stride-2 copy (forward and weight gradient only), or the rest. */
async function convShapeEntries(c: Ctx, model: string, N: number, s: ConvShape, fromCopy: boolean): Promise<void> {
  const { gpu } = c;
  const [OH, OW] = conv2dOutputSize(s.H, s.W, s.k, s.k, s.stride, s.pad);
  const shape = `${N}x${s.C}x${s.H}x${s.W} -> ${s.O} k${s.k} s${s.stride}${s.bias ? ' +bias' : ''}${fromCopy ? ", from x's stride-2 copy" : ''}`;
  const flops = 2 * N * s.O * OH * OW * s.C * s.k * s.k;
  const x = randn(gpu, [N, s.C, s.H, s.W], 1);
  // the copy its producer wrote (stand-in values: the same work)
  if (fromCopy) noteStride2Copy(x, randn(gpu, [N, s.C, OH, OW], 10));
  // the layers of this kind, forward and weight gradient (a layer whose weight gradient runs in one
  // pass with its pair's reads x there, not the copy)
  const copyWeightGrads = Math.max(0, s.fromCopies - s.fusedWeightGrads);
  const forwards = fromCopy ? s.fromCopies : s.count - s.fusedForwards - s.fromCopies;
  const weightGrads = fromCopy ? copyWeightGrads : s.count - s.fusedWeightGrads - copyWeightGrads;
  const w = randn(gpu, [s.O, s.C, s.k, s.k], 2, Math.sqrt(2 / (s.C * s.k * s.k)));
  const b = s.bias ? randn(gpu, [s.O], 3, 0.1) : null;
  const opts = { stride: s.stride, padding: s.pad };
  const fwd = capture(gpu, () => conv2d(x, w, b, opts)).work;
  const meta = { model, shape, batch: N };
  const work = (op: Parameters<typeof convBytes>[3]) => ({ flops, bytes: convBytes({ ...s, N }, OH, OW, op), ceiling: 'fma_gflops' as const });
  // the layers whose forward runs inside a fused conv + shortcut launch are timed there (shortcutPairEntries)
  await measure(c, { ...meta, op: 'conv2d.forward', perStep: forwards, work: work('forward') }, fwd);
  for (const t of [x, w, b]) if (t) t.requiresGrad = true;
  const y = conv2d(x, w, b, opts);
  const dy = randn(gpu, y.shape as number[], 4);
  const grads = [Tensor.empty(gpu, x.shape), Tensor.empty(gpu, w.shape), b ? Tensor.empty(gpu, [s.O]) : null];
  const node = y.node!;
  // the input gradient as written fresh, and (for the layers whose x has another consumer) as added
  // into the gradient already there: the training step runs each layer one way or the other, or in
  // one pass with its pair's (timed in shortcutGradPairEntries; here per_step 0)
  const writes = s.inputGrads - s.accumulating - s.fusedInputGrads;
  if (!fromCopy && (writes > 0 || s.accumulating === 0)) {
    const dx = capture(gpu, () => node.backward(dy, onlyGrads(grads, [0]))).work;
    await measure(c, { ...meta, op: 'conv2d.input_grad', perStep: writes, work: work('input_grad') }, dx);
  }
  if (!fromCopy && s.accumulating > 0) {
    const into = randn(gpu, x.shape as number[], 5);
    const dx = capture(gpu, () => node.backward(dy, { ...onlyGrads(grads, [0]), accumulator: (i) => (i === 0 ? into : null) })).work;
    await measure(c, { ...meta, op: 'conv2d.input_grad_accumulate', perStep: s.accumulating, work: work('input_grad_accumulate') }, dx);
  }
  if (s.partner) {
    // A step runs a projection shortcut's weight gradient a few dispatches after its block's conv's,
    // of the same x, whose launch may leave x in a texture mirror that this one then reads without a
    // copy (weightGradMirrors): run that one first, untimed, as the step does.
    const wp = randn(gpu, [s.O, s.C, s.partner.k, s.partner.k], 6, 0.1);
    wp.requiresGrad = true;
    const yp = conv2d(x, wp, null, { stride: s.stride, padding: s.partner.pad });
    yp.node!.backward(randn(gpu, yp.shape as number[], 7), onlyGrads([null, Tensor.empty(gpu, wp.shape)], [1]));
  }
  const dw = capture(gpu, () => node.backward(dy, onlyGrads(grads, [1]))).work;
  // (the layers whose weight gradient runs in one pass with its pair's: timed in shortcutWeightGradPairEntries)
  await measure(c, { ...meta, op: 'conv2d.weight_grad', perStep: weightGrads, work: work('weight_grad') }, dw, { mirrorsHeld: s.partner !== undefined });
  if (b && !fromCopy) {
    const db = capture(gpu, () => node.backward(dy, onlyGrads(grads, [2]))).work;
    await measure(c, { ...meta, op: 'conv2d.bias_grad', perStep: s.count, work: { bytes: 4 * N * s.O * OH * OW, ceiling: 'read_gbps' } }, db);
  }
}

/**
 * A shortcut pair's output grid and random operands at batch N: x, both weights, the bias if any; and
 * what each of its entries shares: the shape label, both convs' multiply-adds (as FLOPs), and their
 * compulsory bytes in each direction.
 */
function pairOperands(gpu: Gpu, N: number, p: ShortcutPair) {
  const [OH, OW] = conv2dOutputSize(p.H, p.W, p.k, p.k, 2, p.pad);
  const x = randn(gpu, [N, p.C, p.H, p.W], 1);
  const w = randn(gpu, [p.O, p.C, p.k, p.k], 2, Math.sqrt(2 / (p.C * p.k * p.k)));
  const wsc = randn(gpu, [p.O, p.C, 1, 1], 3, Math.sqrt(2 / p.C));
  const b = p.bias ? randn(gpu, [p.O], 3, 0.1) : null;
  const shape = `${N}x${p.C}x${p.H}x${p.W} -> ${p.O} k${p.k} s2${p.bias ? ' +bias' : ''} + shortcut k1 s2`;
  const flops = 2 * N * p.O * OH * OW * p.C * (p.k * p.k + 1);
  // the stride-2 conv's compulsory bytes in direction `op`, plus the shortcut's weights and its output
  // (or output gradient): x is shared
  const bytes = (op: 'forward' | 'input_grad' | 'weight_grad') => convBytes({ N, C: p.C, H: p.H, W: p.W, O: p.O, k: p.k, stride: 2, bias: p.bias }, OH, OW, op) + 4 * (p.O * p.C + N * p.O * OH * OW);
  return { x, w, wsc, b, shape, flops, bytes };
}

/**
 * x's gradient of a block's stride-2 conv and its 1x1 stride-2 shortcut in one pass (conv2dWithShortcut's
 * backward, fuseShortcutGrad): the two nodes' backwards as the engine runs them, input gradients only.
 */
async function shortcutGradPairEntries(c: Ctx, model: string, N: number, p: ShortcutPair): Promise<void> {
  const { gpu } = c;
  const { x, w, wsc, b, shape, flops, bytes } = pairOperands(gpu, N, p);
  x.requiresGrad = true;
  const [y, ysc] = conv2dWithShortcut(x, w, b, { stride: 2, padding: p.pad }, wsc);
  const dy = randn(gpu, y.shape as number[], 4);
  const dys = randn(gpu, ysc.shape as number[], 5);
  const dx = Tensor.empty(gpu, x.shape);
  // the main conv's backward runs first (as in the step) and leaves x's gradient to the shortcut's
  const ctx: BackwardContext = { ...onlyGrads([dx], [0]), deferTo: () => true };
  const { work } = capture(gpu, () => {
    y.node!.backward(dy, ctx);
    ysc.node!.backward(dys, ctx);
  });
  if (shortcutInputGradOutcome(y) !== 'fused') throw new Error('the pair did not compute its input gradient in one pass');
  await measure(c, { model, op: 'conv2d.input_grad', shape, batch: N, perStep: p.count, work: { flops, bytes: bytes('input_grad'), ceiling: 'fma_gflops' } }, work);
}

/**
 * Both weight gradients of a block's stride-2 conv and its 1x1 stride-2 shortcut in one split-K pass
 * (conv2dWithShortcut's backward, fuseShortcutWeightGrad), then each reduced: the two nodes' backwards
 * as the engine runs them, weight gradients only.
 */
async function shortcutWeightGradPairEntries(c: Ctx, model: string, N: number, p: ShortcutPair): Promise<void> {
  const { gpu } = c;
  const { x, w, wsc, b, shape, flops, bytes } = pairOperands(gpu, N, p);
  w.requiresGrad = wsc.requiresGrad = true;
  const [y, ysc] = conv2dWithShortcut(x, w, b, { stride: 2, padding: p.pad }, wsc);
  const dy = randn(gpu, y.shape as number[], 4);
  const dys = randn(gpu, ysc.shape as number[], 5);
  const dw = Tensor.empty(gpu, w.shape);
  const dwsc = Tensor.empty(gpu, wsc.shape);
  // the main conv's backward runs first (as in the step) and leaves both weight gradients to the
  // shortcut's; each node's inputs end with its partner's weight
  const partnerIdx = b ? 3 : 2;
  const ctxFor = (own: Tensor, partner: Tensor): BackwardContext => ({ needsGrad: (i) => i === 1 || i === partnerIdx, gradOutput: (i) => (i === 1 ? own : partner), deferTo: () => true });
  const { work } = capture(gpu, () => {
    y.node!.backward(dy, ctxFor(dw, dwsc));
    ysc.node!.backward(dys, ctxFor(dwsc, dw));
  });
  if (shortcutWeightGradOutcome(y) !== 'fused') throw new Error('the pair did not compute its weight gradients in one pass');
  await measure(c, { model, op: 'conv2d.weight_grad', shape, batch: N, perStep: p.count, work: { flops, bytes: bytes('weight_grad'), ceiling: 'fma_gflops' } }, work);
}

/** The forward of a block's stride-2 conv and its 1x1 stride-2 shortcut as one launch (conv2dWithShortcut). */
async function shortcutPairEntries(c: Ctx, model: string, N: number, p: ShortcutPair): Promise<void> {
  const { gpu } = c;
  const { x, w, wsc, b, shape, flops, bytes } = pairOperands(gpu, N, p);
  const fwd = capture(gpu, () => conv2dWithShortcut(x, w, b, { stride: 2, padding: p.pad }, wsc)).work;
  await measure(c, { model, op: 'conv2d.forward', shape, batch: N, perStep: p.count, work: { flops, bytes: bytes('forward'), ceiling: 'fma_gflops' } }, fwd);
}

async function bnEntries(c: Ctx, model: string, N: number, b: BnShape): Promise<void> {
  const { gpu } = c;
  const { C, H, W, count, residual, residualCopies } = b;
  // heads whose average pool runs inside this BatchNorm's launches (batchNormPoolFuses at this batch)
  const fuses = batchNormPoolFuses([N, C, H, W], true);
  const pooled = fuses ? b.residualPools : 0;
  const pooledPlain = fuses ? b.plainPools : 0;
  const shape = `${N}x${C}x${H}x${W}`;
  const n = N * C * H * W;
  const x = randn(gpu, [N, C, H, W], 5);
  x.requiresGrad = true;
  const gamma = fillUniform(Tensor.empty(gpu, [C]), 6, 0, 0.5, 1.5);
  gamma.requiresGrad = true;
  const beta = randn(gpu, [C], 7, 0.1);
  beta.requiresGrad = true;
  const rm = Tensor.zeros(gpu, [C]);
  const rv = Tensor.empty(gpu, [C]);
  rv.fill(1);
  const { result: y, work: fwd } = capture(gpu, () => batchNorm2d(x, gamma, beta, rm, rv, { training: true }));
  const meta = { model, shape, batch: N, perStep: count - residual - pooledPlain };
  // Statistics pass reads x; normalise pass reads x and writes y (where a channel fits in one chunk both
  // are one kernel, which still reads x twice). `bytes` is that traffic (the bandwidth the kernels
  // reach); the compulsory bytes, which set the roofline, count each tensor once: x read, y written;
  // backward x, dy read, dx written; with the residual the skip read too, and the masked gradient the
  // residual receives written.
  await measure(c, { ...meta, op: 'batchnorm.forward_train', work: { bytes: 3 * 4 * n, compulsoryBytes: 2 * 4 * n, ceiling: 'copy_gbps' } }, fwd);
  const dy = randn(gpu, [N, C, H, W], 8);
  const grads = [Tensor.empty(gpu, x.shape), Tensor.empty(gpu, [C]), Tensor.empty(gpu, [C])];
  const bwd = capture(gpu, () => y.node!.backward(dy, onlyGrads(grads, [0, 1, 2]))).work;
  // Reduce pass reads x and dy; the second reads x and dy and writes dx.
  await measure(c, { ...meta, op: 'batchnorm.backward', work: { bytes: 5 * 4 * n, compulsoryBytes: 3 * 4 * n, ceiling: 'copy_gbps' } }, bwd);
  if (pooledPlain > 0) {
    // a head without a residual (VGG): BN + ReLU pooled in the normalising pass (which reads its rows
    // back and writes N*C means), the backward from the pool's gradient [N, C] instead of dy
    const nc = N * C;
    const { result: yp, work: fp } = capture(gpu, () => batchNorm2dAvgPool(x, gamma, beta, rm, rv, { training: true, relu: true }));
    await measure(c, { ...meta, shape: `${shape} + average pool`, perStep: pooledPlain, op: 'batchnorm.forward_train', work: { bytes: 4 * 4 * n + 4 * nc, compulsoryBytes: 2 * 4 * n + 4 * nc, ceiling: 'copy_gbps' } }, fp);
    const bp = capture(gpu, () => yp.node!.backward(randn(gpu, [N, C], 15), onlyGrads(grads, [0, 1, 2]))).work;
    await measure(c, { ...meta, shape: `${shape} from the pool's gradient`, perStep: pooledPlain, op: 'batchnorm.backward', work: { bytes: 3 * 4 * n + 2 * 4 * nc, compulsoryBytes: 2 * 4 * n + 4 * nc, ceiling: 'copy_gbps' } }, bp);
  }
  if (residual > 0) {
    // the end of a residual block: relu(skip + BN(x)), and its backward (ReLU mask, then BN's)
    const skip = randn(gpu, [N, C, H, W], 9);
    skip.requiresGrad = true;
    const { result: yr, work: fr } = capture(gpu, () => batchNorm2d(x, gamma, beta, rm, rv, { training: true, relu: true, residual: skip }));
    const rmeta = { ...meta, perStep: residual };
    // statistics read x; the normalising pass reads x and skip and writes y
    await measure(c, { ...rmeta, perStep: residual - residualCopies - pooled, op: 'batchnorm.forward_train_add_relu', work: { bytes: 4 * 4 * n, compulsoryBytes: 3 * 4 * n, ceiling: 'copy_gbps' } }, fr);
    if (residualCopies > 0) {
      // the blocks whose output a projection shortcut reads next: y's stride-2 copy written too (n / 4 floats more)
      const { work: fc } = capture(gpu, () => batchNorm2d(x, gamma, beta, rm, rv, { training: true, relu: true, residual: skip, stride2Copy: true }));
      await measure(c, { ...rmeta, shape: `${shape} + stride-2 copy`, perStep: residualCopies, op: 'batchnorm.forward_train_add_relu', work: { bytes: 4 * 4 * n + n, compulsoryBytes: 3 * 4 * n + n, ceiling: 'copy_gbps' } }, fc);
    }
    const rgrads = [Tensor.empty(gpu, x.shape), ...grads];
    const br = capture(gpu, () => yr.node!.backward(dy, onlyGrads(rgrads, [0, 1, 2, 3]))).work;
    // the reduce pass reads x, dy and y and writes the masked gradient; the second reads x and it and writes dx
    await measure(c, { ...rmeta, perStep: residual - pooled, op: 'batchnorm.backward_add_relu', work: { bytes: 7 * 4 * n, compulsoryBytes: 5 * 4 * n, ceiling: 'copy_gbps' } }, br);
    if (pooled > 0) {
      // a network's head: the output pooled in the normalising pass, which reads its rows back (from
      // the cache) and writes N*C means; the backward reads the pool's gradient [N, C] instead of dy
      const nc = N * C;
      const { result: yp, work: fp } = capture(gpu, () => batchNorm2dAvgPool(x, gamma, beta, rm, rv, { training: true, relu: true, residual: skip }));
      await measure(c, { ...rmeta, shape: `${shape} + average pool`, perStep: pooled, op: 'batchnorm.forward_train_add_relu', work: { bytes: 5 * 4 * n + 4 * nc, compulsoryBytes: 3 * 4 * n + 4 * nc, ceiling: 'copy_gbps' } }, fp);
      const dp = randn(gpu, [N, C], 14);
      const bp = capture(gpu, () => yp.node!.backward(dp, onlyGrads(rgrads, [0, 1, 2, 3]))).work;
      await measure(c, { ...rmeta, shape: `${shape} from the pool's gradient`, perStep: pooled, op: 'batchnorm.backward_add_relu', work: { bytes: 6 * 4 * n + 4 * nc, compulsoryBytes: 4 * 4 * n + 4 * nc, ceiling: 'copy_gbps' } }, bp);
    }
  }
  const { work: ev } = capture(gpu, () => noGrad(() => batchNorm2d(x, gamma, beta, rm, rv, { training: false })));
  await measure(c, { ...meta, op: 'batchnorm.forward_eval', perStep: 0, work: { bytes: 2 * 4 * n, ceiling: 'copy_gbps' } }, ev);
}

async function elementwiseEntries(c: Ctx, model: string, N: number, perImage: number, counts: { relu: number; add: number; addInplace: number; addRelu: number }): Promise<void> {
  const { gpu } = c;
  const n = N * perImage;
  const shape = `${N}x${perImage}`;
  const meta = { model, shape, batch: N };
  const x = randn(gpu, [n], 9);
  const b = randn(gpu, [n], 11);
  const dy = randn(gpu, [n], 10);
  const dx = Tensor.empty(gpu, [n]);
  if (counts.relu) {
    x.requiresGrad = true;
    const { result: y, work: fwd } = capture(gpu, () => relu(x));
    await measure(c, { ...meta, op: 'relu.forward', perStep: counts.relu, work: { bytes: 2 * 4 * n, ceiling: 'copy_gbps' } }, fwd);
    const bwd = capture(gpu, () => y.node!.backward(dy, onlyGrads([dx], [0]))).work;
    await measure(c, { ...meta, op: 'relu.backward', perStep: counts.relu, work: { bytes: 3 * 4 * n, ceiling: 'copy_gbps' } }, bwd);
    x.requiresGrad = false;
  }
  if (counts.addRelu) {
    x.requiresGrad = true;
    const { result: y, work: fwd } = capture(gpu, () => addRelu(x, b));
    await measure(c, { ...meta, op: 'add_relu.forward', perStep: counts.addRelu, work: { bytes: 3 * 4 * n, compulsoryBytes: 2 * 4 * n, ceiling: 'copy_gbps' } }, fwd);
    const bwd = capture(gpu, () => y.node!.backward(dy, onlyGrads([dx], [0]))).work;
    await measure(c, { ...meta, op: 'add_relu.backward', perStep: counts.addRelu, work: { bytes: 3 * 4 * n, ceiling: 'copy_gbps' } }, bwd);
    x.requiresGrad = false;
  }
  if (counts.add) {
    const { work } = capture(gpu, () => add(x, b));
    await measure(c, { ...meta, op: 'add', perStep: counts.add, work: { bytes: 3 * 4 * n, ceiling: 'copy_gbps' } }, work);
  }
  if (counts.addInplace) {
    const { work } = capture(gpu, () => addInPlace(dx, b));
    await measure(c, { ...meta, op: 'add_inplace', perStep: counts.addInplace, work: { bytes: 3 * 4 * n, ceiling: 'copy_gbps' } }, work);
  }
}

async function headEntries(c: Ctx, model: string, N: number, shapes: ModelShapes): Promise<void> {
  const { gpu } = c;
  for (const p of shapes.pools.values()) {
    // a head whose pool runs inside its BatchNorm's launches (batchNormPoolFuses) is timed there (bnEntries)
    const perStep = p.count - (batchNormPoolFuses([N, p.C, p.H, p.W], true) ? p.heads : 0);
    const x = randn(gpu, [N, p.C, p.H, p.W], 12);
    x.requiresGrad = true;
    const { result: y, work: fwd } = capture(gpu, () => globalAvgPool(x));
    const bytes = 4 * N * p.C * (p.H * p.W + 1);
    const shape = `${N}x${p.C}x${p.H}x${p.W}`;
    // the forward reads H*W floats per float it writes (a reduction, against the read ceiling as the
    // reduce.* entries are), the backward writes H*W per float it reads (against the write ceiling)
    await measure(c, { model, op: 'avgpool.forward', shape, batch: N, perStep, work: { bytes, ceiling: 'read_gbps' } }, fwd);
    const dy = randn(gpu, [N, p.C], 13);
    const bwd = capture(gpu, () => y.node!.backward(dy, onlyGrads([Tensor.empty(gpu, x.shape)], [0]))).work;
    await measure(c, { model, op: 'avgpool.backward', shape, batch: N, perStep, work: { bytes, ceiling: 'write_gbps' } }, bwd);
  }
  for (const p of shapes.maxPools.values()) {
    const x = randn(gpu, [N, p.C, p.H, p.W], 19);
    x.requiresGrad = true;
    const { result: y, work: fwd } = capture(gpu, () => maxPool2d(x, { kernel: p.K, stride: p.S, padding: p.P }));
    const [xs, ys] = [N * p.C * p.H * p.W, N * p.C * p.OH * p.OW];
    const shape = `${N}x${p.C}x${p.H}x${p.W} k${p.K} s${p.S}`;
    // x read; y and the u32 argmax written (the backward's routing), then dy and argmax read, dx written
    await measure(c, { model, op: 'maxpool.forward', shape, batch: N, perStep: p.count, work: { bytes: 4 * (xs + 2 * ys), ceiling: 'copy_gbps' } }, fwd);
    const dy = randn(gpu, [...y.shape], 20);
    const bwd = capture(gpu, () => y.node!.backward(dy, onlyGrads([Tensor.empty(gpu, x.shape)], [0]))).work;
    await measure(c, { model, op: 'maxpool.backward', shape, batch: N, perStep: p.count, work: { bytes: 4 * (2 * ys + xs), ceiling: 'copy_gbps' } }, bwd);
  }
  for (const l of shapes.linears.values()) {
    const x = randn(gpu, [N, l.inF], 14);
    const w = randn(gpu, [l.outF, l.inF], 15, 0.1);
    const b = randn(gpu, [l.outF], 16, 0.1);
    for (const t of [x, w, b]) t.requiresGrad = true;
    const shape = `${N}x${l.inF} -> ${l.outF}`;
    const flops = 2 * N * l.inF * l.outF;
    const { result: y, work: fwd } = capture(gpu, () => linear(x, w, b));
    const [xs, ws, ys] = [N * l.inF, l.outF * l.inF, N * l.outF];
    await measure(c, { model, op: 'linear.forward', shape, batch: N, perStep: l.count, work: { flops, bytes: 4 * (xs + ws + l.outF + ys), ceiling: 'fma_gflops' } }, fwd);
    const dy = randn(gpu, [N, l.outF], 17);
    const grads = [Tensor.empty(gpu, x.shape), Tensor.empty(gpu, w.shape), Tensor.empty(gpu, [l.outF])];
    const bwd = capture(gpu, () => y.node!.backward(dy, onlyGrads(grads, [0, 1, 2]))).work;
    await measure(c, { model, op: 'linear.backward', shape, batch: N, perStep: l.count, work: { flops: 2 * flops, bytes: 4 * (ys + xs + ws + xs + ws + l.outF), ceiling: 'fma_gflops' } }, bwd);

    const labels = Tensor.fromArray(gpu, Array.from({ length: N }, (_, i) => i % l.outF), [N], 'u32');
    const logits = randn(gpu, [N, l.outF], 18);
    logits.requiresGrad = true;
    const { result: loss, work: ce } = capture(gpu, () => crossEntropy(logits, labels));
    const one = Tensor.empty(gpu, [1]);
    one.fill(1);
    const ceb = capture(gpu, () => loss.node!.backward(one, onlyGrads([Tensor.empty(gpu, logits.shape)], [0]))).work;
    await measure(c, { model, op: 'cross_entropy.forward+backward', shape: `${N}x${l.outF}`, batch: N, perStep: l.count, work: { bytes: 3 * 4 * N * l.outF, ceiling: 'copy_gbps' } }, [...ce, ...ceb]);
    // the evaluation's count of correct predictions (logits and labels read, one u32 written)
    const { work: acc } = capture(gpu, () => countCorrect(logits, labels));
    await measure(c, { model, op: 'accuracy_count', shape: `${N}x${l.outF}`, batch: N, perStep: 0, work: { bytes: 4 * (N * l.outF + N + 1), ceiling: 'read_gbps' } }, acc);
  }
}

async function paramEntries(c: Ctx, modelName: string, shapes: ModelShapes): Promise<void> {
  const { gpu } = c;
  const net = new Network(gpu, createModel(modelName));
  try {
    net.init(1);
    const store = net.params;
    const n = store.flatSize;
    gpu.write(store.flat('grads'), new Float32Array(n).fill(1e-3));
    const sgd = new SgdMasked(store, { momentum: 0.9, weightDecay: 1e-4 });
    try {
      sgd.setLearningRate(0.01);
      const { work } = capture(gpu, () => sgd.step());
      // values, grads, momenta, masks read; values, momenta written.
      await measure(c, { model: modelName, op: 'sgd_masked', shape: `${shapes.paramCount} params (${n} with padding)`, batch: 0, perStep: 1, work: { bytes: 6 * 4 * n, ceiling: 'copy_gbps' } }, work);
    } finally {
      sgd.destroy();
    }
    const v = store.flat('values');
    const g = store.flat('grads');
    const shape = `${n}`;
    for (const [op, fn, reads] of [
      ['reduce.sum', () => sum(v), 1],
      ['reduce.sum_abs', () => sumAbs(v), 1],
      ['reduce.sum_squares', () => sumSquares(v), 1],
      ['reduce.dot', () => dot(v, g), 2],
      ['reduce.squared_distance', () => squaredDistance(v, g), 2],
      ['reduce.sign_changes', () => countSignChanges(v, g), 2],
    ] as const) {
      const { work } = capture(gpu, fn);
      await measure(c, { model: modelName, op, shape, batch: 0, perStep: 0, work: { bytes: reads * 4 * n, ceiling: 'read_gbps' } }, work);
    }
    // The interventions at the rewinding point, on the largest prunable weight: weight shuffles
    // (Figs. 5-6; every structural element `branch shuffle --within` offers, and the same-sign
    // shuffle within layers) and Gaussian noise (Fig. 4; w += n * sigma * N(0, 1) where the mask is 1).
    const e = store.get(shapes.largestWeight.name);
    const weightShape = `${e.name} ${dims(e.shape)}`;
    for (const structure of SEGMENT_STRUCTURES) {
      for (const sameSign of structure === 'layer' ? [false, true] : [false]) {
        const { work } = capture(gpu, () => shuffleWeights(e.value, e.mask, structure, 7, { sameSign }));
        const op = `permute.shuffle_${structure}${sameSign ? '_same_sign' : ''}`;
        await measure(c, { model: modelName, op, shape: weightShape, batch: 0, perStep: 0, work: { bytes: 2 * 4 * e.size, ceiling: 'copy_gbps' } }, work, { parts: false });
      }
    }
    {
      // w and mask read, w written; the normals come from Philox in registers
      const { work } = capture(gpu, () => addNoiseMasked(e.value, e.mask, 7, 0, 0.01));
      await measure(c, { model: modelName, op: 'noise.add_masked', shape: weightShape, batch: 0, perStep: 0, work: { bytes: 3 * 4 * e.size, ceiling: 'copy_gbps' } }, work);
    }
    // Philox random fills over as many floats as the parameters (reinitialisation, test inputs): written only
    const scratch = Tensor.empty(gpu, [n], 'f32', 'bench.rng');
    for (const [op, fn] of [
      ['rng.normal', () => fillNormal(scratch, 3, 0)],
      ['rng.uniform', () => fillUniform(scratch, 3, 0)],
    ] as const) {
      const { work } = capture(gpu, fn);
      await measure(c, { model: modelName, op, shape, batch: 0, perStep: 0, work: { bytes: 4 * n, ceiling: 'write_gbps' } }, work);
    }
  } finally {
    await gpu.sync();
    net.destroy();
  }
}

/** The least time bench_write takes to write `bytes` (a multiple of 64) into a buffer of that size, over every stream shape, ms. */
async function writeFloorMs(c: Ctx, bytes: number): Promise<number> {
  const dst = Tensor.empty(c.gpu, [bytes / 4], 'f32', 'bench.write-floor');
  let best = Infinity;
  for (const shape of STREAM_SHAPES) {
    const t = await timeGpu(c.timer, () => recordWrite(c.gpu, dst, bytes / 16, shape, 1), { warmup: 1, reps: c.reps });
    best = Math.min(best, t.ms);
  }
  return best;
}

/** Augmentation of one batch: augment_sample, after the gather of raw images (one dispatch per dataset chunk) where there are more than two chunks. */
export async function augmentEntries(c: Ctx, N: number): Promise<void> {
  const { gpu } = c;
  // A training set of CIFAR-10's size, uploaded as `train` uploads it (defaultChunkImages: 2 chunks
  // under lavapipe's 128 MiB binding limit), so the batch's images are read from where they would be
  // in an epoch (scattered over 150 MB, not a cache-sized set); what its bytes hold does not matter here.
  const n = 50_000;
  const images = new Uint8Array(n * 3072);
  for (let i = 0; i < images.length; i += 4096) images[i] = (i >>> 12) & 255;
  const data = GpuDataset.upload(gpu, { name: 'bench', n, images, labels: new Uint8Array(n) });
  const chunks = data.chunks.length;
  try {
    const aug = new Augmenter(data);
    // N distinct indices spread over the whole set, as in a shuffled epoch order (389 is prime, and
    // coprime with 50,000)
    const indices = Uint32Array.from({ length: N }, (_, i) => (389 * (i + 1)) % n);
    // The training step's crop and flip, then the pre-training tasks' general path (any affine
    // transform, bilinear blur: the kernel's plain variant, after a gather of the raw images).
    const rotations = Uint32Array.from({ length: N }, (_, i) => i % 4);
    let writeFloor: number | undefined;
    for (const [what, spec, perStep] of [
      ['crop+flip', { kind: 'train', seed: 1, epoch: 0 }, 1],
      ['crop+flip+rotation', { kind: 'train', seed: 1, epoch: 0, rotations }, 0],
      ['4x blur+crop+flip', { kind: 'train', seed: 1, epoch: 0, blur: 4 }, 0],
    ] as const) {
      const { work } = capture(gpu, () => aug.batch(indices, spec));
      const gathers = work.filter((w) => w.kind === 'dispatch' && w.name === 'gather_images');
      const dispatches = work.filter((w) => w.kind === 'dispatch' && w.name === 'augment_sample');
      // Every image read and written once; each dispatch reads the batch's indices. (For crop and
      // flip from at most two chunks the augmentation reads them itself: no gather.)
      if (gathers.length > 0) await measure(c, { model: '-', op: 'data.gather', shape: `${N} images for ${what} (${gathers.length} dispatch${gathers.length > 1 ? 'es' : ''}, one per chunk)`, batch: N, perStep, work: { bytes: 2 * N * 3072 + gathers.length * N * 4, ceiling: 'copy_gbps' } }, gathers, { parts: false });
      // Raw bytes and per-sample parameters read; f32 images and labels written.
      const from = gathers.length > 0 ? '' : ` from ${chunks} dataset chunk${chunks > 1 ? 's' : ''}`;
      const e = await measure(c, { model: '-', op: 'augment_sample', shape: `${N}x3x32x32 ${what}${from}`, batch: N, perStep, work: { bytes: N * (3072 + 32 + 3 * 32 * 32 * 4 + 4), ceiling: 'copy_gbps' } }, dispatches);
      if (e) {
        // its f32 output, 4/5 of the bytes it moves, written alone: how close a kernel that must store
        // it can get (the same output for every variant: timed once)
        writeFloor ??= await writeFloorMs(c, N * 3 * 32 * 32 * 4);
        e.write_floor_ms = writeFloor;
        rateAgainst(e, c.ceilings);
        c.log(`    its output written alone (bench_write): ${e.write_floor_ms.toFixed(3)} ms, ${e.write_floor_percent!.toFixed(1)}% of ${e.ceiling} at the entry's bytes`);
      }
    }
  } finally {
    await gpu.sync();
    data.destroy();
  }
}

/** Every dispatch and copy of one training step, each timed alone; GPU ms per kernel name. */
export async function profileStep(gpu: Gpu, modelName: string, batch: number, reps: number, log: (s: string) => void): Promise<StepProfile> {
  const s = trainSetup(gpu, modelName, batch, { nTrain: 2 * batch, nTest: 10 });
  let timer: GpuTimer | null = null;
  try {
    const warm = recordTrainStep(gpu, s, 0);
    await warm.loss.readF32();
    warm.scope.close();
    const { result: step, work } = capture(gpu, () => recordTrainStep(gpu, s, 1));
    await step.loss.readF32();
    timer = new GpuTimer(gpu, work.length);
    replay(gpu, work);
    await gpu.sync();
    const samples: number[][] = work.map(() => []);
    for (let r = 0; r < reps; r++) {
      for (const w of work) {
        if (endsPass(w)) timer.span(() => replay(gpu, [w]));
        else timer.region(() => replay(gpu, [w]));
      }
      const t = await timer.read();
      t.forEach((ms, i) => samples[i].push(ms));
    }
    step.scope.close();
    const per = new Map<string, { count: number; ms: number }>();
    let total = 0;
    work.forEach((w, i) => {
      // each variant is its own pipeline (e.g. conv2d_forward_row4's scatter: the stride-2 input gradient)
      const name = w.kind !== 'dispatch' ? 'copyBufferToBuffer' : w.args.variant ? `${w.name} (${w.args.variant})` : w.name;
      const ms = median(samples[i]);
      total += ms;
      const e = per.get(name) ?? { count: 0, ms: 0 };
      e.count++;
      e.ms += ms;
      per.set(name, e);
    });
    const kernels = [...per.entries()].map(([kernel, e]) => ({ kernel, count: e.count, ms: e.ms, percent: (100 * e.ms) / total })).sort((a, b) => b.ms - a.ms);
    log(`  ${modelName} step profile: ${work.length} dispatches/copies, ${total.toFixed(1)} ms of GPU time (each timed alone)`);
    return { model: modelName, batch, dispatches: work.filter((w) => w.kind === 'dispatch').length, copies: work.filter((w) => w.kind === 'copy').length, gpu_ms: total, kernels };
  } finally {
    await gpu.sync().catch(() => undefined);
    timer?.destroy();
    s.destroy();
  }
}

/**
 * The ceilings the kernels are held to: measured once (a Ceilings), or measured again before every
 * pass by this function, which returns the ceilings to rate that pass against (the best so far:
 * bestCeilings). The entries kept are rated against what it returned last.
 */
export type CeilingSource = Ceilings | ((pass: number) => Promise<Ceilings>);

export async function benchKernels(gpu: Gpu, models: string[], ceilings: CeilingSource, o: KernelBenchOptions): Promise<{ entries: KernelEntry[]; profiles: StepProfile[]; ceilings: Ceilings }> {
  const log = o.log ?? (() => undefined);
  const passes = Math.max(1, o.passes ?? 1);
  return kernelPasses(passes, ceilings, log, async (pass, held) => {
    const timer = new GpuTimer(gpu, Math.max(64, o.reps));
    const c: Ctx = { gpu, timer, ceilings: held, reps: o.reps, log, entries: [], filter: o.filter };
    const profiles: StepProfile[] = [];
    try {
      await kernelPass(c, models, o.batch, o.profile === true && pass === passes - 1, profiles);
    } finally {
      timer.destroy();
    }
    return { entries: c.entries, profiles };
  });
}

/**
 * The pass structure of benchKernels, apart from the GPU work: for each pass, the ceilings (measured
 * again first when `ceilings` is a function), then `run` times the kernel list against them. Returns
 * each entry's pass with the lowest median (several passes), rated against the last ceilings, and the
 * profiles every pass produced.
 */
export async function kernelPasses(
  passes: number,
  ceilings: CeilingSource,
  log: (line: string) => void,
  run: (pass: number, ceilings: Ceilings) => Promise<{ entries: KernelEntry[]; profiles: StepProfile[] }>,
): Promise<{ entries: KernelEntry[]; profiles: StepProfile[]; ceilings: Ceilings }> {
  const byPass: KernelEntry[][] = [];
  const profiles: StepProfile[] = [];
  let held = typeof ceilings === 'function' ? null : ceilings;
  for (let pass = 0; pass < passes; pass++) {
    if (typeof ceilings === 'function') held = await ceilings(pass);
    if (passes > 1) log(`pass ${pass + 1}/${passes}:`);
    const r = await run(pass, held!);
    byPass.push(r.entries);
    profiles.push(...r.profiles);
  }
  const entries = passes === 1 ? byPass[0] : lowestMedian(byPass);
  // a pass before the last was rated against the ceilings of the passes up to it: every entry against the final ones
  return { entries: entries.map((e) => rateAgainst(e, held!)), profiles, ceilings: held! };
}

/** Per entry (by name, in the first pass's order), the pass with the lowest median; pass_ms lists them all. */
function lowestMedian(byPass: KernelEntry[][]): KernelEntry[] {
  return byPass[0].map((first) => {
    const all = byPass.map((entries) => entries.find((e) => e.name === first.name)).filter((e): e is KernelEntry => e !== undefined);
    const ok = all.filter((e) => !e.error && Number.isFinite(e.ms));
    if (ok.length === 0) return first;
    const best = ok.reduce((a, b) => (b.ms < a.ms ? b : a));
    return { ...best, pass_ms: all.map((e) => e.ms) };
  });
}

async function kernelPass(c: Ctx, models: string[], N: number, profile: boolean, profiles: StepProfile[]): Promise<void> {
  const { gpu } = c;
  await guarded(c, 'augmentation', () => augmentEntries(c, N));
  for (const model of models) {
    c.log(`${model} (batch ${N}):`);
    const shapes = await traceModel(gpu, model);
    for (const s of shapes.convs.values()) await guarded(c, `${model} conv2d ${s.C}x${s.H}x${s.W}->${s.O}`, () => convEntries(c, model, N, s));
    for (const p of shapes.shortcutPairs.values()) await guarded(c, `${model} conv2d ${p.C}x${p.H}x${p.W}->${p.O} + shortcut`, () => shortcutPairEntries(c, model, N, p));
    for (const p of shapes.shortcutGradPairs.values()) await guarded(c, `${model} conv2d input gradient ${p.C}x${p.H}x${p.W}->${p.O} + shortcut`, () => shortcutGradPairEntries(c, model, N, p));
    for (const p of shapes.shortcutWeightGradPairs.values()) await guarded(c, `${model} conv2d weight gradient ${p.C}x${p.H}x${p.W}->${p.O} + shortcut`, () => shortcutWeightGradPairEntries(c, model, N, p));
    for (const b of shapes.bns.values()) await guarded(c, `${model} batchnorm ${b.C}x${b.H}x${b.W}`, () => bnEntries(c, model, N, b));
    const sizes = new Set([shapes.relus, shapes.adds, shapes.addInplaces, shapes.addRelus].flatMap((m) => [...m.keys()]));
    const counts = (n: number) => ({ relu: shapes.relus.get(n) ?? 0, add: shapes.adds.get(n) ?? 0, addInplace: shapes.addInplaces.get(n) ?? 0, addRelu: shapes.addRelus.get(n) ?? 0 });
    for (const n of [...sizes].sort((a, b) => b - a)) await guarded(c, `${model} elementwise ${n}`, () => elementwiseEntries(c, model, N, n, counts(n)));
    await guarded(c, `${model} head`, () => headEntries(c, model, N, shapes));
    await guarded(c, `${model} parameters`, () => paramEntries(c, model, shapes));
    if (profile) {
      try {
        profiles.push(await profileStep(gpu, model, N, Math.min(c.reps, 3), c.log));
      } catch (e) {
        c.log(`  ${model} step profile FAILED: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}
