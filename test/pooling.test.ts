import { describe, expect, it } from 'vitest';
// @kernels avgpool_global_forward avgpool_global_backward maxpool2d_forward maxpool2d_backward
// @gradcheck avgpool_global_backward maxpool2d_backward
import { backward } from '../src/autograd/backward.js';
import { globalAvgPool, maxPool2d } from '../src/ops/pooling.js';
import { leaf } from '../src/tensor/param_store.js';
import { Scope } from '../src/tensor/scope.js';
import { Tensor } from '../src/tensor/tensor.js';
import { bitsOf, expectClose } from './helpers/compare.js';
import { expectGradClose } from './helpers/gradcheck.js';
import { recordDispatches, useGpu } from './helpers/gpu.js';
import { f32, Rng } from './helpers/random.js';
import { globalAvgPoolRef, maxPool2dRef, poolOut, type PoolGeometry } from './reference/pooling.js';

const gpu = useGpu();

describe('globalAvgPool', () => {
  for (const [n, c, h, w] of [
    [1, 3, 1, 1],
    [2, 3, 2, 2], // HW = 4: vec4
    [2, 3, 4, 8], // HW = 32: 64-byte elements
    [2, 3, 5, 7], // HW = 35: scalar
    [3, 5, 17, 13], // HW = 221: several elements per invocation
    [128, 64, 8, 8], // ResNet-20 head at batch 128
    [4, 512, 7, 7], // ResNet-18 ImageNet head
  ]) {
    it(`forward matches float64 [${n},${c},${h},${w}]`, async () => {
      const rng = new Rng();
      const x = f32(rng.array(n * c * h * w));
      const y = globalAvgPool(Tensor.fromArray(gpu(), x, [n, c, h, w]));
      expect(y.shape).toEqual([n, c]);
      expectClose(await y.read(), globalAvgPoolRef(x, n, c, h, w), { atol: 1e-6, rtol: 1e-5 }, `avgpool seed=${rng.seed}`);
    });
  }

  it('folds the grid into y past 65535 workgroups (4.2M rows), forward and backward', async () => {
    const rng = new Rng();
    const [n, c] = [2, 65535 * 32 + 77]; // one row per invocation, 64 a workgroup
    const x = Float32Array.from({ length: n * c }, () => rng.uniform());
    const scope = Scope.open();
    const tx = leaf(gpu(), x, [n, c, 1, 1]);
    const y = globalAvgPool(tx);
    backward(y, Tensor.fromArray(gpu(), x, [n, c]));
    const [yv, gv] = [await y.read(), await tx.grad!.read()];
    scope.close();
    expect(yv.every((v, i) => v === x[i]), `y seed=${rng.seed}`).toBe(true);
    expect(gv.every((v, i) => v === x[i]), `dx seed=${rng.seed}`).toBe(true);
  });

  for (const [n, c, h, w] of [
    [2, 3, 3, 5],
    [2, 2, 4, 4],
    [1, 3, 2, 2],
    [1, 2, 1, 1],
  ]) {
    it(`backward passes a finite-difference check [${n},${c},${h},${w}]`, async () => {
      const rng = new Rng();
      const x = f32(rng.array(n * c * h * w));
      const r = f32(rng.normals(n * c));
      const scope = Scope.open();
      const tx = leaf(gpu(), x, [n, c, h, w]);
      backward(globalAvgPool(tx), Tensor.fromArray(gpu(), r, [n, c]));
      const g = await tx.grad!.read();
      scope.close();
      expectGradClose(g, ([xx]) => globalAvgPoolRef(xx, n, c, h, w), [x], r, 0, { atol: 1e-6, rtol: 1e-5 }, `avgpool seed=${rng.seed}`);
    });
  }

  it('rejects non-4D input', () => {
    expect(() => globalAvgPool(Tensor.zeros(gpu(), [2, 3]))).toThrow(/globalAvgPool: x must have rank 4, got \[2, 3\]/);
  });
});

/** n distinct values k * 2/n - 1 (k = 0..n-1) in a random order: no two closer than 2/n. */
function tieFree(rng: Rng, n: number): Float64Array {
  const v = Float64Array.from({ length: n }, (_, k) => (2 * k) / n - 1);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [v[i], v[j]] = [v[j], v[i]];
  }
  return v;
}

describe('maxPool2d', () => {
  const cases: PoolGeometry[] = [
    { n: 2, c: 3, h: 8, w: 8, k: 2, stride: 2, pad: 0 }, // VGG (variant k2s2: H even, W % 8 == 0)
    { n: 3, c: 5, h: 6, w: 24, k: 2, stride: 2, pad: 0 }, // k2s2, several 4-output runs a row
    { n: 1, c: 2, h: 7, w: 16, k: 2, stride: 2, pad: 0 }, // odd H: the general form
    { n: 1, c: 3, h: 7, w: 9, k: 2, stride: 2, pad: 0 }, // odd sizes: last row/column dropped
    { n: 2, c: 3, h: 2, w: 2, k: 2, stride: 2, pad: 0 }, // VGG's last pool
    { n: 2, c: 4, h: 16, w: 16, k: 3, stride: 2, pad: 1 }, // ResNet-18 stem
    { n: 1, c: 3, h: 15, w: 13, k: 3, stride: 2, pad: 1 },
    { n: 3, c: 5, h: 9, w: 11, k: 3, stride: 1, pad: 1 }, // heavy overlap
    { n: 2, c: 3, h: 10, w: 11, k: 3, stride: 3, pad: 1 },
    { n: 2, c: 2, h: 6, w: 7, k: 2, stride: 1, pad: 1 },
    { n: 1, c: 2, h: 13, w: 9, k: 4, stride: 4, pad: 2 }, // largest supported stride
  ];
  const str = (g: PoolGeometry) => `[${g.n},${g.c},${g.h},${g.w}] k${g.k} s${g.stride} p${g.pad}`;

  for (const g of cases) {
    it(`forward (values and argmax) matches float64 ${str(g)}`, async () => {
      const rng = new Rng();
      const x = f32(rng.array(g.n * g.c * g.h * g.w));
      const { oh, ow } = poolOut(g);
      const y = maxPool2d(Tensor.fromArray(gpu(), x, [g.n, g.c, g.h, g.w]), { kernel: g.k, stride: g.stride, padding: g.pad });
      expect(y.shape).toEqual([g.n, g.c, oh, ow]);
      expectClose(await y.read(), maxPool2dRef(x, g).y, { atol: 0, rtol: 0 }, `maxpool ${str(g)} seed=${rng.seed}`);
    });

    it(`backward passes a finite-difference check ${str(g)}`, async () => {
      const rng = new Rng();
      const x = f32(tieFree(rng, g.n * g.c * g.h * g.w));
      const { oh, ow } = poolOut(g);
      const r = f32(rng.normals(g.n * g.c * oh * ow));
      const scope = Scope.open();
      const tx = leaf(gpu(), x, [g.n, g.c, g.h, g.w]);
      backward(maxPool2d(tx, { kernel: g.k, stride: g.stride, padding: g.pad }), Tensor.fromArray(gpu(), r, [g.n, g.c, oh, ow]));
      const grad = await tx.grad!.read();
      scope.close();
      // Distinct values at least 2/n apart (tieFree): the step 1e-6 never flips an argmax. (Plain
      // uniform inputs could: two values of a window within 1e-6 failed this check at seed 125115409.)
      expectGradClose(grad, ([xx]) => maxPool2dRef(xx, g).y, [x], r, 0, { atol: 1e-6, rtol: 1e-6 }, `maxpool ${str(g)} seed=${rng.seed}`);
    });
  }

  it('backward at scale routes each gradient to its argmax (3x3/2 pad 1, overlapping windows)', async () => {
    const rng = new Rng();
    const g = { n: 8, c: 16, h: 33, w: 32, k: 3, stride: 2, pad: 1 };
    const x = f32(rng.array(g.n * g.c * g.h * g.w));
    const { oh, ow } = poolOut(g);
    const r = f32(rng.normals(g.n * g.c * oh * ow));
    const scope = Scope.open();
    const tx = leaf(gpu(), x, [g.n, g.c, g.h, g.w]);
    backward(maxPool2d(tx, { kernel: 3, stride: 2, padding: 1 }), Tensor.fromArray(gpu(), r, [g.n, g.c, oh, ow]));
    const grad = await tx.grad!.read();
    scope.close();
    const { argmax } = maxPool2dRef(x, g);
    const expected = new Float64Array(x.length);
    for (let o = 0; o < argmax.length; o++) {
      const plane = Math.floor(o / (oh * ow));
      expected[plane * g.h * g.w + argmax[o]] += r[o];
    }
    expectClose(grad, expected, { atol: 1e-6, rtol: 1e-6 }, `maxpool scatter seed=${rng.seed}`);
  });

  it('loops over planes past the 65535-workgroup grid limit (1x1 window: identity)', async () => {
    const rng = new Rng();
    const planes = 65535 * 64 + 37; // the 1x1 map packs 64 planes a workgroup
    const x = Float32Array.from({ length: planes }, () => rng.uniform());
    const scope = Scope.open();
    const tx = leaf(gpu(), x, [1, planes, 1, 1]);
    const y = maxPool2d(tx, { kernel: 1 });
    backward(y, Tensor.fromArray(gpu(), x, [1, planes, 1, 1]));
    const [yv, gv] = [await y.read(), await tx.grad!.read()];
    scope.close();
    expect(yv.every((v, i) => v === x[i]), `y seed=${rng.seed}`).toBe(true);
    expect(gv.every((v, i) => v === x[i]), `dx seed=${rng.seed}`).toBe(true);
  });

  it('2x2 stride-2 pools of VGG shapes run on the k2s2 variants; the others on the general form', () => {
    for (const [h, w, fast] of [[8, 8, true], [32, 32, true], [2, 8, true], [7, 16, false], [8, 12, false], [2, 2, false]] as const) {
      Scope.run(() => {
        const x = leaf(gpu(), new Float32Array(2 * h * w), [1, 2, h, w]);
        const { dispatches } = recordDispatches(gpu(), () => backward(maxPool2d(x, { kernel: 2 }), Tensor.zeros(gpu(), [1, 2, h >> 1, w >> 1])));
        const pools = dispatches.filter((d) => d.kernel.startsWith('maxpool2d'));
        expect(pools.map((d) => `${d.kernel}:${d.variant ?? ''}`), `${h}x${w}`).toEqual(['maxpool2d_forward', 'maxpool2d_backward'].map((k) => `${k}:${fast ? 'k2s2' : ''}`));
      });
    }
  });

  it('ties keep the first position in window order, NaN wins, dx is dy where the argmax points (bits), k2s2 and general alike', async () => {
    // One plane of 2 x w. Window t < 4 holds a NaN at slot t (row-major: top-left, top-right,
    // bottom-left, bottom-right) and ties elsewhere; the windows after it tie four ways. w = 16 runs
    // on the k2s2 variants, w = 12 on the general form. A -0.0 gradient stays -0.0 in both (the
    // compiler folds the accumulator's 0.0 + g to g).
    for (const w of [16, 12]) {
      const x = new Float32Array(2 * w).fill(-2);
      const slot = (t: number, k: number) => [2 * t, 2 * t + 1, w + 2 * t, w + 2 * t + 1][k];
      for (let t = 0; t < 4; t++) for (let k = 0; k < 4; k++) x[slot(t, k)] = k === t ? NaN : 1.5;
      const dy = Float32Array.from({ length: w / 2 }, (_, t) => (t === 4 ? -0 : t + 1));
      const scope = Scope.open();
      try {
        const tx = leaf(gpu(), x, [1, 1, 2, w]);
        const y = maxPool2d(tx, { kernel: 2 });
        backward(y, Tensor.fromArray(gpu(), dy, [1, 1, 1, w / 2]));
        const [yv, gv] = [await y.read(), await tx.grad!.readF32()];
        expect(Array.from(yv.slice(0, 4)).every(Number.isNaN), `w=${w}`).toBe(true);
        expect(Array.from(yv.slice(4)), `w=${w}`).toEqual(new Array(w / 2 - 4).fill(-2));
        // the NaN's position takes its window's gradient; after them the first (top-left) of four ties
        const expected = new Float32Array(2 * w);
        for (let t = 0; t < w / 2; t++) expected[slot(t, t < 4 ? t : 0)] = dy[t];
        expect(bitsOf(gv), `w=${w}: dx bits`).toEqual(bitsOf(expected));
      } finally {
        scope.close();
      }
    }
  });

  it('propagates NaN (a NaN in a window makes its maximum NaN)', async () => {
    const x = new Float32Array(16).map((_, i) => i);
    x[5] = NaN;
    const y = await maxPool2d(Tensor.fromArray(gpu(), x, [1, 1, 4, 4]), { kernel: 2 }).read();
    expect(Number.isNaN(y[0])).toBe(true);
    expect(Array.from(y.slice(1))).toEqual([7, 13, 15]);
  });

  it('rejects bad geometry with the op and shapes in the message', () => {
    const x = Tensor.zeros(gpu(), [1, 3, 4, 4]);
    expect(() => maxPool2d(x, { kernel: 3, stride: 2, padding: 2 })).toThrow(/maxPool2d: padding 2 must be at most half the kernel 3/);
    expect(() => maxPool2d(Tensor.zeros(gpu(), [1, 3, 1, 1]), { kernel: 2 })).toThrow(/maxPool2d: x \[1, 3, 1, 1\] is smaller than the 2x2 window/);
    expect(() => maxPool2d(Tensor.zeros(gpu(), [3, 4, 4]), { kernel: 2 })).toThrow(/maxPool2d: x must have rank 4/);
    expect(() => maxPool2d(Tensor.zeros(gpu(), [1, 1, 12, 12]), { kernel: 5 })).toThrow(/maxPool2d: stride 5 is above the supported 4/);
  });
});
