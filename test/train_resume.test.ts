// Runs that survive kill -9, same seed -> same bits, and a NaN loss that stops the run cleanly.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { syntheticCifar } from '../src/data/synthetic.js';
import { CifarTrainData } from '../src/train/cifar_train_data.js';
import { validateHparams, type Hparams } from '../src/train/hparams.js';
import { train } from '../src/train/train.js';
import { tempDir } from './helpers/cifar_fixture.js';
import { useGpu } from './helpers/gpu.js';
import { TINY_RUN } from './helpers/tiny_run.js';

const gpu = useGpu({ poison: false });

async function runTiny(out: string, extra: Hparams = {}) {
  const hparams = validateHparams({ ...TINY_RUN.hparams, ...extra });
  const data = new CifarTrainData(gpu(), syntheticCifar(TINY_RUN.trainImages, TINY_RUN.testImages, 3), hparams, 1);
  try {
    return await train(hparams, { out, gpu: gpu(), trainData: data, quiet: true });
  } finally {
    data.destroy();
  }
}

function runDir(out: string): string {
  const t = readdirSync(out).find((d) => d.startsWith('train_'))!;
  return join(out, t, 'replicate_1');
}

async function waitFor(path: string, ms: number, alive: () => boolean = () => true): Promise<void> {
  const t0 = Date.now();
  while (!existsSync(path)) {
    if (!alive()) throw new Error(`the process that was to write ${path} exited first`);
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${path}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('training runs', () => {
  it('same seed, same bits: two runs write byte-identical model_final.safetensors', async () => {
    const a = await runTiny(tempDir('ep-run-a-'));
    const b = await runTiny(tempDir('ep-run-b-'));
    const fa = readFileSync(join(a.runDir, 'model_final.safetensors'));
    expect(fa.equals(readFileSync(join(b.runDir, 'model_final.safetensors')))).toBe(true);
    // A finished run is not re-run.
    const again = await runTiny(join(a.runDir, '..', '..'));
    expect(again.skipped).toBe(true);
    // The final model is exactly the state_dict: no optimizer state, no metadata.
    const headerLen = Number(fa.readBigUInt64LE(0));
    const header = JSON.parse(fa.subarray(8, 8 + headerLen).toString());
    expect(header.__metadata__).toBeUndefined();
    expect(Object.keys(header).some((k) => k.startsWith('optimizer') || k.startsWith('mask'))).toBe(false);
    expect(header['bn.num_batches_tracked'].dtype).toBe('I64');
  });

  it('killed with SIGKILL after a checkpoint, the same command resumes and ends bit-identical', { timeout: 400_000 }, async () => {
    const reference = await runTiny(tempDir('ep-run-ref-'));
    const out = tempDir('ep-run-kill-');
    const child = spawn(process.execPath, [join('node_modules', 'vite-node', 'vite-node.mjs'), join('test', 'helpers', 'train_child.ts'), out, '20'], { stdio: 'ignore' });
    // listen from the start: an 'exit' emitted before a later listener is attached is never seen
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
    try {
      await waitFor(join(out, 'HOLDING'), 300_000, () => child.exitCode === null && child.signalCode === null);
    } finally {
      child.kill('SIGKILL');
    }
    // the child was alive mid-run when it was killed (it holds after iteration 20 until then)
    expect(await exited).toEqual({ code: null, signal: 'SIGKILL' });
    const dir = runDir(out);
    expect(existsSync(join(dir, 'checkpoint.safetensors')), 'a checkpoint was written before the kill').toBe(true);
    expect(existsSync(join(dir, 'model_final.safetensors'))).toBe(false);
    // what a kill in the middle of writing a checkpoint leaves: the temp file of a dead process
    const torn = join(dir, `.checkpoint.safetensors.${2 ** 22 + 4321}.0badf00d.tmp`);
    writeFileSync(torn, 'half a checkpoint');
    // resumed with another checkpoint cadence (not hashed: the same run, the same bits)
    const resumed = await runTiny(out, { checkpointEvery: '5it' });
    expect(resumed.resumed).toBe(true);
    expect(existsSync(torn)).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'hparams.json'), 'utf8')).hparams.checkpointEvery).toBe('5it');
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const event = lines.find((l) => l.event === 'resumed');
    expect(event?.iteration).toBe(16); // checkpoints every epoch of 8 iterations; killed at 20
    // No duplicated training lines after the resume.
    const trainIters = lines.filter((l) => l.split === 'train').map((l) => l.iteration);
    expect(new Set(trainIters).size).toBe(trainIters.length);
    const a = readFileSync(join(reference.runDir, 'model_final.safetensors'));
    expect(a.equals(readFileSync(join(dir, 'model_final.safetensors')))).toBe(true);
    expect(existsSync(join(dir, 'checkpoint.safetensors'))).toBe(false);
  });

  it('a NaN loss stops the run with a clear message and keeps the last good checkpoint', async () => {
    const out = tempDir('ep-run-nan-');
    await expect(runTiny(out, { lr: 1e30, checkpointEvery: '1it' })).rejects.toThrow(/loss became (NaN|Infinity|-Infinity) at iteration \d+.*last good checkpoint/);
    const dir = runDir(out);
    expect(existsSync(join(dir, 'model_final.safetensors'))).toBe(false);
  });

  it('a NaN loss at a plain log step (read once the next step is recorded) names that step', async () => {
    const out = tempDir('ep-run-nan-log-');
    // no checkpoint or evaluation before iteration 10, the first log step: its loss is read after step 11 is recorded
    await expect(runTiny(out, { lr: 1e30, checkpointEvery: '100ep', evalEvery: '100ep' })).rejects.toThrow(/loss became (NaN|Infinity|-Infinity) at iteration 10; training stopped\. No checkpoint had been written yet/);
    expect(existsSync(join(runDir(out), 'model_final.safetensors'))).toBe(false);
  });
});
