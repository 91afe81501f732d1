import { describe, expect, it } from 'vitest';
// @kernels cross_entropy_forward cross_entropy_backward accuracy_count
// @gradcheck cross_entropy_backward
import { backward } from '../src/autograd/backward.js';
import { checkLabels, countCorrect, crossEntropy } from '../src/ops/cross_entropy.js';
import { leaf } from '../src/tensor/param_store.js';
import { Scope } from '../src/tensor/scope.js';
import { Tensor } from '../src/tensor/tensor.js';
import { expectClose } from './helpers/compare.js';
import { expectGradClose } from './helpers/gradcheck.js';
import { useGpu } from './helpers/gpu.js';
import { f32, Rng } from './helpers/random.js';
import { countCorrectRef, crossEntropyBackwardRef, crossEntropyRef } from './reference/cross_entropy.js';

const gpu = useGpu();

function labelsFor(rng: Rng, n: number, k: number): Uint32Array {
  return Uint32Array.from({ length: n }, () => rng.int(k));
}

describe('crossEntropy', () => {
  const shapes: [number, number, number][] = [
    [1, 10, 1],
    [3, 7, 1],
    [128, 10, 1],
    [300, 10, 1], // more rows than invocations
    [64, 1000, 1], // ImageNet classes
    [2049, 10, 1],
    [50, 10, 40], // large logits: needs the max shift
  ];
  for (const [n, k, scale] of shapes) {
    it(`loss and gradient match float64 N=${n} K=${k} scale=${scale}`, async () => {
      const rng = new Rng();
      const g = gpu();
      const z = f32(rng.normals(n * k, scale));
      const y = labelsFor(rng, n, k);
      const up = f32([rng.uniform(0.5, 2)]);
      const scope = Scope.open();
      const tz = leaf(g, z, [n, k]);
      const loss = crossEntropy(tz, Tensor.fromArray(g, y, [n], 'u32'));
      expect(loss.shape).toEqual([1]);
      const label = `N=${n} K=${k} seed=${rng.seed}`;
      expectClose(await loss.read(), crossEntropyRef(z, y, n, k), { atol: 1e-5, rtol: 1e-5 }, `cross_entropy_forward ${label}`);
      backward(loss, Tensor.fromArray(g, up, [1]));
      expectClose(await tz.grad!.read(), crossEntropyBackwardRef(z, y, n, k, up[0]), { atol: 1e-6, rtol: 1e-4 }, `cross_entropy_backward ${label}`);
      scope.close();
    });
  }

  it('finite-difference check of dlogits', async () => {
    const rng = new Rng();
    const [n, k] = [5, 7];
    const g = gpu();
    const z = f32(rng.normals(n * k, 2));
    const y = labelsFor(rng, n, k);
    const up = f32([rng.uniform(0.5, 2)]);
    const scope = Scope.open();
    const tz = leaf(g, z, [n, k]);
    backward(crossEntropy(tz, Tensor.fromArray(g, y, [n], 'u32')), Tensor.fromArray(g, up, [1]));
    const grad = await tz.grad!.read();
    scope.close();
    expectGradClose(grad, ([zz]) => crossEntropyRef(zz, y, n, k), [z], up, 0, { atol: 1e-6, rtol: 1e-4 }, `cross_entropy seed=${rng.seed}`);
  });

  it('NaN and inf in the logits reach the loss (no clamping)', async () => {
    const g = gpu();
    const labels = Tensor.fromArray(g, [1, 0], [2], 'u32');
    const z = new Float32Array(20).fill(0.5);
    z[13] = NaN;
    expect(Number.isNaN((await crossEntropy(Tensor.fromArray(g, z, [2, 10]), labels).read())[0])).toBe(true);
    z[13] = Infinity;
    expect(Number.isFinite((await crossEntropy(Tensor.fromArray(g, z, [2, 10]), labels).read())[0])).toBe(false);
    z[13] = 0.5;
    z[1] = -Infinity; // the label's own logit at -inf: infinite loss
    expect((await crossEntropy(Tensor.fromArray(g, z, [2, 10]), labels).read())[0]).toBe(Infinity);
  });

  it('an out-of-range label makes the loss and its row of the gradient NaN, other rows intact', async () => {
    const rng = new Rng();
    const [n, k] = [4, 10];
    const g = gpu();
    const z = f32(rng.normals(n * k));
    const y = Uint32Array.of(3, 10, 0, 0xffffffff);
    const scope = Scope.open();
    const tz = leaf(g, z, [n, k]);
    const loss = crossEntropy(tz, Tensor.fromArray(g, y, [n], 'u32'));
    expect(Number.isNaN((await loss.read())[0]), `seed=${rng.seed}`).toBe(true);
    backward(loss, Tensor.fromArray(g, [1], [1]));
    const grad = await tz.grad!.read();
    scope.close();
    expect(grad.slice(10, 20).every(Number.isNaN)).toBe(true);
    expect(grad.slice(30, 40).every(Number.isNaN)).toBe(true);
    const ok = crossEntropyBackwardRef(z.slice(0, 10), [3], 1, k, 1 / n);
    expectClose(grad.slice(0, 10), ok, { atol: 1e-7, rtol: 1e-4 }, `valid row seed=${rng.seed}`);
    expect(() => checkLabels(y, k)).toThrow(/labels\[1\] = 10 is not a class index in \[0, 10\)/);
    expect(() => checkLabels([0, 9, 2], k)).not.toThrow();
  });

  it('rejects bad shapes and dtypes with the op and shapes in the message', () => {
    const g = gpu();
    const z = Tensor.zeros(g, [4, 10]);
    expect(() => crossEntropy(z, Tensor.zeros(g, [3], 'u32'))).toThrow(/crossEntropy: labels \[3\] must have one entry per row of logits \[4, 10\]/);
    expect(() => crossEntropy(z, Tensor.zeros(g, [4], 'f32'))).toThrow(/crossEntropy: labels must be u32/);
    expect(() => crossEntropy(Tensor.zeros(g, [40]), Tensor.zeros(g, [4], 'u32'))).toThrow(/crossEntropy: logits must have rank 2/);
    expect(() => countCorrect(z, Tensor.zeros(g, [5], 'u32'))).toThrow(/countCorrect: labels \[5\]/);
  });
});

describe('countCorrect', () => {
  for (const [n, k] of [
    [1, 10],
    [7, 3],
    [300, 10],
    [2000, 10],
    [33, 1000],
  ]) {
    it(`matches the float64 argmax count N=${n} K=${k}`, async () => {
      const rng = new Rng();
      const z = f32(rng.normals(n * k));
      // About half the labels are the argmax, the rest random.
      const y = labelsFor(rng, n, k).map((v, r) => (rng.next() < 0.5 ? countArgmax(z, r, k) : v));
      const c = await countCorrect(Tensor.fromArray(gpu(), z, [n, k]), Tensor.fromArray(gpu(), y, [n], 'u32')).read();
      expect(c).toBeInstanceOf(Uint32Array);
      expect(c[0], `seed=${rng.seed}`).toBe(countCorrectRef(z, y, n, k));
    });
  }

  it('ties go to the first maximum; out-of-range labels are never correct', async () => {
    const z = new Float32Array(12).fill(1); // 3 rows of 4 equal logits
    const c = await countCorrect(Tensor.fromArray(gpu(), z, [3, 4]), Tensor.fromArray(gpu(), [0, 1, 4], [3], 'u32')).read();
    expect(c[0]).toBe(1);
  });
});

function countArgmax(z: Float64Array, r: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (z[r * k + j] > z[r * k + best]) best = j;
  return best;
}
