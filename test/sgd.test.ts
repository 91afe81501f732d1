import { describe, expect, it } from 'vitest';
// @kernels sgd_masked
import { SgdMasked } from '../src/optim/sgd.js';
import { ParamStore } from '../src/tensor/param_store.js';
import { bitsOf, expectClose } from './helpers/compare.js';
import { useGpu } from './helpers/gpu.js';
import { f32, Rng } from './helpers/random.js';
import { sgdMaskedRef } from './reference/sgd.js';

const gpu = useGpu();

const specs = [
  { name: 'conv.w', shape: [16, 3, 3, 3], prunable: true },
  { name: 'bn.gamma', shape: [16], prunable: false },
  { name: 'dead.w', shape: [7, 5], prunable: true }, // all pruned
  { name: 'fc.w', shape: [10, 301], prunable: true },
  { name: 'fc.b', shape: [10], prunable: false },
];

async function readFlat(store: ParamStore, which: 'values' | 'grads' | 'momenta' | 'masks'): Promise<Float32Array> {
  return (await store.flat(which).read()) as Float32Array;
}

describe('sgd_masked', () => {
  it('matches float64 over several steps; pruned weights and momenta are exactly +0; padding stays 0', async () => {
    const rng = new Rng();
    const label = `seed=${rng.seed}`;
    const store = new ParamStore(gpu(), specs);
    const N = store.flatSize;
    const w = new Float64Array(N), v = new Float64Array(N), mask = new Float64Array(N);
    for (const e of store.entries) {
      for (let i = e.offset; i < e.offset + e.size; i++) {
        w[i] = f32([rng.normal()])[0];
        v[i] = f32([rng.uniform(-0.1, 0.1)])[0];
        mask[i] = e.name === 'dead.w' ? 0 : e.prunable ? (rng.next() < 0.5 ? 1 : 0) : 1;
      }
    }
    gpu().write(store.flat('values'), Float32Array.from(w));
    gpu().write(store.flat('momenta'), Float32Array.from(v));
    gpu().write(store.flat('masks'), Float32Array.from(mask));
    const opt = new SgdMasked(store, { momentum: 0.9, weightDecay: 1e-4 });
    const lrs = [0.1, 0.1, 0.01, 0.3];
    for (const lr of lrs) {
      const grad = new Float64Array(N);
      for (const e of store.entries) for (let i = e.offset; i < e.offset + e.size; i++) grad[i] = f32([rng.normal()])[0];
      gpu().write(store.flat('grads'), Float32Array.from(grad));
      opt.setLearningRate(lr);
      opt.step();
      sgdMaskedRef(w, grad, v, mask, Math.fround(lr), Math.fround(0.9), Math.fround(1e-4));
    }
    const gw = await readFlat(store, 'values'), gv = await readFlat(store, 'momenta');
    expectClose(gw, w, { atol: 1e-5, rtol: 1e-5 }, `weights ${label}`);
    expectClose(gv, v, { atol: 1e-5, rtol: 1e-5 }, `momenta ${label}`);
    const wb = bitsOf(gw), vb = bitsOf(gv);
    for (let i = 0; i < N; i++) {
      if (mask[i] === 0) {
        expect(wb[i], `w[${i}] pruned/padding must be +0 ${label}`).toBe(0);
        expect(vb[i], `v[${i}] pruned/padding must be +0 ${label}`).toBe(0);
      }
    }
    // The dead layer is entirely zero; gradients are not modified.
    const dead = store.get('dead.w');
    expect(Array.from(gw.subarray(dead.offset, dead.offset + dead.size)).every((x) => x === 0)).toBe(true);
    store.destroy();
    opt.destroy();
  });

  it('is one dispatch a step, and changing the LR creates no uniform buffer or bind group', async () => {
    const store = new ParamStore(gpu(), specs);
    const opt = new SgdMasked(store, { momentum: 0.9, weightDecay: 1e-4 });
    opt.setLearningRate(0.1);
    opt.step();
    await gpu().sync();
    const before = gpu().stats();
    for (let t = 0; t < 5; t++) {
      opt.setLearningRate(0.1 * 0.5 ** t);
      opt.step();
    }
    await gpu().sync();
    const after = gpu().stats();
    expect(after.dispatches - before.dispatches).toBe(5);
    expect(after.uniformBuffers).toBe(before.uniformBuffers);
    expect(after.bindGroups).toBe(before.bindGroups);
    store.destroy();
    opt.destroy();
  });

  it('zeroMomentum clears every momentum; a zero-LR step only masks', async () => {
    const rng = new Rng();
    const store = new ParamStore(gpu(), specs);
    const N = store.flatSize;
    const w = new Float32Array(N);
    for (const e of store.entries) for (let i = e.offset; i < e.offset + e.size; i++) w[i] = rng.normal();
    gpu().write(store.flat('values'), w);
    gpu().write(store.flat('momenta'), w);
    const opt = new SgdMasked(store, { momentum: 0.9, weightDecay: 0 });
    opt.zeroMomentum();
    expect((await readFlat(store, 'momenta')).every((x) => x === 0)).toBe(true);
    opt.setLearningRate(0);
    opt.step();
    expectClose(await readFlat(store, 'values'), w, { atol: 0, rtol: 0 }, `seed=${rng.seed}`);
    expect(() => new SgdMasked(store, { momentum: -1, weightDecay: 0 })).toThrow(/SgdMasked: momentum/);
    store.destroy();
    opt.destroy();
  });
});
