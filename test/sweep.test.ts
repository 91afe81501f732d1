// Sweeps expand into runs with self-contained commands; lock files keep workers apart.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { expandSweep, workerCommand } from '../src/experiments/sweep.js';
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

describe('sweep expansion: fig9 and worker commands', () => {
  it("fig9 compares pre-training with k = 0 and the size's k, or --k's", () => {
    const out = tempDir('ep-sweep-');
    const rewinds = (runs: ReturnType<typeof expandSweep>) => runs.filter((r) => !r.argv.includes('--pretrain-task')).map((r) => r.argv[r.argv.indexOf('--rewind') + 1]);
    expect(rewinds(expandSweep({ figure: 'fig9', model: 'resnet20', size: 'quick', out }))).toEqual(['0it', '16it']);
    expect(rewinds(expandSweep({ figure: 'fig9', model: 'resnet20', size: 'quick', out, ks: [0, 2000] }))).toEqual(['0it', '2000it']);
  });

  it('sweep --list passes --data and --no-autotune through to every worker command', () => {
    const [run] = expandSweep({ figure: 'fig4', model: 'resnet20', size: 'quick', out: tempDir('ep-sweep-') });
    const line = workerCommand(run, { node: '/usr/bin/node', cli: '/x/cli.js', data: '/d ata', autotune: false });
    expect(line.startsWith(`/usr/bin/node /x/cli.js lottery `)).toBe(true);
    expect(line.endsWith(` --data '/d ata' --no-autotune --quiet`)).toBe(true);
    expect(workerCommand(run, { node: 'node', cli: 'cli.js', autotune: true })).not.toMatch(/--no-autotune|--data/);
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

  it('a lock naming this very pid (a restarted container) is stale unless this process holds it; release leaves a foreign lock alone', () => {
    const dir = tempDir('ep-lock-');
    const lockPath = join(dir, '.lock');
    writeFileSync(lockPath, JSON.stringify({ host: hostname(), pid: process.pid }));
    const lock = RunLock.acquire(dir);
    expect(() => RunLock.acquire(dir)).toThrow(RunBusyError); // held by this process now: not stale
    // taken over by another worker after we stalled: our release must not remove its lock
    writeFileSync(lockPath, JSON.stringify({ host: 'elsewhere', pid: 7, token: 'theirs' }));
    lock.release();
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).token).toBe('theirs');
  });

  it('an unreadable lock is judged by its age; a takeover marker left by a killed worker is cleared', () => {
    const dir = tempDir('ep-lock-');
    const lockPath = join(dir, '.lock');
    writeFileSync(lockPath, '');
    expect(() => RunLock.acquire(dir, 60_000)).toThrow(RunBusyError);
    const old = new Date(Date.now() - 120_000);
    utimesSync(lockPath, old, old);
    writeFileSync(join(dir, '.lock.takeover'), '12345');
    expect(() => RunLock.acquire(dir, 60_000)).toThrow(/taking over/); // a fresh marker: someone is at it
    utimesSync(join(dir, '.lock.takeover'), old, old);
    RunLock.acquire(dir, 60_000).release();
    expect(existsSync(join(dir, '.lock.takeover'))).toBe(false);
    expect(existsSync(lockPath)).toBe(false);
  });

  it('workers that find the same stale lock at the same moment: exactly one takes it over', async () => {
    // plain node processes (no TypeScript loader, so they start together): the lock module bundled
    const tmp = tempDir('ep-lock-race-');
    buildSync({ entryPoints: [join('src', 'train', 'run_lock.ts')], bundle: true, platform: 'node', format: 'esm', outfile: join(tmp, 'run_lock.mjs'), logLevel: 'silent' });
    writeFileSync(
      join(tmp, 'racer.mjs'),
      `import { RunLock } from './run_lock.mjs';
const [dir, go] = process.argv.slice(2);
while (Date.now() < Number(go)) {} // start together
try { RunLock.acquire(dir); console.log('GOT'); setTimeout(() => {}, 1000); } catch (e) { console.log('busy'); }
`,
    );
    for (let trial = 0; trial < 3; trial++) {
      const dir = join(tmp, `run${trial}`);
      mkdirSync(dir);
      writeFileSync(join(dir, '.lock'), JSON.stringify({ host: hostname(), pid: 2 ** 22 + 4321 })); // a dead holder
      const go = Date.now() + 600;
      const outs = await Promise.all(
        [0, 1, 2, 3].map(
          () =>
            new Promise<string>((resolve, reject) => {
              const p = spawn(process.execPath, [join(tmp, 'racer.mjs'), dir, String(go)], { stdio: ['ignore', 'pipe', 'inherit'] });
              let text = '';
              p.stdout.on('data', (b) => (text += b));
              p.on('error', reject);
              p.on('close', () => resolve(text.trim()));
            }),
        ),
      );
      expect(outs.filter((o) => o === 'GOT').length, `trial ${trial}: ${outs.join(', ')}`).toBe(1);
      expect(outs.filter((o) => o === 'busy').length).toBe(3);
    }
  }, 30_000);
});
