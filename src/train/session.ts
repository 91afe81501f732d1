// The set-up and tear-down every command shares: a GPU (opened here unless the caller passes one, and
// then destroyed here), the kernel configuration (BatchNorm's by the kind of adapter; the conv
// configuration measured when asked), and per replicate a
// dataset and a network that are destroyed when the work is done. A resumed run adopts its recorded
// kernel configuration (prepareRunDir) for the duration of its withGpu only: the next run of the same
// process (a sweep, a script) records the configuration chosen here, not the resumed run's.
import { Gpu } from '../gpu/runtime.js';
import { createModel } from '../models/registry.js';
import { Network } from '../nn/network.js';
import { autotuneConv } from '../ops/conv2d_autotune.js';
import { adoptAdapterKernelConfig, getKernelConfig, setKernelConfig } from '../ops/kernel_config.js';
import { openTrainData } from './cifar_train_data.js';
import type { Hparams } from './hparams.js';
import type { TrainData } from './train_data.js';

export interface SessionOptions {
  gpu?: Gpu;
  autotune?: boolean;
}

export async function withGpu<T>(options: SessionOptions, fn: (gpu: Gpu) => Promise<T>): Promise<T> {
  const gpu = options.gpu ?? (await Gpu.create());
  try {
    adoptAdapterKernelConfig(gpu);
    if (options.autotune) await autotuneConv(gpu, { log: (s) => process.stderr.write(s + '\n') });
    const chosen = getKernelConfig();
    try {
      return await fn(gpu);
    } finally {
      setKernelConfig(chosen);
    }
  } finally {
    if (!options.gpu) {
      await gpu.sync().catch(() => undefined);
      gpu.destroy();
    }
  }
}

export interface ReplicateOptions {
  data?: string;
  /** Inject datasets (tests): called with the replicate's seed and the stage's hyperparameters. */
  trainData?: (seed: number, hparams: Hparams) => TrainData;
  /** The dataset belongs to the caller: do not destroy it. */
  keepData?: boolean;
}

/** A dataset for `hparams` (CIFAR-10 unless injected) and the model on it, for the duration of fn. */
export async function withReplicate<T>(gpu: Gpu, hparams: Hparams, seed: number, options: ReplicateOptions, fn: (network: Network, data: TrainData) => Promise<T>): Promise<T> {
  const data = options.trainData ? options.trainData(seed, hparams) : openTrainData(gpu, hparams, seed, options.data);
  const network = new Network(gpu, createModel(String(hparams.model), data.numClasses));
  try {
    return await fn(network, data);
  } finally {
    network.destroy();
    if (!options.keepData) data.destroy();
  }
}
