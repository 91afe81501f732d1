// The mechanism every IMP level and every branch shares: take the iteration-k state, apply a mask
// (and optionally a perturbation of the unpruned weights), write model_start.safetensors, and train
// from k to the end with fresh (zero) momentum, the LR schedule and the data order continuing from k.
import { join } from 'node:path';
import type { Gpu } from '../gpu/runtime.js';
import { saveSafetensors, type SafeTensors } from '../io/safetensors.js';
import type { Network } from '../nn/network.js';
import type { Hparams } from '../train/hparams.js';
import type { TrainData } from '../train/train_data.js';
import { runTrainingLoop, type LoopResult } from '../train/training_loop.js';

export interface FromRewindJob {
  gpu: Gpu;
  network: Network;
  data: TrainData;
  hparams: Hparams;
  dir: string;
  /** Iteration k of the rewinding state. */
  start: number;
  /** The iteration-k state_dict (weights, BN running statistics, num_batches_tracked). */
  rewindState: SafeTensors;
  /** 0/1 mask per prunable weight name; parameters not listed keep an all-ones mask. */
  masks: Map<string, Float32Array>;
  /** Change the (already masked) weights before training; must keep pruned weights at 0. */
  perturb?: (network: Network) => Promise<void> | void;
  label?: string;
  quiet?: boolean;
  logEvery?: number;
  onStep?: (iteration: number) => Promise<void> | void;
}

/** Flat mask buffer contents: ones everywhere except the given masks. */
export function flatMasks(network: Network, masks: Map<string, Float32Array>): Float32Array {
  const flat = new Float32Array(network.params.flatSize);
  for (const e of network.params.entries) {
    const m = masks.get(e.name);
    if (m) {
      if (m.length !== e.size) throw new Error(`mask for ${e.name} has ${m.length} entries, the weight ${e.size}`);
      flat.set(m, e.offset);
    } else flat.fill(1, e.offset, e.offset + e.size);
  }
  for (const name of masks.keys()) if (!network.params.byName.has(name)) throw new Error(`mask names unknown parameter ${name}`);
  return flat;
}

/** w *= mask in place, pruned weights +0 exactly (not -0), as the masked SGD kernel writes them. */
export function applyMask(w: Float32Array, mask: ArrayLike<number>): void {
  for (let i = 0; i < w.length; i++) w[i] = mask[i] === 0 ? 0 : w[i] * mask[i];
}

/** Load a state_dict, set the masks and zero the masked weights and all momentum. */
export async function loadMasked(network: Network, state: SafeTensors, masks: Map<string, Float32Array>, source: string): Promise<void> {
  network.loadStateDict(state, source);
  const mask = flatMasks(network, masks);
  const values = await network.readFlat('values');
  applyMask(values, mask);
  network.writeFlat('values', values);
  network.writeFlat('masks', mask);
  network.writeFlat('momenta', new Float32Array(network.params.flatSize));
}

export async function trainFromRewind(job: FromRewindJob): Promise<LoopResult> {
  const { network } = job;
  return runTrainingLoop({
    gpu: job.gpu,
    network,
    data: job.data,
    hparams: job.hparams,
    dir: job.dir,
    start: job.start,
    label: job.label,
    quiet: job.quiet,
    logEvery: job.logEvery,
    onStep: job.onStep,
    initialize: async () => {
      await loadMasked(network, job.rewindState, job.masks, 'rewind state');
      if (job.perturb) await job.perturb(network);
      saveSafetensors(join(job.dir, 'model_start.safetensors'), await network.stateDict());
    },
  });
}
