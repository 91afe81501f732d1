// IMP with rewinding: mask arithmetic, rewinding, masked training, resume, hashes.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { syntheticCifar } from '../src/data/synthetic.js';
import { loadSafetensors } from '../src/io/safetensors.js';
import { loadMasked } from '../src/lottery/from_rewind.js';
import { lottery, lotteryDir, LOTTERY_HPARAMS, loadMask } from '../src/lottery/lottery.js';
import { magnitudePrune, pruneCount, sparsityOf, type PruneInput } from '../src/lottery/prune.js';
import { createModel } from '../src/models/registry.js';
import { Network } from '../src/nn/network.js';
import { CifarTrainData } from '../src/train/cifar_train_data.js';
import { hparamsHash, validateHparams, type Hparams } from '../src/train/hparams.js';
import { LrSchedule } from '../src/train/schedule.js';
import { tempDir } from './helpers/cifar_fixture.js';
import { useGpu } from './helpers/gpu.js';
import { Rng } from './helpers/random.js';

const gpu = useGpu({ poison: false });

describe('magnitude pruning', () => {
  it('removes exactly ceil(f * remaining) at every level, globally, intersected with the old mask', () => {
    const rng = new Rng();
    const sizes = [37, 500, 1203];
    let tensors: PruneInput[] = sizes.map((n, i) => ({ name: `w${i}`, weights: Float32Array.from(rng.normals(n)), mask: new Float32Array(n).fill(1) }));
    let remaining = sizes.reduce((a, b) => a + b, 0);
    for (let level = 1; level <= 12; level++) {
      const masks = magnitudePrune(tensors, 0.2);
      const expected = remaining - pruneCount(remaining, 0.2);
      const got = sparsityOf(masks.values()).remaining;
      expect(got, `level ${level} (seed ${rng.seed})`).toBe(expected);
      // Intersection: nothing pruned comes back.
      for (const t of tensors) for (let i = 0; i < t.mask.length; i++) if (t.mask[i] === 0) expect(masks.get(t.name)![i]).toBe(0);
      // Global magnitude order: every kept |w| >= every newly pruned |w|.
      let maxPruned = 0, minKept = Infinity;
      for (const t of tensors) {
        const m = masks.get(t.name)!;
        for (let i = 0; i < m.length; i++) {
          if (t.mask[i] === 1 && m[i] === 0) maxPruned = Math.max(maxPruned, Math.abs(t.weights[i]));
          if (m[i] === 1) minKept = Math.min(minKept, Math.abs(t.weights[i]));
        }
      }
      expect(maxPruned).toBeLessThanOrEqual(minKept);
      remaining = expected;
      tensors = tensors.map((t) => ({ ...t, weights: Float32Array.from(t.weights, (v) => v * (1 + 0.1 * rng.normal())), mask: masks.get(t.name)! }));
    }
    expect(remaining).toBe(Math.round(remaining)); // exact integers all the way down
  });

  it('breaks ties by position, deterministically, and keeps the count exact', () => {
    const w = new Float32Array(10).fill(0.5);
    const masks = magnitudePrune([{ name: 'a', weights: w, mask: new Float32Array(10).fill(1) }], 0.25);
    expect(Array.from(masks.get('a')!)).toEqual([0, 0, 0, 1, 1, 1, 1, 1, 1, 1]); // ceil(2.5) = 3, first positions
    const again = magnitudePrune([{ name: 'a', weights: w, mask: new Float32Array(10).fill(1) }], 0.25);
    expect(Array.from(again.get('a')!)).toEqual(Array.from(masks.get('a')!));
  });

  it('rejects masks that are not 0/1', () => {
    expect(() => magnitudePrune([{ name: 'a', weights: new Float32Array(2), mask: Float32Array.of(1, 0.5) }], 0.2)).toThrow(/0\/1/);
  });
});

const TINY: Hparams = { model: 'resnet8_4', trainingSteps: '2ep', batch: 32, lr: 0.05, milestones: '3it', rewind: '5it', evalEvery: '2ep', checkpointEvery: '1ep', pruneIgnore: 'fc.weight' };

function dataFor(seed: number, h: Hparams) {
  return new CifarTrainData(gpu(), syntheticCifar(256, 64, 3), h, seed);
}

async function runTinyLottery(out: string, levels: number, stopAfter?: number) {
  return lottery(TINY, { out, levels, gpu: gpu(), trainData: dataFor, quiet: true, logEvery: 1, stopAfter });
}

describe('lottery runner (tiny ResNet, synthetic data)', () => {
  it('levels start from the iteration-k state times their mask, keep pruned weights at 0, and log the LR at k', async () => {
    const out = tempDir('ep-lottery-');
    const results = await runTinyLottery(out, 2);
    const root = lotteryDir(out, validateHparams(TINY, LOTTERY_HPARAMS));
    const rep = join(root, 'replicate_1');
    const rewind = loadSafetensors(join(rep, 'rewind.safetensors'));
    expect(rewind.metadata.iteration).toBe('5');
    const schedule = new LrSchedule(0.05, '3it', 0.1, 8);
    let prevRemaining = -1;
    for (let level = 0; level <= 2; level++) {
      const dir = join(rep, `level_${level}`, 'main');
      for (const f of ['mask.safetensors', 'sparsity.json', 'metrics.jsonl', 'model_start.safetensors', 'model_final.safetensors']) expect(existsSync(join(dir, f)), f).toBe(true);
      const masks = loadMask(dir);
      const sparsity = JSON.parse(readFileSync(join(dir, 'sparsity.json'), 'utf8'));
      expect(sparsity).toEqual(sparsityOf(masks.values()));
      expect(masks.has('fc.weight')).toBe(false); // --prune-ignore
      if (level === 0) expect(sparsity.remaining).toBe(sparsity.total);
      else expect(sparsity.remaining).toBe(prevRemaining - pruneCount(prevRemaining, 0.2));
      prevRemaining = sparsity.remaining;
      const start = loadSafetensors(join(dir, 'model_start.safetensors')).tensors;
      const final = loadSafetensors(join(dir, 'model_final.safetensors')).tensors;
      for (const [name, t] of rewind.tensors) {
        const m = masks.get(name);
        const s = start.get(name)!.data as Float32Array | BigInt64Array;
        if (t.dtype === 'I64') continue;
        const wk = t.data as Float32Array;
        for (let i = 0; i < wk.length; i++) {
          const expected = m ? wk[i] * m[i] : wk[i];
          if ((s as Float32Array)[i] !== expected) expect.fail(`level ${level}: model_start ${name}[${i}] = ${s[i]}, iteration-k state x mask = ${expected}`);
          if (m && m[i] === 0 && (final.get(name)!.data as Float32Array)[i] !== 0) expect.fail(`level ${level}: pruned ${name}[${i}] is ${(final.get(name)!.data as Float32Array)[i]} after training`);
        }
      }
      // Level L >= 1's mask is level L-1's final weights pruned, intersected with its mask.
      if (level >= 1) {
        const prevDir = join(rep, `level_${level - 1}`, 'main');
        const prevFinal = loadSafetensors(join(prevDir, 'model_final.safetensors')).tensors;
        const prevMask = loadMask(prevDir);
        const expected = magnitudePrune([...prevMask.keys()].map((name) => ({ name, weights: prevFinal.get(name)!.data as Float32Array, mask: prevMask.get(name)! })), 0.2);
        for (const [name, m] of expected) expect(Array.from(masks.get(name)!)).toEqual(Array.from(m));
      }
      // Training continues from k: the first step's LR is the schedule's at k.
      const first = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).find((r) => r.split === 'train');
      expect(first.iteration).toBe(6);
      expect(first.lr).toBeCloseTo(schedule.at(5), 12);
    }
    expect(results.map((r) => r.level)).toEqual([0, 1, 2]);
    // Re-running skips everything.
    const again = await runTinyLottery(out, 2);
    expect(again.map((r) => r.test?.accuracy)).toEqual(results.map((r) => r.test?.accuracy));
  });

  it('a lottery interrupted mid-level resumes to byte-identical results', async () => {
    const a = tempDir('ep-lottery-a-');
    await runTinyLottery(a, 1);
    const b = tempDir('ep-lottery-b-');
    // 5 iterations to k, 11 in level 0, then stop 4 iterations into level 1 (after its first checkpoint at 8).
    await expect(runTinyLottery(b, 1, 5 + 11 + 4)).rejects.toThrow(/test hook/);
    await runTinyLottery(b, 1);
    const rel = (out: string) => join(lotteryDir(out, validateHparams(TINY, LOTTERY_HPARAMS)), 'replicate_1', 'level_1', 'main');
    for (const f of ['model_final.safetensors', 'mask.safetensors', 'model_start.safetensors']) {
      expect(readFileSync(join(rel(a), f)).equals(readFileSync(join(rel(b), f))), f).toBe(true);
    }
  });

  it('starting a level zeroes momentum and sets the masks', async () => {
    const net = new Network(gpu(), createModel('resnet8_4'));
    net.init(7);
    net.writeFlat('momenta', new Float32Array(net.params.flatSize).fill(3));
    const state = await net.stateDict();
    const masks = new Map([['conv.weight', Float32Array.from({ length: net.params.get('conv.weight').size }, (_, i) => i % 2)]]);
    await loadMasked(net, state, masks, 'test');
    expect((await net.readFlat('momenta')).every((v) => v === 0)).toBe(true);
    const values = net.unflatten(await net.readFlat('values'));
    const w = values.get('conv.weight')!;
    for (let i = 0; i < w.length; i += 2) expect(w[i]).toBe(0);
    net.destroy();
  });

  it('hashes are stable and change with any hashed hyperparameter', () => {
    const h = validateHparams({ model: 'resnet20', rewind: '500it' }, LOTTERY_HPARAMS);
    expect(hparamsHash(h, LOTTERY_HPARAMS)).toBe('30f8c527d4');
    expect(hparamsHash(validateHparams({ model: 'resnet20', rewind: '2000it' }, LOTTERY_HPARAMS), LOTTERY_HPARAMS)).not.toBe(hparamsHash(h, LOTTERY_HPARAMS));
    expect(hparamsHash(validateHparams({ model: 'resnet20', rewind: '500it', evalEvery: '2ep' }, LOTTERY_HPARAMS), LOTTERY_HPARAMS)).toBe(hparamsHash(h, LOTTERY_HPARAMS));
  });
});
