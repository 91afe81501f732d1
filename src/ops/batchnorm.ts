// BatchNorm2d over NCHW activations (PyTorch semantics).
//
// Training: batch statistics per channel over (N, H, W), biased variance to normalise, running
// statistics updated in place with the unbiased variance: running = (1 - m) * running + m * batch.
// Two passes forward (batchnorm_stats: per-chunk Welford partials; batchnorm_forward_train: merge
// partials in a fixed order, normalise, update running stats) and two backward
// (batchnorm_backward_reduce: per-chunk sum dy and sum dy*(x - mean); batchnorm_backward: merge,
// write dx, dgamma, dbeta). Where a channel fits in one chunk (BatchNormConfig.chunk: by default
// ResNet-20's 8x8 stage at batch 128, on a CPU adapter every stage) each direction is one pass: the
// second kernel computes the first one's result itself, with the same code (shaders/include/) and
// the same bits. Deterministic: fixed reduction trees, no atomics.
// Eval: one pass with the running statistics (same chunked grid); its backward treats them as constants.
// The kernels stream 64-byte elements (`wide` variant, H*W % 16 == 0), vec4s, or f32s (`scalar`,
// H*W % 4 != 0): fewer, wider storage accesses (include/lanes.wgsl).
import { record } from '../autograd/node.js';
import { shapeStr, Tensor } from '../tensor/tensor.js';
import { expectDtype, expectRank, expectSameShape, ShapeError } from './check.js';
import { streamLayout } from '../gpu/lanes.js';
import { isPowerOfTwoIn } from '../gpu/workgroup_size.js';
import { isCpuAdapter, type AdapterIdentity } from '../gpu/cpu_adapter.js';
import { noteStride2Copy } from './stride2_copy.js';
import { globalAvgPool } from './pooling.js';

export interface BatchNormOptions {
  /** Batch statistics + running-stat update (true) or running statistics (false). */
  training: boolean;
  /** Running-stat momentum (PyTorch's default 0.1). */
  momentum?: number;
  eps?: number;
  /** Fuse the ReLU that follows: y = max(BN(x), 0), with the ReLU's gradient folded into the backward. */
  relu?: boolean;
  /**
   * Fuse a residual add before the ReLU: y = act(residual + BN(x)), the end of a ResNet block, in the
   * normalising pass (the same bits as BN, then addRelu(residual, ...), with one pass over the
   * activations fewer). The residual gets the (ReLU-masked) output gradient unchanged.
   */
  residual?: Tensor;
  /**
   * Training only: also write y[:, :, ::2, ::2] in the normalising pass (stride2CopyOf(y), for a 1x1
   * stride-2 conv that reads y next; src/ops/stride2_copy.ts), where the layout allows: H*W % 16 ==
   * 0 (the `wide` variant), W % 16 == 0 and H even. Elsewhere, and in eval mode, no copy is made.
   */
  stride2Copy?: boolean;
}

const MAX_PARTS = 256;

/** Can batchNorm2d write the stride-2 copy of an output of this NCHW shape (BatchNormOptions.stride2Copy)? */
export function stride2CopyFits(shape: readonly number[]): boolean {
  const [, , h, w] = shape;
  return shape.length === 4 && streamLayout(h * w).variant === 'wide' && w % 16 === 0 && h % 2 === 0;
}

/**
 * The BatchNorm kernels' tunable (part of the run's kernel configuration, src/ops/kernel_config.ts:
 * it changes the order of the statistics' sums, hence the bits).
 */
export interface BatchNormConfig {
  /**
   * Values of a channel one workgroup handles: a channel's N*H*W values are split into
   * ceil(N*H*W / chunk) chunks (at most 256), one workgroup each. A channel in one chunk runs each
   * direction as one pass, the second kernel computing the first one's sums itself.
   */
  chunk: number;
  /**
   * Invocations per workgroup of the chunked kernels (a power of two, 8 to 256). Each invocation
   * sums its strided slice of the chunk and invocation 0 merges the slices in order, so this too
   * changes the bits. 64 (the default, and what a run recorded before this setting existed used) is
   * two warps / one wavefront on a GPU; lavapipe pays per subgroup of a workgroup that meets a
   * barrier, and 8 (one subgroup) ran ResNet-20's BatchNorms faster there (cpuBatchNormConfig).
   */
  workgroup: number;
  /**
   * batchNorm2dAvgPool (a network's last BatchNorm and its global average pool) as one launch each
   * way where a channel is one chunk in training (batchnorm_forward_train's POOL, batchnorm_backward's
   * POOLED_DY): the same bits as the two ops apart. Absent means on; false (for A/B timing) runs them
   * apart. Only a false is recorded.
   */
  fusePool?: boolean;
}

/** Every field a BatchNormConfig may have (the optional ones included). */
export const BATCHNORM_CONFIG_FIELDS: readonly (keyof BatchNormConfig)[] = ['chunk', 'workgroup', 'fusePool'];

/**
 * The default, and what a run recorded before this setting existed used: 8192 values. lavapipe pays
 * a large fixed cost per workgroup (1024-value chunks ran 3x slower than 8192 with scalar loads);
 * ResNet-20's first stage at batch 128 gets 16 chunks x 16 channels = 256 workgroups, which keeps a
 * GPU's many cores busy.
 */
export const defaultBatchNormConfig: Readonly<BatchNormConfig> = Object.freeze({ chunk: 8192, workgroup: 64 });

/**
 * A CPU adapter's (batchNormConfigFor): 131072 values, one chunk per channel for CIFAR-10 ResNets up
 * to batch 128, so every BatchNorm runs one pass each way and the workgroup's second walk over its
 * channel finds it in the cache. On lavapipe a ResNet-20 step's BatchNorm dispatches took 90.7
 * against 117.0 ms (bench --compare-config, 2026-12-07); the first stage's 16 channels are still 8
 * workgroups per core of this 2-core machine. And 8 invocations a workgroup (one lavapipe subgroup):
 * every ResNet-20 BatchNorm 1.1-1.5x faster than at 64, the step's BatchNorm dispatches 73 against
 * 92 ms (four alternating --compare-config runs against 16, 32 and 64, 2026-12-07).
 */
export const cpuBatchNormConfig: Readonly<BatchNormConfig> = Object.freeze({ chunk: 131072, workgroup: 8 });

let config: BatchNormConfig = { ...defaultBatchNormConfig };

/** The configuration an adapter gets when a session starts (src/train/session.ts): cpuBatchNormConfig on a CPU adapter, else the default. */
export function batchNormConfigFor(adapter: AdapterIdentity): BatchNormConfig {
  return { ...(isCpuAdapter(adapter) ? cpuBatchNormConfig : defaultBatchNormConfig) };
}

/** cfg itself if it is a valid configuration; else an error that names the bad field. */
export function checkBatchNormConfig(cfg: BatchNormConfig): BatchNormConfig {
  if (!Number.isInteger(cfg.chunk) || cfg.chunk < 64 || cfg.chunk > 1 << 24) {
    throw new Error(`batchnorm config: chunk must be an integer in [64, 2^24] (got ${JSON.stringify(cfg.chunk)})`);
  }
  const wg = cfg.workgroup;
  if (!isPowerOfTwoIn(wg, 8, 256)) {
    throw new Error(`batchnorm config: workgroup must be a power of two in [8, 256] (got ${JSON.stringify(wg)})`);
  }
  if (cfg.fusePool !== undefined && typeof cfg.fusePool !== 'boolean') throw new Error(`batchnorm config: fusePool must be a boolean (got ${JSON.stringify(cfg.fusePool)})`);
  return cfg;
}

/** Use this configuration from now on (checked: checkBatchNormConfig). */
export function setBatchNormConfig(cfg: BatchNormConfig): void {
  const { chunk, workgroup, fusePool } = checkBatchNormConfig(cfg);
  config = { chunk, workgroup, ...(fusePool === false ? { fusePool } : {}) };
}

export function getBatchNormConfig(): BatchNormConfig {
  return { ...config };
}

let onePass = true;
/**
 * Whether a channel that fits in one chunk runs each direction as one pass (the default). The two
 * ways give the same bits; switching it off serves A/B timing and the test that compares them.
 */
export function setBatchNormOnePass(enabled: boolean): void {
  onePass = enabled;
}

/** How the m vectors (of vl values each) of a channel are split into chunks (one workgroup each) under the configuration's chunk size. */
export function batchNormChunks(m: number, vl = 1, target = config.chunk): { parts: number; chunk: number } {
  const parts = Math.max(1, Math.min(MAX_PARTS, Math.ceil((m * vl) / target)));
  const chunk = Math.ceil(m / parts);
  return { parts: Math.ceil(m / chunk), chunk };
}

/**
 * y = (x - mean) / sqrt(var + eps) * weight + bias, per channel of x [N, C, H, W].
 * weight, bias, runningMean, runningVar: [C] f32. runningMean/runningVar are plain tensors (no
 * gradient), updated in place when `training`. Gradients flow to x, weight and bias.
 */
export function batchNorm2d(x: Tensor, weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor, options: BatchNormOptions): Tensor {
  return batchNormOp('batchNorm2d', x, weight, bias, runningMean, runningVar, options, false);
}

/**
 * globalAvgPool(batchNorm2d(x, ...)): [N, C], the head of a network whose last BatchNorm (with its
 * ReLU and residual) feeds the global average pool. In training, where a channel is one chunk
 * (and config fusePool is not false), one launch each way: the normalising pass also pools its output
 * (batchnorm_forward_train's POOL), and the backward reads the pool's gradient [N, C] instead of the
 * [N, C, H, W] one avgpool_global_backward would write (POOLED_DY). The same bits as the two ops.
 */
export function batchNorm2dAvgPool(x: Tensor, weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor, options: BatchNormOptions): Tensor {
  if (!batchNormPoolFuses(x.shape, options.training)) return globalAvgPool(batchNorm2d(x, weight, bias, runningMean, runningVar, options));
  return batchNormOp('batchNorm2dAvgPool', x, weight, bias, runningMean, runningVar, options, true);
}

/** Does batchNorm2dAvgPool run as one launch each way for x of this shape (training; see there)? */
export function batchNormPoolFuses(shape: readonly number[], training: boolean): boolean {
  if (!training || !onePass || config.fusePool === false || shape.length !== 4) return false;
  const [n, , h, w] = shape;
  const { floats } = streamLayout(h * w);
  return batchNormChunks((n * h * w) / floats, floats).parts === 1;
}

/** batchNorm2d, and with `pool` (batchNormPoolFuses held) batchNorm2dAvgPool's fused form: returns the pooled [N, C]. */
function batchNormOp(op: string, x: Tensor, weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor, options: BatchNormOptions, pool: boolean): Tensor {
  const { training, momentum = 0.1, eps = 1e-5, relu = false, residual, stride2Copy = false } = options;
  // with a residual the backward masks the gradient itself first (the residual needs it too)
  const WG = config.workgroup;
  const fused = { WG, RELU: relu && !residual ? 1 : 0 };
  const apply = { WG, RELU: relu ? 1 : 0, RESIDUAL: residual ? 1 : 0 };
  expectRank(op, 'x', x, 4);
  expectDtype(op, 'x', x, 'f32');
  const [n, c, h, w] = x.shape;
  const named: [string, Tensor][] = [['weight', weight], ['bias', bias], ['runningMean', runningMean], ['runningVar', runningVar]];
  for (const [name, t] of named) {
    expectDtype(op, name, t, 'f32');
    if (t.rank !== 1 || t.shape[0] !== c) throw new ShapeError(op, `${name} must have shape [${c}] for x ${shapeStr(x.shape)}, got ${shapeStr(t.shape)}`);
  }
  if (residual) {
    expectDtype(op, 'residual', residual, 'f32');
    expectSameShape(op, residual, x, ['residual', 'x']);
  }
  if (!(eps > 0)) throw new ShapeError(op, `eps must be > 0, got ${eps}`);
  if (!(momentum >= 0 && momentum <= 1)) throw new ShapeError(op, `momentum must be in [0, 1], got ${momentum}`);
  const m = n * h * w;
  const { variant, floats } = streamLayout(h * w); // no element straddles two channels
  const hw = (h * w) / floats;
  if (m === 0 || c === 0) throw new ShapeError(op, `empty input x ${shapeStr(x.shape)}`);
  if (c > 65535) throw new ShapeError(op, `x ${shapeStr(x.shape)} has more than 65535 channels (one workgroup row each)`);
  // the kernels split an element index into (image, position) with float arithmetic, exact below 2^24
  if (n * hw + WG > 1 << 24) throw new ShapeError(op, `x ${shapeStr(x.shape)} has too many values per channel (N*H*W = ${m}; at most about ${(1 << 24) * floats - WG * floats})`);
  if (training && m < 2) throw new ShapeError(op, `expected more than 1 value per channel when training, got x ${shapeStr(x.shape)}`);
  const gpu = x.gpu;
  const y = Tensor.empty(gpu, x.shape, 'f32', 'batchnorm');
  const saved = Tensor.empty(gpu, [2, c], 'f32', 'batchnorm.saved');
  const { parts, chunk } = batchNormChunks(n * hw, floats);
  // a channel in one chunk: one pass each way, the second kernel computing the first one's result
  // itself (same bits)
  const oneChunk = onePass && parts === 1;
  // a binding the kernel declares but does not write this time (no other binding of the dispatch aliases it)
  const unused = () => Tensor.empty(gpu, [16], 'f32', 'batchnorm.unused');
  // the pooled output (pool: the op's output; y stays internal, for the backward's mask)
  const pooled = pool ? Tensor.empty(gpu, [n, c], 'f32', 'avgpool') : null;
  if (pool && !(training && oneChunk)) throw new Error(`${op}: the fused pool needs training with one chunk a channel`);
  if (training) {
    const copy = stride2Copy && stride2CopyFits(x.shape) ? Tensor.empty(gpu, [n, c, h / 2, w / 2], 'f32', 'batchnorm.stride2') : null;
    const partial = oneChunk ? x : Tensor.empty(gpu, [c, parts, 4], 'f32', 'batchnorm.partial');
    if (!oneChunk) gpu.dispatch('batchnorm_stats', { bindings: { x, partial }, uniforms: { n, c, hw, chunk, parts }, workgroups: [parts, c], overrides: { WG }, variant });
    gpu.dispatch('batchnorm_forward_train', {
      bindings: { x, partial, gamma: weight, beta: bias, y, saved, running_mean: runningMean, running_var: runningVar, skip: residual ?? x, y2: copy ?? unused(), pooled: pooled ?? unused() },
      uniforms: { n, c, hw, chunk, parts, eps, momentum },
      workgroups: [parts, c],
      overrides: { ...apply, FUSED_STATS: oneChunk ? 1 : 0, ...(copy ? { STRIDE2_COPY: 1, ROW_ELEMS: w / 16 } : {}), ...(pooled ? { POOL: 1 } : {}) },
      variant,
    });
    if (copy) noteStride2Copy(y, copy);
  } else {
    gpu.dispatch('batchnorm_forward_eval', {
      bindings: { x, gamma: weight, beta: bias, running_mean: runningMean, running_var: runningVar, y, saved, skip: residual ?? x },
      uniforms: { n, c, hw, chunk, parts, eps },
      workgroups: [parts, c],
      overrides: apply,
      variant,
    });
  }
  // the residual first: the backward (reverse DFS order) then reaches the BN branch before the
  // residual's, as with addRelu(residual, BN(x))
  const inputs = residual ? [residual, x, weight, bias] : [x, weight, bias];
  const at = residual ? 1 : 0; // index of x among the inputs
  // pool: gy is the pool's gradient [N, C], which the backward shares out over each row itself
  return record(op, inputs, pooled ?? y, (gy, ctx) => {
    const dx = ctx.needsGrad(at) ? ctx.gradOutput(at) : Tensor.empty(gpu, x.shape, 'f32', 'batchnorm.dx_unused');
    // a residual block's end: the reduce pass masks gy by y > 0 and writes the masked gradient
    // (relu_backward's, in the same pass), which is BN's dy and the residual's gradient
    const maskOut = Boolean(residual && relu);
    const dy = maskOut ? Tensor.empty(gpu, x.shape, 'f32', 'grad:batchnorm_add_relu') : gy;
    const dgamma = ctx.needsGrad(at + 1) ? ctx.gradOutput(at + 1) : Tensor.empty(gpu, [c], 'f32', 'batchnorm.dgamma_unused');
    const dbeta = ctx.needsGrad(at + 2) ? ctx.gradOutput(at + 2) : Tensor.empty(gpu, [c], 'f32', 'batchnorm.dbeta_unused');
    const uniforms = { n, c, hw, chunk, parts, training: training ? 1 : 0 };
    if (oneChunk) {
      gpu.dispatch('batchnorm_backward', {
        bindings: { x, dy: pool ? x : gy, saved, gamma: weight, partial: saved, dx, dgamma, dbeta, beta: bias, y, dmask: maskOut ? dy : unused(), dpool: pool ? gy : saved },
        uniforms,
        workgroups: [parts, c],
        overrides: { ...fused, FUSED_REDUCE: 1, MASK_OUT: maskOut ? 1 : 0, ...(pool ? { POOLED_DY: 1 } : {}) },
        variant,
      });
    } else {
      const partial = Tensor.empty(gpu, [c, parts, 2], 'f32', 'batchnorm.grad_partial');
      if (pool) throw new Error(`${op}: the fused pool's backward needs one chunk a channel`);
      gpu.dispatch('batchnorm_backward_reduce', {
        // without MASK_OUT, dmask is a binding nothing writes: dx (written only by the next pass)
        bindings: { x, dy: gy, saved, partial, gamma: weight, beta: bias, y, dmask: maskOut ? dy : dx },
        uniforms: { n, c, hw, chunk, parts },
        workgroups: [parts, c],
        overrides: { ...fused, MASK_OUT: maskOut ? 1 : 0 },
        variant,
      });
      gpu.dispatch('batchnorm_backward', {
        bindings: { x, dy, saved, gamma: weight, partial, dx, dgamma, dbeta, beta: bias, y: x, dmask: unused(), dpool: saved },
        uniforms,
        workgroups: [parts, c],
        overrides: fused,
        variant,
      });
    }
    const grads = [ctx.needsGrad(at) ? dx : null, ctx.needsGrad(at + 1) ? dgamma : null, ctx.needsGrad(at + 2) ? dbeta : null];
    return residual ? [ctx.needsGrad(0) ? dy : null, ...grads] : grads;
  });
}
