// Masked SGD with momentum and weight decay (PyTorch form, no Nesterov) as ONE fused dispatch over
// the whole ParamStore (shaders/sgd_masked.wgsl):
//   g = (grad + wd * w) * mask;  v = momentum * v + g;  v *= mask;  w = (w - lr * v) * mask
// Weight decay applies to every parameter (BN and biases too); masks of unprunable parameters are
// all ones, so only pruned weights are held at exactly zero (with zero momentum).
//
// The learning rate lives in a small GPU buffer (written by setLearningRate), not in a uniform: the
// recorded step, its uniform buffer and its bind group are the same every iteration whatever the
// schedule does, and changing the LR costs one 4-byte write.
import type { GpuBuffer } from '../gpu/buffer_pool.js';
import { grid1d, type BufferRange } from '../gpu/runtime.js';
import type { ParamStore } from '../tensor/param_store.js';

export interface SgdOptions {
  momentum: number;
  weightDecay: number;
}

export class SgdMasked {
  readonly momentum: number;
  readonly weightDecay: number;
  private readonly lrBuffer: GpuBuffer;
  private lr = NaN;

  constructor(
    readonly store: ParamStore,
    opts: SgdOptions,
  ) {
    for (const [k, v] of Object.entries(opts)) {
      if (!Number.isFinite(v) || v < 0) throw new Error(`SgdMasked: ${k} = ${v} must be a finite non-negative number`);
    }
    if (store.flatSize % 4 !== 0) throw new Error(`SgdMasked: flat size ${store.flatSize} is not a multiple of 4`);
    this.momentum = opts.momentum;
    this.weightDecay = opts.weightDecay;
    this.lrBuffer = store.gpu.createBuffer(4, 'sgd:lr');
  }

  get learningRate(): number {
    return this.lr;
  }

  /** Write the learning rate the next recorded steps read (skipped when unchanged). */
  setLearningRate(lr: number): void {
    if (!Number.isFinite(lr)) throw new Error(`SgdMasked.setLearningRate: lr = ${lr} must be finite`);
    if (Math.fround(lr) === this.lr) return;
    this.store.gpu.write({ buf: this.lrBuffer, offset: 0, bytes: 4 }, new Float32Array([lr]));
    this.lr = Math.fround(lr); // after the write: a refused write (while capturing) must not be remembered as done
  }

  /** Record one optimizer step over all parameters (one dispatch). */
  step(): void {
    if (Number.isNaN(this.lr)) throw new Error('SgdMasked.step: call setLearningRate first');
    const s = this.store;
    const n4 = s.flatSize / 4;
    const lr: BufferRange = { buf: this.lrBuffer, offset: 0, bytes: 4 };
    s.gpu.dispatch('sgd_masked', {
      bindings: { w: s.flat('values'), grad: s.flat('grads'), v: s.flat('momenta'), mask: s.flat('masks'), lr },
      uniforms: { n4, momentum: this.momentum, weightDecay: this.weightDecay },
      workgroups: grid1d(n4, 256),
    });
  }

  /** Reset every momentum to zero (fresh optimizer state, e.g. when rewinding). */
  zeroMomentum(): void {
    this.store.flat('momenta').fillBits(0);
  }

  destroy(): void {
    this.lrBuffer.buffer.destroy();
  }
}
