// Data order: a seeded Fisher–Yates shuffle per (seed, epoch), driven by Philox4x32-10 so that the
// order of any epoch can be recomputed on its own (no generator state carried across epochs), which
// is what rewinding to iteration k and continuing the data order needs.
import { intFrom, philox4x32, seedKey, Stream } from '../random/philox.js';

/**
 * The permutation of 0..n-1 used in epoch `epoch` for seed `seed`.
 * Fisher–Yates from the top: for i = n-1 .. 1, swap a[i] with a[j], j uniform in [0, i], where j
 * comes from philox(counter = (i, epoch, 0, SHUFFLE), key = seed).
 */
export function epochOrder(n: number, seed: number, epoch: number): Uint32Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`epochOrder: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > 0xffffffff) throw new Error(`epochOrder: epoch must be a non-negative integer, got ${epoch}`);
  const [k0, k1] = seedKey(seed);
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  const r = new Uint32Array(4);
  for (let i = n - 1; i > 0; i--) {
    philox4x32(i, epoch, 0, Stream.shuffle, k0, k1, r);
    const j = intFrom(r[0], r[1], i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/** Iterations per epoch when the last partial batch is kept (50,000 / 128 -> 391). */
export function itersPerEpoch(n: number, batchSize: number): number {
  if (!(batchSize > 0)) throw new Error(`batch size must be positive, got ${batchSize}`);
  return Math.ceil(n / batchSize);
}

export interface BatchRef {
  epoch: number;
  /** Batch number within the epoch. */
  step: number;
  /** Indices into the (sub)set, a view of the epoch order. */
  indices: Uint32Array;
}

/**
 * Batches by global iteration: iteration t is batch (t mod itersPerEpoch) of epoch
 * floor(t / itersPerEpoch), the last batch of an epoch being the remainder (kept, smaller).
 * Caches the current epoch's order.
 */
export class BatchOrder {
  readonly itersPerEpoch: number;
  private cachedEpoch = -1;
  private order: Uint32Array = new Uint32Array(0);

  constructor(
    readonly n: number,
    readonly batchSize: number,
    readonly seed: number,
  ) {
    if (n <= 0) throw new Error('BatchOrder: empty dataset');
    this.itersPerEpoch = itersPerEpoch(n, batchSize);
  }

  epochOrder(epoch: number): Uint32Array {
    if (epoch !== this.cachedEpoch) {
      this.order = epochOrder(this.n, this.seed, epoch);
      this.cachedEpoch = epoch;
    }
    return this.order;
  }

  at(iteration: number): BatchRef {
    if (!Number.isInteger(iteration) || iteration < 0) throw new Error(`BatchOrder.at: bad iteration ${iteration}`);
    const epoch = Math.floor(iteration / this.itersPerEpoch);
    const step = iteration % this.itersPerEpoch;
    const order = this.epochOrder(epoch);
    return { epoch, step, indices: order.subarray(step * this.batchSize, Math.min(this.n, (step + 1) * this.batchSize)) };
  }
}

/** Consecutive batches of 0..n-1 in file order (evaluation). */
export function* sequentialBatches(n: number, batchSize: number): Generator<Uint32Array> {
  for (let s = 0; s < n; s += batchSize) {
    const m = Math.min(batchSize, n - s);
    const idx = new Uint32Array(m);
    for (let i = 0; i < m; i++) idx[i] = s + i;
    yield idx;
  }
}
