// Non-trainable model state: BN running statistics (f32 tensors on the GPU) and the count of
// training batches seen (PyTorch's `num_batches_tracked`, the same for every BN layer, kept on the CPU).
import type { Gpu } from '../gpu/runtime.js';
import { numel, Tensor } from '../tensor/tensor.js';

export interface BufferSpec {
  name: string;
  shape: number[];
  /** Initial value (running_mean 0, running_var 1). */
  init: number;
}

export class StateStore {
  readonly tensors = new Map<string, Tensor>();
  readonly specs: BufferSpec[];
  numBatchesTracked = 0;

  constructor(
    readonly gpu: Gpu,
    specs: BufferSpec[],
  ) {
    this.specs = specs;
    for (const s of specs) {
      const buf = gpu.createBuffer(numel(s.shape) * 4, s.name);
      const t = new Tensor(gpu, buf, 0, s.shape, 'f32', false, s.name);
      gpu.write(t, new Float32Array(t.size).fill(s.init));
      this.tensors.set(s.name, t);
    }
  }

  get(name: string): Tensor {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`no buffer named ${name}`);
    return t;
  }

  reset(): void {
    for (const s of this.specs) this.gpu.write(this.get(s.name), new Float32Array(numel(s.shape)).fill(s.init));
    this.numBatchesTracked = 0;
  }

  destroy(): void {
    for (const t of this.tensors.values()) t.buf.buffer.destroy();
  }
}
