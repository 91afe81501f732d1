// Pre-training without labels as the rewinding state (Fig. 9) and the sparse pre-training branch (Fig. 10).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { syntheticCifar } from '../src/data/synthetic.js';
import { loadSafetensors } from '../src/io/safetensors.js';
import { runBranch } from '../src/lottery/branch_run.js';
import { lottery, lotteryDir, LOTTERY_HPARAMS, loadMask } from '../src/lottery/lottery.js';
import { CifarTrainData } from '../src/train/cifar_train_data.js';
import { validateHparams, type Hparams } from '../src/train/hparams.js';
import { tempDir } from './helpers/cifar_fixture.js';
import { useGpu } from './helpers/gpu.js';

const gpu = useGpu({ poison: false });
const BASE: Hparams = { model: 'resnet8_4', trainingSteps: '1ep', batch: 32, lr: 0.05, milestones: '', evalEvery: '1ep', checkpointEvery: '1ep' };
const dataFor = (seed: number, h: Hparams) => new CifarTrainData(gpu(), syntheticCifar(128, 32, 3), h, seed);
const f32 = (t: { data: unknown }) => Array.from(t.data as Float32Array);

describe('pre-training as the rewinding state', () => {
  it('rotation: a 4-way head is trained, then swapped for the fresh 10-way head; levels start at 0', async () => {
    const out = tempDir('ep-pretrain-');
    const h = { ...BASE, pretrainEpochs: 1, pretrainTask: 'rotation' };
    await lottery(h, { out, levels: 1, gpu: gpu(), trainData: dataFor, quiet: true, logEvery: 1 });
    const rep = join(lotteryDir(out, validateHparams(h, LOTTERY_HPARAMS)), 'replicate_1');
    const pre = loadSafetensors(join(rep, 'pretrain_run', 'model_final.safetensors')).tensors;
    expect(pre.get('fc.weight')!.shape).toEqual([4, 16]);
    const init = loadSafetensors(join(rep, 'init.safetensors')).tensors;
    const rewind = loadSafetensors(join(rep, 'rewind.safetensors'));
    expect(rewind.metadata.iteration).toBe('0');
    expect(rewind.tensors.get('fc.weight')!.shape).toEqual([10, 16]);
    expect(f32(rewind.tensors.get('fc.weight')!)).toEqual(f32(init.get('fc.weight')!));
    expect(f32(rewind.tensors.get('conv.weight')!)).toEqual(f32(pre.get('conv.weight')!));
    expect(f32(rewind.tensors.get('conv.weight')!)).not.toEqual(f32(init.get('conv.weight')!));
    expect(f32(rewind.tensors.get('bn.running_mean')!)).toEqual(f32(pre.get('bn.running_mean')!));
    // Rotation labels are 4-way; the CIFAR-10 levels then train the full budget from iteration 0.
    const first = readFileSync(join(rep, 'level_0', 'main', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).find((r) => r.split === 'train');
    expect(first.iteration).toBe(1);
    expect(existsSync(join(rep, 'level_1', 'main', 'model_final.safetensors'))).toBe(true);
  });

  it('--pretrain-in-budget: the levels start where pre-training stopped; a 10-way task keeps its trained head', async () => {
    const out = tempDir('ep-pretrain-');
    const h = { ...BASE, trainingSteps: '2ep', pretrainEpochs: 1, pretrainTask: 'blur', pretrainInBudget: true };
    await lottery(h, { out, levels: 0, gpu: gpu(), trainData: dataFor, quiet: true, logEvery: 1 });
    const rep = join(lotteryDir(out, validateHparams(h, LOTTERY_HPARAMS)), 'replicate_1');
    const rewind = loadSafetensors(join(rep, 'rewind.safetensors'));
    expect(rewind.metadata.iteration).toBe('4'); // 1 epoch of 128/32
    // blur is a 10-way task: its trained head goes on with the body (only a rotation head is swapped)
    const pre = loadSafetensors(join(rep, 'pretrain_run', 'model_final.safetensors')).tensors;
    const init = loadSafetensors(join(rep, 'init.safetensors')).tensors;
    for (const name of ['fc.weight', 'fc.bias', 'conv.weight']) {
      expect(f32(rewind.tensors.get(name)!)).toEqual(f32(pre.get(name)!));
      expect(f32(rewind.tensors.get(name)!)).not.toEqual(f32(init.get(name)!));
    }
    const first = readFileSync(join(rep, 'level_0', 'main', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).find((r) => r.split === 'train');
    expect(first.iteration).toBe(5);
  });

  it('--pretrain-epochs without --pretrain-task, or a levels count that is not a whole number, is refused before any directory is made', async () => {
    const out = tempDir('ep-pretrain-');
    await expect(lottery({ ...BASE, pretrainEpochs: 2 }, { out, levels: 0, gpu: gpu(), trainData: dataFor, quiet: true })).rejects.toThrow(/give --pretrain-epochs E and --pretrain-task together \(got --pretrain-epochs 2, --pretrain-task none\)/);
    for (const levels of [-1, 2.5, NaN]) await expect(lottery(BASE, { out, levels, gpu: gpu(), trainData: dataFor, quiet: true })).rejects.toThrow(/levels must be a whole number/);
    expect(readdirSync(out)).toEqual([]);
  });

  it('rejects --rewind together with pre-training', async () => {
    await expect(lottery({ ...BASE, rewind: '5it', pretrainEpochs: 1, pretrainTask: 'rotation' }, { out: tempDir('ep-pretrain-'), levels: 0, gpu: gpu(), trainData: dataFor, quiet: true })).rejects.toThrow(/--pretrain-epochs replaces rewinding/);
  });

  it('sparse pre-training branch: the masked network pre-trains on rotation, keeps its mask, then trains on CIFAR-10', async () => {
    const out = tempDir('ep-sparse-pretrain-');
    const h = { ...BASE, rewind: '2it' };
    await lottery(h, { out, levels: 1, gpu: gpu(), trainData: dataFor, quiet: true });
    const root = lotteryDir(out, validateHparams(h, LOTTERY_HPARAMS));
    const [r] = await runBranch('sparse-pretrain', { lottery: root, levels: [1], args: { pretrainEpochs: 1 }, gpu: gpu(), trainData: dataFor, quiet: true });
    expect(existsSync(join(r.dir, 'pretrain_run', 'model_final.safetensors'))).toBe(true);
    const start = loadSafetensors(join(r.dir, 'model_start.safetensors')).tensors;
    const masks = loadMask(join(root, 'replicate_1', 'level_1', 'main'));
    for (const [name, m] of masks) {
      const w = start.get(name)!.data as Float32Array;
      for (let i = 0; i < m.length; i++) if (m[i] === 0 && w[i] !== 0) expect.fail(`${name}[${i}] pruned but ${w[i]} after sparse pre-training`);
    }
    expect(start.get('fc.weight')!.shape).toEqual([10, 16]);
    expect(JSON.parse(readFileSync(join(r.dir, 'branch.json'), 'utf8')).label).toMatch(/sparse pre-training/);
    expect(r.test).not.toBeNull();
  });
});
