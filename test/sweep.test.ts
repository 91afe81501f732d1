// Sweeps expand into runs with self-contained commands; lock files keep workers apart.
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandSweep } from '../src/experiments/sweep.js';
import { RunBusyError, RunLock } from '../src/train/run_lock.js';
import { tempDir } from './helpers/cifar_fixture.js';

describe('sweep expansion', () => {
  it('fig4 quick: one lottery and its signs/magnitudes + reinit branches, branches wait for their masks', () => {
    const out = tempDir('ep-sweep-');
    const runs = expandSweep({ figure: 'fig4', model: 'resnet20', size: 'quick', out });
    expect(runs.map((r) => r.kind)).toEqual(['lottery', 'branch', 'branch', 'branch', 'branch']);
    const lottery = runs[0];
    expect(lottery.argv.slice(0, 3)).toEqual(['lottery', '--model', 'resnet20']);
    expect(lottery.argv).toContain('--rewind');
    expect(lottery.argv).toContain('--train-subset');
    expect(lottery.ready()).toBe(true);
    expect(lottery.done()).toBe(false);
    const branch = runs[1];
    expect(branch.argv[0]).toBe('branch');
    expect(branch.argv).toContain('--signs');
    expect(branch.ready()).toBe(false);
    // Once the lottery has its rewinding state and the masks of the branch levels, the branch is ready.
    const lotteryDir = branch.argv[branch.argv.indexOf('--lottery') + 1];
    const rep = join(lotteryDir, 'replicate_1');
    mkdirSync(rep, { recursive: true });
    writeFileSync(join(rep, 'rewind.safetensors'), '');
    for (const l of branch.argv[branch.argv.indexOf('--levels') + 1].split(',')) {
      mkdirSync(join(rep, `level_${l}`, 'main'), { recursive: true });
      writeFileSync(join(rep, `level_${l}`, 'main', 'mask.safetensors'), '');
    }
    expect(branch.ready()).toBe(true);
  });

  it('fig1 expands one lottery per k and replicate; fig8 branches only at the 26.2% level when the sweep reaches it', () => {
    const out = tempDir('ep-sweep-');
    expect(expandSweep({ figure: 'fig1', model: 'resnet20', size: 'paper', out }).length).toBe(9 * 5);
    const fig8 = expandSweep({ figure: 'fig8', model: 'resnet20', size: 'paper', out, ks: [500], replicates: [1] });
    const b = fig8.find((r) => r.kind === 'branch')!;
    expect(b.argv[b.argv.indexOf('--levels') + 1]).toBe('6');
  });
});

describe('run locks', () => {
  it('a second worker is refused while the first holds the lock; a dead holder is taken over', () => {
    const dir = tempDir('ep-lock-');
    const lock = RunLock.acquire(dir);
    expect(() => RunLock.acquire(dir)).toThrow(RunBusyError);
    lock.release();
    RunLock.acquire(dir).release();
    // A lock left by a dead process on this host.
    writeFileSync(join(dir, '.lock'), JSON.stringify({ host: require('node:os').hostname(), pid: 2 ** 22 + 12345 }));
    RunLock.acquire(dir).release();
    // Another host: fresh locks are respected, stale ones (not refreshed for staleMs) taken over.
    writeFileSync(join(dir, '.lock'), JSON.stringify({ host: 'elsewhere', pid: 1 }));
    expect(() => RunLock.acquire(dir, 60_000)).toThrow(/another worker \(elsewhere/);
    const old = new Date(Date.now() - 120_000);
    utimesSync(join(dir, '.lock'), old, old);
    RunLock.acquire(dir, 60_000).release();
  });
});
