// What every result logs about its machine (src/train/environment.ts), and the warning when a run
// resumes on another machine than the one that started it (src/train/train.ts prepareRunDir).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeCpu, type Environment } from '../src/train/environment.js';
import { machineChange, prepareRunDir } from '../src/train/train.js';
import { defaultHparams } from '../src/train/hparams.js';
import { defaultConvConfig, getConvConfig, setConvConfig } from '../src/ops/conv2d.js';
import { cpuBatchNormConfig, defaultBatchNormConfig, getBatchNormConfig, setBatchNormConfig } from '../src/ops/batchnorm.js';
import { getKernelConfig } from '../src/ops/kernel_config.js';
import { withGpu } from '../src/train/session.js';
import { useGpu } from './helpers/gpu.js';

const gpu = useGpu();

const cpuinfo = (flags: string, n = 2) =>
  Array.from({ length: n }, (_, i) => `processor\t: ${i}\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse sse2 ${flags}\n`).join('\n');

describe('describeCpu', () => {
  it('names the model, family and model numbers, the widest vector extension and the cores', () => {
    expect(describeCpu(cpuinfo('avx avx2 fma avx512f avx512dq'))).toBe('AMD EPYC (family 26, model 2; avx512f), 2 cores');
    expect(describeCpu(cpuinfo('avx avx2 fma', 1))).toBe('AMD EPYC (family 26, model 2; avx2), 1 core');
  });
  it('describes this machine', () => {
    expect(describeCpu()).toMatch(/, \d+ cores?$/);
  });
});

const env = (over: Partial<Environment> = {}): Environment => ({
  adapter: 'llvmpipe',
  adapter_vendor: 'mesa',
  adapter_architecture: 'software',
  fallback_adapter: true,
  idle_wait: true,
  webgpu_package: '0.6.2',
  git_commit: 'abc',
  node: 'v20',
  platform: 'linux-x64',
  cpu: 'AMD EPYC (family 26, model 2; avx512f), 2 cores',
  ...over,
});

describe('resuming on another machine', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('machineChange names what differs, and ignores the commit and fields an older run did not record', () => {
    expect(machineChange(env(), env({ git_commit: 'def', node: 'v22' }))).toBeNull();
    expect(machineChange(undefined, env())).toBeNull();
    const { cpu: _, ...older } = env();
    expect(machineChange(older, env({ cpu: 'Intel' }))).toBeNull();
    expect(machineChange(env(), env({ cpu: 'Intel Xeon (family 6, model 143; avx512f), 2 cores' }))).toBe(
      'cpu "AMD EPYC (family 26, model 2; avx512f), 2 cores" -> "Intel Xeon (family 6, model 143; avx512f), 2 cores"',
    );
    expect(machineChange(env(), env({ adapter: 'NVIDIA H100', webgpu_package: '0.7.0' }))).toBe('adapter "llvmpipe" -> "NVIDIA H100", webgpu_package "0.6.2" -> "0.7.0"');
  });

  it('prepareRunDir warns once on a resume elsewhere, keeps the recorded environment, and is silent on the same machine', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ep-env-'));
    dirs.push(dir);
    const hparams = defaultHparams();
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    prepareRunDir(dir, { hparams, hash: 'h', replicate: 1, environment: env() }, warn);
    prepareRunDir(dir, { hparams, hash: 'h', replicate: 1, environment: env({ git_commit: 'later' }) }, warn);
    expect(warnings).toEqual([]);
    const meta = prepareRunDir(dir, { hparams, hash: 'h', replicate: 1, environment: env({ cpu: 'Intel' }) }, warn);
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toMatch(/hparams\.json: resuming on another machine .*cpu "AMD EPYC.*" -> "Intel"/);
    expect(meta.environment.cpu).toBe(env().cpu);
    expect(JSON.parse(readFileSync(join(dir, 'hparams.json'), 'utf8')).environment.cpu).toBe(env().cpu);
  });

  it('prepareRunDir on resume: other --checkpoint-every/--eval-every are taken and recorded, a hashed change is refused, a field the file lacks is its default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ep-env-'));
    dirs.push(dir);
    const hparams = { ...defaultHparams(), model: 'resnet20' };
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    prepareRunDir(dir, { hparams, hash: 'h', replicate: 1, environment: env() }, warn);
    const path = join(dir, 'hparams.json');
    prepareRunDir(dir, { hparams: { ...hparams, checkpointEvery: '100it' }, hash: 'h', replicate: 1, environment: env() }, warn);
    expect(warnings).toEqual([`${path}: continuing with --checkpoint-every 100it (was 1ep)`]);
    expect(JSON.parse(readFileSync(path, 'utf8')).hparams.checkpointEvery).toBe('100it');
    expect(() => prepareRunDir(dir, { hparams: { ...hparams, lr: 0.05 }, hash: 'h', replicate: 1, environment: env() }, warn)).toThrow(/holds different hyperparameters/);
    // a file written before a hyperparameter existed: its default is what that run used
    const old = JSON.parse(readFileSync(path, 'utf8'));
    delete old.hparams.blurFactor;
    writeFileSync(path, JSON.stringify(old));
    prepareRunDir(dir, { hparams: { ...hparams, checkpointEvery: '100it' }, hash: 'h', replicate: 1, environment: env() }, warn);
    expect(() => prepareRunDir(dir, { hparams: { ...hparams, checkpointEvery: '100it', blurFactor: 2 }, hash: 'h', replicate: 1, environment: env() }, warn)).toThrow(/holds different hyperparameters/);
  });

  it('prepareRunDir adopts the recorded kernel configuration over the defaults, not over the configuration this process has', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ep-env-'));
    dirs.push(dir);
    const hparams = { ...defaultHparams(), model: 'resnet20' };
    const before = getConvConfig();
    const beforeBn = getBatchNormConfig();
    try {
      const recorded = { ...defaultConvConfig, weightGradChunk: defaultConvConfig.weightGradChunk * 2 } as Record<string, unknown>;
      delete recorded.fuseShortcut; // a field added after the run started
      // and no batchnorm section: the run started before BatchNorm's chunk size was recorded
      writeFileSync(join(dir, 'hparams.json'), JSON.stringify({ hparams, hash: 'h', replicate: 1, environment: env(), kernels: { conv2d: recorded } }));
      setConvConfig({ fuseShortcut: !defaultConvConfig.fuseShortcut }); // e.g. what an autotuner picked here
      setBatchNormConfig(cpuBatchNormConfig); // what a session on a CPU adapter starts with
      prepareRunDir(dir, { hparams, hash: 'h', replicate: 1, environment: env() }, () => undefined);
      expect(getConvConfig()).toEqual({ ...defaultConvConfig, weightGradChunk: defaultConvConfig.weightGradChunk * 2 });
      expect(getBatchNormConfig()).toEqual(defaultBatchNormConfig); // the code before the field: 8192
    } finally {
      setConvConfig(before);
      setBatchNormConfig(beforeBn);
    }
  });

  it('prepareRunDir records the BatchNorm configuration in force for a new run, and a resumed run adopts it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ep-env-'));
    dirs.push(dir);
    const hparams = { ...defaultHparams(), model: 'resnet20' };
    const beforeBn = getBatchNormConfig();
    try {
      setBatchNormConfig({ chunk: 4096, workgroup: 16 });
      const meta = { hparams, hash: 'h', replicate: 1, environment: env() };
      expect(prepareRunDir(dir, meta, () => undefined).kernels.batchnorm).toEqual({ chunk: 4096, workgroup: 16 });
      expect(JSON.parse(readFileSync(join(dir, 'hparams.json'), 'utf8')).kernels.batchnorm).toEqual({ chunk: 4096, workgroup: 16 });
      setBatchNormConfig(cpuBatchNormConfig); // another session, another adapter's choice
      prepareRunDir(dir, meta, () => undefined);
      expect(getBatchNormConfig()).toEqual({ chunk: 4096, workgroup: 16 });
    } finally {
      setBatchNormConfig(beforeBn);
    }
  });

  it('a resumed run adopts its record only inside its withGpu: the next run of the process records the configuration the session chose', async () => {
    const resumed = mkdtempSync(join(tmpdir(), 'ep-env-'));
    const fresh = mkdtempSync(join(tmpdir(), 'ep-env-'));
    dirs.push(resumed, fresh);
    const hparams = { ...defaultHparams(), model: 'resnet20' };
    const meta = { hparams, hash: 'h', replicate: 1, environment: env() };
    const before = getKernelConfig();
    try {
      const recorded = { conv2d: { ...defaultConvConfig, pointwiseChannels: 8 }, batchnorm: { chunk: 4096 } };
      writeFileSync(join(resumed, 'hparams.json'), JSON.stringify({ ...meta, kernels: recorded }));
      setConvConfig({ ...defaultConvConfig, pointwiseChannels: 16 }); // e.g. what the autotuner picked for this process
      const session = await withGpu({ gpu: gpu() }, async () => getKernelConfig());
      await withGpu({ gpu: gpu() }, async () => {
        prepareRunDir(resumed, meta, () => undefined);
        // a record from before BatchNormConfig.workgroup existed ran the kernels at 64 invocations
        expect(getKernelConfig()).toEqual({ ...recorded, batchnorm: { chunk: 4096, workgroup: 64 } });
      });
      expect(getKernelConfig()).toEqual(session);
      const started = await withGpu({ gpu: gpu() }, async () => prepareRunDir(fresh, meta, () => undefined));
      expect(started.kernels).toEqual(session);
      expect(started.kernels.conv2d.pointwiseChannels).toBe(16);
    } finally {
      setConvConfig(before.conv2d);
      setBatchNormConfig(before.batchnorm);
    }
  });
});
