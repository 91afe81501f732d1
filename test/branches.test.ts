// Property tests of the interventions at the rewinding point (src/lottery/branches.ts): shuffles are
// permutations within their structural elements (and keep signs when asked), noise has the right
// scale, signs/magnitudes are exact, same seed gives same bits, and the Delta statistics computed on
// the GPU agree with a float64 CPU reference.
import { describe, expect, it } from 'vitest';
import { BRANCHES, type BranchContext } from '../src/lottery/branches.js';
import { loadMasked } from '../src/lottery/from_rewind.js';
import { initSigma, perturbationStats } from '../src/lottery/perturbation.js';
import { createModel } from '../src/models/registry.js';
import { Network } from '../src/nn/network.js';
import type { Hparams } from '../src/train/hparams.js';
import { useGpu } from './helpers/gpu.js';
import { Rng } from './helpers/random.js';

const gpu = useGpu({ poison: false });

interface Setup {
  net: Network;
  prunable: string[];
  wk: Map<string, Float32Array>;
  w0: Map<string, Float32Array>;
  masks: Map<string, Float32Array>;
}

async function setup(rng: Rng): Promise<Setup> {
  const net = new Network(gpu(), createModel('resnet8_16'));
  net.init(rng.int(1 << 30));
  const w0 = net.unflatten(await net.readFlat('values'));
  // A different "iteration k" state: init of another seed.
  net.init(rng.int(1 << 30));
  const state = await net.stateDict();
  const prunable = net.prunableNames();
  const masks = new Map(prunable.map((n) => [n, Float32Array.from({ length: net.params.get(n).size }, () => (rng.next() < 0.4 ? 0 : 1))]));
  await loadMasked(net, state, masks, 'test');
  const wk = net.unflatten(await net.readFlat('values'), (n) => prunable.includes(n));
  return { net, prunable, wk, w0, masks };
}

async function perturb(s: Setup, name: string, args: Hparams, seed: number): Promise<Map<string, Float32Array>> {
  // Restore w_k, then apply the branch.
  const flat = await s.net.readFlat('values');
  for (const [n, w] of s.wk) flat.set(w, s.net.params.get(n).offset);
  s.net.writeFlat('values', flat);
  const def = BRANCHES[name];
  const ctx: BranchContext = {
    network: s.net,
    prunable: s.prunable,
    init: s.w0,
    seed,
    args: { ...Object.fromEntries(def.args.map((d) => [d.key, d.default])), ...args } as Hparams,
    dir: '/nonexistent',
    masks: s.masks,
    hparams: {},
    dataFor: () => {
      throw new Error('not used');
    },
  };
  await def.perturb(ctx);
  return s.net.unflatten(await s.net.readFlat('values'), (n) => s.prunable.includes(n));
}

/** Group id of each element of a weight for a structure (CPU mirror of the definitions). */
function groupOf(shape: readonly number[], within: string, i: number): number {
  const inner = shape.slice(2).reduce((a, b) => a * b, 1);
  const channels = shape[1];
  switch (within) {
    case 'layer':
      return 0;
    case 'filter':
      return Math.floor(i / (channels * inner));
    case 'input-channel':
      return Math.floor(i / inner) % channels;
    default:
      return i % inner;
  }
}

describe('branches at the rewinding point', () => {
  for (const within of ['layer', 'filter', 'input-channel', 'kernel-position']) {
    for (const sameSign of [false, true]) {
      it(`shuffle within ${within}${sameSign ? ', same sign' : ''} is a permutation of the unpruned values of each element`, async () => {
        const rng = new Rng();
        const s = await setup(rng);
        const after = await perturb(s, 'shuffle', { within, sameSign }, rng.int(1 << 30));
        let moved = 0, total = 0;
        for (const name of s.prunable) {
          const shape = s.net.params.get(name).shape;
          const before = s.wk.get(name)!, got = after.get(name)!, m = s.masks.get(name)!;
          const groups = new Map<string, [number[], number[]]>();
          for (let i = 0; i < got.length; i++) {
            if (m[i] === 0) {
              if (got[i] !== 0) expect.fail(`${name}[${i}] is pruned but holds ${got[i]}`);
              continue;
            }
            if (sameSign && Math.sign(got[i]) !== Math.sign(before[i])) expect.fail(`${name}[${i}] changed sign under a same-sign shuffle (seed ${rng.seed})`);
            const key = `${groupOf(shape, within, i)}${sameSign ? (before[i] > 0 ? '+' : '-') : ''}`;
            const g = groups.get(key) ?? [[], []];
            g[0].push(before[i]);
            g[1].push(got[i]);
            groups.set(key, g);
            total++;
            if (got[i] !== before[i]) moved++;
          }
          for (const [key, [a, b]] of groups) {
            expect(b.sort((x, y) => x - y), `${name} element ${key} (seed ${rng.seed})`).toEqual(a.sort((x, y) => x - y));
          }
        }
        // Kernel-position and same-sign groups are small, but most values still move.
        expect(moved / total, `fraction of values moved (seed ${rng.seed})`).toBeGreaterThan(0.5);
        s.net.destroy();
      });
    }
  }

  it('same seed gives the same bits; another seed another shuffle', async () => {
    const rng = new Rng();
    const s = await setup(rng);
    const a = await perturb(s, 'shuffle', { within: 'filter' }, 11);
    const b = await perturb(s, 'shuffle', { within: 'filter' }, 11);
    const c = await perturb(s, 'shuffle', { within: 'filter' }, 12);
    const n1 = await perturb(s, 'noise', { n: 1 }, 11);
    const n2 = await perturb(s, 'noise', { n: 1 }, 11);
    for (const name of s.prunable) {
      expect(Buffer.from(a.get(name)!.buffer).equals(Buffer.from(b.get(name)!.buffer))).toBe(true);
      expect(Buffer.from(n1.get(name)!.buffer).equals(Buffer.from(n2.get(name)!.buffer))).toBe(true);
    }
    expect(s.prunable.some((name) => !Buffer.from(a.get(name)!.buffer).equals(Buffer.from(c.get(name)!.buffer)))).toBe(true);
    s.net.destroy();
  });

  it('noise adds N(0, (n sigma_l)^2) to the unpruned weights only, and Delta statistics match a float64 reference', async () => {
    const rng = new Rng();
    const s = await setup(rng);
    const n = 0.5;
    const after = await perturb(s, 'noise', { n }, rng.int(1 << 30));
    for (const name of s.prunable) {
      const before = s.wk.get(name)!, got = after.get(name)!, m = s.masks.get(name)!;
      const sigma = initSigma(s.net.params.get(name).shape);
      let sum = 0, sq = 0, count = 0;
      for (let i = 0; i < got.length; i++) {
        if (m[i] === 0) {
          expect(got[i]).toBe(0);
          continue;
        }
        const d = got[i] - before[i];
        sum += d;
        sq += d * d;
        count++;
      }
      if (count < 2000) continue;
      const mean = sum / count;
      const std = Math.sqrt(sq / count - mean * mean);
      expect(Math.abs(mean), `${name} mean (seed ${rng.seed})`).toBeLessThan((5 * n * sigma) / Math.sqrt(count));
      expect(Math.abs(std / (n * sigma) - 1), `${name} std / (n sigma) (seed ${rng.seed})`).toBeLessThan(0.06);
    }
    // Delta statistics on the GPU against float64.
    const stats = await perturbationStats(s.net, s.wk, s.prunable);
    let count = 0, sd = 0, sd2 = 0, sn = 0, sn2 = 0;
    for (const name of s.prunable) {
      const before = s.wk.get(name)!, got = after.get(name)!, m = s.masks.get(name)!;
      const sigma = initSigma(s.net.params.get(name).shape);
      let lc = 0, ls = 0, ls2 = 0;
      for (let i = 0; i < got.length; i++) {
        if (m[i] === 0) continue;
        const d = got[i] - before[i];
        lc++;
        ls += d;
        ls2 += d * d;
      }
      const lmean = ls / lc;
      const layer = stats.layers[name];
      expect(layer.count).toBe(lc);
      expect(layer.mean).toBeCloseTo(lmean, 4);
      expect(layer.std / Math.sqrt(ls2 / lc - lmean * lmean)).toBeCloseTo(1, 4);
      count += lc;
      sd += ls;
      sd2 += ls2;
      sn += ls / sigma;
      sn2 += ls2 / (sigma * sigma);
    }
    expect(stats.count).toBe(count);
    expect(stats.mean).toBeCloseTo(sd / count, 4);
    expect(stats.std / Math.sqrt(sd2 / count - (sd / count) ** 2)).toBeCloseTo(1, 4);
    expect(stats.std_normalized / Math.sqrt(sn2 / count - (sn / count) ** 2)).toBeCloseTo(1, 4);
    expect(stats.std_normalized).toBeCloseTo(n, 1);
    s.net.destroy();
  });

  it('signs-magnitudes combines sign(a) and |b| exactly; reinit keeps the mask', async () => {
    const rng = new Rng();
    const s = await setup(rng);
    const got = await perturb(s, 'signs-magnitudes', { signs: '0', magnitudes: 'k' }, 1);
    const re = await perturb(s, 'reinit', {}, 5);
    for (const name of s.prunable) {
      const w0 = s.w0.get(name)!, wk = s.wk.get(name)!, m = s.masks.get(name)!, g = got.get(name)!, r = re.get(name)!;
      for (let i = 0; i < g.length; i++) {
        const expected = m[i] === 0 ? 0 : Math.sign(w0[i]) * Math.abs(wk[i]);
        if (g[i] !== expected) expect.fail(`${name}[${i}]: ${g[i]} != sign(w0) |wk| = ${expected}`);
        if (m[i] === 0 && r[i] !== 0) expect.fail(`reinit wrote pruned ${name}[${i}]`);
      }
    }
    s.net.destroy();
  });
});
