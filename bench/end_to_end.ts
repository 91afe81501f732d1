// End-to-end throughput on the training path of `train`: a Network, CifarTrainData (the Augmenter
// over a GpuDataset: data already on the GPU), SgdMasked, and the loop's step (src/train/train_step.ts:
// batch -> forward -> cross-entropy -> backward -> fused masked SGD -> submit, captured once and then
// replayed, as in `train`; EARLY_PHASE_REPLAY=0 records every step afresh), with the loss read
// back at the loop's logging cadence and after the last step. Evaluation through `evaluate()` at the
// batch the training loop evaluates at (its training batch: evaluationBatch).
import type { Gpu } from '../src/gpu/runtime.js';
import { GpuTimer, median } from '../src/gpu/timer.js';
import { Scope } from '../src/tensor/scope.js';
import { checkpointTensors, evaluate, restoreCheckpoint } from '../src/train/training_loop.js';
import { recordTrainStep as recordPlainStep } from '../src/train/train_step.js';
import { recordTrainStep, trainSetup, type TrainSetup } from '../src/train/train_setup.js';

export { recordTrainStep, trainSetup, type TrainSetup };

export interface EndToEndOptions {
  model: string;
  batch: number;
  steps: number;
  warmup: number;
  /** After the warm-up steps, keep training untimed until this much wall time has passed (a GPU's clocks ramp up under load; default 1000 ms). */
  warmupMs?: number;
  /** Read the loss back every this many steps (the training loop's default logEvery is 10). */
  logEvery: number;
  evalImages: number;
  /**
   * Also time evaluation at this batch (eval_extra_batch), after the headline one at the training
   * loop's batch; e.g. 500, evaluate()'s default, which the telemetry experiments evaluate at and
   * eval_images_per_s measured in files written before it followed `train`.
   */
  extraEvalBatch?: number;
  /**
   * Timed evaluations at each batch (default 3), after an untimed one; the rate is their median. One
   * evaluation of 1,000 images takes about 2 s on lavapipe, and a single one read anywhere from 345
   * to 590 img/s on the shared VM of 2026-12-07.
   */
  evalRuns?: number;
  dataDir?: string;
  /**
   * How many later steps are recorded before a loss read back is awaited (default 1, as the training
   * loop does): more keeps more GPU work queued while the host waits for the read.
   */
  readbackLag?: number;
  /** Also time one whole epoch over this many synthetic training images (0 or absent: skip; the figure is 50,000). */
  epochImages?: number;
  /** How many such epochs, back to back (default 1). */
  epochs?: number;
  log?: (line: string) => void;
}

export interface GpuMemory {
  pool_bytes: number;
  pool_bytes_before_training: number;
  /** The runtime's texture mirrors (DispatchArgs.textures), kept like the pool's buffers. */
  texture_mirror_bytes?: number;
  params_bytes: number;
  state_bytes: number;
  dataset_bytes: number;
  total_bytes: number;
  counts: string;
}

export interface EndToEndResult {
  model: string;
  batch: number;
  data: string;
  /** All warm-up steps: the fixed `warmup` ones, then those of the time-based loop (whose training is undone). */
  warmup_steps: number;
  /** The iteration the timed steps start at: the fixed warm-up's count, whatever the time-based loop ran. */
  timed_from_iteration: number;
  steps: number;
  loss_readback_every: number;
  train_images_per_s: number;
  step_ms: number;
  /**
   * GPU time per step: timestamps around `steps` steps recorded back to back, divided by `steps`
   * (includes the wait for the first step's commands); null without timestamp queries. Next to
   * step_ms it says whether the GPU or the host sets the pace.
   */
  gpu_ms_per_step: number | null;
  encode_cpu_ms: number;
  /** The same, for the warm-up steps after the captures, each recorded with the GPU idle. */
  encode_cpu_ms_gpu_idle: number;
  /** The same step recorded the plain way (all the JavaScript, no replay), GPU idle: what replay saves. */
  encode_cpu_ms_plain_gpu_idle: number;
  /** How the timed steps were recorded (src/train/train_step.ts): replayed, captured, or plain (replay off). */
  step_replay: { enabled: boolean; replayed: number; captured: number; plain: number; off_reason: string | null };
  /** Evaluation through evaluate() at eval_batch, the batch `train` evaluates at (older files: 500). */
  eval_images_per_s: number;
  /** Each timed evaluation's wall time at eval_batch, ms, in order (eval_images_per_s is from their median). Absent in older files (one evaluation). */
  eval_runs_ms?: number[];
  eval_images: number;
  /** The batch `train` evaluates at: its training batch (evaluationBatch). Older files: 500. */
  eval_batch: number;
  /** The same evaluation at another batch (EndToEndOptions.extraEvalBatch; the bench: 500). Absent in older files. */
  eval_extra_batch?: { batch: number; images_per_s: number; runs_ms?: number[] };
  /**
   * The last loss of the timed steps. They always start from the state the fixed warm-up left, so
   * this is the same bits for the same code, adapter, kernel configuration and options: a
   * fingerprint to compare runs by (not a figure of how well anything trains).
   */
  final_loss: number;
  dispatches_per_step: number;
  submits_per_step: number;
  /** Buffer ranges copied into texture mirrors per step, and their bytes (absent in older files). */
  texture_copies_per_step?: number;
  texture_copy_bytes_per_step?: number;
  pool_buffers_created_while_timed: number;
  /** The other GPU objects the timed steps created (absent in older files): each should be 0. */
  gpu_objects_created_while_timed?: { uniform_buffers: number; staging_buffers: number; bind_groups: number; texture_mirrors?: number };
  /** After the timed training steps (before evaluation). */
  gpu_memory: GpuMemory;
  /** After evaluation at eval_batch too, as `train` runs it (before the extra batch's, which may grow the pool). */
  gpu_memory_after_eval: GpuMemory;
  /**
   * After the timed epochs (with --epoch): the pool then also holds the capture of the epoch's last,
   * partial batch (two captured steps keep their buffers; src/train/train_step.ts). Absent in older files.
   */
  gpu_memory_after_epochs?: GpuMemory;
  /** One whole epoch by wall clock (with --epoch): epoch_steps steps from an epoch boundary, loss read back as above. */
  epoch?: EpochTiming;
  /**
   * With --epochs N: that epoch and the N-1 after it, back to back. The first meets the last
   * (partial) batch's shapes for the first time (new pool buffers and bind groups); the later ones
   * are what every later epoch of a training run costs.
   */
  epochs?: EpochTiming[];
}

export interface EpochTiming {
  images: number;
  steps: number;
  seconds: number;
  images_per_s: number;
  /** Wall time per loop iteration (recording, plus any wait for a readback): where the epoch's time goes. */
  step_ms?: { median: number; p90: number; max: number; first3: number[]; last: number };
  /** Buffers the pool created during the epoch (0 once every shape has been seen). */
  pool_buffers_created?: number;
}

/**
 * The batch the training loop evaluates at: runTrainingLoop (src/train/training_loop.ts) calls
 * evaluate(gpu, network, data, Number(hparams.batch)), and a TrainSetup's hparams are the ones
 * `train` builds for its model and batch (test/bench_end_to_end.test.ts checks the loop still does).
 */
export function evaluationBatch(s: Pick<TrainSetup, 'hparams'>): number {
  return Number(s.hparams.batch);
}

function stepSummary(ms: number[]): NonNullable<EpochTiming['step_ms']> {
  const sorted = [...ms].sort((a, b) => a - b);
  return { median: median(ms), p90: sorted[Math.floor(0.9 * (sorted.length - 1))], max: sorted[sorted.length - 1], first3: ms.slice(0, 3), last: ms[ms.length - 1] };
}

function gpuMemory(gpu: Gpu, s: TrainSetup, poolBefore: number): GpuMemory {
  const stats = gpu.stats();
  const params = s.network.params.flatSize * 4 * 4;
  let state = 0;
  for (const t of s.network.buffers.tensors.values()) state += t.buf.size;
  return {
    pool_bytes: stats.liveBytes,
    pool_bytes_before_training: poolBefore,
    texture_mirror_bytes: stats.textureMirrorBytes,
    params_bytes: params,
    state_bytes: state,
    dataset_bytes: s.dataBytes,
    total_bytes: stats.liveBytes + stats.textureMirrorBytes + params + state + s.dataBytes,
    counts:
      'buffers made through the runtime: the buffer pool (activations, gradients, scratch; the pool keeps every buffer it creates, so this is its ' +
      'high-water mark, including anything pooled before training started: pool_bytes_before_training), the texture mirrors some kernels read their inputs through (kept the same way), the 4 flat parameter buffers ' +
      '(values, grads, momenta, masks), BN running statistics and the dataset on the GPU; not uniform, staging or query buffers, pipelines, ' +
      'nor Dawn/driver memory',
  };
}

/**
 * Record `count` training steps from `first` as the training loop does: the loss is read back (and
 * checked) every `logEvery` steps, once the next step is recorded (so the GPU has work queued while
 * the host waits), and after the last at once; recording runs ahead of the GPU in between.
 * `encodeMs` gets each step's CPU recording time, `stepMs` each loop iteration's wall time. Returns
 * the last loss read.
 */
async function runSteps(gpu: Gpu, s: TrainSetup, first: number, count: number, logEvery: number, encodeMs?: number[], stepMs?: number[], lag = 1): Promise<number> {
  let loss = NaN;
  const pending: { iteration: number; due: number; value: Promise<Float32Array> }[] = [];
  const check = async (r: { iteration: number; value: Promise<Float32Array> }) => {
    [loss] = await r.value;
    if (!Number.isFinite(loss)) throw new Error(`end-to-end: loss ${loss} at iteration ${r.iteration}`);
  };
  for (let i = 0; i < count; i++) {
    const te = performance.now();
    const step = recordTrainStep(gpu, s, first + i);
    encodeMs?.push(performance.now() - te);
    try {
      while (pending.length > 0 && pending[0].due <= i) await check(pending.shift()!);
      if ((i + 1) % logEvery === 0 || i === count - 1) {
        const read = { iteration: first + i + 1, due: i + lag, value: step.loss.readF32() };
        read.value.catch(() => undefined); // awaited `lag` steps later; not an unhandled rejection meanwhile
        if (i === count - 1) {
          while (pending.length > 0) await check(pending.shift()!);
          await check(read);
        } else pending.push(read);
      }
    } finally {
      step.scope.close();
    }
    stepMs?.push(performance.now() - te);
  }
  return loss;
}

export async function endToEnd(gpu: Gpu, o: EndToEndOptions): Promise<EndToEndResult> {
  const log = o.log ?? (() => undefined);
  const epochImages = o.epochImages ?? 0;
  if (epochImages > 0 && o.dataDir) throw new Error('end-to-end: the epoch timing uses synthetic data; leave out --data');
  const s = trainSetup(gpu, o.model, o.batch, { dataDir: o.dataDir, nTest: o.evalImages, nTrain: epochImages > 0 ? epochImages : undefined });
  try {
    let iteration = 0;
    const poolAtStart = gpu.stats().liveBytes;
    // The loop's step: captured twice, then replayed.
    for (let i = 0; i < o.warmup; i++) await runSteps(gpu, s, iteration++, 1, 1);
    // A GPU idles at low clocks and ramps up under load (an H100's first 20 steps after 3 warm-up
    // steps ran at half the rate of a whole epoch): keep the steps coming for a second more.
    // One step at a time, each read back (so each is recorded with the GPU idle): on a CPU adapter
    // one step already takes most of a second.
    // Those extra steps are then undone (state and iteration back to where the fixed warm-up left
    // them), so the timed steps always train from the same state: final_loss is the same bits for
    // the same code, adapter and kernel configuration however many steps the second fitted.
    const idleEncode: number[] = [];
    const start = { iteration, state: await checkpointTensors(s.network) };
    let warmupSteps = o.warmup;
    for (const tw = performance.now(); performance.now() - tw < (o.warmupMs ?? 1000); warmupSteps++) await runSteps(gpu, s, iteration++, 1, 1, idleEncode);
    restoreCheckpoint(s.network, start.state, 'end-to-end warm-up');
    iteration = start.iteration;
    log(`  ${warmupSteps} warm-up steps done; timing ${o.steps} steps from iteration ${iteration}`);
    const before = gpu.stats();
    const replayBefore = { ...s.step.stats };
    const encode: number[] = [];
    const t0 = performance.now();
    const finalLoss = await runSteps(gpu, s, iteration, o.steps, o.logEvery, encode, undefined, o.readbackLag);
    iteration += o.steps;
    const wall = performance.now() - t0;
    const after = gpu.stats();
    const replayAfter = { ...s.step.stats };
    const memory = gpuMemory(gpu, s, poolAtStart);
    // The GPU's own time per step: timestamps around the same number of steps recorded back to back
    // (no readback), so the GPU never waits for the CPU once the first step has arrived.
    let gpuMsPerStep: number | null = null;
    if (GpuTimer.supported(gpu)) {
      const timer = new GpuTimer(gpu, 1);
      try {
        timer.span(() => {
          for (let i = 0; i < o.steps; i++) recordTrainStep(gpu, s, iteration++).scope.close();
        });
        const [ms] = await timer.read();
        gpuMsPerStep = ms / o.steps;
      } finally {
        timer.destroy();
      }
    }
    const trainIps = (o.steps * o.batch * 1000) / wall;
    log(`  train: ${trainIps.toFixed(1)} img/s (${(wall / o.steps).toFixed(1)} ms/step), loss ${finalLoss.toPrecision(9)} after iteration ${start.iteration + o.steps}`);

    // Evaluation as `train` runs it, at its batch: one untimed pass (pipelines for eval BN, the pool's
    // buffers for the batch and the last partial one), then evalRuns timed ones, rated by their median.
    // Then, if asked, the same at another batch.
    const evalImages = s.data.testSize;
    const evalRuns = Math.max(1, o.evalRuns ?? 3);
    // (as train evaluates: on the held training step's buffers, TrainStep.lendBuffers)
    const timeEval = async (batch: number): Promise<{ ips: number; runs: number[] }> => {
      await s.step.lendBuffers(() => evaluate(gpu, s.network, s.data, batch));
      const runs: number[] = [];
      for (let k = 0; k < evalRuns; k++) {
        const e0 = performance.now();
        await s.step.lendBuffers(() => evaluate(gpu, s.network, s.data, batch));
        runs.push(performance.now() - e0);
      }
      return { ips: (evalImages * 1000) / median(runs), runs };
    };
    const evalBatch = evaluationBatch(s);
    const evalTimed = await timeEval(evalBatch);
    const evalIps = evalTimed.ips;
    log(`  eval: ${evalIps.toFixed(1)} img/s over ${evalImages} images (batch ${evalBatch}, as train evaluates; median of ${evalRuns}: ${evalTimed.runs.map((ms) => ms.toFixed(0)).join(', ')} ms)`);
    const afterEval = gpuMemory(gpu, s, poolAtStart);
    let evalExtra: EndToEndResult['eval_extra_batch'];
    if (o.extraEvalBatch !== undefined) {
      const t = await timeEval(o.extraEvalBatch);
      evalExtra = { batch: o.extraEvalBatch, images_per_s: t.ips, runs_ms: t.runs };
      log(`  eval at batch ${o.extraEvalBatch}: ${evalExtra.images_per_s.toFixed(1)} img/s`);
    }

    const epochs: EpochTiming[] = [];
    if (epochImages > 0) {
      // the training loop's epoch: ceil(trainSize / batch) iterations from an epoch boundary
      const per = Math.ceil(s.data.trainSize / o.batch);
      iteration = Math.ceil(iteration / per) * per;
      log(`  epoch: ${per} steps over ${s.data.trainSize} images`);
      for (let k = 1; k <= (o.epochs ?? 1); k++) {
        const stepMs: number[] = [];
        const c0 = gpu.stats().created;
        const t1 = performance.now();
        await runSteps(gpu, s, iteration, per, o.logEvery, undefined, stepMs, o.readbackLag);
        iteration += per;
        const seconds = (performance.now() - t1) / 1000;
        const e: EpochTiming = { images: s.data.trainSize, steps: per, seconds, images_per_s: s.data.trainSize / seconds, step_ms: stepSummary(stepMs), pool_buffers_created: gpu.stats().created - c0 };
        epochs.push(e);
        const m = e.step_ms!;
        log(
          `  epoch ${k}: ${seconds.toFixed(2)} s (${e.images_per_s.toFixed(1)} img/s); steps: median ${m.median.toFixed(2)} ms, p90 ${m.p90.toFixed(2)}, ` +
            `max ${m.max.toFixed(2)}, first three ${m.first3.map((x) => x.toFixed(2)).join(' ')}, last ${m.last.toFixed(2)}; ${e.pool_buffers_created} buffers created`,
        );
      }
    }
    // What recording a step costs without replay (GPU idle), for comparison: plain steps with the
    // JavaScript warm, after the captures gave their buffers back (so the pool needs no second set).
    // Last, so that the epochs above start as a training run's do, with the step captured.
    s.step.destroy();
    const plainEncode: number[] = [];
    for (let i = 0; i < 4; i++) {
      await gpu.sync();
      const scope = Scope.open();
      const t0 = performance.now();
      const { loss } = recordPlainStep(s.network, s.data, s.sgd, iteration++);
      if (i > 0) plainEncode.push(performance.now() - t0);
      await loss.readF32();
      scope.close();
    }
    const afterEpochs = epochs.length ? gpuMemory(gpu, s, poolAtStart) : undefined;
    const epoch = epochs[0];
    return {
      model: o.model,
      batch: o.batch,
      data: s.source,
      warmup_steps: warmupSteps,
      timed_from_iteration: start.iteration,
      steps: o.steps,
      loss_readback_every: o.logEvery,
      train_images_per_s: trainIps,
      step_ms: wall / o.steps,
      gpu_ms_per_step: gpuMsPerStep,
      encode_cpu_ms: median(encode),
      encode_cpu_ms_gpu_idle: median(idleEncode),
      encode_cpu_ms_plain_gpu_idle: median(plainEncode),
      step_replay: {
        enabled: s.step.replay,
        replayed: replayAfter.replayed - replayBefore.replayed,
        captured: replayAfter.captured - replayBefore.captured,
        plain: replayAfter.plain - replayBefore.plain,
        off_reason: s.step.offReason,
      },
      eval_images_per_s: evalIps,
      eval_runs_ms: evalTimed.runs,
      eval_images: evalImages,
      eval_batch: evalBatch,
      ...(evalExtra ? { eval_extra_batch: evalExtra } : {}),
      final_loss: finalLoss,
      dispatches_per_step: (after.dispatches - before.dispatches) / o.steps,
      submits_per_step: (after.submits - before.submits) / o.steps,
      texture_copies_per_step: (after.textureCopies - before.textureCopies) / o.steps,
      texture_copy_bytes_per_step: (after.textureCopyBytes - before.textureCopyBytes) / o.steps,
      pool_buffers_created_while_timed: after.created - before.created,
      gpu_objects_created_while_timed: { uniform_buffers: after.uniformBuffers - before.uniformBuffers, staging_buffers: after.stagingCreated - before.stagingCreated, bind_groups: after.bindGroups - before.bindGroups, texture_mirrors: after.textureMirrors - before.textureMirrors },
      gpu_memory: memory,
      gpu_memory_after_eval: afterEval,
      ...(afterEpochs ? { gpu_memory_after_epochs: afterEpochs } : {}),
      ...(epoch ? { epoch, epochs } : {}),
    };
  } finally {
    await gpu.sync().catch(() => undefined);
    s.destroy();
  }
}
