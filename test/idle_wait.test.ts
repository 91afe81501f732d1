// Waiting on a CPU adapter: the patched setImmediate must leave JavaScript callbacks alone, still
// see Dawn's native poll ticks (if a future dawn.node stops looking setImmediate up globally, the
// patch is dead and this test says so), and a long wait must still return the right data.
// @kernels fill
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { idleWaitInstalled, idleWaitStats, wantsIdleWait } from '../src/gpu/idle_wait.js';
import { Scope } from '../src/tensor/scope.js';
import { Tensor } from '../src/tensor/tensor.js';
import { useGpu } from './helpers/gpu.js';

const gpu = useGpu();

describe('idle wait', () => {
  it('is installed exactly for CPU adapters (or as EARLY_PHASE_IDLE_WAIT says)', () => {
    expect(idleWaitInstalled()).toBe(wantsIdleWait(gpu().dev.description));
    const saved = process.env.EARLY_PHASE_IDLE_WAIT;
    try {
      delete process.env.EARLY_PHASE_IDLE_WAIT;
      const base = { architecture: '', device: '', isFallbackAdapter: false };
      expect(wantsIdleWait({ ...base, description: 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)' })).toBe(true);
      expect(wantsIdleWait({ ...base, description: 'SwiftShader Device (Subzero)' })).toBe(true);
      expect(wantsIdleWait({ ...base, description: 'NVIDIA H100 80GB HBM3' })).toBe(false);
      expect(wantsIdleWait({ ...base, description: 'anything', isFallbackAdapter: true })).toBe(true);
      process.env.EARLY_PHASE_IDLE_WAIT = '0';
      expect(wantsIdleWait({ ...base, description: 'llvmpipe' })).toBe(false);
      process.env.EARLY_PHASE_IDLE_WAIT = '1';
      expect(wantsIdleWait({ ...base, description: 'NVIDIA H100' })).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.EARLY_PHASE_IDLE_WAIT;
      else process.env.EARLY_PHASE_IDLE_WAIT = saved;
    }
  });

  it('passes JavaScript callbacks straight through, arguments and promisify included', async () => {
    const got = await new Promise<number[]>((resolve) => setImmediate((a: number, b: number) => resolve([a, b]), 3, 4));
    expect(got).toEqual([3, 4]);
    expect(await promisify(setImmediate)(7)).toBe(7);
    await new Promise((resolve) => setTimeout(resolve, 20)); // let Dawn's last poll of earlier work run
    const before = idleWaitStats();
    await new Promise<void>((resolve) => setImmediate(resolve)); // a native function, but not Dawn's tick
    await new Promise<void>((resolve) => setImmediate(() => resolve()));
    expect(idleWaitStats()).toEqual(before);
  });

  it('a long GPU wait is polled by timer ticks and still reads back every element', async () => {
    const g = gpu();
    if (!idleWaitInstalled()) return; // a real GPU: Dawn polls at full speed, nothing to check here
    const scope = Scope.open();
    const n = 1 << 24; // 64 MiB, written 8 times: milliseconds of work on lavapipe
    const t = Tensor.empty(g, [n]);
    for (let i = 0; i < 8; i++) t.fill(i + 0.5);
    const before = idleWaitStats();
    const data = await t.read();
    const after = idleWaitStats();
    expect(after.nativeTicks).toBeGreaterThan(before.nativeTicks);
    expect(after.sleptTicks).toBeGreaterThan(before.sleptTicks);
    let bad = 0;
    for (let i = 0; i < n; i++) if (data[i] !== 7.5) bad++;
    expect(bad).toBe(0);
    scope.close();
  });
});
