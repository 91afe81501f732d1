import { describe, expect, it } from 'vitest';
// @kernels add add_inplace relu_forward relu_backward fill add_relu_forward
// @gradcheck relu_backward
import { backward } from '../src/autograd/backward.js';
import { add, addInPlace, addRelu, relu } from '../src/ops/elementwise.js';
import { leaf } from '../src/tensor/param_store.js';
import { Scope } from '../src/tensor/scope.js';
import { Tensor } from '../src/tensor/tensor.js';
import { expectClose } from './helpers/compare.js';
import { expectGradClose } from './helpers/gradcheck.js';
import { useGpu } from './helpers/gpu.js';
import { f32, Rng } from './helpers/random.js';
import { addRef, reluRef } from './reference/elementwise.js';

const gpu = useGpu();

describe('elementwise kernels', () => {
  for (const n of [1, 7, 256, 1000, 70_001, 70_000, 1_048_576 + 12, 1_048_576 + 16]) {
    it(`add, add_inplace, relu_forward match float64 (n=${n}, ${n % 16 === 0 ? 'wide' : n % 4 ? 'scalar' : 'vec4'})`, async () => {
      const rng = new Rng();
      const a = f32(rng.array(n)), b = f32(rng.array(n));
      const ta = Tensor.fromArray(gpu(), a, [n]), tb = Tensor.fromArray(gpu(), b, [n]);
      expectClose(await add(ta, tb).read(), addRef(a, b), {}, `add seed=${rng.seed}`);
      expectClose(await relu(ta).read(), reluRef(a), { atol: 0, rtol: 0 }, `relu seed=${rng.seed}`);
      addInPlace(ta, tb);
      expectClose(await ta.read(), addRef(a, b), {}, `add_inplace seed=${rng.seed}`);
    });
  }

  it('the in-place adds refuse a tensor that is not f32 (its bits would be added as floats)', () => {
    const f = Tensor.fromArray(gpu(), new Float32Array(4), [4]);
    const u = Tensor.fromArray(gpu(), new Uint32Array(4), [4], 'u32');
    expect(() => addInPlace(f, u)).toThrow(/addInPlace.*x/);
    expect(() => addInPlace(u, f)).toThrow(/addInPlace.*acc/);
  });

  it('relu_backward and add backward pass finite-difference checks (residual: x used twice)', async () => {
    const rng = new Rng();
    const n = 300;
    // Keep inputs away from the kink at 0 so finite differences are valid.
    const x = f32(rng.array(n).map((v) => (Math.abs(v) < 1e-3 ? 0.5 : v)));
    const r = f32(rng.array(n));
    // y = relu(x) + x : x feeds two ops, so its gradient accumulates.
    const forward = ([xx]: Float64Array[]) => addRef(reluRef(xx), xx);
    const scope = Scope.open();
    const tx = leaf(gpu(), x, [n]);
    const y = add(relu(tx), tx);
    backward(y, Tensor.fromArray(gpu(), r, [n]));
    const g = await tx.grad!.read();
    scope.close();
    expectGradClose(g, forward, [x], r, 0, { atol: 1e-6, rtol: 1e-6 }, `relu+add seed=${rng.seed}`);
  });

  it('a parameter reshaped twice gets the sum of both uses\' gradients (and a reshaped activation too)', async () => {
    const rng = new Rng();
    const x = f32(rng.array(12).map((v) => (Math.abs(v) < 1e-3 ? 0.5 : v)));
    const r = f32(rng.array(12));
    // y = relu(reshape(p)) + reshape(p): two views of one leaf, each its own Tensor object
    const scope = Scope.open();
    const p = leaf(gpu(), x, [3, 4]);
    const y = add(relu(p.reshape([12])), p.reshape([12]));
    backward(y, Tensor.fromArray(gpu(), r, [12]));
    const g = await p.grad!.read();
    // z = h' + h' with h' = reshape(relu(q)): a reshaped non-leaf used twice
    const q = leaf(gpu(), x, [2, 6]);
    const h = relu(q);
    const z = add(h.reshape([12]), h.reshape([12]));
    backward(z, Tensor.fromArray(gpu(), r, [12]));
    const gq = await q.grad!.read();
    scope.close();
    expectGradClose(g, ([xx]) => addRef(reluRef(xx), xx), [x], r, 0, { atol: 1e-6, rtol: 1e-6 }, `reshaped leaf seed=${rng.seed}`);
    expectGradClose(gq, ([xx]) => addRef(reluRef(xx), reluRef(xx)), [x], r, 0, { atol: 1e-6, rtol: 1e-6 }, `reshaped activation seed=${rng.seed}`);
  });

  for (const n of [500, 512]) it(`add_relu_forward matches relu(a + b), and its backward passes a finite-difference check for both inputs (n=${n}, ${n % 16 ? 'vec4' : 'wide'})`, async () => {
    const rng = new Rng();
    // Keep a + b away from the kink at 0.
    const a = f32(rng.array(n));
    const b = f32(Float64Array.from(rng.array(n), (v, i) => (Math.abs(v + a[i]) < 1e-3 ? v + 0.5 : v)));
    const r = f32(rng.array(n));
    const scope = Scope.open();
    const ta = leaf(gpu(), a, [n], 'a');
    const tb = leaf(gpu(), b, [n], 'b');
    const y = addRelu(ta, tb);
    expectClose(await y.read(), reluRef(addRef(a, b)), { atol: 0, rtol: 1e-7 }, `add_relu seed=${rng.seed}`);
    backward(y, Tensor.fromArray(gpu(), r, [n]));
    const forward = ([aa, bb]: Float64Array[]) => reluRef(addRef(aa, bb));
    expectGradClose(await ta.grad!.read(), forward, [a, b], r, 0, { atol: 1e-6, rtol: 1e-6 }, `add_relu da seed=${rng.seed}`);
    expectGradClose(await tb.grad!.read(), forward, [a, b], r, 1, { atol: 1e-6, rtol: 1e-6 }, `add_relu db seed=${rng.seed}`);
    scope.close();
  });

  it('rejects mismatched shapes with the op and shapes in the message', () => {
    const a = Tensor.zeros(gpu(), [2, 3]);
    const b = Tensor.zeros(gpu(), [3, 2]);
    expect(() => add(a, b)).toThrow(/add: a \[2, 3\] and b \[3, 2\]/);
    const i = Tensor.zeros(gpu(), [2, 3], 'u32');
    expect(() => relu(i)).toThrow(/relu: x must be f32/);
  });
});
