// A Network is a Model with its state on the GPU: parameters (and their grads, momenta and masks)
// in a ParamStore, BN statistics in a StateStore. It moves that state to and from safetensors
// under the model's state_dict names.
import type { Gpu } from '../gpu/runtime.js';
import type { SafeTensors } from '../io/safetensors.js';
import type { Model } from '../models/model.js';
import { ParamStore } from '../tensor/param_store.js';
import type { Tensor } from '../tensor/tensor.js';
import { initParameter } from './init.js';
import { StateStore } from './state_store.js';

export class Network {
  readonly params: ParamStore;
  readonly buffers: StateStore;

  constructor(
    readonly gpu: Gpu,
    readonly model: Model,
  ) {
    this.params = new ParamStore(gpu, model.paramSpecs());
    this.buffers = new StateStore(gpu, model.bufferSpecs());
  }

  forward(images: Tensor, training: boolean): Tensor {
    return this.model.forward({ params: this.params, buffers: this.buffers, training }, images);
  }

  /** Fresh initialisation from `seed` (paper.md's scheme); BN statistics reset; momentum zero. */
  init(seed: number): void {
    this.writeFlat('values', this.initialFlat(seed));
    this.writeFlat('momenta', new Float32Array(this.params.flatSize));
    this.buffers.reset();
  }

  /** The initial parameter values for `seed`, in the flat layout (a pure function of the seed). */
  initialFlat(seed: number): Float32Array {
    const flat = new Float32Array(this.params.flatSize);
    this.model.paramSpecs().forEach((spec, i) => flat.set(initParameter(spec, i, seed), this.params.get(spec.name).offset));
    return flat;
  }

  writeFlat(which: 'values' | 'grads' | 'momenta' | 'masks', data: Float32Array): void {
    this.gpu.write(this.params.flat(which), data);
  }

  async readFlat(which: 'values' | 'grads' | 'momenta' | 'masks'): Promise<Float32Array> {
    return this.params.flat(which).readF32();
  }

  /** Per-parameter copies out of a flat array. */
  unflatten(flat: Float32Array, filter: (name: string) => boolean = () => true): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const e of this.params.entries) if (filter(e.name)) out.set(e.name, flat.slice(e.offset, e.offset + e.size));
    return out;
  }

  /** The model's state_dict: parameters, BN running stats and num_batches_tracked (i64). */
  async stateDict(): Promise<SafeTensors> {
    const flat = await this.readFlat('values');
    const buffers = new Map<string, Float32Array>();
    for (const [name, t] of this.buffers.tensors) buffers.set(name, await t.readF32());
    const out: SafeTensors = new Map();
    for (const entry of this.model.stateDictOrder()) {
      if (entry.kind === 'param') {
        const e = this.params.get(entry.name);
        out.set(entry.name, { dtype: 'F32', shape: e.shape, data: flat.slice(e.offset, e.offset + e.size) });
      } else if (entry.kind === 'buffer') {
        out.set(entry.name, { dtype: 'F32', shape: this.buffers.get(entry.name).shape.slice(), data: buffers.get(entry.name)! });
      } else {
        out.set(entry.name, { dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(this.buffers.numBatchesTracked)) });
      }
    }
    return out;
  }

  /** Load a state_dict (names and shapes must match the model exactly). */
  loadStateDict(tensors: SafeTensors, source = 'state_dict'): void {
    const flat = new Float32Array(this.params.flatSize);
    for (const entry of this.model.stateDictOrder()) {
      const t = tensors.get(entry.name);
      if (!t) throw new Error(`${source}: missing tensor ${entry.name}`);
      if (entry.kind === 'count') {
        this.buffers.numBatchesTracked = Number((t.data as BigInt64Array)[0]);
        continue;
      }
      const shape = entry.kind === 'param' ? this.params.get(entry.name).shape : this.buffers.get(entry.name).shape;
      if (t.dtype !== 'F32' || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        throw new Error(`${source}: ${entry.name} is ${t.dtype} [${t.shape}], the model needs F32 [${shape}]`);
      }
      if (entry.kind === 'param') flat.set(t.data as Float32Array, this.params.get(entry.name).offset);
      else this.gpu.write(this.buffers.get(entry.name), t.data as Float32Array);
    }
    this.writeFlat('values', flat);
  }

  /** Prunable weight names (conv and fc weights), minus `ignore`. */
  prunableNames(ignore: string[] = []): string[] {
    for (const name of ignore) if (!this.params.byName.has(name)) throw new Error(`--prune-ignore: no parameter named ${name}`);
    return this.params.entries.filter((e) => e.prunable && !ignore.includes(e.name)).map((e) => e.name);
  }

  destroy(): void {
    this.params.destroy();
    this.buffers.destroy();
  }
}
