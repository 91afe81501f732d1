// bench/targets.ts: the performance issue's targets read off a bench report (no GPU needed).
import { describe, expect, it } from 'vitest';
import type { KernelEntry } from '../bench/kernels.js';
import type { BenchReport } from '../bench/report.js';
import { checkTargets, cpuAdapter, kernelPassCaution, kernelPassSlowdown, targetLines } from '../bench/targets.js';

const kernel = (op: string, shape: string, percent: number, extra: Partial<KernelEntry> = {}): KernelEntry =>
  ({ name: `resnet20 ${op} ${shape}`, model: 'resnet20', op, shape, batch: 128, per_step: 1, ms: 1, percent_of_ceiling: percent, ceiling: op.startsWith('conv2d') ? 'fma_gflops' : 'copy_gbps', ...extra }) as KernelEntry;

const endToEnd = { train_images_per_s: 230, encode_cpu_ms: 1, step_ms: 550, steps: 20, pool_buffers_created_while_timed: 0 };

function report(adapter: string, over: Partial<BenchReport> & { e2e?: Record<string, unknown> }): BenchReport {
  const { e2e, ...rest } = over;
  return { adapter, kernels: [], end_to_end: { ...endToEnd, ...e2e }, speedup_vs_tfjs: 20, pytorch: null, ...rest } as unknown as BenchReport;
}

const byTarget = (r: BenchReport, prefix: string) => checkTargets(r).find((c) => c.target.startsWith(prefix))!;

describe('bench targets', () => {
  it('tells a CPU adapter from a GPU', () => {
    expect(cpuAdapter('llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)')).toBe(true);
    expect(cpuAdapter('NVIDIA: 580.159.04')).toBe(false);
  });

  it('names every conv kernel under 25% of the FMA ceiling, and only those a step runs', () => {
    const kernels = [
      kernel('conv2d.forward', '128x16x32x32 -> 16 k3 s1', 42),
      kernel('conv2d.weight_grad', '128x16x32x32 -> 32 k1 s2', 22),
      kernel('conv2d.input_grad', '128x3x32x32 -> 16 k3 s1', 16, { per_step: 0 }), // the stem's: never in a step
    ];
    const c = byTarget(report('llvmpipe', { kernels }), 'ResNet-20 conv kernels');
    expect(c.met).toBe(false);
    expect(c.detail).toMatch(/^1 of 2 a step runs; under: conv2d.weight_grad 128x16x32x32 -> 32 k1 s2 22.0%$/);
    kernels[1].macs_per_float = 32768 / 3072;
    expect(byTarget(report('llvmpipe', { kernels }), 'ResNet-20 conv kernels').detail).toMatch(/under: conv2d.weight_grad 128x16x32x32 -> 32 k1 s2 22.0% \(10.7 MACs per float moved\)$/);
    kernels[1].percent_of_ceiling = 25;
    expect(byTarget(report('llvmpipe', { kernels }), 'ResNet-20 conv kernels').met).toBe(true);
  });

  it('holds memory-bound kernels to 50% of bandwidth, launch-bound ones listed apart', () => {
    const kernels = [kernel('batchnorm.forward_train', '128x64x8x8', 47), kernel('add_relu', '128x16x32x32', 70), kernel('cross_entropy', '128x10', 1, { launch_bound: true })];
    const c = byTarget(report('llvmpipe', { kernels }), 'memory-bound');
    expect(c.met).toBe(false);
    expect(c.detail).toContain('1 of 2 a step runs; under: batchnorm.forward_train 128x64x8x8 47.0%');
    expect(c.detail).toContain('launch-bound, not counted: cross_entropy 128x10 1.0%');
  });

  it('counts the data kernels every step runs (model "-"): the augmentation is held to 50% too', () => {
    const kernels = [kernel('batchnorm.backward', '128x16x32x32', 70), kernel('augment_sample', '128x3x32x32 crop+flip', 30, { model: '-' }), kernel('data.gather', '128 images', 15, { model: '-', launch_bound: true })];
    const c = byTarget(report('llvmpipe', { kernels }), 'memory-bound');
    expect(c.met).toBe(false);
    expect(c.detail).toContain('1 of 2 a step runs; under: augment_sample 128x3x32x32 crop+flip 30.0%');
    expect(c.detail).toContain('launch-bound, not counted: data.gather 128 images 15.0%');
    // where the bench wrote the output alone, the miss says how far that gets
    kernels[1].write_floor_percent = 41.25;
    expect(byTarget(report('llvmpipe', { kernels }), 'memory-bound').detail).toContain('under: augment_sample 128x3x32x32 crop+flip 30.0% (its output written alone: 41.3%)');
    kernels[1].percent_of_ceiling = 55;
    expect(byTarget(report('llvmpipe', { kernels }), 'memory-bound').met).toBe(true);
    // a kernel of another model, or one no step runs, is not counted
    const other = [kernel('batchnorm.backward', '128x16x32x32', 70), kernel('batchnorm.backward', '128x128x32x32', 10, { model: 'wrn16_8' }), kernel('reduce.sum', '273664', 20, { per_step: 0 })];
    expect(byTarget(report('llvmpipe', { kernels: other }), 'memory-bound').met).toBe(true);
  });

  it('lists the memory-bound ResNet-20 kernels no step runs that are under 50%, without counting them', () => {
    const kernels = [
      kernel('batchnorm.backward', '128x16x32x32', 70),
      kernel('reduce.sum', '273664', 35.3, { per_step: 0 }),
      kernel('rng.normal', '273664', 60, { per_step: 0 }), // over: not listed
      kernel('augment_sample', '128x3x32x32 crop+flip+rotation', 8.4, { model: '-', per_step: 0 }),
      kernel('accuracy_count', '128x10', 0.3, { per_step: 0, launch_bound: true }), // launch-bound: not listed
      kernel('batchnorm.backward', '128x128x32x32', 10, { model: 'wrn16_8', per_step: 0 }), // another model's
      kernel('conv2d.input_grad', '128x3x32x32 -> 16 k3 s1', 18, { per_step: 0 }), // a conv: not memory-bound
    ];
    const c = byTarget(report('llvmpipe', { kernels }), 'memory-bound');
    expect(c.met).toBe(true);
    expect(c.detail).toBe('1 of 1 a step runs; outside a training step, not counted: 2 of 3 under (reduce.sum 273664 35.3%; augment_sample 128x3x32x32 crop+flip+rotation 8.4%)');
    kernels[1].percent_of_ceiling = 50;
    kernels[3].percent_of_ceiling = 51;
    expect(byTarget(report('llvmpipe', { kernels }), 'memory-bound').detail).toBe('1 of 1 a step runs');
  });

  it('checks the speed-up, the encoding share and the buffers created', () => {
    const r = report('llvmpipe', { speedup_vs_tfjs: 9.5, e2e: { encode_cpu_ms: 60, pool_buffers_created_while_timed: 3 } });
    expect(byTarget(r, 'training >= 10x').met).toBe(false);
    expect(byTarget(r, 'encoding').met).toBe(false);
    expect(byTarget(r, 'no buffer').met).toBe(false);
    const ok = report('llvmpipe', {});
    expect(byTarget(ok, 'training >= 10x').met).toBe(true);
    expect(byTarget(ok, 'encoding').met).toBe(true);
    expect(byTarget(ok, 'no buffer').met).toBe(true);
  });

  it('a kernel that failed or has no timing is a miss; a report with --filter or another batch checks neither kernel target', () => {
    const ok = [kernel('conv2d.forward', '128x16x32x32 -> 16 k3 s1', 42), kernel('batchnorm.backward', '128x16x32x32', 70)];
    for (const broken of [
      kernel('conv2d.weight_grad', '128x16x32x32 -> 16 k3 s1', NaN), // timestamps missing
      kernel('conv2d.forward', '128x32x16x16 -> 32 k3 s1', NaN, { error: 'GPU error' }),
      { ...kernel('conv2d resnet20', '', NaN, { error: 'out of memory' }), model: '' }, // a guarded() failure
    ]) {
      for (const prefix of ['ResNet-20 conv kernels', 'memory-bound']) {
        const c = byTarget(report('llvmpipe', { kernels: [...ok, broken] }), prefix);
        expect(c.met, `${prefix} with ${broken.name}`).toBe(false);
        expect(c.detail).toMatch(/1 kernel entry failed or not timed/);
      }
    }
    expect(byTarget(report('llvmpipe', { kernels: ok }), 'ResNet-20 conv kernels').met).toBe(true);
    for (const options of [{ filter: 'batchnorm' }, { batch: 64 }]) {
      for (const c of checkTargets(report('llvmpipe', { kernels: ok, options }))) if (/kernels/.test(c.target)) expect(c.met, JSON.stringify(options)).toBeNull();
    }
  });

  it('no buffer created per step counts uniform buffers, staging buffers and bind groups too', () => {
    const r = report('llvmpipe', { e2e: { gpu_objects_created_while_timed: { uniform_buffers: 0, staging_buffers: 0, bind_groups: 12 } } });
    const c = byTarget(r, 'no buffer');
    expect(c.met).toBe(false);
    expect(c.detail).toBe('0 buffers, 0 uniform buffers, 0 staging buffers, 12 bind groups created over 20 timed steps');
  });

  it('never calls a target met without the data for it', () => {
    const r = report('llvmpipe', { speedup_vs_tfjs: null, end_to_end: null });
    for (const c of checkTargets(r)) expect(c.met, c.target).toBeNull();
    expect(targetLines(checkTargets(r))[0]).toMatch(/^not checked: /);
    const gpu = report('NVIDIA', { end_to_end: null });
    for (const c of checkTargets(gpu)) expect(c.met, c.target).toBeNull();
  });

  it('holds a GPU to the 2 s epoch (every epoch timed) and to PyTorch on CUDA', () => {
    const pytorch = { device_type: 'cuda', train_images_per_s: 17000 };
    const fast = report('NVIDIA', { pytorch, e2e: { train_images_per_s: 27000, epochs: [{ seconds: 1.9 }, { seconds: 1.95 }] } } as never);
    expect(checkTargets(fast).map((c) => c.met)).toEqual([true, true]);
    const slow = report('NVIDIA', { pytorch: { ...pytorch, device_type: 'cpu' }, e2e: { train_images_per_s: 27000, epochs: [{ seconds: 1.9 }, { seconds: 2.03 }] } } as never);
    expect(checkTargets(slow).map((c) => c.met)).toEqual([false, null]);
    expect(targetLines(checkTargets(slow))[0]).toBe('NO: a ResNet-20 epoch (50,000 images, batch 128) <= 2 s (the issue sets it for an H100) (1.900 s, 2.030 s)');
  });

  it("cautions where the kernel passes' entries, summed as a step runs them, took well over the same step timed elsewhere in the run", () => {
    // 3 entries of a step: 300 + 2 x 250 = 800 ms; the augmentation (model '-') counts, entries a step does not run do not
    const kernels = [
      kernel('conv2d.forward', '128x16x32x32 -> 16 k3 s1', 42, { ms: 300 }),
      kernel('batchnorm.backward', '128x16x32x32', 60, { ms: 250, per_step: 2 }),
      kernel('augment_sample', '128x3x32x32 crop+flip', 20, { model: '-', ms: 100 }),
      kernel('conv2d.input_grad', '128x3x32x32 -> 16 k3 s1', 16, { ms: 999, per_step: 0 }),
    ];
    const profile = (gpu_ms: number, batch = 128) => ({ model: 'resnet20', batch, dispatches: 3, copies: 0, gpu_ms, kernels: [] });
    const r = (over: Partial<BenchReport> & { e2e?: Record<string, unknown> }) => report('llvmpipe', { kernels, step_profiles: [profile(600)], options: {}, ...over });
    expect(kernelPassSlowdown(r({ e2e: { batch: 128, gpu_ms_per_step: 640 } }))).toEqual({ ratio: 900 / 640, listed_ms: 900, step_ms: 640 });
    expect(kernelPassCaution(r({ e2e: { batch: 128, gpu_ms_per_step: 640 } }))).toMatch(/^caution: the kernel passes' ResNet-20 entries sum to 900.0 ms a step, 1.41x the same step timed in this run \(640.0 ms\)/);
    // the step as slow as the passes: no caution (the whole run was slow, consistently)
    expect(kernelPassCaution(r({ e2e: { batch: 128, gpu_ms_per_step: 750 } }))).toBeNull();
    // nothing to compare with: a filtered run, or step timings at another batch
    expect(kernelPassSlowdown(r({ options: { filter: 'conv' }, e2e: { batch: 128, gpu_ms_per_step: 640 } }))).toBeNull();
    expect(kernelPassSlowdown(r({ step_profiles: [profile(600, 64)], e2e: { batch: 64, gpu_ms_per_step: 640 } }))).toBeNull();
  });
});
