// `npm run bench` (node dist/bench.js): ceilings of this adapter, every kernel at the shapes the models
// use, and end-to-end training / evaluation throughput on the `train` code path. Prints tables and
// optionally writes JSON (--json FILE) that carries the adapter, Dawn version and git commit.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Gpu } from '../src/gpu/runtime.js';
import { GpuTimer } from '../src/gpu/timer.js';
import { adoptAdapterKernelConfig, getKernelConfig, type KernelConfig } from '../src/ops/kernel_config.js';
import { BATCHNORM_CONFIG_FIELDS, checkBatchNormConfig, type BatchNormConfig } from '../src/ops/batchnorm.js';
import { autotuneConv } from '../src/ops/conv2d_autotune.js';
import { getConvConfig, parseConvConfig, setConvConfig } from '../src/ops/conv2d.js';
import { describeEnvironment } from '../src/train/environment.js';
import { writeFileAtomic } from '../src/io/files.js';
import { bestCeilings, measureCeilings, type Ceilings } from './ceilings.js';
import { endToEnd, type EndToEndResult } from './end_to_end.js';
import { benchKernels, type KernelEntry, type StepProfile } from './kernels.js';
import type { TfjsResult } from './tfjs/resnet20_tfjs.js';
import { runPytorch } from './pytorch.js';
import { ceilingsTable, endToEndTable, header, kernelsTable, perStepSummary, profileTable, renderMarkdown, type BenchReport } from './report.js';
import { checkTargets, kernelPassCaution, targetLines } from './targets.js';
import { intFlag } from './cli_args.js';
import { compareConfigs, comparisonTable } from './config_ab.js';

const USAGE = `usage: node dist/bench.js [options]
  --json FILE            also write the results as JSON
  --only PART            ceilings | kernels | end-to-end (kernels measures the ceilings too)
  --reps N               timed repetitions per kernel, median reported (default 5)
  --passes N             time the kernel list N times, minutes apart, and keep each kernel's lowest
                         median (default 2: interference on a shared VM comes in episodes of seconds);
                         the ceilings are measured N times too (before each kernel pass) and keep
                         their best
  --models LIST          models whose kernel shapes to time: resnet20,wrn16_8,vgg13 (default resnet20)
  --batch N              batch of the kernel shapes (default 128; WRN/VGG at 128 take minutes on a CPU adapter)
  --filter REGEX         time only the kernel entries whose "op shape" matches (e.g. batchnorm, 'k1 s2')
  --no-profile           skip the per-kernel profile of one training step
  --steps N              timed training steps end to end (default 20, at least 20 for reported numbers)
  --warmup N             warm-up steps before them (default 3)
  --e2e-batch N          end-to-end training batch (default 128)
  --eval-images N        test images evaluated end to end (default 1000, synthetic data)
  --data DIR             CIFAR-10 for end to end (default: synthetic CIFAR-shaped data)
  --epoch                end to end also times one whole epoch: 50,000 synthetic images, 391 steps
                         (the issue's GPU figure; minutes on a CPU adapter)
  --epochs N             N such epochs back to back (implies --epoch; the first meets the last
                         partial batch's shapes for the first time, the later ones do not)
  --readback-lag N       steps recorded before a loss read is awaited (default 1, as the training loop)
  --tfjs-steps N         TF.js-webgpu steps timed for the comparison, after 1 warm-up (default 3; a step
                         takes about 20 s on lavapipe; runs with end to end, in a child process)
  --no-tfjs              skip the TF.js comparison
  --no-pytorch           skip the PyTorch reference (bench/pytorch_resnet20.py: fp32 eager, the same
                         ResNet-20 and batch, on CUDA if its torch sees a GPU, else on the CPU with one
                         thread per core; runs with end to end when a Python with torch is found)
  --no-autotune          time the default conv kernel configuration instead of the measured one
                         (the search runs once per adapter and Dawn version, then comes from the cache)
  --conv-config JSON     time this conv kernel configuration: ConvConfig fields over the defaults, e.g.
                         '{"weightGradChunk":128,"reduceLanes":32}' (no search)
  --compare-config JSON  only this: time whole training steps (ResNet-20, or the first of --models, at
                         --e2e-batch) under the configuration in force
                         (autotuned, --no-autotune or --conv-config) as A and under JSON (ConvConfig fields
                         over A, and "batchnorm": BatchNormConfig fields, e.g. '{"batchnorm":{"chunk":8192}}')
                         as B, alternating in one process, each dispatch timed in step order;
                         prints each kind of dispatch's A and B time and whether two training steps
                         from the same state end in the same bits (JSON key config_comparison)
  --rounds N             rounds of A then B for --compare-config (default 6)
  --markdown             print the tables as markdown
  --render FILE          no GPU: print a results JSON as markdown (with --readme README.md: replace the
                         section between <!-- bench:begin --> and <!-- bench:end --> there; --marker NAME
                         for <!-- NAME:begin --> ... <!-- NAME:end -->, e.g. bench-h100)
  -h, --help`;

const PARTS = ['ceilings', 'kernels', 'end-to-end'] as const;


/** TF.js training throughput from dist/bench-tfjs.js in a child process (its own Dawn device). */
function runTfjs(batch: number, steps: number): TfjsResult | { skipped: string } {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'bench-tfjs.js');
  if (!existsSync(script)) return { skipped: `${script} is not built (node esbuild.mjs)` };
  const dir = mkdtempSync(join(tmpdir(), 'early-phase-tfjs-'));
  try {
    const out = join(dir, 'tfjs.json');
    execFileSync(process.execPath, [script, '--batch', String(batch), '--steps', String(steps), '--warmup', '1', '--quiet', '--json', out], { stdio: ['ignore', 'ignore', 'inherit'] });
    return JSON.parse(readFileSync(out, 'utf8')) as TfjsResult;
  } catch (e) {
    return { skipped: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** --compare-config's text as a JSON object (a clear error otherwise). */
function parseConfigJson(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`--compare-config: not JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('--compare-config: expected a JSON object of configuration fields');
  return v as Record<string, unknown>;
}

/** Write a results document as JSON (NaN and infinities become null), atomically: a bench killed while writing leaves the old file whole. */
function writeJson(path: string, doc: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, JSON.stringify(doc, null, 2) + '\n');
  console.log(`wrote ${path}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      json: { type: 'string' },
      only: { type: 'string' },
      reps: { type: 'string' },
      passes: { type: 'string' },
      models: { type: 'string' },
      batch: { type: 'string' },
      'no-profile': { type: 'boolean' },
      filter: { type: 'string' },
      steps: { type: 'string' },
      warmup: { type: 'string' },
      'e2e-batch': { type: 'string' },
      'eval-images': { type: 'string' },
      'readback-lag': { type: 'string' },
      data: { type: 'string' },
      'tfjs-steps': { type: 'string' },
      'no-tfjs': { type: 'boolean' },
      'no-pytorch': { type: 'boolean' },
      epoch: { type: 'boolean' },
      epochs: { type: 'string' },
      markdown: { type: 'boolean' },
      'no-autotune': { type: 'boolean' },
      'conv-config': { type: 'string' },
      'compare-config': { type: 'string' },
      rounds: { type: 'string' },
      render: { type: 'string' },
      readme: { type: 'string' },
      marker: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.render) {
    const md = renderMarkdown(JSON.parse(readFileSync(values.render, 'utf8')) as BenchReport, values.render);
    if (!values.readme) {
      console.log(md);
      return 0;
    }
    const marker = values.marker ?? 'bench';
    if (!/^[a-z0-9-]+$/.test(marker)) throw new Error(`--marker ${marker}: letters, digits and '-' only`);
    const begin = `<!-- ${marker}:begin -->`;
    const end = `<!-- ${marker}:end -->`;
    const text = existsSync(values.readme) ? readFileSync(values.readme, 'utf8') : '';
    const i = text.indexOf(begin);
    const j = text.indexOf(end);
    const section = `${begin}\n${md}\n${end}`;
    const next = i >= 0 && j > i ? text.slice(0, i) + section + text.slice(j + end.length) : `${text}${text && !text.endsWith('\n') ? '\n' : ''}\n## Benchmark\n\n${section}\n`;
    writeFileAtomic(values.readme, next); // a killed render leaves the old README whole
    console.log(`updated ${values.readme}`);
    return 0;
  }
  const only = values.only as (typeof PARTS)[number] | undefined;
  if (only !== undefined && !PARTS.includes(only)) throw new Error(`--only ${only}: choose one of ${PARTS.join(', ')}`);
  const reps = intFlag('reps', values.reps, 5);
  const passes = intFlag('passes', values.passes, 2, 1);
  const models = (values.models ?? 'resnet20').split(',').map((s) => s.trim()).filter(Boolean);
  const batch = intFlag('batch', values.batch, 128);
  const steps = intFlag('steps', values.steps, 20);
  const warmup = intFlag('warmup', values.warmup, 3, 0);
  const e2eBatch = intFlag('e2e-batch', values['e2e-batch'], 128);
  const evalImages = intFlag('eval-images', values['eval-images'], 1000);
  const readbackLag = intFlag('readback-lag', values['readback-lag'], 1);
  const epochs = values.epochs !== undefined ? intFlag('epochs', values.epochs, 1) : values.epoch ? 1 : 0;
  const tfjsSteps = intFlag('tfjs-steps', values['tfjs-steps'], 3);
  const md = Boolean(values.markdown);
  const runCeilings = only !== 'end-to-end';
  const runKernels = only === undefined || only === 'kernels';
  const runE2e = only === undefined || only === 'end-to-end';
  const log = (s: string) => console.error(s);
  const t0 = performance.now();

  const gpu = await Gpu.create();
  try {
    adoptAdapterKernelConfig(gpu); // BatchNorm's chunk size by the kind of adapter, as a training session does
    // the conv search (once per adapter, Dawn version and kernel source) only matters to parts that run convs
    const pinned = values['conv-config'];
    const tune = !values['no-autotune'] && pinned === undefined && (runKernels || runE2e);
    if (tune) await autotuneConv(gpu, { log });
    if (pinned !== undefined) setConvConfig(parseConvConfig(pinned, '--conv-config'));
    const how = pinned !== undefined ? '--conv-config' : tune ? 'autotuned' : values['no-autotune'] ? 'defaults, --no-autotune' : 'defaults: no conv runs';
    console.log(`conv kernel configuration (${how}): ${JSON.stringify(getKernelConfig().conv2d)}`);
    console.log(`batchnorm kernel configuration (by the kind of adapter): ${JSON.stringify(getKernelConfig().batchnorm)}`);
    if (!GpuTimer.supported(gpu) && only !== 'end-to-end') throw new Error("the adapter lacks 'timestamp-query'; only --only end-to-end can run");
    const env = describeEnvironment(gpu);
    if (values['compare-config'] !== undefined) {
      const text = values['compare-config'];
      // ConvConfig fields, and optionally "batchnorm": BatchNormConfig fields
      const { batchnorm, ...convFields } = parseConfigJson(text);
      parseConvConfig(JSON.stringify(convFields), '--compare-config'); // a clear error for a bad field
      const a = getKernelConfig();
      const bnFields: readonly string[] = BATCHNORM_CONFIG_FIELDS;
      const bnOk = batchnorm === undefined || (typeof batchnorm === 'object' && batchnorm !== null && !Array.isArray(batchnorm) && Object.keys(batchnorm).every((k) => bnFields.includes(k)));
      if (!bnOk) throw new Error(`--compare-config: "batchnorm" must be an object of BatchNormConfig fields (${bnFields.join(', ')}), got ${JSON.stringify(batchnorm)}`);
      const b: KernelConfig = {
        conv2d: parseConvConfig(JSON.stringify({ ...a.conv2d, ...convFields }), '--compare-config'),
        batchnorm: checkBatchNormConfig({ ...a.batchnorm, ...(batchnorm as Partial<BatchNormConfig> | undefined) }),
      };
      const rounds = intFlag('rounds', values.rounds, 6);
      log(`A: ${JSON.stringify(a)}\nB: A with ${values['compare-config']}\n${models[0]} steps at batch ${e2eBatch}, ${rounds} rounds of A then B:`);
      const c = await compareConfigs(gpu, a, b, { model: models[0], batch: e2eBatch, rounds, log });
      console.log(comparisonTable(c));
      if (values.json) writeJson(values.json, { schema: 'early-phase-config-comparison-1', date: new Date().toISOString(), adapter: env.adapter, dawn_version: `webgpu@${env.webgpu_package}`, git_commit: env.git_commit, environment: env, config_comparison: c });
      return 0;
    }
    const report: BenchReport = {
      schema: 'early-phase-bench-1',
      date: new Date().toISOString(),
      adapter: env.adapter,
      dawn_version: `webgpu@${env.webgpu_package}`,
      git_commit: env.git_commit,
      environment: { ...env },
      kernel_config: getKernelConfig(),
      options: { only: only ?? 'all', reps, passes, models, batch, steps, warmup, e2e_batch: e2eBatch, eval_images: evalImages, data: values.data ?? 'synthetic', profile: !values['no-profile'], filter: values.filter ?? null, epoch: epochs > 0, epochs, readback_lag: readbackLag },
      train_images_per_s: null,
      eval_images_per_s: null,
      ceilings: null,
      kernels: [],
      step_profiles: [],
      end_to_end: null,
      tfjs: null,
      speedup_vs_tfjs: null,
      pytorch: null,
      speedup_vs_pytorch: null,
      wall_s: 0,
    };
    console.log(header(report));
    if (batch !== 128 && runKernels) console.log(`NOTE: kernel shapes at batch ${batch}, not the batch 128 the models train at.`);
    if (e2eBatch !== 128 && runE2e) console.log(`NOTE: end to end at batch ${e2eBatch}, not 128: train_images_per_s is not the reference number.`);

    // The ceilings are measured once per pass, as the kernels are timed (each keeps its best: the
    // highest throughput, the lowest fixed cost), so a kernel's best pass is not set against a single
    // measurement of its ceiling that a noisy moment may have lowered. With the kernels, each
    // measurement comes right before a kernel pass (bench/kernels.ts rates the kept entries against
    // the best of all); without them, the passes run back to back.
    const ceilingRuns: Ceilings[] = [];
    const measureCeilingPass = async (pass: number): Promise<Ceilings> => {
      log(passes > 1 ? `ceilings (pass ${pass + 1}/${passes}):` : 'ceilings:');
      const timer = new GpuTimer(gpu, Math.max(64, reps));
      try {
        ceilingRuns.push(await measureCeilings(gpu, timer, { reps, log }));
      } finally {
        timer.destroy();
      }
      return bestCeilings(ceilingRuns);
    };
    let ceilings: Ceilings | null = null;
    if (runCeilings && !runKernels) {
      for (let pass = 0; pass < passes; pass++) ceilings = await measureCeilingPass(pass);
      report.ceilings = ceilings;
    }

    // End to end before the per-kernel part, so the pool it reports holds only the training run's buffers.
    let e2e: EndToEndResult | null = null;
    if (runE2e) {
      log(`end to end (resnet20, batch ${e2eBatch}):`);
      // evaluation at the batch train evaluates at (its training batch), then also at 500: evaluate()'s
      // default, which the telemetry experiments use and which eval_images_per_s measured in older files
      try {
        e2e = await endToEnd(gpu, { model: 'resnet20', batch: e2eBatch, steps, warmup, logEvery: 10, evalImages, extraEvalBatch: 500, dataDir: values.data, epochImages: epochs > 0 ? 50_000 : 0, epochs, readbackLag, log });
        report.end_to_end = e2e;
        report.train_images_per_s = e2e.train_images_per_s;
        report.eval_images_per_s = e2e.eval_images_per_s;
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        log(`  end to end SKIPPED: ${msg}`);
        report.end_to_end = { skipped: msg };
      }
    }

    if (runE2e && !values['no-tfjs']) {
      log(`TF.js-webgpu, the same ResNet-20 on this adapter (batch ${e2eBatch}, 1 warm-up + ${tfjsSteps} steps, about ${20 * (tfjsSteps + 1)} s here):`);
      report.tfjs = runTfjs(e2eBatch, tfjsSteps);
      if ('skipped' in report.tfjs) log(`  TF.js SKIPPED: ${report.tfjs.skipped}`);
      else {
        log(`  TF.js: ${report.tfjs.train_images_per_s.toFixed(2)} img/s`);
        if (e2e) report.speedup_vs_tfjs = e2e.train_images_per_s / report.tfjs.train_images_per_s;
      }
    }

    if (runE2e && !values['no-pytorch']) {
      log(`PyTorch, the same ResNet-20 (batch ${e2eBatch}, ${warmup} warm-up + ${steps} steps, fp32 eager, TF32 off):`);
      report.pytorch = runPytorch(e2eBatch, steps, warmup);
      if ('skipped' in report.pytorch) log(`  PyTorch SKIPPED: ${report.pytorch.skipped}`);
      else {
        const p = report.pytorch;
        log(`  PyTorch ${p.torch} on ${p.device_type === 'cuda' ? p.device : `the CPU (${p.threads} threads)`}: ${p.train_images_per_s.toFixed(1)} img/s`);
        if (e2e) report.speedup_vs_pytorch = e2e.train_images_per_s / p.train_images_per_s;
      }
    }

    let entries: KernelEntry[] = [];
    let profiles: StepProfile[] = [];
    if (runKernels) {
      log(`kernels (batch ${batch}, median of ${reps} after warm-up, GPU timestamps${passes > 1 ? `; the lower median of ${passes} passes, the ceilings measured before each` : ''}):`);
      ({ entries, profiles, ceilings } = await benchKernels(gpu, models, measureCeilingPass, { reps, passes, batch, log, profile: !values['no-profile'], filter: values.filter === undefined ? undefined : new RegExp(values.filter) }));
      report.ceilings = ceilings;
      report.kernels = entries;
      report.step_profiles = profiles;
    }

    report.wall_s = (performance.now() - t0) / 1000;
    console.log('');
    if (ceilings) console.log(ceilingsTable(ceilings, md) + '\n');
    if (entries.length) {
      console.log(kernelsTable(entries, md) + '\n');
      for (const line of perStepSummary(entries)) console.log(line);
      const failed = entries.filter((e) => e.error);
      for (const e of failed) console.log(`FAILED ${e.name}: ${e.error}`);
      console.log('');
    }
    for (const p of profiles) {
      console.log(`${p.model} step profile (batch ${p.batch}): ${p.dispatches} dispatches + ${p.copies} copies, ${p.gpu_ms.toFixed(1)} ms GPU time, each timed alone`);
      console.log(profileTable(p, md) + '\n');
    }
    if (e2e) console.log(endToEndTable(e2e, md, report.tfjs, report.pytorch) + '\n');
    else if (report.end_to_end && 'skipped' in report.end_to_end) console.log(`end to end skipped: ${report.end_to_end.skipped}\n`);
    report.targets = checkTargets(report);
    console.log('the performance targets for this adapter (bench/targets.ts):');
    for (const line of targetLines(report.targets)) console.log(`  ${line}`);
    const caution = kernelPassCaution(report);
    if (caution) console.log(`  ${caution}`);
    console.log(`bench took ${report.wall_s.toFixed(0)} s`);
    if (values.json) writeJson(values.json, report);
    return 0;
  } finally {
    await gpu.sync().catch(() => undefined);
    gpu.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
