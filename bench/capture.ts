// Capture what a public op records (its dispatches and buffer copies, in order) so the benchmark can
// replay exactly that work — same kernels, bindings, uniforms, grids and overrides — between GPU
// timestamps, as often as it likes, without re-running the op's JavaScript.
import type { BufferRange, DispatchArgs, Gpu } from '../src/gpu/runtime.js';

export type Recorded =
  | { kind: 'dispatch'; name: string; args: DispatchArgs }
  | { kind: 'copy'; src: BufferRange; dst: BufferRange; bytes: number };

type Patchable = { dispatch: Gpu['dispatch']; copy: Gpu['copy'] };

/** Run fn (which records GPU work as usual) and return the dispatches and copies it recorded. */
export function capture<T>(gpu: Gpu, fn: () => T): { result: T; work: Recorded[] } {
  const work: Recorded[] = [];
  const g = gpu as unknown as Patchable;
  const dispatch = g.dispatch;
  const copy = g.copy;
  if (Object.prototype.hasOwnProperty.call(gpu, 'dispatch')) throw new Error('capture: already capturing');
  g.dispatch = (name, args) => {
    work.push({ kind: 'dispatch', name, args });
    dispatch.call(gpu, name, args);
  };
  g.copy = (src, dst, bytes = src.bytes) => {
    work.push({ kind: 'copy', src, dst, bytes });
    copy.call(gpu, src, dst, bytes);
  };
  try {
    return { result: fn(), work };
  } finally {
    Reflect.deleteProperty(gpu, 'dispatch');
    Reflect.deleteProperty(gpu, 'copy');
  }
}

/** Record the captured work again. */
export function replay(gpu: Gpu, work: readonly Recorded[]): void {
  for (const w of work) {
    if (w.kind === 'dispatch') gpu.dispatch(w.name, w.args);
    else gpu.copy(w.src, w.dst, w.bytes);
  }
}

/**
 * Does replaying w end a compute pass (a buffer copy, or a dispatch that first copies its inputs into
 * texture mirrors)? Then a GPU timer must time it as a span, not as one pass (src/gpu/timer.ts).
 */
export function endsPass(w: Recorded): boolean {
  return w.kind === 'copy' || Object.keys(w.args.textures ?? {}).length > 0;
}

/** Does replaying the work end a compute pass anywhere (endsPass)? */
export function endsAnyPass(work: readonly Recorded[]): boolean {
  return work.some(endsPass);
}

export function kernelNames(work: readonly Recorded[]): string[] {
  return work.map((w) => (w.kind === 'dispatch' ? w.name : 'copyBufferToBuffer'));
}
