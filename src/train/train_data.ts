// What the training loop needs from a dataset: the batch for global iteration t (data order and
// augmentation derived from the run's seed and t, so any iteration can be recomputed on resume)
// and test batches in file order. Implemented over CIFAR-10 on the GPU in src/data/.
import type { Tensor } from '../tensor/tensor.js';

export interface Batch {
  /** [N, 3, 32, 32] f32, normalised. */
  images: Tensor;
  /** [N] u32. */
  labels: Tensor;
  count: number;
}

export interface TrainData {
  readonly trainSize: number;
  readonly testSize: number;
  readonly numClasses: number;
  /** Records the batch of iteration t into the current command stream (allocated in the current Scope). */
  trainBatch(iteration: number): Batch;
  testBatch(start: number, count: number): Batch;
  destroy(): void;
}
