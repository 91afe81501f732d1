// A Tensor is a range of a GPU buffer plus a shape and a dtype. Contiguous, row-major:
// activations NCHW, conv weights OIHW, fc weights [out, in] (PyTorch's layouts).
//
// Tensors made by ops come from the runtime's buffer pool and belong to the innermost open Scope,
// which gives them back to the pool when it is disposed (end of a training step). Parameters are
// views into long-lived flat buffers and belong to no scope.
import type { GpuBuffer } from '../gpu/buffer_pool.js';
import { grid1d, type BufferRange, type Gpu } from '../gpu/runtime.js';
import { record, type GradNode } from '../autograd/node.js';
import { streamLayout } from '../gpu/lanes.js';
import { Scope } from './scope.js';

export type DType = 'f32' | 'u32' | 'i32';

export type TypedArrayOf<D extends DType> = D extends 'f32' ? Float32Array : D extends 'u32' ? Uint32Array : Int32Array;

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export class Tensor implements BufferRange {
  readonly size: number;
  /** Set on tensors that need a gradient (parameters, and outputs of ops on them). */
  requiresGrad = false;
  /** For parameters: the persistent buffer their gradient lands in. */
  grad: Tensor | null = null;
  /** The op that produced this tensor, for backward. */
  node: GradNode | null = null;
  private released = false;

  constructor(
    readonly gpu: Gpu,
    readonly buf: GpuBuffer,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly dtype: DType,
    /** True when the buffer came from the pool and goes back on release. */
    readonly pooled: boolean,
    readonly label = '',
  ) {
    this.size = numel(shape);
    if (offset + this.size * 4 > buf.size) throw new Error(`Tensor ${shapeStr(shape)} at offset ${offset} does not fit a ${buf.size}-byte buffer`);
  }

  get bytes(): number {
    return Math.max(4, this.size * 4);
  }

  get rank(): number {
    return this.shape.length;
  }

  /** A fresh pooled tensor, owned by the current scope. Contents undefined. */
  static empty(gpu: Gpu, shape: readonly number[], dtype: DType = 'f32', label = ''): Tensor {
    const t = new Tensor(gpu, gpu.pool.acquire(Math.max(4, numel(shape) * 4)), 0, shape, dtype, true, label);
    Scope.adopt(t);
    if (gpu.poisonNewTensors) t.fillBits(dtype === 'f32' ? 0x7fc00000 : 0xdeadbeef);
    return t;
  }

  static fromArray(gpu: Gpu, data: ArrayLike<number>, shape: readonly number[], dtype: DType = 'f32', label = ''): Tensor {
    if (data.length !== numel(shape)) throw new Error(`fromArray: ${data.length} values for shape ${shapeStr(shape)}`);
    const t = Tensor.empty(gpu, shape, dtype, label);
    t.write(data);
    return t;
  }

  static zeros(gpu: Gpu, shape: readonly number[], dtype: DType = 'f32', label = ''): Tensor {
    const t = Tensor.empty(gpu, shape, dtype, label);
    t.fillBits(0);
    return t;
  }

  /** Fill every element with a 32-bit pattern (0 = zero for every dtype; 0x7fc00000 = NaN). */
  fillBits(bits: number): void {
    const { variant, floats } = streamLayout(this.size); // the widest store that divides the size
    const n = this.size / floats;
    this.gpu.dispatch('fill', { bindings: { out: this }, uniforms: { n, bits: bits >>> 0 }, workgroups: grid1d(n, 256), variant });
  }

  fill(value: number): void {
    const b = new DataView(new ArrayBuffer(4));
    if (this.dtype === 'f32') b.setFloat32(0, value, true);
    else if (this.dtype === 'u32') b.setUint32(0, value, true);
    else b.setInt32(0, value, true);
    this.fillBits(b.getUint32(0, true));
  }

  write(data: ArrayLike<number>): void {
    if (data.length !== this.size) throw new Error(`write: ${data.length} values into a tensor of ${this.size}`);
    const arr = this.dtype === 'f32' ? Float32Array.from(data) : this.dtype === 'u32' ? Uint32Array.from(data) : Int32Array.from(data);
    this.gpu.write(this, arr);
  }

  async read(): Promise<Float32Array | Uint32Array | Int32Array> {
    this.assertAlive();
    const bytes = await this.gpu.readBytes(this);
    return this.dtype === 'f32' ? new Float32Array(bytes) : this.dtype === 'u32' ? new Uint32Array(bytes) : new Int32Array(bytes);
  }

  async readF32(): Promise<Float32Array> {
    if (this.dtype !== 'f32') throw new Error(`readF32 on a ${this.dtype} tensor`);
    return (await this.read()) as Float32Array;
  }

  /**
   * Same buffer, another shape with the same number of elements. Under autograd the view is an op
   * of its own ('reshape', its backward a copy of the gradient back into this tensor's shape), so a
   * tensor reshaped and used twice sums both gradients like any other tensor used twice.
   */
  reshape(shape: readonly number[]): Tensor {
    if (numel(shape) !== this.size) throw new Error(`reshape ${shapeStr(this.shape)} -> ${shapeStr(shape)}: sizes differ`);
    const t = new Tensor(this.gpu, this.buf, this.offset, shape, this.dtype, false, this.label);
    return record('reshape', [this], t, (g, ctx) => {
      // a copy, not a view of g: g may still be another input's gradient (add hands dy to both)
      const dx = ctx.gradOutput(0);
      this.gpu.copy(g, dx);
      return [dx];
    });
  }

  /**
   * Same buffer, `shape` starting `elements` into this tensor: a view that is never pooled (it lives
   * as long as this tensor). A kernel can bind it where its byte offset is a multiple of 256.
   */
  view(elements: number, shape: readonly number[]): Tensor {
    if (!Number.isInteger(elements) || elements < 0 || elements + numel(shape) > this.size) {
      throw new Error(`view of ${shapeStr(shape)} at element ${elements} does not fit a tensor of ${this.size}`);
    }
    return new Tensor(this.gpu, this.buf, this.offset + elements * 4, shape, this.dtype, false, this.label);
  }

  /** True once release() gave a pooled tensor's buffer back. */
  get isReleased(): boolean {
    return this.released;
  }

  assertAlive(): void {
    if (this.released) throw new Error(`tensor ${this.label || shapeStr(this.shape)} used after release`);
  }

  release(): void {
    if (this.released || !this.pooled) return;
    this.released = true;
    this.gpu.pool.release(this.buf);
  }

  toString(): string {
    return `Tensor(${this.label ? this.label + ' ' : ''}${shapeStr(this.shape)} ${this.dtype})`;
  }
}
