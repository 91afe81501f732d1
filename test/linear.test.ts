import { describe, expect, it } from 'vitest';
// @kernels linear_forward linear_input_grad linear_weight_grad linear_bias_grad
// @gradcheck linear_input_grad linear_weight_grad linear_bias_grad
import { backward } from '../src/autograd/backward.js';
import { linear } from '../src/ops/linear.js';
import { leaf } from '../src/tensor/param_store.js';
import { Scope } from '../src/tensor/scope.js';
import { Tensor } from '../src/tensor/tensor.js';
import { expectClose } from './helpers/compare.js';
import { expectGradClose } from './helpers/gradcheck.js';
import { useGpu } from './helpers/gpu.js';
import { f32, Rng } from './helpers/random.js';
import { linearBackwardRef, linearRef } from './reference/linear.js';

const gpu = useGpu();

describe('linear', () => {
  const shapes: [number, number, number][] = [
    [1, 3, 1],
    [1, 64, 10], // batch 1, ResNet-20 head
    [3, 17, 5], // nothing a multiple of the tile
    [128, 64, 10], // ResNet-20 head at batch 128
    [33, 512, 100], // VGG / ResNet-18 head, odd batch
    [20, 40, 1000], // ImageNet-sized output
  ];
  for (const [n, inF, outF] of shapes) {
    for (const withBias of [true, false]) {
      it(`forward and backward match float64 N=${n} in=${inF} out=${outF} bias=${withBias}`, async () => {
        const rng = new Rng();
        const g = gpu();
        const x = f32(rng.array(n * inF));
        const w = f32(rng.array(outF * inF, -0.3, 0.3));
        const b = withBias ? f32(rng.array(outF)) : null;
        const dy = f32(rng.normals(n * outF));
        const scope = Scope.open();
        const tx = leaf(g, x, [n, inF]);
        const tw = leaf(g, w, [outF, inF]);
        const tb = b ? leaf(g, b, [outF]) : null;
        const y = linear(tx, tw, tb);
        expect(y.shape).toEqual([n, outF]);
        const label = `N=${n} in=${inF} out=${outF} seed=${rng.seed}`;
        const tol = { atol: 2e-5 * Math.sqrt(inF), rtol: 1e-4 };
        expectClose(await y.read(), linearRef(x, w, b, n, inF, outF), tol, `linear_forward ${label}`);
        backward(y, Tensor.fromArray(g, dy, [n, outF]));
        const ref = linearBackwardRef(x, w, dy, n, inF, outF);
        expectClose(await tx.grad!.read(), ref.dx, { atol: 2e-5 * Math.sqrt(outF), rtol: 1e-4 }, `linear_input_grad ${label}`);
        expectClose(await tw.grad!.read(), ref.dw, { atol: 2e-5 * Math.sqrt(n), rtol: 1e-4 }, `linear_weight_grad ${label}`);
        if (tb) expectClose(await tb.grad!.read(), ref.db, { atol: 2e-5 * Math.sqrt(n), rtol: 1e-4 }, `linear_bias_grad ${label}`);
        scope.close();
      });
    }
  }

  it('finite-difference check of dx, dW, db', async () => {
    const rng = new Rng();
    const [n, inF, outF] = [5, 19, 7];
    const g = gpu();
    const x = f32(rng.array(n * inF));
    const w = f32(rng.array(outF * inF));
    const b = f32(rng.array(outF));
    const r = f32(rng.normals(n * outF));
    const scope = Scope.open();
    const tx = leaf(g, x, [n, inF]);
    const tw = leaf(g, w, [outF, inF]);
    const tb = leaf(g, b, [outF]);
    backward(linear(tx, tw, tb), Tensor.fromArray(g, r, [n, outF]));
    const [gx, gw, gb] = [await tx.grad!.read(), await tw.grad!.read(), await tb.grad!.read()];
    scope.close();
    const fwd = ([xx, ww, bb]: Float64Array[]) => linearRef(xx, ww, bb, n, inF, outF);
    const tol = { atol: 1e-5, rtol: 1e-4 };
    expectGradClose(gx, fwd, [x, w, b], r, 0, tol, `linear dx seed=${rng.seed}`);
    expectGradClose(gw, fwd, [x, w, b], r, 1, tol, `linear dW seed=${rng.seed}`);
    expectGradClose(gb, fwd, [x, w, b], r, 2, tol, `linear db seed=${rng.seed}`);
  });

  it('rejects mismatched shapes with the op and shapes in the message', () => {
    const g = gpu();
    expect(() => linear(Tensor.zeros(g, [4, 8]), Tensor.zeros(g, [10, 9]), null)).toThrow(/linear: x \[4, 8\] and w \[10, 9\] disagree on in_features/);
    expect(() => linear(Tensor.zeros(g, [4, 8]), Tensor.zeros(g, [10, 8]), Tensor.zeros(g, [8]))).toThrow(/linear: b must have shape \[10\] for w \[10, 8\], got \[8\]/);
    expect(() => linear(Tensor.zeros(g, [4, 8, 1]), Tensor.zeros(g, [10, 8]), null)).toThrow(/linear: x must have rank 2/);
  });
});
