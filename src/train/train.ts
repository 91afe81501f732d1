// `early-phase train` as a library call: OUT/train_<hash>/replicate_<R>/ with hparams.json,
// metrics.jsonl, checkpoint.safetensors (while running) and model_final.safetensors.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Gpu } from '../gpu/runtime.js';
import { withGpu, withReplicate } from './session.js';
import { writeFileAtomic, writeFileExclusive } from '../io/files.js';
import { getKernelConfig, setKernelConfig, type KernelConfig } from '../ops/kernel_config.js';
import { describeEnvironment } from './environment.js';
import { defaultHparams, hparamsHash, nonDefaultHparams, TRAIN_HPARAMS, validateHparams, type HparamDef, type Hparams } from './hparams.js';
import { runTrainingLoop, type EvalResult } from './training_loop.js';
import type { TrainData } from './train_data.js';

export interface TrainOptions {
  out: string;
  replicate?: number;
  /** CIFAR-10 folder or tarball (else EARLY_PHASE_DATA, else ../shared/data/...). */
  data?: string;
  quiet?: boolean;
  /** Reuse an open GPU (tests, sweeps); otherwise one is opened and destroyed. */
  gpu?: Gpu;
  /** Inject a dataset (tests); otherwise CIFAR-10 is loaded. */
  trainData?: TrainData;
  logEvery?: number;
  /** Test hook, called after every step (see TrainingJob.onStep). */
  onStepHook?: (iteration: number) => Promise<void> | void;
  /** Pick the conv kernel configuration by a short measured search (cached per adapter); the CLI's default. */
  autotune?: boolean;
}

export interface TrainResult {
  runDir: string;
  hash: string;
  test: EvalResult | null;
  skipped: boolean;
  resumed: boolean;
}

/** The seed of every random stream of a replicate: distinct for distinct (seed, replicate). */
export function replicateSeed(seed: number, replicate: number): number {
  if (replicate < 0 || replicate >= 65536) throw new Error(`replicate ${replicate} out of range 0..65535`);
  return seed * 65536 + replicate;
}

export interface RunMeta {
  hparams: Hparams;
  hash: string;
  replicate: number;
  kernels: KernelConfig;
  environment: ReturnType<typeof describeEnvironment>;
}

/**
 * Where a resumed run's machine differs from the one that started it (adapter, Dawn, host CPU): one
 * line saying so, or null. The kernels and their configuration are the same, but a different driver or
 * CPU may compile them to other instructions (lavapipe compiles for the host CPU), so the steps from
 * here on need not give the bits an uninterrupted run would have. A warning, not an error: finishing
 * a run elsewhere is legitimate, only its bit-for-bit reproducibility is in question.
 */
export function machineChange(started: Partial<RunMeta['environment']> | undefined, now: RunMeta['environment']): string | null {
  if (!started) return null;
  const keys = ['adapter', 'webgpu_package', 'cpu'] as const;
  const changed = keys.filter((k) => started[k] !== undefined && started[k] !== now[k]);
  if (changed.length === 0) return null;
  return changed.map((k) => `${k} ${JSON.stringify(started[k])} -> ${JSON.stringify(now[k])}`).join(', ');
}

/**
 * Write hparams.json for a run directory, or check an existing one: the same hashed hyperparameters
 * must be there (a field the file lacks counts as its default, so adding a hyperparameter with a no-op
 * default never orphans a run), and its kernel configuration is adopted so a resumed run computes the
 * same bits. The where/how-often settings (not hashed: --eval-every, --checkpoint-every) may differ
 * on resume; the file then records the new values.
 */
export function prepareRunDir(
  dir: string,
  meta: Omit<RunMeta, 'kernels'>,
  warn: (message: string) => void = (m) => process.stderr.write(m + '\n'),
  defs: HparamDef[] = TRAIN_HPARAMS,
): RunMeta {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'hparams.json');
  if (!existsSync(path)) {
    const full: RunMeta = { ...meta, kernels: getKernelConfig() };
    // exclusive: of two workers starting the same new run, the second adopts the first one's file
    // (and kernel configuration) below instead of replacing it with its own
    if (writeFileExclusive(path, JSON.stringify(full, null, 2) + '\n')) return full;
  }
  const old = JSON.parse(readFileSync(path, 'utf8')) as RunMeta;
  const hashed = (h: Hparams) => JSON.stringify(nonDefaultHparams({ ...defaultHparams(defs), ...h }, defs));
  if (hashed(old.hparams) !== hashed(meta.hparams)) {
    throw new Error(`${path} holds different hyperparameters (hash collision or edited file); move it away to start over`);
  }
  setKernelConfig(old.kernels);
  const change = machineChange(old.environment, meta.environment);
  if (change) warn(`${path}: resuming on another machine than the one that started the run (${change}); the steps from here may not reproduce an uninterrupted run's bits`);
  const settings = defs.filter((d) => !d.hashed && old.hparams[d.key] !== meta.hparams[d.key]);
  if (settings.length === 0) return old;
  warn(`${path}: continuing with ${settings.map((d) => `${d.flag} ${meta.hparams[d.key]} (was ${old.hparams[d.key] ?? 'unset'})`).join(', ')}`);
  const updated: RunMeta = { ...old, hparams: { ...old.hparams, ...Object.fromEntries(settings.map((d) => [d.key, meta.hparams[d.key]])) } };
  writeFileAtomic(path, JSON.stringify(updated, null, 2) + '\n');
  return updated;
}

export async function train(input: Hparams, options: TrainOptions): Promise<TrainResult> {
  const hparams = validateHparams(input);
  const replicate = options.replicate ?? 1;
  const hash = hparamsHash(hparams);
  const runDir = join(options.out, `train_${hash}`, `replicate_${replicate}`);
  return withGpu(options, async (gpu) => {
    const seed = replicateSeed(Number(hparams.seed), replicate);
    // An injected dataset belongs to the caller (tests reuse it), so it is not destroyed here.
    const given = options.trainData;
    const replicateOptions = given ? { trainData: () => given, keepData: true } : { data: options.data };
    return withReplicate(gpu, hparams, seed, replicateOptions, async (network, data) => {
      prepareRunDir(runDir, { hparams, hash, replicate, environment: describeEnvironment(gpu) });
      const r = await runTrainingLoop({
        gpu,
        network,
        data,
        hparams,
        dir: runDir,
        start: 0,
        initialize: () => network.init(seed),
        label: `train ${hparams.model}`,
        quiet: options.quiet,
        logEvery: options.logEvery,
        onStep: options.onStepHook ? (it) => options.onStepHook!(it) : undefined,
      });
      return { runDir, hash, test: r.test, skipped: r.skipped, resumed: r.resumed };
    });
  });
}
