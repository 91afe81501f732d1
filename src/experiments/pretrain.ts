// Pre-training on a task without (true) labels (paper.md, Figs. 9 and 10): train the dense or sparse
// network for E epochs on random labels, 4-way rotation prediction, 4x blur or blur + rotation, and
// hand back its state as a rewinding point. A rotation task trains a 4-way head, which is swapped for
// a fresh 10-way head (the one of the iteration-0 state) before CIFAR-10 training; the 10-way tasks
// (blur, random labels) keep the head they trained.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Gpu } from '../gpu/runtime.js';
import { loadSafetensors, type SafeTensors } from '../io/safetensors.js';
import { mixSeed } from '../random/philox.js';
import { createModel } from '../models/registry.js';
import { Network } from '../nn/network.js';
import type { Hparams } from '../train/hparams.js';
import type { TrainData } from '../train/train_data.js';
import { runTrainingLoop } from '../train/training_loop.js';
import { loadMasked } from '../lottery/from_rewind.js';

export const PRETRAIN_TASKS = ['none', 'random-labels', 'rotation', 'blur', 'blur+rotation'] as const;

const HEAD_STREAM = 0x4845_0014;

export interface PretrainJob {
  gpu: Gpu;
  /** The CIFAR-10 hyperparameters (batch, lr, subsets, ...); task and length are replaced. */
  hparams: Hparams;
  task: string;
  epochs: number;
  seed: number;
  dir: string;
  /** The 10-way state pre-training starts from (and whose head replaces a rotation head afterwards). */
  start: SafeTensors;
  /** Masks for sparse pre-training (Fig. 10); all ones when absent. */
  masks?: Map<string, Float32Array>;
  dataFor: (hparams: Hparams) => TrainData;
  quiet?: boolean;
  logEvery?: number;
  label?: string;
}

function headNames(state: SafeTensors): string[] {
  return ['fc.weight', 'fc.bias'].filter((n) => state.has(n));
}

/** Returns the pre-trained state with a 10-way head. Resumable; skipped when already done. */
export async function pretrain(job: PretrainJob): Promise<SafeTensors> {
  if (!PRETRAIN_TASKS.includes(job.task as (typeof PRETRAIN_TASKS)[number]) || job.task === 'none') throw new Error(`unknown pre-training task '${job.task}'`);
  const hparams: Hparams = { ...job.hparams, task: job.task, trainingSteps: `${job.epochs}ep` };
  mkdirSync(job.dir, { recursive: true });
  const finalPath = join(job.dir, 'model_final.safetensors');
  if (!existsSync(finalPath)) {
    const data = job.dataFor(hparams);
    const network = new Network(job.gpu, createModel(String(hparams.model), data.numClasses));
    try {
      await runTrainingLoop({
        gpu: job.gpu,
        network,
        data,
        hparams,
        dir: job.dir,
        start: 0,
        label: job.label ?? `pre-train ${job.task} ${job.epochs}ep`,
        quiet: job.quiet,
        logEvery: job.logEvery,
        initialize: async () => {
          const state: SafeTensors = new Map(job.start);
          if (data.numClasses !== 10) {
            // A fresh head of the task's width, from the network's own initialiser.
            const flat = network.initialFlat(mixSeed(job.seed, HEAD_STREAM));
            for (const name of headNames(job.start)) {
              const e = network.params.get(name);
              state.set(name, { dtype: 'F32', shape: e.shape, data: flat.slice(e.offset, e.offset + e.size) });
            }
          }
          // The task's own head is fresh and dense; the body keeps its masks.
          const masks = new Map(job.masks ?? []);
          if (data.numClasses !== 10) for (const name of headNames(job.start)) masks.delete(name);
          await loadMasked(network, state, masks, 'pre-training start');
        },
      });
    } finally {
      network.destroy();
      data.destroy();
    }
  }
  const result = loadSafetensors(finalPath).tensors;
  // Only a head of another width (rotation's 4-way one) is swapped for the start state's 10-way head;
  // a 10-way task (blur, random labels) hands its trained head on with the body.
  for (const name of headNames(job.start)) {
    const start = job.start.get(name)!;
    if (result.get(name)?.shape[0] !== start.shape[0]) result.set(name, start);
  }
  return result;
}
