// BatchNorm2d with the following ReLU fused into its kernels (the conv -> BN -> ReLU unit).
// @kernels batchnorm_forward_train batchnorm_forward_eval batchnorm_backward_reduce batchnorm_backward relu_backward add_relu_forward
// @gradcheck batchnorm_backward batchnorm_backward_reduce
import { describe, expect, it } from 'vitest';
import { backward } from '../src/autograd/backward.js';
import { batchNorm2d } from '../src/ops/batchnorm.js';
import { addRelu } from '../src/ops/elementwise.js';
import { leaf } from '../src/tensor/param_store.js';
import { Scope } from '../src/tensor/scope.js';
import { Tensor } from '../src/tensor/tensor.js';
import { expectClose } from './helpers/compare.js';
import { drawAwayFromKink, expectGradClose } from './helpers/gradcheck.js';
import { useGpu } from './helpers/gpu.js';
import { f32, Rng } from './helpers/random.js';
import { batchNormApplyRef, batchNormTrainRef } from './reference/batchnorm.js';
import { reluRef } from './reference/elementwise.js';

const gpu = useGpu();

describe('batchNorm2d with fused ReLU', () => {
  for (const [n, c, h, w] of [
    [3, 4, 5, 7],
    [2, 16, 8, 8],
  ]) {
    it(`training: relu(BN(x)) and its gradients for x, gamma, beta match float64 [${n},${c},${h},${w}]`, async () => {
      const rng = new Rng();
      const s = { n, c, h, w };
      const { x, gamma, beta } = drawAwayFromKink(
        () => ({ x: f32(rng.normals(n * c * h * w)), gamma: f32(rng.array(c, 0.5, 1.5)), beta: f32(rng.array(c, -0.5, 0.5)) }),
        (v) => batchNormTrainRef(v.x, v.gamma, v.beta, s, 1e-5),
      );
      const r = f32(rng.array(n * c * h * w));
      const forward = ([xx, gg, bb]: Float64Array[]) => reluRef(batchNormTrainRef(xx, gg, bb, s, 1e-5));
      const scope = Scope.open();
      const tx = leaf(gpu(), x, [n, c, h, w], 'x');
      const tg = leaf(gpu(), gamma, [c], 'gamma');
      const tb = leaf(gpu(), beta, [c], 'beta');
      const rm = Tensor.zeros(gpu(), [c]);
      const rv = Tensor.fromArray(gpu(), new Float32Array(c).fill(1), [c]);
      const y = batchNorm2d(tx, tg, tb, rm, rv, { training: true, relu: true });
      expectClose(await y.read(), forward([x, gamma, beta]), { atol: 1e-5, rtol: 1e-4 }, `forward seed=${rng.seed}`);
      backward(y, Tensor.fromArray(gpu(), r, [n, c, h, w]));
      const tol = { atol: 2e-3, rtol: 2e-2 };
      expectGradClose(await tx.grad!.read(), forward, [x, gamma, beta], r, 0, tol, `dx seed=${rng.seed}`);
      expectGradClose(await tg.grad!.read(), forward, [x, gamma, beta], r, 1, tol, `dgamma seed=${rng.seed}`);
      expectGradClose(await tb.grad!.read(), forward, [x, gamma, beta], r, 2, tol, `dbeta seed=${rng.seed}`);
      scope.close();
    });
  }

  it('eval: relu(BN(x)) with running statistics', async () => {
    const rng = new Rng();
    const [n, c, h, w] = [2, 3, 4, 5];
    const x = f32(rng.normals(n * c * h * w));
    const gamma = f32(rng.array(c, 0.5, 1.5));
    const beta = f32(rng.array(c, -0.5, 0.5));
    const mean = f32(rng.array(c, -0.2, 0.2));
    const variance = f32(rng.array(c, 0.5, 2));
    const scope = Scope.open();
    const y = batchNorm2d(Tensor.fromArray(gpu(), x, [n, c, h, w]), Tensor.fromArray(gpu(), gamma, [c]), Tensor.fromArray(gpu(), beta, [c]), Tensor.fromArray(gpu(), mean, [c]), Tensor.fromArray(gpu(), variance, [c]), { training: false, relu: true });
    expectClose(await y.read(), reluRef(batchNormApplyRef(x, gamma, beta, mean, variance, { n, c, h, w }, 1e-5)), { atol: 1e-5, rtol: 1e-4 }, `eval seed=${rng.seed}`);
    scope.close();
  });
});

// The end of a residual block, relu(skip + BN(x)), fused into BN's normalising pass (residual option).
describe('batchNorm2d with a fused residual add and ReLU', () => {
  // x, gamma, beta, skip and an output gradient r for an [n, c, h, w] input
  const residualInputs = (rng: Rng, [n, c, h, w]: number[]) => {
    const size = n * c * h * w;
    return { x: f32(rng.normals(size)), gamma: f32(rng.array(c, 0.5, 1.5)), beta: f32(rng.array(c, -0.5, 0.5)), skip: f32(rng.normals(size)), r: f32(rng.normals(size)) };
  };
  // H*W = 35 (f32 elements), 16 (64-byte elements), 12 (vec4 elements)
  for (const [n, c, h, w] of [
    [3, 4, 5, 7],
    [2, 5, 4, 4],
    [2, 3, 3, 4],
  ]) {
    it(`training: relu(skip + BN(x)) and its gradients for x, gamma, beta, skip match float64 [${n},${c},${h},${w}]`, async () => {
      const rng = new Rng();
      const s = { n, c, h, w };
      const { x, gamma, beta, skip, r } = drawAwayFromKink(
        () => residualInputs(rng, [n, c, h, w]),
        (v) => batchNormTrainRef(v.x, v.gamma, v.beta, s, 1e-5).map((b, i) => b + v.skip[i]),
      );
      const forward = ([xx, gg, bb, ss]: Float64Array[]) => reluRef(batchNormTrainRef(xx, gg, bb, s, 1e-5).map((v, i) => v + ss[i]));
      const scope = Scope.open();
      const tx = leaf(gpu(), x, [n, c, h, w], 'x');
      const tg = leaf(gpu(), gamma, [c], 'gamma');
      const tb = leaf(gpu(), beta, [c], 'beta');
      const ts = leaf(gpu(), skip, [n, c, h, w], 'skip');
      const rm = Tensor.zeros(gpu(), [c]);
      const rv = Tensor.fromArray(gpu(), new Float32Array(c).fill(1), [c]);
      const y = batchNorm2d(tx, tg, tb, rm, rv, { training: true, relu: true, residual: ts });
      const inputs = [x, gamma, beta, skip];
      expectClose(await y.read(), forward(inputs), { atol: 1e-5, rtol: 1e-4 }, `forward seed=${rng.seed}`);
      backward(y, Tensor.fromArray(gpu(), r, [n, c, h, w]));
      const tol = { atol: 2e-3, rtol: 2e-2 };
      expectGradClose(await tx.grad!.read(), forward, inputs, r, 0, tol, `dx seed=${rng.seed}`);
      expectGradClose(await tg.grad!.read(), forward, inputs, r, 1, tol, `dgamma seed=${rng.seed}`);
      expectGradClose(await tb.grad!.read(), forward, inputs, r, 2, tol, `dbeta seed=${rng.seed}`);
      expectGradClose(await ts.grad!.read(), forward, inputs, r, 3, tol, `dskip seed=${rng.seed}`);
      scope.close();
    });
  }

  it('gives the same bits as addRelu(skip, BN(x)), forward and backward, training and eval', async () => {
    const rng = new Rng();
    const [n, c, h, w] = [4, 6, 8, 8];
    const { x, gamma, beta, skip, r } = residualInputs(rng, [n, c, h, w]);
    for (const training of [true, false]) {
      const run = async (fused: boolean) => {
        const scope = Scope.open();
        const tx = leaf(gpu(), x, [n, c, h, w], 'x');
        const tg = leaf(gpu(), gamma, [c], 'gamma');
        const tb = leaf(gpu(), beta, [c], 'beta');
        const ts = leaf(gpu(), skip, [n, c, h, w], 'skip');
        const rm = Tensor.fromArray(gpu(), f32(rng.array(c, -0.1, 0.1).map(() => 0.05)), [c]);
        const rv = Tensor.fromArray(gpu(), new Float32Array(c).fill(1.5), [c]);
        const y = fused ? batchNorm2d(tx, tg, tb, rm, rv, { training, relu: true, residual: ts }) : addRelu(ts, batchNorm2d(tx, tg, tb, rm, rv, { training }));
        backward(y, Tensor.fromArray(gpu(), r, [n, c, h, w]));
        const out = [await y.read(), await tx.grad!.read(), await tg.grad!.read(), await tb.grad!.read(), await ts.grad!.read(), await rm.read(), await rv.read()];
        scope.close();
        return out;
      };
      const [a, b] = [await run(true), await run(false)];
      const names = ['y', 'dx', 'dgamma', 'dbeta', 'dskip', 'running_mean', 'running_var'];
      for (let k = 0; k < a.length; k++) {
        const bad = a[k].findIndex((v, i) => !Object.is(v, b[k][i]));
        expect(bad, `${names[k]} (training ${training}): first element whose bits differ`).toBe(-1);
      }
    }
  });

  it('rejects a residual of another shape', () => {
    const scope = Scope.open();
    const x = Tensor.zeros(gpu(), [2, 3, 4, 4]);
    const p = Tensor.zeros(gpu(), [3]);
    expect(() => batchNorm2d(x, p, p, p, p, { training: true, relu: true, residual: Tensor.zeros(gpu(), [2, 3, 4, 5]) })).toThrow(/residual \[2, 3, 4, 5\] and x \[2, 3, 4, 4\] must have the same shape/);
    scope.close();
  });
});
