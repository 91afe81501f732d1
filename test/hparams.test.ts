import { describe, expect, it } from 'vitest';
import { hparamsHash, nonDefaultHparams, validateHparams } from '../src/train/hparams.js';
import { parseStep } from '../src/train/steps.js';
import { LOTTERY_HPARAMS } from '../src/lottery/lottery.js';
import { BRANCHES } from '../src/lottery/branches.js';
import { LrSchedule } from '../src/train/schedule.js';
import { Command } from 'commander';
import { addTrainingLengthOptions, parseCount, parseReplicates } from '../src/cli/options.js';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.js';

describe('steps in open_lth notation', () => {
  it('parses it/ep/ep+it', () => {
    expect(parseStep('500it', 391)).toBe(500);
    expect(parseStep('2ep', 391)).toBe(782);
    expect(parseStep('1ep10it', 391)).toBe(401);
    expect(parseStep('160ep', 391)).toBe(62_560);
    expect(() => parseStep('10 epochs', 391)).toThrow(/invalid step/);
  });
  it('the paper schedule drops the LR at iterations 31,280 and 46,920', () => {
    const s = new LrSchedule(0.1, '80ep,120ep', 0.1, 391);
    expect(s.milestones).toEqual([31_280, 46_920]);
    expect(s.at(31_279)).toBe(0.1);
    expect(s.at(31_280)).toBeCloseTo(0.01, 12);
    expect(s.at(46_920)).toBeCloseTo(0.001, 12);
  });
});

describe('hyperparameters and run hashes', () => {
  it('only non-default hashed values enter the hash; where/how-often settings do not', () => {
    const a = validateHparams({ model: 'resnet20' });
    const b = validateHparams({ model: 'resnet20', lr: 0.1, evalEvery: '500it', checkpointEvery: '2ep' });
    expect(nonDefaultHparams(a)).toEqual({ model: 'resnet20' });
    expect(hparamsHash(a)).toBe(hparamsHash(b));
    expect(hparamsHash(validateHparams({ model: 'resnet20', lr: 0.05 }))).not.toBe(hparamsHash(a));
  });
  it('hash is stable across releases (a changed value here orphans users\' runs)', () => {
    expect(hparamsHash(validateHparams({ model: 'resnet20' }))).toBe('e83adfed16');
  });
  it('bad values are clear errors naming the flag', () => {
    expect(() => validateHparams({})).toThrow(/--model is required/);
    expect(() => validateHparams({ model: 'resnet20', batch: 0 })).toThrow(/--batch/);
    expect(() => validateHparams({ model: 'resnet20', milestones: '80 epochs' })).toThrow(/--milestones/);
    expect(() => validateHparams({ model: 'resnet20', task: 'jigsaw' })).toThrow(/--task .*one of/);
  });
  it('numbers outside their range are errors before any work (a pruning fraction of 1.5 used to fail after level 0 trained)', () => {
    const ok = { model: 'resnet20' };
    for (const [key, v, msg] of [
      ['lr', -0.1, /--lr -0\.1: must be at least 0/],
      ['gamma', -1, /--gamma -1: must be at least 0/],
      ['momentum', 1, /--momentum 1: must be in \[0, 1\)/],
      ['momentum', -0.5, /--momentum -0\.5: must be in \[0, 1\)/],
      ['weightDecay', -1e-4, /--weight-decay -0\.0001: must be at least 0/],
    ] as const) {
      expect(() => validateHparams({ ...ok, [key]: v }), `${key} ${v}`).toThrow(msg);
    }
    for (const [key, v] of [['lr', 0], ['momentum', 0], ['momentum', 0.99], ['weightDecay', 0], ['gamma', 1]] as const) {
      expect(validateHparams({ ...ok, [key]: v })[key]).toBe(v);
    }
    const lottery = { ...ok, rewind: '1it' };
    expect(() => validateHparams({ ...lottery, pruningFraction: 1.5 }, LOTTERY_HPARAMS)).toThrow(/--pruning-fraction 1\.5: must be in \[0, 1\]/);
    expect(() => validateHparams({ ...lottery, pruningFraction: -0.2 }, LOTTERY_HPARAMS)).toThrow(/--pruning-fraction/);
    expect(validateHparams({ ...lottery, pruningFraction: 1 }, LOTTERY_HPARAMS).pruningFraction).toBe(1);
    const noise = BRANCHES.noise;
    expect(() => validateHparams({ n: -0.5 }, noise.args)).toThrow(/--n -0\.5: must be at least 0/);
    expect(validateHparams({ n: 0 }, noise.args).n).toBe(0);
  });
  it('a training length or a cadence of zero iterations is an error (it used to mean an untrained "done" run, or every iteration)', () => {
    for (const [key, flag] of [['trainingSteps', '--training-steps'], ['evalEvery', '--eval-every'], ['checkpointEvery', '--checkpoint-every']]) {
      for (const v of ['0it', '0ep', '0ep0it']) expect(() => validateHparams({ model: 'resnet20', [key]: v })).toThrow(new RegExp(`${flag} "${v}": must be at least one iteration`));
      expect(validateHparams({ model: 'resnet20', [key]: '1ep0it' })[key]).toBe('1ep0it');
    }
  });
  it('whole-number flags (--levels, --log-every, --k) reject what Number() let through', () => {
    expect(parseCount('--levels')('3')).toBe(3);
    expect(parseCount('--levels')('0')).toBe(0);
    for (const v of ['abc', '', '2.5', '-2']) expect(() => parseCount('--levels')(v)).toThrow(/--levels/);
    expect(() => parseCount('--log-every', 1)('0')).toThrow(/--log-every must be at least 1/);
  });
  it('--epochs and --iterations name themselves when they are not a positive whole number', () => {
    const cmd = addTrainingLengthOptions(new Command().exitOverride().configureOutput({ writeErr: () => undefined }));
    for (const [flag, v] of [['--epochs', '0'], ['--epochs', '-1'], ['--iterations', '0'], ['--epochs', '2.5']]) {
      expect(() => cmd.parse([flag, v], { from: 'user' }), `${flag} ${v}`).toThrow(new RegExp(flag));
    }
    expect(cmd.parse(['--epochs', '3'], { from: 'user' }).opts().epochs).toBe(3);
  });
  it('replicates: a number, a range or a list', () => {
    expect(parseReplicates('3')).toEqual([3]);
    expect(parseReplicates('1-5')).toEqual([1, 2, 3, 4, 5]);
    expect(parseReplicates('1,4')).toEqual([1, 4]);
    expect(() => parseReplicates('5-1')).toThrow(/--replicate '5-1': empty range/);
    expect(() => parseReplicates('x', '--levels')).toThrow(/--levels 'x': use a number/);
  });
});

describe('safetensors', () => {
  it('round-trips and is byte-identical for identical input', () => {
    const t = new Map([
      ['a.weight', { dtype: 'F32' as const, shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
      ['a.num_batches_tracked', { dtype: 'I64' as const, shape: [], data: BigInt64Array.of(7n) }],
    ]);
    const enc = encodeSafetensors(t);
    expect(enc.equals(encodeSafetensors(t))).toBe(true);
    expect((8 + Number(enc.readBigUInt64LE(0))) % 8).toBe(0);
    const dec = decodeSafetensors(enc);
    expect([...dec.tensors.keys()]).toEqual(['a.weight', 'a.num_batches_tracked']);
    expect(Array.from(dec.tensors.get('a.weight')!.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((dec.tensors.get('a.num_batches_tracked')!.data as BigInt64Array)[0]).toBe(7n);
    expect(() => decodeSafetensors(enc.subarray(0, enc.length - 4), 'x.safetensors')).toThrow(/x.safetensors: .*truncated/);
  });
});
