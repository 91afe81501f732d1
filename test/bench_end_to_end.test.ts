// The end-to-end part of `npm run bench` (bench/end_to_end.ts) runs the training loop's own step:
// at a tiny size it trains (finite loss), warms up for the time asked (and undoes those steps' training), creates no pool
// buffers while timed, reports its rates,
// and with epochImages times whole epochs of ceil(images / batch) steps, a second one creating no buffers.
// Its evaluation runs at the batch the training loop evaluates at.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { endToEnd, evaluationBatch } from '../bench/end_to_end.js';
import { defaultHparams } from '../src/train/hparams.js';
import { useGpu } from './helpers/gpu.js';

const gpu = useGpu({ poison: false });

describe('bench end to end', () => {
  it('trains, evaluates and times one epoch at a tiny size', async () => {
    // 12 fixed warm-up steps: iterations 5 and 11 are the epochs' partial batches (44 = 5 x 8 + 4), captured
    // and then checked by a second capture (each may make a buffer or two); both land in the warm-up however
    // many steps the 200 ms loop adds (on a slow machine the timed steps once held iteration 11's capture)
    const r = await endToEnd(gpu(), { model: 'resnet8', batch: 8, steps: 3, warmup: 12, warmupMs: 200, logEvery: 2, evalImages: 20, extraEvalBatch: 10, epochImages: 44, epochs: 2 });
    expect(Number.isFinite(r.final_loss)).toBe(true);
    expect(r.train_images_per_s).toBeGreaterThan(0);
    expect(r.eval_images).toBe(20);
    expect(r.eval_images_per_s).toBeGreaterThan(0);
    // rated by the median of three timed evaluations, each listed
    expect(r.eval_runs_ms).toHaveLength(3);
    const runs = [...r.eval_runs_ms!].sort((a, b) => a - b);
    expect(r.eval_images_per_s).toBeCloseTo((20 * 1000) / runs[1], 6);
    expect(r.eval_extra_batch!.runs_ms).toHaveLength(3);
    // the headline evaluation at the training batch, as `train` evaluates; the other batch beside it
    expect(r.eval_batch).toBe(8);
    expect(r.eval_extra_batch?.batch).toBe(10);
    expect(r.eval_extra_batch!.images_per_s).toBeGreaterThan(0);
    expect(r.pool_buffers_created_while_timed).toBe(0);
    // the 12 warm-up steps, then single steps until 200 ms have passed (at least one)
    expect(r.warmup_steps).toBeGreaterThanOrEqual(13);
    expect(r.encode_cpu_ms_gpu_idle).toBeGreaterThan(0);
    // the timed steps replay the captured step (a later partial batch may be captured)
    expect(r.step_replay.enabled).toBe(true);
    expect(r.step_replay.plain).toBe(0);
    expect(r.step_replay.replayed).toBeGreaterThanOrEqual(1);
    expect(r.step_replay.replayed + r.step_replay.captured).toBe(3);
    expect(r.encode_cpu_ms_plain_gpu_idle).toBeGreaterThan(0);
    // GPU timestamps around steps recorded back to back: positive, and not beyond the wall time of a step by much
    expect(r.gpu_ms_per_step).toBeGreaterThan(0);
    expect(r.gpu_ms_per_step!).toBeLessThan(3 * r.step_ms);
    expect(r.submits_per_step).toBeGreaterThanOrEqual(1);
    // every replayed step makes the same copies into texture mirrors: a whole number a step, whole texels
    expect(Number.isInteger(r.texture_copies_per_step)).toBe(true);
    expect(r.texture_copy_bytes_per_step! % 16).toBe(0);
    expect(r.texture_copy_bytes_per_step!).toBeGreaterThanOrEqual(16 * r.texture_copies_per_step!);
    expect(r.epoch?.images).toBe(44);
    expect(r.epoch?.steps).toBe(6); // ceil(44 / 8): the last batch is partial
    expect(r.epoch?.seconds).toBeGreaterThan(0);
    // and the epoch after it: every shape seen by then, so no buffer is created
    expect(r.epochs?.length).toBe(2);
    expect(r.epochs![0]).toBe(r.epoch);
    expect(r.epochs![1].steps).toBe(6);
    expect(r.epochs![1].pool_buffers_created).toBe(0);
    // memory after the epochs: the pool keeps what it made, the partial batch's capture included
    expect(r.gpu_memory_after_epochs!.pool_bytes).toBeGreaterThanOrEqual(r.gpu_memory_after_eval.pool_bytes);
    // (and the texture mirrors: the partial batch's convs have mirrors of their own size)
    const after = r.gpu_memory_after_epochs!;
    expect(after.texture_mirror_bytes).toBeGreaterThanOrEqual(r.gpu_memory.texture_mirror_bytes!);
    expect(after.total_bytes).toBe(after.pool_bytes + after.texture_mirror_bytes! + r.gpu_memory.params_bytes + r.gpu_memory.state_bytes + r.gpu_memory.dataset_bytes);
    for (const e of r.epochs!) {
      expect(e.step_ms!.first3.length).toBe(3);
      expect(e.step_ms!.last).toBeGreaterThan(0);
      expect(e.step_ms!.max).toBeGreaterThanOrEqual(e.step_ms!.p90);
      expect(e.step_ms!.p90).toBeGreaterThanOrEqual(e.step_ms!.median);
    }
  });

  it('a longer readback lag awaits the same losses later: the same final loss', async () => {
    const o = { model: 'resnet8', batch: 8, steps: 7, warmup: 2, warmupMs: 0, logEvery: 2, evalImages: 10 };
    const a = await endToEnd(gpu(), { ...o, readbackLag: 1 });
    const b = await endToEnd(gpu(), { ...o, readbackLag: 3 });
    expect(a.warmup_steps).toBe(2);
    expect(Number.isFinite(a.final_loss)).toBe(true);
    expect(b.final_loss).toBe(a.final_loss);
  });

  it('undoes the time-based warm-up: the timed steps start from the same state, the same final loss', async () => {
    const o = { model: 'resnet8', batch: 8, steps: 3, warmup: 2, logEvery: 3, evalImages: 10 };
    const a = await endToEnd(gpu(), { ...o, warmupMs: 0 });
    const b = await endToEnd(gpu(), { ...o, warmupMs: 400 });
    expect(a.warmup_steps).toBe(2);
    expect(b.warmup_steps).toBeGreaterThan(2);
    expect(a.timed_from_iteration).toBe(2);
    expect(b.timed_from_iteration).toBe(2);
    expect(Number.isFinite(a.final_loss)).toBe(true);
    expect(b.final_loss).toBe(a.final_loss);
  });

  it("evaluates at the batch the training loop evaluates at: train's own batch", () => {
    // runTrainingLoop's every evaluate() call passes Number(hparams.batch): if that changes, so must evaluationBatch
    const loop = readFileSync(new URL('../src/train/training_loop.ts', import.meta.url), 'utf8');
    const calls = [...loop.matchAll(/\bevaluate\(((?:[^()]|\([^()]*\))*)\)/g)].map((m) => m[1]).filter((a) => !a.includes(':')); // calls, not the definition
    expect(calls.length).toBeGreaterThanOrEqual(2);
    for (const args of calls) expect(args.split(',').map((a) => a.trim())).toEqual(['gpu', 'network', 'data', 'Number(hparams.batch)']);
    expect(evaluationBatch({ hparams: { ...defaultHparams(), batch: 37 } })).toBe(37);
    expect(evaluationBatch({ hparams: defaultHparams() })).toBe(Number(defaultHparams().batch));
  });

  it('refuses the epoch timing on real data (it is defined on the synthetic set)', async () => {
    await expect(endToEnd(gpu(), { model: 'resnet8', batch: 8, steps: 1, warmup: 1, logEvery: 1, evalImages: 10, epochImages: 16, dataDir: '/nonexistent' })).rejects.toThrow(/synthetic data/);
  });
});
