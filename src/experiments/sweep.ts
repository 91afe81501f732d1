// `early-phase sweep figN`: expand one of the paper's figures into its runs (IMP lotteries per k and
// replicate, then branches off their levels), skip the complete ones, and run the rest, or with
// --list print one self-contained command per pending run whose inputs exist, for an external
// scheduler. Runs lock their own directories, so several workers can share one output directory.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Gpu } from '../gpu/runtime.js';
import { branchDef } from '../lottery/branches.js';
import { branchArgs, branchDirName, runBranch } from '../lottery/branch_run.js';
import { lottery, lotteryDir, LOTTERY_HPARAMS } from '../lottery/lottery.js';
import { RunBusyError } from '../train/run_lock.js';
import { parseReplicates, validateHparams, type Hparams } from '../train/hparams.js';

export const FIGURES = ['fig1', 'fig4', 'fig5', 'fig6', 'fig7', 'fig8', 'fig9', 'fig10'] as const;
export type FigureName = (typeof FIGURES)[number];
export type SweepSize = 'quick' | 'paper';

/**
 * The two protocols. `paper` is ../shared/paper.md. `quick` keeps the structure (IMP levels,
 * rewinding, every branch) but trains ResNet-20 on a class-balanced 2,000-image subset for 4 epochs
 * (64 iterations), levels 0-3, branches at level 3 (51.2% of the weights left), one replicate, and one
 * k = 16 iterations (one epoch of the subset) for Figs. 4-8 (0, 16, 48 for Fig. 1), so that one
 * figure's sweep fits in well under an hour on a 2-core CPU. The quick lottery with k = 16 is the one
 * `npm start` runs, so the sweeps reuse it. See README "Sizes" for what it gives up.
 */
export const SIZES: Record<SweepSize, { train: Hparams; levels: number; branchLevels?: number[]; replicates: string; ks: Record<'fig1' | 'default', number[]>; noise: number[]; pretrainEpochs: number }> = {
  paper: {
    train: {},
    levels: 20,
    replicates: '1-5',
    ks: { fig1: [0, 25, 50, 100, 250, 500, 1000, 2000, 4000], default: [500, 2000] },
    noise: [0.1, 0.25, 0.5, 1, 2, 3],
    pretrainEpochs: 40,
  },
  quick: {
    train: { trainSubset: 2000, testSubset: 1000, trainingSteps: '4ep', milestones: '2ep,3ep', evalEvery: '4ep', checkpointEvery: '1ep' },
    levels: 3,
    branchLevels: [3],
    replicates: '1',
    ks: { fig1: [0, 16, 48], default: [16] },
    noise: [0.5, 2],
    pretrainEpochs: 2,
  },
};

export interface SweepRun {
  kind: 'lottery' | 'branch';
  /** The equivalent command line (without the program name). */
  argv: string[];
  /** Its inputs exist (a branch needs its lottery's masks and rewinding state). */
  ready(): boolean;
  done(): boolean;
  run(ctx: SweepContext): Promise<void>;
}

export interface SweepContext {
  gpu?: Gpu;
  data?: string;
  quiet?: boolean;
}

export interface SweepOptions {
  figure: FigureName;
  model: string;
  size: SweepSize;
  out: string;
  ks?: number[];
  replicates?: number[];
  levels?: number;
  /** Extra training hyperparameters (override the size's). */
  train?: Hparams;
}

function flagsOf(h: Hparams): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(h)) {
    const def = LOTTERY_HPARAMS.find((d) => d.key === k);
    if (!def || v === undefined) continue;
    if (def.type === 'bool') out.push(v ? def.flag : def.flag.replace(/^--/, '--no-'));
    else out.push(def.flag, String(v));
  }
  return out;
}

function lotteryRun(out: string, hparams: Hparams, replicate: number, levels: number): SweepRun {
  const h = validateHparams(hparams, LOTTERY_HPARAMS);
  const root = lotteryDir(out, h);
  const levelDone = (l: number) => existsSync(join(root, `replicate_${replicate}`, `level_${l}`, 'main', 'model_final.safetensors'));
  return {
    kind: 'lottery',
    argv: ['lottery', ...flagsOf(hparams), '--levels', String(levels), '--replicate', String(replicate), '--out', out],
    ready: () => true,
    done: () => Array.from({ length: levels + 1 }, (_, l) => l).every(levelDone),
    run: async (ctx) => {
      await lottery(h, { out, replicates: [replicate], levels, gpu: ctx.gpu, data: ctx.data, quiet: ctx.quiet });
    },
  };
}

function branchRun(out: string, lotteryHparams: Hparams, name: string, args: Hparams, replicate: number, levels: number[]): SweepRun {
  const def = branchDef(name);
  const full = branchArgs(def, args);
  const root = lotteryDir(out, validateHparams(lotteryHparams, LOTTERY_HPARAMS));
  const rep = join(root, `replicate_${replicate}`);
  const dirName = branchDirName(def, full, {});
  const argFlags = def.args.flatMap((d) => (args[d.key] === undefined ? [] : d.type === 'bool' ? (args[d.key] ? [d.flag] : []) : [d.flag, String(args[d.key])]));
  return {
    kind: 'branch',
    argv: ['branch', name, '--lottery', root, '--levels', levels.join(','), '--replicate', String(replicate), ...argFlags],
    ready: () => existsSync(join(rep, 'rewind.safetensors')) && levels.every((l) => existsSync(join(rep, `level_${l}`, 'main', 'mask.safetensors'))),
    done: () => levels.every((l) => existsSync(join(rep, `level_${l}`, dirName, 'model_final.safetensors'))),
    run: async (ctx) => {
      await runBranch(name, { lottery: root, levels, replicates: [replicate], args, gpu: ctx.gpu, data: ctx.data, quiet: ctx.quiet });
    },
  };
}

/** The branch variants each figure compares against the unmodified IMP sub-networks. */
function variants(figure: FigureName, noise: number[], pretrainEpochs: number): { name: string; args: Hparams }[] {
  const sm = (signs: string, magnitudes: string) => ({ name: 'signs-magnitudes', args: { signs, magnitudes } });
  const fig4 = [sm('0', 'k'), sm('k', '0'), sm('0', '0'), { name: 'reinit', args: {} }];
  const fig5 = ['layer', 'filter'].map((within) => ({ name: 'shuffle', args: { within } }));
  const fig6 = ['layer', 'filter'].map((within) => ({ name: 'shuffle', args: { within, sameSign: true } }));
  const fig7 = noise.map((n) => ({ name: 'noise', args: { n } }));
  switch (figure) {
    case 'fig4':
      return fig4;
    case 'fig5':
      return fig5;
    case 'fig6':
      return fig6;
    case 'fig7':
      return fig7;
    case 'fig8':
      return [...fig4, ...fig5, ...fig6, ...fig7];
    case 'fig10':
      return [{ name: 'sparse-pretrain', args: { pretrainEpochs, pretrainTask: 'rotation' } }];
    default:
      return [];
  }
}

export function expandSweep(o: SweepOptions): SweepRun[] {
  const size = SIZES[o.size];
  const levels = o.levels ?? size.levels;
  const replicates = o.replicates ?? parseReplicates(size.replicates);
  const base: Hparams = { model: o.model, ...size.train, ...(o.train ?? {}) };
  const runs: SweepRun[] = [];
  if (o.figure === 'fig9') {
    for (const r of replicates) {
      // the comparison without pre-training: k = 0 and the size's rewinding point (or --k's)
      for (const k of new Set([0, ...(o.ks ?? size.ks.default.slice(0, 1))])) runs.push(lotteryRun(o.out, { ...base, rewind: `${k}it` }, r, levels));
      for (const task of ['random-labels', 'rotation', 'blur', 'blur+rotation']) runs.push(lotteryRun(o.out, { ...base, pretrainEpochs: size.pretrainEpochs, pretrainTask: task }, r, levels));
    }
    return runs;
  }
  const ks = o.ks ?? (o.figure === 'fig1' ? size.ks.fig1 : o.figure === 'fig10' ? size.ks.default.slice(0, 1) : size.ks.default);
  // Fig. 8 is measured at 26.2% weights remaining (level 6).
  const branchLevels = o.figure === 'fig8' ? [Math.min(6, levels)] : o.levels === undefined && size.branchLevels ? size.branchLevels : Array.from({ length: levels + 1 }, (_, l) => l);
  for (const k of ks) {
    const lh = { ...base, rewind: `${k}it` };
    for (const r of replicates) {
      runs.push(lotteryRun(o.out, lh, r, Math.max(levels, ...branchLevels)));
      for (const v of variants(o.figure, size.noise, size.pretrainEpochs)) runs.push(branchRun(o.out, lh, v.name, v.args, r, branchLevels));
    }
  }
  return runs;
}

/** Run every pending run in order; runs another worker holds are skipped (and reported). */
export async function runSweep(runs: SweepRun[], ctx: SweepContext, log: (s: string) => void = console.log): Promise<{ ran: number; skipped: number; busy: number }> {
  let ran = 0, skipped = 0, busy = 0;
  for (const run of runs) {
    if (run.done()) {
      skipped++;
      continue;
    }
    if (!run.ready()) {
      log(`not ready (its lottery has not reached these levels): early-phase ${run.argv.join(' ')}`);
      busy++;
      continue;
    }
    log(`running: early-phase ${run.argv.join(' ')}`);
    try {
      await run.run(ctx);
      ran++;
    } catch (e) {
      if (e instanceof RunBusyError) {
        log(e.message);
        busy++;
      } else throw e;
    }
  }
  return { ran, skipped, busy };
}

/** Shell-quote one argument. */
/**
 * The self-contained shell command a worker runs for `run` (sweep --list): this Node, this CLI, the
 * run's own flags, and the sweep's machine settings (data location, --no-autotune) passed through.
 */
export function workerCommand(run: SweepRun, o: { node: string; cli: string; data?: string; autotune: boolean }): string {
  const argv = [o.node, o.cli, ...run.argv, ...(o.data ? ['--data', o.data] : []), ...(o.autotune ? [] : ['--no-autotune']), '--quiet'];
  return argv.map(shellQuote).join(' ');
}

export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
