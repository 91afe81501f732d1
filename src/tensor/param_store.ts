// All trainable parameters of a model live in one flat f32 buffer (and their gradients, momentum
// and pruning mask in three more with the same layout), each tensor at a 256-byte-aligned offset
// (the storage-binding alignment). Kernels see each parameter as its own binding range; the fused
// optimizer sees the whole flat buffer in one dispatch.
import type { GpuBuffer } from '../gpu/buffer_pool.js';
import type { Gpu } from '../gpu/runtime.js';
import { numel, Tensor } from './tensor.js';

export interface ParamSpec {
  name: string;
  shape: number[];
  /** Prunable by IMP (conv and fc weights); masks of other parameters stay all ones. */
  prunable: boolean;
}

export interface ParamEntry extends ParamSpec {
  /** Offset in floats into the flat buffers. */
  offset: number;
  size: number;
  value: Tensor;
  grad: Tensor;
  momentum: Tensor;
  mask: Tensor;
}

const ALIGN_FLOATS = 64; // 256 bytes

export class ParamStore {
  readonly entries: ParamEntry[] = [];
  readonly byName = new Map<string, ParamEntry>();
  /** Total floats in the flat buffers, alignment padding included. */
  readonly flatSize: number;
  readonly values: GpuBuffer;
  readonly grads: GpuBuffer;
  readonly momenta: GpuBuffer;
  readonly masks: GpuBuffer;

  constructor(
    readonly gpu: Gpu,
    specs: ParamSpec[],
  ) {
    let offset = 0;
    const layout: { spec: ParamSpec; offset: number; size: number }[] = [];
    for (const spec of specs) {
      if (this.byName.has(spec.name) || layout.some((l) => l.spec.name === spec.name)) throw new Error(`duplicate parameter ${spec.name}`);
      const size = numel(spec.shape);
      layout.push({ spec, offset, size });
      offset += Math.ceil(size / ALIGN_FLOATS) * ALIGN_FLOATS;
    }
    this.flatSize = Math.max(offset, ALIGN_FLOATS);
    const bytes = this.flatSize * 4;
    this.values = gpu.createBuffer(bytes, 'params');
    this.grads = gpu.createBuffer(bytes, 'grads');
    this.momenta = gpu.createBuffer(bytes, 'momentum');
    this.masks = gpu.createBuffer(bytes, 'masks');
    for (const { spec, offset: o, size } of layout) {
      const view = (buf: GpuBuffer, what: string) => new Tensor(gpu, buf, o * 4, spec.shape, 'f32', false, `${spec.name}${what}`);
      const value = view(this.values, '');
      const grad = view(this.grads, '.grad');
      value.requiresGrad = true;
      value.grad = grad;
      const entry: ParamEntry = { ...spec, offset: o, size, value, grad, momentum: view(this.momenta, '.momentum'), mask: view(this.masks, '.mask') };
      this.entries.push(entry);
      this.byName.set(spec.name, entry);
    }
    // Padding between tensors must hold zeros so the flat optimizer leaves it alone; masks start at one.
    for (const b of [this.values, this.grads, this.momenta]) gpu.write({ buf: b, offset: 0, bytes: bytes }, new Float32Array(this.flatSize));
    const ones = new Float32Array(this.flatSize);
    for (const e of this.entries) ones.fill(1, e.offset, e.offset + e.size);
    gpu.write({ buf: this.masks, offset: 0, bytes }, ones);
  }

  get(name: string): ParamEntry {
    const e = this.byName.get(name);
    if (!e) throw new Error(`no parameter named ${name}`);
    return e;
  }

  /** The whole flat buffer as one tensor (for the optimizer and reductions). */
  flat(which: 'values' | 'grads' | 'momenta' | 'masks'): Tensor {
    return new Tensor(this.gpu, this[which], 0, [this.flatSize], 'f32', false, `flat:${which}`);
  }

  /** Number of real (unpadded) parameters. */
  get count(): number {
    return this.entries.reduce((n, e) => n + e.size, 0);
  }

  destroy(): void {
    for (const b of [this.values, this.grads, this.momenta, this.masks]) b.buffer.destroy();
  }
}

/** A standalone leaf tensor with a gradient buffer (tests, small experiments). */
export function leaf(gpu: Gpu, data: ArrayLike<number>, shape: readonly number[], label = 'leaf'): Tensor {
  const t = Tensor.fromArray(gpu, data, shape, 'f32', label);
  t.requiresGrad = true;
  t.grad = Tensor.empty(gpu, shape, 'f32', `${label}.grad`);
  return t;
}
