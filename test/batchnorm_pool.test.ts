import { describe, expect, it } from 'vitest';
// @kernels batchnorm_forward_train batchnorm_backward avgpool_global_forward avgpool_global_backward
// @gradcheck batchnorm_backward
// A network's last BatchNorm and its global average pool in one launch each way
// (batchNorm2dAvgPool: batchnorm_forward_train's POOL, batchnorm_backward's POOLED_DY): the pooled
// output and every gradient against the float64 reference and a finite-difference check, the same
// bits as globalAvgPool(batchNorm2d(...)) with NaN-poisoned outputs, the fallbacks, and ResNet-20's
// and VGG-11's training steps with and without the fusion.
import { backward } from '../src/autograd/backward.js';
import { batchNorm2d, batchNorm2dAvgPool } from '../src/ops/batchnorm.js';
import { globalAvgPool } from '../src/ops/pooling.js';
import { leaf } from '../src/tensor/param_store.js';
import { Scope } from '../src/tensor/scope.js';
import { Tensor } from '../src/tensor/tensor.js';
import { withBatchNormConfig } from './helpers/batchnorm_config.js';
import { bitsOf, expectClose } from './helpers/compare.js';
import { drawAwayFromKink, expectGradClose } from './helpers/gradcheck.js';
import { recordDispatches, useGpu, type RecordedDispatch } from './helpers/gpu.js';
import { resnet20Step, resnet20StepData } from './helpers/resnet_step.js';
import { f32, Rng } from './helpers/random.js';
import { batchNormTrainRef } from './reference/batchnorm.js';
import { reluRef } from './reference/elementwise.js';
import { globalAvgPoolRef } from './reference/pooling.js';

const gpu = useGpu();

const fusedLaunches = (ds: RecordedDispatch[]) => [
  ds.filter((d) => d.kernel === 'batchnorm_forward_train' && d.overrides?.POOL === 1).length,
  ds.filter((d) => d.kernel === 'batchnorm_backward' && d.overrides?.POOLED_DY === 1).length,
  ds.filter((d) => d.kernel.startsWith('avgpool_global')).length,
];

/**
 * relu(skip + BN(x)) pooled (relu(BN(x)) without `withSkip`, VGG's head), and its gradients for x,
 * gamma, beta (and skip), fused or as the two ops; all read back, with the running statistics
 */
async function run(inputs: { x: Float64Array; gamma: Float64Array; beta: Float64Array; skip: Float64Array; r: Float64Array }, s: number[], fused: boolean, withSkip = true) {
  const g = gpu();
  const [n, c] = s;
  const scope = Scope.open();
  try {
    const tx = leaf(g, inputs.x, s, 'x');
    const tg = leaf(g, inputs.gamma, [c], 'gamma');
    const tb = leaf(g, inputs.beta, [c], 'beta');
    const ts = withSkip ? leaf(g, inputs.skip, s, 'skip') : null;
    const rm = Tensor.zeros(g, [c]);
    const rv = Tensor.fromArray(g, new Float32Array(c).fill(1), [c]);
    const opts = { training: true, relu: true, residual: ts ?? undefined };
    const { result: y, dispatches } = recordDispatches(g, () => {
      const out = fused ? batchNorm2dAvgPool(tx, tg, tb, rm, rv, opts) : globalAvgPool(batchNorm2d(tx, tg, tb, rm, rv, opts));
      backward(out, Tensor.fromArray(g, inputs.r, [n, c]));
      return out;
    });
    const read = async (t: Tensor) => t.readF32();
    const dskip = ts ? await read(ts.grad!) : new Float32Array(0);
    return { out: [await read(y), await read(tx.grad!), await read(tg.grad!), await read(tb.grad!), dskip, await read(rm), await read(rv)], launches: fusedLaunches(dispatches) };
  } finally {
    scope.close();
  }
}

describe('batchNorm2dAvgPool: relu(skip + BN(x)) and its global average pool in one launch each way', () => {
  // H*W = 64 and 16 (64-byte elements), 36 (vec4 elements), 25 (f32 elements)
  const shapes = [
    [3, 5, 8, 8],
    [4, 3, 4, 4],
    [2, 4, 6, 6],
    [2, 3, 5, 5],
  ];
  const draw = (rng: Rng, s: number[]) => {
    const [n, c, h, w] = s;
    const size = n * c * h * w;
    return drawAwayFromKink(
      () => ({ x: f32(rng.normals(size)), gamma: f32(rng.array(c, 0.5, 1.5)), beta: f32(rng.array(c, -0.5, 0.5)), skip: f32(rng.normals(size)), r: f32(rng.normals(n * c)) }),
      (v) => batchNormTrainRef(v.x, v.gamma, v.beta, { n, c, h, w }, 1e-5).map((b, i) => b + v.skip[i]),
    );
  };
  for (const s of shapes) {
    for (const workgroup of [8, 64]) {
      it(`[${s}], ${workgroup} invocations a workgroup: the bits of globalAvgPool(batchNorm2d(...)), forward and every gradient, and float64 within rounding`, async () => {
        const rng = new Rng();
        const [n, c, h, w] = s;
        const inputs = draw(rng, s);
        await withBatchNormConfig({ chunk: 131072, workgroup }, async () => {
          const fused = await run(inputs, s, true);
          const apart = await run(inputs, s, false);
          expect(fused.launches, 'fused: POOL and POOLED_DY launches, no avgpool').toEqual([1, 1, 0]);
          expect(apart.launches, 'apart: two avgpool launches').toEqual([0, 0, 2]);
          const names = ['pooled', 'dx', 'dgamma', 'dbeta', 'dskip', 'running_mean', 'running_var'];
          for (let k = 0; k < names.length; k++) expect(bitsOf(fused.out[k]), `${names[k]} seed=${rng.seed}`).toEqual(bitsOf(apart.out[k]));
          const forward = ([xx, gg, bb, ss]: Float64Array[]) => globalAvgPoolRef(reluRef(batchNormTrainRef(xx, gg, bb, { n, c, h, w }, 1e-5).map((v, i) => v + ss[i])), n, c, h, w);
          expectClose(fused.out[0], forward([inputs.x, inputs.gamma, inputs.beta, inputs.skip]), { atol: 1e-5, rtol: 1e-4 }, `forward seed=${rng.seed}`);
        });
      });
    }
  }

  it('without a residual (VGG\'s head, relu(BN(x))): the bits of the two ops, and float64 within rounding', async () => {
    const rng = new Rng();
    for (const s of [
      [4, 6, 2, 2],
      [3, 5, 8, 8],
    ]) {
      const [n, c, h, w] = s;
      const inputs = drawAwayFromKink(
        () => ({ x: f32(rng.normals(n * c * h * w)), gamma: f32(rng.array(c, 0.5, 1.5)), beta: f32(rng.array(c, -0.5, 0.5)), skip: new Float64Array(0), r: f32(rng.normals(n * c)) }),
        (v) => batchNormTrainRef(v.x, v.gamma, v.beta, { n, c, h, w }, 1e-5),
      );
      const fused = await run(inputs, s, true, false);
      const apart = await run(inputs, s, false, false);
      expect(fused.launches, `[${s}]`).toEqual([1, 1, 0]);
      for (const k of [0, 1, 2, 3, 5, 6]) expect(bitsOf(fused.out[k]), `[${s}] output ${k} seed=${rng.seed}`).toEqual(bitsOf(apart.out[k]));
      const forward = ([xx, gg, bb]: Float64Array[]) => globalAvgPoolRef(reluRef(batchNormTrainRef(xx, gg, bb, { n, c, h, w }, 1e-5)), n, c, h, w);
      expectClose(fused.out[0], forward([inputs.x, inputs.gamma, inputs.beta]), { atol: 1e-5, rtol: 1e-4 }, `[${s}] seed=${rng.seed}`);
      expectGradClose(fused.out[1], forward, [inputs.x, inputs.gamma, inputs.beta], inputs.r, 0, { atol: 2e-3, rtol: 2e-2 }, `[${s}] dx seed=${rng.seed}`);
    }
  });

  it('passes a finite-difference check for x, gamma, beta and skip', async () => {
    const rng = new Rng();
    const s = [2, 3, 4, 4];
    const [n, c, h, w] = s;
    const inputs = draw(rng, s);
    const fused = await run(inputs, s, true);
    expect(fused.launches).toEqual([1, 1, 0]);
    const forward = ([xx, gg, bb, ss]: Float64Array[]) => globalAvgPoolRef(reluRef(batchNormTrainRef(xx, gg, bb, { n, c, h, w }, 1e-5).map((v, i) => v + ss[i])), n, c, h, w);
    const all = [inputs.x, inputs.gamma, inputs.beta, inputs.skip];
    const tol = { atol: 2e-3, rtol: 2e-2 };
    for (const [k, name] of ['dx', 'dgamma', 'dbeta', 'dskip'].entries()) expectGradClose(fused.out[k + 1], forward, all, inputs.r, k, tol, `${name} seed=${rng.seed}`);
  });

  it('runs the two ops apart in eval mode, with several chunks a channel, and with fusePool false: the same values', async () => {
    const rng = new Rng();
    const s = [4, 3, 8, 8];
    const inputs = draw(rng, s);
    const reference = await withBatchNormConfig({ chunk: 131072 }, () => run(inputs, s, true));
    expect(reference.launches).toEqual([1, 1, 0]);
    for (const cfg of [{ chunk: 64 }, { chunk: 131072, fusePool: false }]) {
      const other = await withBatchNormConfig(cfg, () => run(inputs, s, true));
      expect(other.launches, JSON.stringify(cfg)).toEqual([0, 0, 2]);
      if (cfg.chunk === 131072) for (let k = 0; k < 5; k++) expect(bitsOf(other.out[k]), `${JSON.stringify(cfg)} output ${k}`).toEqual(bitsOf(reference.out[k]));
    }
    const g = gpu();
    const scope = Scope.open();
    try {
      const [n, c, h, w] = s;
      const args = [Tensor.fromArray(g, inputs.x, s), Tensor.fromArray(g, inputs.gamma, [c]), Tensor.fromArray(g, inputs.beta, [c]), Tensor.zeros(g, [c]), Tensor.fromArray(g, new Float32Array(c).fill(1), [c])] as const;
      const { result: y, dispatches } = recordDispatches(g, () => batchNorm2dAvgPool(...args, { training: false, relu: true }));
      expect(fusedLaunches(dispatches)).toEqual([0, 0, 1]);
      expect(y.shape).toEqual([n, c]);
      const ref = globalAvgPoolRef(reluRef(inputs.x.map((v, i) => v / Math.sqrt(1 + 1e-5) * inputs.gamma[Math.floor(i / (h * w)) % c] + inputs.beta[Math.floor(i / (h * w)) % c])), n, c, h, w);
      expectClose(await y.readF32(), ref, { atol: 1e-5, rtol: 1e-4 }, `eval seed=${rng.seed}`);
    } finally {
      scope.close();
    }
  });
});

describe('a training step with its head fused', () => {
  for (const model of ['resnet20', 'vgg11']) {
    it(`${model}: pools in the last BatchNorm (no avgpool launch) and gives the bits of the step with the two ops apart`, async () => {
      const rng = new Rng();
      const data = resnet20StepData(rng);
      const step = (fusePool: boolean) =>
        withBatchNormConfig({ chunk: 131072, fusePool }, async () => {
          const { dispatches, loss, grads } = await resnet20Step(gpu(), data, model);
          return { launches: fusedLaunches(dispatches), loss, grads };
        });
      const on = await step(true);
      const off = await step(false);
      expect(on.launches).toEqual([1, 1, 0]);
      expect(off.launches).toEqual([0, 0, 2]);
      expect(bitsOf(on.loss), `loss seed=${rng.seed}`).toEqual(bitsOf(off.loss));
      expect(bitsOf(on.grads), `gradients seed=${rng.seed}`).toEqual(bitsOf(off.grads));
    });
  }
});
