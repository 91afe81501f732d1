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
  /**
   * Test images start..start+count-1 in file order. With rows > count the batch has `rows` rows, the
   * ones past `count` repeating the last image (Batch.count stays `count`): a partial batch padded to
   * a full one's shape, so that it runs on buffers a full batch already pooled.
   */
  testBatch(start: number, count: number, rows?: number): Batch;
  destroy(): void;
}
