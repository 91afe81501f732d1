// The training loop shared by `train`, every IMP level and every branch: from a start state at
// iteration `start` to `end`, with evaluation, resumable checkpoints and the final model.
//
// One iteration (src/train/train_step.ts): write the batch's indices and transforms (one queue
// write), then record into one command encoder: augmentation -> forward -> loss -> backward -> fused
// masked SGD; submit. After two identical captures the step is replayed instead of recorded afresh.
// The loss is read back only at log and checkpoint steps (the GPU runs ahead in between); a plain
// log step's loss is awaited once the next step is recorded, so the GPU never idles while the host waits.
//
// Resume: checkpoint.safetensors holds the weights, BN statistics, momentum, masks and the
// iteration; every random stream is counter-based on (seed, replicate, iteration), so restoring the
// iteration restores the data order and augmentation exactly and a resumed run is bit-identical.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad } from '../autograd/node.js';
import type { Gpu } from '../gpu/runtime.js';
import { loadSafetensors, saveSafetensors, type SafeTensors } from '../io/safetensors.js';
import { removeTempFiles } from '../io/files.js';
import type { Network } from '../nn/network.js';
import { countCorrect, crossEntropy } from '../ops/cross_entropy.js';
import { TrainStep } from './train_step.js';
import { SgdMasked } from '../optim/sgd.js';
import { Scope } from '../tensor/scope.js';
import type { TrainData } from './train_data.js';
import type { Tensor } from '../tensor/tensor.js';
import { LrSchedule } from './schedule.js';
import { MetricsLog } from './metrics_log.js';
import { Progress } from './progress.js';
import { parseStep } from './steps.js';
import type { Hparams } from './hparams.js';
import { RunLock } from './run_lock.js';

export interface EvalResult {
  loss: number;
  accuracy: number;
  count: number;
}

export interface LoopResult {
  dir: string;
  iterations: number;
  test: EvalResult | null;
  resumed: boolean;
  skipped: boolean;
}

export interface TrainingJob {
  gpu: Gpu;
  network: Network;
  data: TrainData;
  hparams: Hparams;
  /** Output directory of this run (created by the caller). */
  dir: string;
  /** First iteration to train (0, or k when rewinding). */
  start: number;
  /** Sets the start state (weights, BN statistics, masks, momentum) when no checkpoint exists. */
  initialize: () => Promise<void> | void;
  label?: string;
  quiet?: boolean;
  /** Log a training line every this many iterations (the loss is read back then). */
  logEvery?: number;
  /**
   * Called after each step is recorded and submitted, before its tensors are released (gradients
   * are still in the parameters' grad buffers). Telemetry samples here.
   */
  onStep?: (iteration: number, loss: Tensor) => Promise<void> | void;
  /** Called when the run resumes from a checkpoint at `iteration` (e.g. to cut back a side log). */
  onResume?: (iteration: number) => void;
}

export class NonFiniteLossError extends Error {
  constructor(iteration: number, loss: number, checkpoint: string | null) {
    super(
      `loss became ${loss} at iteration ${iteration}; training stopped. ` +
        (checkpoint ? `The last good checkpoint is kept at ${checkpoint}.` : 'No checkpoint had been written yet.') +
        ' Lower --lr or check the data.',
    );
    this.name = 'NonFiniteLossError';
  }
}

export const CHECKPOINT = 'checkpoint.safetensors';
export const MODEL_FINAL = 'model_final.safetensors';
export const METRICS = 'metrics.jsonl';

/** `evaluate` pads its last batch only where that adds at most 1/PAD_AT_MOST to the images it evaluates. */
export const PAD_AT_MOST = 8;

/** Evaluate on the test split (BN in inference mode). */
export async function evaluate(gpu: Gpu, network: Network, data: TrainData, batchSize = 500, limit = Infinity): Promise<EvalResult> {
  let lossSum = 0;
  let correct = 0;
  const n = Math.min(limit, data.testSize);
  for (let s = 0; s < n; s += batchSize) {
    const count = Math.min(batchSize, n - s);
    // The last, partial batch after full ones is padded to a full batch (rows past `count` repeat its
    // last image, and only the first `count` rows are scored): it then runs on the buffers the full
    // batches pooled instead of a set of its own sizes, which the pool would keep (70 MB for ResNet-20
    // at batch 128). In evaluation every image's logits are computed apart from the others' (BatchNorm
    // uses its running statistics), so a row's logits are the same bits padded or not. Only where the
    // padding adds at most an eighth to the images evaluated (2.4% for 1,000 test images at batch 128,
    // 1.1% for 10,000): a small test subset with a short last batch keeps its own buffers instead.
    const rows = s > 0 && (batchSize - count) * PAD_AT_MOST <= n ? batchSize : count;
    const scope = Scope.open();
    const { images, labels } = data.testBatch(s, count, rows);
    const [loss, hits] = noGrad(() => {
      const all = network.forward(images, false);
      const logits = rows > count ? all.view(0, [count, ...all.shape.slice(1)]) : all;
      const y = rows > count ? labels.view(0, [count]) : labels;
      return [crossEntropy(logits, y), countCorrect(logits, y)];
    });
    const [l] = await loss.readF32();
    const [c] = (await hits.read()) as Uint32Array;
    scope.close();
    lossSum += l * count;
    correct += c;
  }
  return { loss: lossSum / n, accuracy: correct / n, count: n };
}

/** The model's state_dict plus what a checkpoint adds to it: momenta and masks. */
export async function checkpointTensors(network: Network): Promise<SafeTensors> {
  const state = await network.stateDict();
  const momenta = network.unflatten(await network.readFlat('momenta'));
  const masks = network.unflatten(await network.readFlat('masks'));
  for (const e of network.params.entries) {
    state.set(`optimizer.momentum.${e.name}`, { dtype: 'F32', shape: e.shape, data: momenta.get(e.name)! });
    state.set(`mask.${e.name}`, { dtype: 'F32', shape: e.shape, data: masks.get(e.name)! });
  }
  return state;
}

/** Write a checkpointTensors() state back into the network (parameters, BN state, momenta, masks). */
export function restoreCheckpoint(network: Network, tensors: SafeTensors, source: string): void {
  network.loadStateDict(tensors, source);
  for (const which of ['momenta', 'masks'] as const) {
    const prefix = which === 'momenta' ? 'optimizer.momentum.' : 'mask.';
    const flat = new Float32Array(network.params.flatSize);
    for (const e of network.params.entries) {
      const t = tensors.get(prefix + e.name);
      if (!t || t.data.length !== e.size) throw new Error(`${source}: missing or mis-shaped ${prefix}${e.name}`);
      flat.set(t.data as Float32Array, e.offset);
    }
    network.writeFlat(which, flat);
  }
}

function allFinite(tensors: SafeTensors): boolean {
  for (const t of tensors.values()) {
    if (t.dtype !== 'F32') continue;
    for (const v of t.data as Float32Array) if (!Number.isFinite(v)) return false;
  }
  return true;
}

export async function runTrainingLoop(job: TrainingJob): Promise<LoopResult> {
  const { data, hparams, dir } = job;
  const log = new MetricsLog(join(dir, METRICS));
  const finalPath = join(dir, MODEL_FINAL);
  const batch = Number(hparams.batch);
  const itersPerEpoch = Math.ceil(data.trainSize / batch);
  const end = parseStep(String(hparams.trainingSteps), itersPerEpoch);
  const evalEvery = Math.max(1, parseStep(String(hparams.evalEvery), itersPerEpoch));
  const ckptEvery = Math.max(1, parseStep(String(hparams.checkpointEvery), itersPerEpoch));
  const logEvery = job.logEvery ?? 10;
  if (!Number.isInteger(logEvery) || logEvery < 1) throw new Error(`logEvery must be a whole number of iterations >= 1, got ${logEvery}`);

  const finished = (): LoopResult => {
    const lastTest = log.read().filter((r) => r.split === 'test').pop();
    return {
      dir,
      iterations: end,
      test: lastTest ? { loss: Number(lastTest.loss), accuracy: Number(lastTest.accuracy), count: Number(lastTest.count ?? 0) } : null,
      resumed: false,
      skipped: true,
    };
  };
  if (existsSync(finalPath)) return finished();
  if (job.start > end) throw new Error(`start iteration ${job.start} is past the end of training (${end})`);
  const lock = RunLock.acquire(dir);
  try {
    // Another worker may have finished it between the check above and taking the lock.
    if (existsSync(finalPath)) return finished();
    removeTempFiles(dir); // a killed writer's half-written checkpoint
    return await trainLocked(job, log, end, itersPerEpoch, evalEvery, ckptEvery, logEvery);
  } finally {
    lock.release();
  }
}

async function trainLocked(job: TrainingJob, log: MetricsLog, end: number, itersPerEpoch: number, evalEvery: number, ckptEvery: number, logEvery: number): Promise<LoopResult> {
  const { gpu, network, data, hparams, dir } = job;
  const finalPath = join(dir, MODEL_FINAL);
  const ckptPath = join(dir, CHECKPOINT);

  let iteration = job.start;
  let resumed = false;
  if (existsSync(ckptPath)) {
    const { tensors, metadata } = loadSafetensors(ckptPath);
    restoreCheckpoint(network, tensors, ckptPath);
    iteration = Number(metadata.iteration);
    if (!Number.isInteger(iteration)) throw new Error(`${ckptPath}: no iteration in its metadata`);
    log.truncateAfter(iteration);
    log.append({ event: 'resumed', iteration });
    job.onResume?.(iteration);
    resumed = true;
  } else {
    log.truncateAfter(job.start - 1);
    job.onResume?.(job.start - 1);
    await job.initialize();
  }

  const schedule = new LrSchedule(Number(hparams.lr), String(hparams.milestones), Number(hparams.gamma), itersPerEpoch);
  const sgd = new SgdMasked(network.params, { momentum: Number(hparams.momentum), weightDecay: Number(hparams.weightDecay) });
  const step = new TrainStep(network, data, sgd);
  const progress = new Progress(job.label ?? 'train', end, iteration, job.quiet);
  let lastCheckpoint: string | null = existsSync(ckptPath) ? ckptPath : null;
  let currentLr = NaN;
  let lastTest: EvalResult | null = null;
  let windowStart = performance.now();
  let windowImages = 0;

  // A loss read back at a log or checkpoint step, written to the log when it arrives.
  interface LossRead {
    iteration: number;
    lr: number;
    /** Images trained since the previous read. */
    images: number;
    log: boolean;
    value: Promise<Float32Array>;
  }
  let pending: LossRead | null = null;
  const finishRead = async (r: LossRead) => {
    const [l] = await r.value;
    const now = performance.now();
    const ips = (r.images / (now - windowStart)) * 1000;
    windowStart = now;
    if (!Number.isFinite(l)) throw new NonFiniteLossError(r.iteration, l, lastCheckpoint);
    if (r.log) log.append({ iteration: r.iteration, epoch: r.iteration / itersPerEpoch, split: 'train', loss: l, lr: r.lr, images_per_s: Math.round(ips * 10) / 10 });
    progress.update(r.iteration, { epoch: (r.iteration / itersPerEpoch).toFixed(2), loss: l.toFixed(4), ips: ips.toFixed(1) });
  };

  const writeCheckpoint = async (at: number) => {
    const tensors = await checkpointTensors(network);
    if (!allFinite(tensors)) throw new NonFiniteLossError(at, NaN, lastCheckpoint);
    saveSafetensors(ckptPath, tensors, { format: 'early-phase-checkpoint-1', iteration: String(at) });
    lastCheckpoint = ckptPath;
  };

  try {
    while (iteration < end) {
      const lr = schedule.at(iteration);
      if (lr !== currentLr) {
        sgd.setLearningRate(lr);
        currentLr = lr;
      }
      const scope = Scope.open();
      let doEval = false;
      let doCkpt = false;
      try {
        const { loss, count } = step.record(iteration);
        iteration++;
        windowImages += count;
        // the previous log step's loss, read now that this step is queued behind it
        if (pending) {
          const p = pending;
          pending = null;
          await finishRead(p);
        }

        const doLog = iteration % logEvery === 0 || iteration === end;
        doEval = iteration % evalEvery === 0 || iteration === end;
        doCkpt = iteration % ckptEvery === 0 && iteration !== end;
        if (doLog || doCkpt) {
          // the copy to a staging buffer is recorded now; the loss tensor may go back to the pool
          const read: LossRead = { iteration, lr, images: windowImages, log: doLog, value: loss.readF32() };
          read.value.catch(() => undefined); // awaited below or next iteration; not an unhandled rejection meanwhile
          windowImages = 0;
          // a plain log step waits for its loss only after the next step is recorded, so the GPU is
          // never left idle while the host waits; checkpoint, evaluation and the last step read at once
          if (doCkpt || doEval) await finishRead(read);
          else pending = read;
        }
        if (job.onStep) await job.onStep(iteration, loss);
      } finally {
        scope.close();
      }
      if (doEval) {
        // on the held training step's buffers (no second set of activations in the pool)
        lastTest = await step.lendBuffers(() => evaluate(gpu, network, data, Number(hparams.batch)));
        log.append({ iteration, epoch: iteration / itersPerEpoch, split: 'test', loss: lastTest.loss, accuracy: lastTest.accuracy, count: lastTest.count });
        progress.update(iteration, { acc: (100 * lastTest.accuracy).toFixed(2) + '%' });
        if (!Number.isFinite(lastTest.loss)) throw new NonFiniteLossError(iteration, lastTest.loss, lastCheckpoint);
      }
      if (doCkpt) await writeCheckpoint(iteration);
    }
    if (!lastTest) {
      lastTest = await step.lendBuffers(() => evaluate(gpu, network, data, Number(hparams.batch)));
      log.append({ iteration, epoch: iteration / itersPerEpoch, split: 'test', loss: lastTest.loss, accuracy: lastTest.accuracy, count: lastTest.count });
    }
    const state = await network.stateDict();
    if (!allFinite(state)) throw new NonFiniteLossError(iteration, NaN, lastCheckpoint);
    saveSafetensors(finalPath, state);
    rmSync(ckptPath, { force: true });
  } finally {
    progress.stop();
    step.destroy();
    sgd.destroy();
  }
  return { dir, iterations: end, test: lastTest, resumed, skipped: false };
}
