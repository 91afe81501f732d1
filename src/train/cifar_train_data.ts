// CIFAR-10 on the GPU as the training loop sees it (TrainData), for every --task:
//   classify       true labels, random crop + flip
//   random-labels  labels drawn once per example (seeded), crop + flip
//   rotation       4-way: each example rotated by k*90 deg, label k (k drawn per (seed, epoch, example))
//   blur           true labels, images blurred by --blur-factor (area down, bilinear up), crop + flip
//   blur+rotation  both
// Subsets (--train-subset/--test-subset) are fixed and class-balanced; the data order is a seeded
// shuffle per (seed, epoch); augmentation draws depend on (seed, epoch, example). Nothing depends on
// process history, so any iteration's batch can be recomputed after a resume.
import { balancedSubset } from '../data/subset.js';
import { loadCifar10, resolveDataDir, selectSplit, type CifarData, type CifarSplit } from '../data/cifar10.js';
import { Augmenter, GpuDataset, type AugmentSpec } from '../data/gpu_dataset.js';
import { BatchOrder } from '../data/order.js';
import { randomLabels, rotationDraw } from '../data/transforms.js';
import type { Gpu } from '../gpu/runtime.js';
import type { Hparams } from './hparams.js';
import type { Batch, TrainData } from './train_data.js';

function subset(split: CifarSplit, n: number, flag: string): CifarSplit {
  if (!n || n === split.n) return split;
  // a larger N must not quietly train on the whole split under a hash (and an iterations-per-epoch
  // count in the reports) that says N
  if (n > split.n) throw new Error(`${flag} ${n}: the ${split.name} split has only ${split.n} images`);
  return selectSplit(split, balancedSubset(split.labels, n), `${split.name}[${n}]`);
}

export class CifarTrainData implements TrainData {
  readonly trainSize: number;
  readonly testSize: number;
  readonly numClasses: number;
  private readonly train: Augmenter;
  private readonly test: Augmenter;
  private readonly trainSet: GpuDataset;
  private readonly testSet: GpuDataset;
  private readonly order: BatchOrder;
  private readonly task: string;
  private readonly blur: number;
  private readonly augment: boolean;
  private readonly testIndices: Uint32Array;

  constructor(
    gpu: Gpu,
    cifar: CifarData,
    hparams: Hparams,
    private readonly seed: number,
  ) {
    const trainSplit = subset(cifar.train, Number(hparams.trainSubset), '--train-subset');
    const testSplit = subset(cifar.test, Number(hparams.testSubset), '--test-subset');
    this.task = String(hparams.task);
    this.blur = this.task.includes('blur') ? Number(hparams.blurFactor) : 1;
    this.augment = Boolean(hparams.augment);
    this.numClasses = this.task.includes('rotation') ? 4 : 10;
    this.trainSize = trainSplit.n;
    this.testSize = testSplit.n;
    this.trainSet = GpuDataset.upload(gpu, trainSplit);
    this.testSet = GpuDataset.upload(gpu, testSplit);
    const labels = this.task === 'random-labels' ? randomLabels(trainSplit.n, seed) : undefined;
    this.train = new Augmenter(this.trainSet, { labels });
    this.test = new Augmenter(this.testSet);
    this.order = new BatchOrder(trainSplit.n, Number(hparams.batch), seed);
    this.testIndices = Uint32Array.from({ length: testSplit.n }, (_, i) => i);
  }

  private rotations(indices: ArrayLike<number>, epoch: number, seed: number): { rotations?: number[]; labels?: number[] } {
    if (!this.task.includes('rotation')) return {};
    const rotations = Array.from(indices, (i) => rotationDraw(seed, epoch, i));
    return { rotations, labels: rotations };
  }

  trainBatch(iteration: number): Batch {
    const { epoch, indices } = this.order.at(iteration);
    const spec: AugmentSpec = { kind: this.augment ? 'train' : 'eval', seed: this.seed, epoch, blur: this.blur, ...this.rotations(indices, epoch, this.seed) };
    const b = this.train.batch(indices, spec);
    return { ...b, count: indices.length };
  }

  testBatch(start: number, count: number, rows = count): Batch {
    if (!(Number.isInteger(rows) && rows >= count)) throw new Error(`testBatch: ${rows} rows cannot hold ${count} images`);
    let indices = this.testIndices.subarray(start, start + count);
    if (rows > count) {
      // padding: the last image again, in every row past `count`
      const padded = new Uint32Array(rows).fill(indices[count - 1]);
      padded.set(indices);
      indices = padded;
    }
    // Rotation test labels are drawn once (epoch 0) under a seed of their own, the same for every run.
    const b = this.test.batch(indices, { kind: 'eval', blur: this.blur, ...this.rotations(indices, 0, 0x7e57) });
    return { ...b, count };
  }

  destroy(): void {
    this.trainSet.destroy();
    this.testSet.destroy();
  }
}

/** Load (and validate) CIFAR-10 from --data / $EARLY_PHASE_DATA / ../shared/data, and put it on the GPU. */
export function openTrainData(gpu: Gpu, hparams: Hparams, seed: number, dataDir?: string): TrainData {
  return new CifarTrainData(gpu, loadCifar10(resolveDataDir(dataDir)), hparams, seed);
}
