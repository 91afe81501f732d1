// `early-phase branch NAME --lottery DIR --levels RANGE`: run a branch (src/lottery/branches.ts) off
// finished IMP levels. Output: DIR/replicate_<R>/level_<L>/branch_<name>_<hash>/ with the files of a
// level run plus branch.json (name, args, label) and perturbation.json (Delta statistics).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Gpu } from '../gpu/runtime.js';
import { withGpu, withReplicate } from '../train/session.js';
import { loadSafetensors } from '../io/safetensors.js';
import { writeFileAtomic } from '../io/files.js';
import { openTrainData } from '../train/cifar_train_data.js';
import { stableHash, validateHparams, type Hparams } from '../train/hparams.js';
import { replicateSeed, type RunMeta } from '../train/train.js';
import type { TrainData } from '../train/train_data.js';
import type { EvalResult } from '../train/training_loop.js';
import { branchDef, type BranchDef } from './branches.js';
import { trainFromRewind } from './from_rewind.js';
import { LOTTERY_HPARAMS, loadMask, pruneIgnoreList } from './lottery.js';
import { perturbationStats } from './perturbation.js';
import type { Sparsity } from './prune.js';

export interface BranchOptions {
  /** The lottery's lottery_<hash> directory. */
  lottery: string;
  levels: number[];
  replicates?: number[];
  /** Branch arguments (defaults filled in from the branch definition). */
  args?: Hparams;
  /** Training hyperparameters that differ from the lottery's (subset sizes, batch, ...). */
  trainOverrides?: Hparams;
  data?: string;
  quiet?: boolean;
  gpu?: Gpu;
  trainData?: (seed: number, hparams: Hparams) => TrainData;
  logEvery?: number;
  /** Pick the conv kernel configuration by a short measured search (cached per adapter). */
  autotune?: boolean;
}

export interface BranchResult {
  replicate: number;
  level: number;
  dir: string;
  sparsity: Sparsity;
  test: EvalResult | null;
}

export function readLotteryHparams(lotteryDir: string): Hparams {
  const path = join(lotteryDir, 'hparams.json');
  if (!existsSync(path)) throw new Error(`${lotteryDir} is not a lottery directory (no hparams.json); pass the lottery_<hash> folder`);
  return (JSON.parse(readFileSync(path, 'utf8')) as RunMeta).hparams;
}

export function branchArgs(def: BranchDef, input: Hparams = {}): Hparams {
  return validateHparams(input, def.args);
}

/** Directory name of a branch: its name and a hash of its non-default arguments and training overrides. */
export function branchDirName(def: BranchDef, args: Hparams, overrides: Hparams): string {
  const nonDefault = Object.fromEntries(def.args.filter((d) => args[d.key] !== d.default).map((d) => [d.key, args[d.key]]));
  return `branch_${def.name}_${stableHash({ branch: def.name, args: nonDefault, overrides })}`;
}

export async function runBranch(name: string, options: BranchOptions): Promise<BranchResult[]> {
  const def = branchDef(name);
  const args = branchArgs(def, options.args);
  const lotteryHparams = readLotteryHparams(options.lottery);
  const overrides = Object.fromEntries(Object.entries(options.trainOverrides ?? {}).filter(([k, v]) => lotteryHparams[k] !== v));
  const hparams = validateHparams({ ...lotteryHparams, ...overrides }, LOTTERY_HPARAMS);
  const dirName = branchDirName(def, args, overrides);
  return withGpu(options, async (gpu) => {
    const results: BranchResult[] = [];
    for (const replicate of options.replicates ?? [1]) {
      const repDir = join(options.lottery, `replicate_${replicate}`);
      const rewindPath = join(repDir, 'rewind.safetensors');
      if (!existsSync(rewindPath)) throw new Error(`${rewindPath} missing: run the lottery for replicate ${replicate} first`);
      const seed = replicateSeed(Number(hparams.seed), replicate);
      await withReplicate(gpu, hparams, seed, options, async (network, data) => {
        const rewind = loadSafetensors(rewindPath);
        const k = Number(rewind.metadata.iteration ?? 0);
        const initState = loadSafetensors(join(repDir, 'init.safetensors')).tensors;
        const prunable = network.prunableNames(pruneIgnoreList(hparams, network.model.defaultPruneIgnore()));
        const initWeights = new Map(prunable.map((n) => [n, initState.get(n)!.data as Float32Array]));
        for (const level of options.levels) {
          const levelDir = join(repDir, `level_${level}`, 'main');
          if (!existsSync(join(levelDir, 'mask.safetensors'))) throw new Error(`${levelDir}/mask.safetensors missing: run the lottery to level ${level} first`);
          const masks = loadMask(levelDir);
          const dir = join(repDir, `level_${level}`, dirName);
          mkdirSync(dir, { recursive: true });
          writeFileAtomic(join(dir, 'branch.json'), JSON.stringify({ name: def.name, args, label: def.label(args), overrides, level, replicate, lottery: options.lottery }, null, 2) + '\n');
          const sparsity = JSON.parse(readFileSync(join(levelDir, 'sparsity.json'), 'utf8')) as Sparsity;
          writeFileAtomic(join(dir, 'sparsity.json'), JSON.stringify(sparsity, null, 2) + '\n');
          const fromInit = def.startsAt?.(args) === 'init';
          // w_k times the mask: what Delta is measured against.
          const wk = new Map(prunable.map((n) => [n, Float32Array.from(rewind.tensors.get(n)!.data as Float32Array, (v, i) => v * masks.get(n)![i])]));
          const r = await trainFromRewind({
            gpu,
            network,
            data,
            hparams,
            dir,
            start: fromInit ? 0 : k,
            rewindState: fromInit ? initState : rewind.tensors,
            masks,
            label: `rep ${replicate} level ${level} ${def.label(args)}`,
            quiet: options.quiet,
            logEvery: options.logEvery,
            perturb: async (net) => {
              await def.perturb({
                network: net,
                prunable,
                init: initWeights,
                seed,
                args,
                dir,
                masks,
                hparams,
                dataFor: (h) => (options.trainData ? options.trainData(seed, h) : openTrainData(gpu, h, seed, options.data)),
                quiet: options.quiet,
              });
              const stats = await perturbationStats(net, wk, prunable);
              writeFileAtomic(join(dir, 'perturbation.json'), JSON.stringify(stats, null, 2) + '\n');
            },
          });
          results.push({ replicate, level, dir, sparsity, test: r.test });
        }
      });
    }
    return results;
  });
}
