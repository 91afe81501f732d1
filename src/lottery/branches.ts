// The paper's interventions at the rewinding point (paper.md, "Experiments"). Each branch takes an
// IMP level's mask and the iteration-k state, changes the unpruned conv/fc weights only (BN, biases
// and running statistics stay at k), and trains from k to the end through trainFromRewind. A branch
// is its argument list and a perturb function; everything else is shared.
import { addNoiseMasked } from '../ops/rng.js';
import { permuteSegments, segmentIds, type SegmentStructure } from '../ops/permute.js';
import { initParameter } from '../nn/init.js';
import { mixSeed } from '../random/philox.js';
import type { Network } from '../nn/network.js';
import type { HparamDef, Hparams } from '../train/hparams.js';
import { Scope } from '../tensor/scope.js';
import { initSigma } from './perturbation.js';
import { join } from 'node:path';
import { pretrain, PRETRAIN_TASKS } from '../experiments/pretrain.js';
import type { TrainData } from '../train/train_data.js';
import { applyMask, loadMasked } from './from_rewind.js';

export interface BranchContext {
  network: Network;
  /** Prunable weight names (the ones a branch may change). */
  prunable: string[];
  /** Iteration-0 weights of the same replicate (signs/magnitudes at 0). */
  init: Map<string, Float32Array>;
  /** Seed of this replicate's branch randomness. */
  seed: number;
  args: Hparams;
  /** The branch's own directory (for stages such as sparse pre-training). */
  dir: string;
  masks: Map<string, Float32Array>;
  /** The run's training hyperparameters, and datasets for other tasks. */
  hparams: Hparams;
  dataFor: (hparams: Hparams) => TrainData;
  quiet?: boolean;
}

export interface BranchDef {
  name: string;
  description: string;
  args: HparamDef[];
  label(args: Hparams): string;
  /** Where training starts: 'k' (default) or 'init' (iteration 0, from init.safetensors). */
  startsAt?(args: Hparams): 'k' | 'init';
  perturb(ctx: BranchContext): Promise<void> | void;
}

/** Streams of branch randomness (distinct from data, init and augmentation streams). */
const STREAM = { reinit: 0x5245_0010, shuffle: 0x5348_0011, noise: 0x4e4f_0012 } as const;

async function editWeights(ctx: BranchContext, fn: (name: string, w: Float32Array, mask: Float32Array) => void): Promise<void> {
  const values = await ctx.network.readFlat('values');
  const masks = await ctx.network.readFlat('masks');
  for (const name of ctx.prunable) {
    const e = ctx.network.params.get(name);
    const w = values.subarray(e.offset, e.offset + e.size);
    const m = masks.subarray(e.offset, e.offset + e.size);
    fn(name, w, m);
    applyMask(w, m);
  }
  ctx.network.writeFlat('values', values);
}

const signsMagnitudes: BranchDef = {
  name: 'signs-magnitudes',
  description: "w = sign(a) * |b| with a, b in {w_0, w_k} of the same run (Fig. 4)",
  args: [
    { key: 'signs', flag: '--signs', type: 'string', default: 'k', choices: ['0', 'k'], hashed: true, help: 'take the signs from iteration 0 or k' },
    { key: 'magnitudes', flag: '--magnitudes', type: 'string', default: 'k', choices: ['0', 'k'], hashed: true, help: 'take the magnitudes from iteration 0 or k' },
  ],
  label: (a) => `signs @${a.signs}, magnitudes @${a.magnitudes}`,
  perturb: (ctx) =>
    editWeights(ctx, (name, w) => {
      const w0 = ctx.init.get(name)!;
      for (let i = 0; i < w.length; i++) {
        const sign = Math.sign(ctx.args.signs === '0' ? w0[i] : w[i]);
        const mag = Math.abs(ctx.args.magnitudes === '0' ? w0[i] : w[i]);
        w[i] = sign * mag;
      }
    }),
};

const reinit: BranchDef = {
  name: 'reinit',
  description: 'a fresh random initialisation of the unpruned weights with the same mask (Fig. 4)',
  args: [{ key: 'start', flag: '--start', type: 'string', default: 'k', choices: ['k', '0'], hashed: true, help: 'train from iteration k (rest of the state at k) or from 0 (rest at init)' }],
  label: (a) => `random reinit (from ${a.start === '0' ? '0' : 'k'})`,
  startsAt: (a) => (a.start === '0' ? 'init' : 'k'),
  perturb: (ctx) => {
    const specs = ctx.network.model.paramSpecs();
    return editWeights(ctx, (name, w) => {
      const index = specs.findIndex((s) => s.name === name);
      w.set(initParameter(specs[index], index, mixSeed(ctx.seed, STREAM.reinit)));
    });
  },
};

const STRUCTURES: Record<string, SegmentStructure> = { layer: 'layer', filter: 'filter', 'input-channel': 'input_channel', 'kernel-position': 'kernel_position' };

const shuffle: BranchDef = {
  name: 'shuffle',
  description: 'permute the unpruned iteration-k values among the unpruned positions of each structural element (Figs. 5-6)',
  args: [
    { key: 'within', flag: '--within', type: 'string', default: 'layer', choices: Object.keys(STRUCTURES), hashed: true, help: 'structural element: layer, filter (output unit for fc), input-channel, kernel-position' },
    { key: 'sameSign', flag: '--same-sign', type: 'bool', default: false, hashed: true, help: 'shuffle positives among positive positions and negatives among negative ones' },
  ],
  label: (a) => `shuffle within ${a.within}${a.sameSign ? ' (same sign)' : ''}`,
  perturb: async (ctx) => {
    const gpu = ctx.network.gpu;
    ctx.prunable.forEach((name, l) => {
      const e = ctx.network.params.get(name);
      Scope.run(() => {
        const { ids, numSegments } = segmentIds(e.value, e.mask, STRUCTURES[String(ctx.args.within)], Boolean(ctx.args.sameSign));
        const shuffled = permuteSegments(e.value, ids, numSegments, ctx.seed, STREAM.shuffle + l);
        gpu.copy(shuffled, e.value);
      });
    });
    await gpu.sync();
  },
};

const noise: BranchDef = {
  name: 'noise',
  description: 'w = w_k + N(0, (n sigma_l)^2) on the unpruned weights, sigma_l = sqrt(2 / fan_in) (Fig. 7)',
  args: [{ key: 'n', flag: '--n', type: 'float', default: 0.5, hashed: true, range: { min: 0 }, help: 'noise scale in units of the layer initialisation std' }],
  label: (a) => `noise ${a.n}σ`,
  perturb: async (ctx) => {
    ctx.prunable.forEach((name, l) => {
      const e = ctx.network.params.get(name);
      addNoiseMasked(e.value, e.mask, ctx.seed, STREAM.noise + l, Number(ctx.args.n) * initSigma(e.shape));
    });
    await ctx.network.gpu.sync();
  },
};

const sparsePretrain: BranchDef = {
  name: 'sparse-pretrain',
  description: 'pre-train the masked network (iteration-k weights) on a task without labels, then train on CIFAR-10 (Fig. 10)',
  args: [
    { key: 'pretrainEpochs', flag: '--pretrain-epochs', type: 'int', default: 40, hashed: true, help: 'epochs of sparse pre-training' },
    { key: 'pretrainTask', flag: '--pretrain-task', type: 'string', default: 'rotation', choices: PRETRAIN_TASKS.filter((t) => t !== 'none'), hashed: true, help: 'pre-training task' },
  ],
  label: (a) => `sparse pre-training: ${a.pretrainEpochs}ep ${a.pretrainTask}`,
  perturb: async (ctx) => {
    const state = await pretrain({
      gpu: ctx.network.gpu,
      hparams: ctx.hparams,
      task: String(ctx.args.pretrainTask),
      epochs: Number(ctx.args.pretrainEpochs),
      seed: ctx.seed,
      dir: join(ctx.dir, 'pretrain_run'),
      start: await ctx.network.stateDict(),
      masks: ctx.masks,
      dataFor: ctx.dataFor,
      quiet: ctx.quiet,
    });
    await loadMasked(ctx.network, state, ctx.masks, 'sparse pre-training result');
  },
};

export const BRANCHES: Record<string, BranchDef> = Object.fromEntries([signsMagnitudes, reinit, shuffle, noise, sparsePretrain].map((b) => [b.name, b]));

export function branchDef(name: string): BranchDef {
  const b = BRANCHES[name];
  if (!b) throw new Error(`unknown branch '${name}'; choose one of ${Object.keys(BRANCHES).join(', ')}`);
  return b;
}
