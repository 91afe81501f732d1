// One GPU per test file, opened before the tests and destroyed after them. New tensors are
// poisoned (NaN / 0xdeadbeef) so a kernel that leaves elements unwritten fails its comparison.
import { afterAll, beforeAll } from 'vitest';
import { Gpu } from '../../src/gpu/runtime.js';

export function useGpu(options: { poison?: boolean } = {}): () => Gpu {
  let gpu: Gpu | null = null;
  beforeAll(async () => {
    gpu = await Gpu.create({ debug: process.env.EARLY_PHASE_DEBUG === '1' });
    gpu.poisonNewTensors = options.poison ?? true;
  });
  afterAll(async () => {
    if (gpu) {
      await gpu.sync();
      gpu.destroy();
    }
  });
  return () => {
    if (!gpu) throw new Error('GPU not ready');
    return gpu;
  };
}

/** One dispatch `fn` recorded: the kernel, its WGSL variant and its override constants, if any. */
export interface RecordedDispatch {
  kernel: string;
  variant?: string;
  overrides?: Record<string, number>;
}

/** Run fn and list every dispatch it records on g, in order; g.dispatch is restored after. */
export function recordDispatches<T>(g: Gpu, fn: () => T): { result: T; dispatches: RecordedDispatch[] } {
  const dispatches: RecordedDispatch[] = [];
  const dispatch = g.dispatch;
  g.dispatch = (kernel, args) => {
    dispatches.push({ kernel, variant: args.variant, overrides: args.overrides });
    dispatch.call(g, kernel, args);
  };
  try {
    return { result: fn(), dispatches };
  } finally {
    g.dispatch = dispatch;
  }
}

/** `kernel` or `kernel:variant`. */
export const dispatchName = (d: RecordedDispatch): string => (d.variant ? `${d.kernel}:${d.variant}` : d.kernel);
