// IMP with rewinding (paper.md): OUT/lottery_<hash>/
//   hparams.json
//   replicate_<R>/init.safetensors          iteration-0 state
//   replicate_<R>/rewind.safetensors        iteration-k state (metadata: iteration)
//   replicate_<R>/rewind_run/               the dense training from 0 to k (when k > 0)
//   replicate_<R>/level_<L>/main/           mask.safetensors, sparsity.json, metrics.jsonl,
//                                           model_start.safetensors, model_final.safetensors
// Every stage is skipped when its outputs exist, and every training stage resumes from its
// checkpoint, so re-running the same command after a kill continues where it stopped.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Gpu } from '../gpu/runtime.js';
import { withGpu, withReplicate } from '../train/session.js';
import { loadSafetensors, saveSafetensors, type SafeTensors } from '../io/safetensors.js';
import { writeFileAtomic } from '../io/files.js';
import type { Network } from '../nn/network.js';
import { describeEnvironment } from '../train/environment.js';
import { hparamsHash, TRAIN_HPARAMS, validateHparams, type HparamDef, type Hparams } from '../train/hparams.js';
import { openTrainData } from '../train/cifar_train_data.js';
import { parseStep } from '../train/steps.js';
import { prepareRunDir, replicateSeed } from '../train/train.js';
import type { TrainData } from '../train/train_data.js';
import { runTrainingLoop, type EvalResult } from '../train/training_loop.js';
import { trainFromRewind } from './from_rewind.js';
import { pretrain, PRETRAIN_TASKS } from '../experiments/pretrain.js';
import { magnitudePrune, sparsityOf, type Sparsity } from './prune.js';

export const LOTTERY_HPARAMS: HparamDef[] = [
  ...TRAIN_HPARAMS,
  { key: 'rewind', flag: '--rewind', type: 'step', default: '0it', hashed: true, help: 'rewinding iteration k: every level starts from the iteration-k state' },
  { key: 'pruningFraction', flag: '--pruning-fraction', type: 'float', default: 0.2, hashed: true, range: { min: 0, max: 1 }, help: 'fraction of the remaining prunable weights removed at each level' },
  {
    key: 'pruneIgnore',
    flag: '--prune-ignore',
    type: 'string',
    default: 'default',
    hashed: true,
    help: 'comma-separated weights never pruned; "default" = none for ResNets, fc.weight for VGG (open_lth); "none"',
  },
  { key: 'pretrainEpochs', flag: '--pretrain-epochs', type: 'int', default: 0, hashed: true, help: 'pre-train the dense network for E epochs on --pretrain-task and use the result as the rewinding state' },
  { key: 'pretrainTask', flag: '--pretrain-task', type: 'string', default: 'none', choices: PRETRAIN_TASKS, hashed: true, help: 'pre-training task: random-labels, rotation (4-way, head swapped after), blur, blur+rotation' },
  { key: 'pretrainInBudget', flag: '--pretrain-in-budget', type: 'bool', default: false, hashed: true, help: 'count pre-training against the CIFAR-10 budget (open_lth does); by default levels train the full budget from 0' },
];

export interface LotteryOptions {
  out: string;
  replicates?: number[];
  /** Run levels 0..levels. */
  levels: number;
  data?: string;
  quiet?: boolean;
  gpu?: Gpu;
  /** Inject datasets (tests): called with the replicate's seed and the hyperparameters of the stage. */
  trainData?: (seed: number, hparams: Hparams) => TrainData;
  logEvery?: number;
  /** Test hook: stop (throw) after this many training iterations in this process. */
  stopAfter?: number;
  /** Pick the conv kernel configuration by a short measured search (cached per adapter). */
  autotune?: boolean;
}

export interface LevelResult {
  replicate: number;
  level: number;
  sparsity: Sparsity;
  test: EvalResult | null;
  dir: string;
}

export function lotteryDir(out: string, hparams: Hparams): string {
  return join(out, `lottery_${hparamsHash(hparams, LOTTERY_HPARAMS)}`);
}

export function pruneIgnoreList(hparams: Hparams, defaults: string[]): string[] {
  const v = String(hparams.pruneIgnore);
  if (v === 'default') return defaults;
  if (v === 'none') return [];
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

function masksOf(tensors: SafeTensors): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, t] of tensors) {
    const data = t.dtype === 'U8' ? Float32Array.from(t.data as Uint8Array) : (t.data as Float32Array);
    out.set(name, data);
  }
  return out;
}

export function loadMask(levelDir: string): Map<string, Float32Array> {
  return masksOf(loadSafetensors(join(levelDir, 'mask.safetensors')).tensors);
}

/** Mask of level L: all ones at L = 0, else pruned from level L-1's final weights and mask. */
function levelMask(network: Network, repDir: string, level: number, prunable: string[], fraction: number): Map<string, Float32Array> {
  if (level === 0) return new Map(prunable.map((n) => [n, new Float32Array(network.params.get(n).size).fill(1)]));
  const prev = join(repDir, `level_${level - 1}`, 'main');
  const finalPath = join(prev, 'model_final.safetensors');
  if (!existsSync(finalPath)) throw new Error(`level ${level} needs ${finalPath} (level ${level - 1} has not finished)`);
  const weights = loadSafetensors(finalPath).tensors;
  const prevMask = loadMask(prev);
  return magnitudePrune(
    prunable.map((name) => ({ name, weights: weights.get(name)!.data as Float32Array, mask: prevMask.get(name)! })),
    fraction,
  );
}

/** Test hook: a step callback that throws once `n` training iterations have run in this process. */
export function stopHook(n: number | undefined): ((iteration: number) => void) | undefined {
  if (n === undefined) return undefined;
  let left = n;
  return () => {
    if (--left <= 0) throw new Error(`stopped after ${n} iterations (test hook)`);
  };
}

/** Pre-training takes both flags, and replaces rewinding; checked before any run directory is made. */
function checkPretrainFlags(hparams: Hparams): void {
  const epochs = Number(hparams.pretrainEpochs);
  const task = String(hparams.pretrainTask);
  if ((epochs > 0) !== (task !== 'none')) throw new Error(`give --pretrain-epochs E and --pretrain-task together (got --pretrain-epochs ${epochs}, --pretrain-task ${task})`);
  if (epochs > 0 && hparams.rewind !== '0it') throw new Error('--pretrain-epochs replaces rewinding: leave --rewind at 0it');
}

export async function lottery(input: Hparams, options: LotteryOptions): Promise<LevelResult[]> {
  const hparams = validateHparams(input, LOTTERY_HPARAMS);
  checkPretrainFlags(hparams);
  if (!Number.isInteger(options.levels) || options.levels < 0) throw new Error(`levels must be a whole number >= 0 (levels 0..N), got ${options.levels}`);
  const root = lotteryDir(options.out, hparams);
  return withGpu(options, async (gpu) => {
    prepareRunDir(root, { hparams, hash: hparamsHash(hparams, LOTTERY_HPARAMS), replicate: -1, environment: describeEnvironment(gpu) }, undefined, LOTTERY_HPARAMS);
    const results: LevelResult[] = [];
    for (const replicate of options.replicates ?? [1]) {
      const seed = replicateSeed(Number(hparams.seed), replicate);
      results.push(...(await withReplicate(gpu, hparams, seed, options, (network, data) => lotteryReplicate(gpu, network, data, hparams, root, replicate, seed, options))));
    }
    return results;
  });
}

async function lotteryReplicate(gpu: Gpu, network: Network, data: TrainData, hparams: Hparams, root: string, replicate: number, seed: number, options: LotteryOptions): Promise<LevelResult[]> {
  const repDir = join(root, `replicate_${replicate}`);
  mkdirSync(repDir, { recursive: true });
  const itersPerEpoch = Math.ceil(data.trainSize / Number(hparams.batch));
  const pretrainEpochs = String(hparams.pretrainTask) === 'none' ? 0 : Number(hparams.pretrainEpochs);
  // With pre-training, the levels start at 0 (or, in budget, where pre-training stopped).
  const k = pretrainEpochs > 0 ? (hparams.pretrainInBudget ? pretrainEpochs * itersPerEpoch : 0) : parseStep(String(hparams.rewind), itersPerEpoch);
  const common = { quiet: options.quiet, logEvery: options.logEvery, onStep: stopHook(options.stopAfter) };

  // Iteration 0.
  const initPath = join(repDir, 'init.safetensors');
  if (!existsSync(initPath)) {
    network.init(seed);
    saveSafetensors(initPath, await network.stateDict());
  }
  // Iteration k.
  const rewindPath = join(repDir, 'rewind.safetensors');
  if (!existsSync(rewindPath)) {
    let state: SafeTensors;
    if (pretrainEpochs > 0) {
      state = await pretrain({
        gpu,
        hparams,
        task: String(hparams.pretrainTask),
        epochs: pretrainEpochs,
        seed,
        dir: join(repDir, 'pretrain_run'),
        start: loadSafetensors(initPath).tensors,
        dataFor: (h) => (options.trainData ? options.trainData(seed, h) : openTrainData(gpu, h, seed, options.data)),
        quiet: options.quiet,
        logEvery: options.logEvery,
        label: `rep ${replicate} pre-train ${hparams.pretrainTask} ${pretrainEpochs}ep`,
      });
    } else if (k === 0) state = loadSafetensors(initPath).tensors;
    else {
      const dir = join(repDir, 'rewind_run');
      mkdirSync(dir, { recursive: true });
      await runTrainingLoop({
        gpu,
        network,
        data,
        hparams: { ...hparams, trainingSteps: `${k}it` },
        dir,
        start: 0,
        label: `rep ${replicate} dense 0 -> ${k}`,
        initialize: () => network.loadStateDict(loadSafetensors(initPath).tensors, initPath),
        ...common,
      });
      state = loadSafetensors(join(dir, 'model_final.safetensors')).tensors;
    }
    // Every random stream (data order, augmentation) is counter-based on (seed, iteration): the step
    // and the seed are the whole RNG and data-order state.
    saveSafetensors(rewindPath, state, { iteration: String(k), seed: String(seed), replicate: String(replicate), rng: 'philox4x32-10, counter-based on (seed, epoch, example)' });
  }
  const rewindState = loadSafetensors(rewindPath).tensors;

  const prunable = network.prunableNames(pruneIgnoreList(hparams, network.model.defaultPruneIgnore()));
  const results: LevelResult[] = [];
  for (let level = 0; level <= options.levels; level++) {
    const dir = join(repDir, `level_${level}`, 'main');
    mkdirSync(dir, { recursive: true });
    const maskPath = join(dir, 'mask.safetensors');
    let masks: Map<string, Float32Array>;
    if (existsSync(maskPath)) masks = loadMask(dir);
    else {
      masks = levelMask(network, repDir, level, prunable, Number(hparams.pruningFraction));
      saveSafetensors(maskPath, new Map([...masks].map(([name, m]) => [name, { dtype: 'F32' as const, shape: network.params.get(name).shape, data: m }])));
    }
    const sparsity = sparsityOf(masks.values());
    writeFileAtomic(join(dir, 'sparsity.json'), JSON.stringify(sparsity, null, 2) + '\n');
    const r = await trainFromRewind({
      gpu,
      network,
      data,
      hparams,
      dir,
      start: k,
      rewindState,
      masks,
      label: `rep ${replicate} level ${level} (${(100 * sparsity.fraction_remaining).toFixed(1)}% left)`,
      ...common,
    });
    results.push({ replicate, level, sparsity, test: r.test, dir });
  }
  return results;
}
