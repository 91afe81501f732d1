import { describe, expect, it } from 'vitest';
// @kernels reduce_sum reduce_sum_abs reduce_sum_squares reduce_dot reduce_squared_distance reduce_sign_changes reduce_sum_u32
import { countSignChanges, dot, squaredDistance, sum, sumAbs, sumSquares, sumU32 } from '../src/ops/reduce.js';
import { Tensor } from '../src/tensor/tensor.js';
import { useGpu } from './helpers/gpu.js';
import { f32, Rng } from './helpers/random.js';
import { dotRef, signChangesRef, squaredDistanceRef, sumAbsRef, sumRef, sumSquaresRef, type RefSum } from './reference/reduce.js';

const gpu = useGpu();

async function scalar(t: Tensor): Promise<number> {
  return (await t.read())[0];
}

/** f32 summation error bound: at most ~60 rounding steps deep (per-thread, tree, second pass, terms). */
function expectSum(got: number, ref: RefSum, label: string): void {
  const tol = 4e-6 * ref.scale + 1e-30;
  expect(Math.abs(got - ref.value), `${label}: got ${got}, expected ${ref.value} (tol ${tol})`).toBeLessThanOrEqual(tol);
}

describe('reductions', () => {
  for (const n of [1, 3, 4096, 4097, 70_001, 1_000_003]) {
    it(`sum, sumAbs, sumSquares, dot, squaredDistance, countSignChanges match float64, masked and not (n=${n})`, async () => {
      const rng = new Rng();
      const label = `n=${n} seed=${rng.seed}`;
      const a = f32(rng.array(n, -1, 1).map((v) => v + 0.1));
      const b = f32(rng.array(n, -1, 1));
      const m = Float64Array.from({ length: n }, () => (rng.next() < 0.3 ? 0 : 1));
      for (let i = 0; i < n; i += 97) b[i] = 0; // sign 0 against nonzero counts as a change
      const ta = Tensor.fromArray(gpu(), a, [n]), tb = Tensor.fromArray(gpu(), b, [n]), tm = Tensor.fromArray(gpu(), m, [n]);
      for (const mask of [undefined, m]) {
        const opts = mask ? { mask: tm } : {};
        const l = `${label} ${mask ? 'masked' : 'unmasked'}`;
        expectSum(await scalar(sum(ta, opts)), sumRef(a, mask), `sum ${l}`);
        expectSum(await scalar(sumAbs(ta, opts)), sumAbsRef(a, mask), `sumAbs ${l}`);
        expectSum(await scalar(sumSquares(ta, opts)), sumSquaresRef(a, mask), `sumSquares ${l}`);
        expectSum(await scalar(dot(ta, tb, opts)), dotRef(a, b, mask), `dot ${l}`);
        expectSum(await scalar(squaredDistance(ta, tb, opts)), squaredDistanceRef(a, b, mask), `squaredDistance ${l}`);
        const c = countSignChanges(ta, tb, opts);
        expect(c.dtype).toBe('u32');
        expect(await scalar(c), `signChanges ${l}`).toBe(signChangesRef(a, b, mask));
      }
    });
  }

  it('11.2M elements (ResNet-18 scale): two passes, and bit-identical when repeated', async () => {
    const rng = new Rng();
    const n = 11_173_962;
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = rng.next() - 0.25;
    const b = new Float32Array(n);
    for (let i = 0; i < n; i++) b[i] = rng.next() - 0.5;
    const ta = Tensor.fromArray(gpu(), a, [n]), tb = Tensor.fromArray(gpu(), b, [n]);
    const s1 = await scalar(sum(ta)), s2 = await scalar(sum(ta));
    expect(Object.is(s1, s2)).toBe(true);
    expectSum(s1, sumRef(a), `sum 11M seed=${rng.seed}`);
    expectSum(await scalar(dot(ta, tb)), dotRef(a, b), `dot 11M seed=${rng.seed}`);
    expect(await scalar(countSignChanges(ta, tb)), `sign 11M seed=${rng.seed}`).toBe(signChangesRef(a, b));
  });

  it('gathers several results into one tensor with into/at; sumU32 totals counts', async () => {
    const rng = new Rng();
    const n = 9000;
    const a = f32(rng.array(n)), b = f32(rng.array(n));
    const ta = Tensor.fromArray(gpu(), a, [n]), tb = Tensor.fromArray(gpu(), b, [n]);
    const out = Tensor.empty(gpu(), [3]);
    sum(ta, { into: out, at: 0 });
    dot(ta, tb, { into: out, at: 2 });
    sumSquares(tb, { into: out, at: 1 });
    const got = (await out.read()) as Float32Array;
    expectSum(got[0], sumRef(a), `into sum seed=${rng.seed}`);
    expectSum(got[1], sumSquaresRef(b), `into sumSquares seed=${rng.seed}`);
    expectSum(got[2], dotRef(a, b), `into dot seed=${rng.seed}`);
    const counts = Uint32Array.from({ length: 5000 }, () => rng.int(1000));
    const total = counts.reduce((s, v) => s + v, 0);
    expect(await scalar(sumU32(Tensor.fromArray(gpu(), counts, [5000], 'u32')))).toBe(total);
  });

  it('rejects mismatched shapes, dtypes and bad into/at, naming the op', () => {
    const a = Tensor.zeros(gpu(), [4, 5]), b = Tensor.zeros(gpu(), [5, 4]);
    expect(() => dot(a, b)).toThrow(/dot: a \[4, 5\] and b \[5, 4\]/);
    expect(() => sum(a, { mask: Tensor.zeros(gpu(), [3]) })).toThrow(/sum: input \[4, 5\] and mask \[3\]/);
    expect(() => countSignChanges(a, a, { into: Tensor.zeros(gpu(), [2]) })).toThrow(/countSignChanges: into must be u32/);
    expect(() => sum(a, { into: Tensor.zeros(gpu(), [2]), at: 2 })).toThrow(/sum: at=2 outside into \[2\]/);
    expect(() => sum(Tensor.zeros(gpu(), [3], 'u32'))).toThrow(/sum: a must be f32/);
  });
});
