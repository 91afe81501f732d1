// A training set-up outside a run directory, for measuring: a Network, its data (synthetic CIFAR
// unless dataDir), CifarTrainData and SgdMasked, built as `train` builds them, and the training loop's
// own step (src/train/training_loop.ts) in a scope the caller closes. Used by the benchmark
// (bench/end_to_end.ts, bench/kernels.ts), the GPU device check and the conv autotuner.
import { loadCifar10, resolveDataDir } from '../data/cifar10.js';
import { syntheticCifar } from '../data/synthetic.js';
import type { Gpu } from '../gpu/runtime.js';
import { createModel } from '../models/registry.js';
import { Network } from '../nn/network.js';
import { SgdMasked } from '../optim/sgd.js';
import { Scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { CifarTrainData } from './cifar_train_data.js';
import { defaultHparams, validateHparams, type Hparams } from './hparams.js';
import { TrainStep } from './train_step.js';
import type { TrainData } from './train_data.js';

export interface TrainSetup {
  network: Network;
  data: TrainData;
  sgd: SgdMasked;
  /** The training loop's step (captured and replayed unless EARLY_PHASE_REPLAY=0). */
  step: TrainStep;
  hparams: Hparams;
  /** 'synthetic(...)' or the CIFAR-10 source. */
  source: string;
  dataBytes: number;
  destroy(): void;
}

/** A network, its data (synthetic CIFAR unless dataDir) and the optimizer, as `train` builds them. */
export function trainSetup(gpu: Gpu, model: string, batch: number, opts: { dataDir?: string; nTrain?: number; nTest?: number; seed?: number; replay?: boolean } = {}): TrainSetup {
  const seed = opts.seed ?? 1;
  const hparams = validateHparams({ ...defaultHparams(), model, batch });
  const cifar = opts.dataDir ? loadCifar10(resolveDataDir(opts.dataDir)) : syntheticCifar(opts.nTrain ?? 8 * batch, opts.nTest ?? 1000, seed);
  const data = new CifarTrainData(gpu, cifar, hparams, seed);
  const network = new Network(gpu, createModel(model, data.numClasses));
  network.init(seed);
  const sgd = new SgdMasked(network.params, { momentum: Number(hparams.momentum), weightDecay: Number(hparams.weightDecay) });
  sgd.setLearningRate(Number(hparams.lr));
  const step = new TrainStep(network, data, sgd, { replay: opts.replay });
  return {
    network,
    data,
    sgd,
    step,
    hparams,
    source: cifar.source,
    dataBytes: (data.trainSize + data.testSize) * 3072,
    destroy() {
      step.destroy();
      sgd.destroy();
      network.destroy();
      data.destroy();
    },
  };
}

/**
 * One training iteration exactly as runTrainingLoop records it (src/train/training_loop.ts), in a
 * scope the caller closes after any readback of `loss`.
 */
export function recordTrainStep(_gpu: Gpu, s: TrainSetup, iteration: number): { loss: Tensor; count: number; scope: Scope } {
  const scope = Scope.open();
  return { ...s.step.record(iteration), scope };
}
