import { describe, expect, it } from 'vitest';
// @kernels gather scatter permute_keys permute_seg_keys permute_radix_count permute_radix_scatter permute_scan_blocks permute_scan_add permute_segments permute_segment_ids
import { exclusiveScanU32, gather, permuteSegments, scatter, scatterInto, SEGMENT_FIXED, segmentIds, shuffleWeights, type SegmentStructure } from '../src/ops/permute.js';
import { Scope } from '../src/tensor/scope.js';
import { Tensor } from '../src/tensor/tensor.js';
import { useGpu } from './helpers/gpu.js';
import { f32, Rng } from './helpers/random.js';
import { chiSquareBound, chiSquareUniform } from './reference/rng.js';
import { FIXED, gatherRef, permuteSegmentsRef, scatterRef, segmentIdsRef, segmentMultisets } from './reference/permute.js';

const gpu = useGpu();

const bitsOf = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

describe('gather / scatter / exclusive scan', () => {
  it('gather and scatter match the reference (f32 and u32, out-of-range indices)', async () => {
    const rng = new Rng();
    const label = `seed=${rng.seed}`;
    const ns = 1000, n = 3001;
    const src = f32(rng.array(ns));
    const idx = Uint32Array.from({ length: n }, () => (rng.next() < 0.05 ? ns + rng.int(10) : rng.int(ns)));
    const g = await gather(Tensor.fromArray(gpu(), src, [ns]), Tensor.fromArray(gpu(), idx, [n], 'u32')).read();
    expect(firstDiff(bitsOf(g as Float32Array), gatherRef(bitsOf(Float32Array.from(src)), idx, 0xffffffff)), label).toBe(-1);
    // scatter with a permutation plus a few out-of-range indices (skipped).
    const perm = Array.from({ length: ns }, (_, i) => i).sort(() => rng.next() - 0.5);
    const sidx = Uint32Array.from(perm.map((p, i) => (i % 97 === 0 ? ns + 5 : p)));
    const usrc = Uint32Array.from({ length: ns }, () => rng.int(2 ** 32));
    const base = Uint32Array.from({ length: ns }, (_, i) => i);
    const out = Tensor.fromArray(gpu(), base, [ns], 'u32');
    scatterInto(Tensor.fromArray(gpu(), usrc, [ns], 'u32'), Tensor.fromArray(gpu(), sidx, [ns], 'u32'), out);
    expect(firstDiff(Array.from(await out.read()), scatterRef(usrc, sidx, Array.from(base))), label).toBe(-1);
    const z = await scatter(Tensor.fromArray(gpu(), usrc, [ns], 'u32'), Tensor.fromArray(gpu(), sidx, [ns], 'u32'), [ns]).read();
    expect(firstDiff(Array.from(z), scatterRef(usrc, sidx, new Array(ns).fill(0))), label).toBe(-1);
  });

  it('gather on a grid folded into y (n > 65535 * 256)', async () => {
    const rng = new Rng();
    const n = 65535 * 256 + 4099, ns = 1021;
    const src = Uint32Array.from({ length: ns }, () => rng.int(2 ** 32));
    const off = rng.int(ns);
    const idx = new Uint32Array(n);
    for (let i = 0; i < n; i++) idx[i] = (i + off) % ns;
    const got = await gather(Tensor.fromArray(gpu(), src, [ns], 'u32'), Tensor.fromArray(gpu(), idx, [n], 'u32')).read();
    let bad = -1;
    for (let i = 0; i < n && bad < 0; i++) if (got[i] !== src[idx[i]]) bad = i;
    expect(bad, `seed=${rng.seed}`).toBe(-1);
  });

  for (const n of [1, 1023, 1024, 5000, 1_100_000]) {
    it(`exclusiveScanU32 is exact (n=${n})`, async () => {
      const rng = new Rng();
      const data = Uint32Array.from({ length: n }, () => rng.int(16));
      const t = Tensor.fromArray(gpu(), data, [n], 'u32');
      exclusiveScanU32(t);
      const got = await t.read();
      const want = new Uint32Array(n);
      for (let i = 1; i < n; i++) want[i] = want[i - 1] + data[i - 1];
      expect(firstDiff(got, want), `seed=${rng.seed}`).toBe(-1);
    });
  }

  it('rejects bad arguments naming the op', () => {
    const f = Tensor.zeros(gpu(), [4]);
    expect(() => gather(f, f)).toThrow(/gather: idx must be u32/);
    expect(() => scatterInto(f, Tensor.zeros(gpu(), [3], 'u32'), f)).toThrow(/scatter: src \[4\] and idx \[3\]/);
    expect(() => permuteSegments(f, Tensor.zeros(gpu(), [5], 'u32'), 1, 1)).toThrow(/permuteSegments: values \[4\] and segIds \[5\]/);
    expect(() => permuteSegments(f, Tensor.zeros(gpu(), [4], 'u32'), 0, 1)).toThrow(/permuteSegments: numSegments 0/);
    expect(() => segmentIds(f, f, 'filter')).toThrow(/segmentIds: structure 'filter' needs a weight of rank >= 2/);
  });
});

describe('permuteSegments', () => {
  const cases: { n: number; numSegments: number; fixedFrac: number }[] = [
    { n: 1, numSegments: 1, fixedFrac: 0 },
    { n: 9, numSegments: 1, fixedFrac: 0 },
    { n: 1000, numSegments: 9, fixedFrac: 0.3 },
    { n: 4099, numSegments: 17, fixedFrac: 0.5 },
    { n: 30_011, numSegments: 300, fixedFrac: 0.2 },
    { n: 70_001, numSegments: 70_000, fixedFrac: 0.1 }, // 5 digits, many empty segments
  ];
  for (const { n, numSegments, fixedFrac } of cases) {
    it(`equals the CPU reference exactly; multisets per segment kept; fixed positions kept (n=${n}, ${numSegments} segments)`, async () => {
      const rng = new Rng();
      const seed = rng.int(2 ** 31), stream = rng.int(100);
      const label = `n=${n} seed=${seed} stream=${stream} rngSeed=${rng.seed}`;
      const values = f32(rng.array(n));
      const seg = Uint32Array.from({ length: n }, () => (rng.next() < fixedFrac ? (rng.next() < 0.5 ? FIXED : numSegments + rng.int(5)) : rng.int(numSegments)));
      const tv = Tensor.fromArray(gpu(), values, [n]);
      const ts = Tensor.fromArray(gpu(), seg, [n], 'u32');
      const got = (await permuteSegments(tv, ts, numSegments, seed, stream).read()) as Float32Array;
      const want = permuteSegmentsRef(Float32Array.from(values), seg, numSegments, seed, stream);
      const d = firstDiff(got, want);
      expect(d, `${label}: first difference at ${d}: got ${got[d]}, expected ${want[d]}`).toBe(-1);
      const before = segmentMultisets(values, seg, numSegments), after = segmentMultisets(got, seg, numSegments);
      for (const [k, l] of before) expect(after.get(k), `${label} segment ${k}`).toEqual(l);
    });
  }

  it('same seed gives the same bits; another seed or stream moves values differently; u32 values work', async () => {
    const rng = new Rng();
    const n = 5000;
    const values = Uint32Array.from({ length: n }, (_, i) => i);
    const seg = Uint32Array.from({ length: n }, (_, i) => i % 3);
    const tv = Tensor.fromArray(gpu(), values, [n], 'u32'), ts = Tensor.fromArray(gpu(), seg, [n], 'u32');
    const seed = rng.int(2 ** 31);
    const run = async (s: number, st: number) => Array.from(await permuteSegments(tv, ts, 3, s, st).read());
    const a = await run(seed, 0), b = await run(seed, 0), c = await run(seed + 1, 0), d = await run(seed, 1);
    expect(a).toEqual(b);
    const same = (x: number[], y: number[]) => x.reduce((k, v, i) => k + (v === y[i] ? 1 : 0), 0);
    expect(same(a, c), `seed=${seed}`).toBeLessThan(n / 50);
    expect(same(a, d), `seed=${seed}`).toBeLessThan(n / 50);
    for (let i = 0; i < n; i++) expect(a[i] % 3, `segment kept at ${i}`).toBe(i % 3);
  });

  it('is uniform: in 9-element segments every value lands in every slot equally often (chi-square)', async () => {
    const rng = new Rng();
    const seed = rng.int(2 ** 31);
    const segs = 20_000, n = 9 * segs;
    // Interleaved segments (as kernel positions are in OIHW): segment s holds positions s, s + segs, ...
    const values = Uint32Array.from({ length: n }, (_, i) => Math.floor(i / segs)); // slot of origin, 0..8
    const seg = Uint32Array.from({ length: n }, (_, i) => i % segs);
    const got = await permuteSegments(Tensor.fromArray(gpu(), values, [n], 'u32'), Tensor.fromArray(gpu(), seg, [n], 'u32'), segs, seed).read();
    const table = new Float64Array(81);
    for (let i = 0; i < n; i++) table[got[i] * 9 + Math.floor(i / segs)]++;
    expect(chiSquareUniform(table), `seed=${seed}`).toBeLessThan(chiSquareBound(64));
    // Fixed points: a uniform permutation of 9 has on average one.
    let fixed = 0;
    for (let i = 0; i < n; i++) if (got[i] === Math.floor(i / segs)) fixed++;
    expect(Math.abs(fixed / segs - 1), `seed=${seed}`).toBeLessThan(6 / Math.sqrt(segs));
  });

  it('is uniform in one big segment: where the first tenth goes, and pairwise order (2.4M, a ResNet-18 layer)', async () => {
    const rng = new Rng();
    const seed = rng.int(2 ** 31);
    const n = 512 * 512 * 9;
    const values = Uint32Array.from({ length: n }, (_, i) => i);
    const seg = new Uint32Array(n);
    const scope = Scope.open();
    const t0 = performance.now();
    const out = permuteSegments(Tensor.fromArray(gpu(), values, [n], 'u32'), Tensor.fromArray(gpu(), seg, [n], 'u32'), 1, seed);
    const got = await out.read();
    const ms = performance.now() - t0;
    scope.close();
    const seen = new Uint8Array(n);
    for (const v of got) seen[v] = 1;
    expect(seen.every((x) => x === 1), `a permutation, seed=${seed}`).toBe(true);
    const bins = new Float64Array(20);
    for (let i = 0; i < n; i++) if (got[i] < n / 10) bins[Math.floor((i / n) * 20)]++;
    expect(chiSquareUniform(bins), `seed=${seed}`).toBeLessThan(chiSquareBound(19));
    let ascending = 0;
    for (let i = 1; i < n; i++) if (got[i] > got[i - 1]) ascending++;
    expect(Math.abs(ascending / (n - 1) - 0.5), `seed=${seed}`).toBeLessThan(6 * 0.5 / Math.sqrt(n));
    console.log(`permuteSegments n=${n}: ${ms.toFixed(0)} ms including upload and readback`);
  });
});

describe('segmentIds', () => {
  const shapes = [[8, 3, 3, 3], [10, 37], [4, 5, 1, 1]];
  for (const shape of shapes) {
    for (const structure of ['layer', 'filter', 'input_channel', 'kernel_position'] as SegmentStructure[]) {
      it(`${structure} ids match the reference, same-sign and not ([${shape.join(', ')}])`, async () => {
        const rng = new Rng();
        const n = shape.reduce((a, b) => a * b, 1);
        const w = f32(rng.array(n));
        w[0] = 0;
        const mask = Float64Array.from({ length: n }, () => (rng.next() < 0.3 ? 0 : 1));
        const tw = Tensor.fromArray(gpu(), w, shape), tm = Tensor.fromArray(gpu(), mask, shape);
        for (const sameSign of [false, true]) {
          const { ids, numSegments } = segmentIds(tw, tm, structure, sameSign);
          const want = segmentIdsRef(w, mask, shape, structure, sameSign);
          expect(Array.from(await ids.read()), `seed=${rng.seed} sameSign=${sameSign}`).toEqual(want);
          for (const id of want) if (id !== SEGMENT_FIXED) expect(id).toBeLessThan(numSegments);
        }
      });
    }
  }

  it('same-sign shuffle within filters keeps every sign, every pruned zero, every filter multiset', async () => {
    const rng = new Rng();
    const shape = [16, 8, 3, 3];
    const n = 16 * 8 * 9;
    const mask = Float64Array.from({ length: n }, () => (rng.next() < 0.5 ? 0 : 1));
    const w = f32(rng.array(n).map((v, i) => v * mask[i]));
    const tw = Tensor.fromArray(gpu(), w, shape), tm = Tensor.fromArray(gpu(), mask, shape);
    const numSegments = 32;
    const got = (await shuffleWeights(tw, tm, 'filter', rng.int(1000), { sameSign: true }).read()) as Float32Array;
    let moved = 0;
    for (let i = 0; i < n; i++) {
      if (mask[i] === 0) expect(got[i], `pruned ${i} seed=${rng.seed}`).toBe(w[i]);
      else expect(Math.sign(got[i]) || 1, `sign ${i} seed=${rng.seed}`).toBe(Math.sign(w[i]) || 1);
      if (got[i] !== w[i]) moved++;
    }
    expect(moved, `seed=${rng.seed}`).toBeGreaterThan(n / 4);
    const idsArr = segmentIdsRef(w, mask, shape, 'filter', true);
    const before = segmentMultisets(w, idsArr, numSegments), after = segmentMultisets(got, idsArr, numSegments);
    for (const [k, l] of before) expect(after.get(k), `seed=${rng.seed} segment ${k}`).toEqual(l);
  });
});
