// One training iteration: the batch of iteration t (augmentation) -> forward -> loss -> backward ->
// fused masked SGD, recorded into one command encoder and submitted. Two ways to record it:
//
//   recordTrainStep   the plain way: run the JavaScript (model, autograd, ops) every step.
//   TrainStep         the same step recorded once and then replayed (what `train` and `bench` use).
//
// Why replay: recording a ResNet-20 step in JavaScript (autograd bookkeeping, 250 dispatches' bind
// group keys and uniforms) costs about 4.4 ms of CPU; on an H100 the GPU needs about as long, so the
// CPU set the pace. Yet after its data, a step does the same thing every time: the same kernels on
// the same buffers with the same uniforms (the learning rate lives in a buffer, not a uniform). So
// TrainStep records the step once while capturing (Gpu.beginCapture), keeps every pooled buffer the
// capture touched, and from then on only
//   1. copies the batch (images, labels) into the captured step's input tensors,
//   2. encodes the captured commands again (Gpu.replay: setPipeline/setBindGroup/dispatch),
//   3. copies the loss into a fresh tensor of the caller's scope (later replays overwrite their own).
// The same commands on the same buffers compute the same bits as recording afresh.
//
// Safety: a capture is replayed only after the next step of the same shape, captured again, records
// the same commands (pipelines, grids, uniform buffers and offsets equal; pooled buffers equal up to
// renaming). If they differ, something on the host changes what a step records, and replay turns
// off; so it does when the step writes or reads from the host (Gpu refuses that while capturing, and
// the half-captured step is dropped unsubmitted and recorded again the plain way), or reads a pooled
// tensor made before it (the pool could hand that buffer to anyone between replays). Every
// `verifyEvery` replays the step is captured afresh and compared again; a difference then
// is an error, since the replays before it may have been wrong. Each batch shape (an epoch's last,
// partial batch) is captured and checked on its own. At most `holdShapes` captures (default 2: the
// full batch and an epoch's partial one) hold their buffers at a time, so memory stays at that many
// steps' worth; past that the least recently replayed one goes back, and its shape, when it comes
// back, is captured and checked again. With one held, every epoch boundary cost two captures (a
// step recorded in JavaScript while the GPU waited, 12-33 ms on an H100). A conv configuration
// change drops them all.
import { backward } from '../autograd/backward.js';
import type { GpuBuffer } from '../gpu/buffer_pool.js';
import { CaptureRefused, type BufferRange, type CapturedCommand } from '../gpu/runtime.js';
import type { Network } from '../nn/network.js';
import { convConfigGeneration } from '../ops/conv2d.js';
import { crossEntropy } from '../ops/cross_entropy.js';
import type { SgdMasked } from '../optim/sgd.js';
import { Scope } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import type { TrainData } from './train_data.js';

/** Forward, loss, backward and the optimizer step on one batch, recorded (not submitted). Returns the loss. */
export function trainOnBatch(network: Network, sgd: SgdMasked, images: Tensor, labels: Tensor): Tensor {
  const logits = network.forward(images, true);
  const loss = crossEntropy(logits, labels);
  backward(loss, undefined, network.params.entries.map((e) => e.value));
  sgd.step();
  return loss;
}

/**
 * One training iteration the plain way (the JavaScript runs every time), recorded and submitted.
 * Call inside a Scope; the returned loss lives until the scope closes.
 */
export function recordTrainStep(network: Network, data: TrainData, sgd: SgdMasked, iteration: number): { loss: Tensor; count: number } {
  const { images, labels, count } = data.trainBatch(iteration);
  const loss = trainOnBatch(network, sgd, images, labels);
  network.buffers.numBatchesTracked++;
  network.gpu.submit();
  return { loss, count };
}

/** A captured step: its commands, its input and loss tensors, and the pooled buffers it holds. */
interface Capture {
  commands: CapturedCommand[];
  images: Tensor;
  labels: Tensor;
  loss: Tensor;
  /** Tensors allocated while capturing (inputs included), in allocation order; released with the capture. */
  owned: Tensor[];
  /** Pooled buffers the commands touch that had gone back to the pool by the end of the step. */
  claimed: GpuBuffer[];
  /** Why this capture cannot be replayed (its commands read pooled tensors made outside it). */
  unreplayable?: string;
}

/** The buffers of the tensors among `owned` that are still live. */
function liveBuffers(owned: Tensor[]): GpuBuffer[] {
  return owned.filter((t) => !t.isReleased).map((t) => t.buf);
}

/** What TrainStep knows about one batch shape. */
interface Slot {
  /** The commands of its latest capture (kept for the next comparison after the buffers go back). */
  commands: CapturedCommand[];
  /** That capture, with its buffers held, while it is one being replayed (at most `holdShapes` slots hold). */
  held: Capture | null;
  /** When it was last recorded or replayed (TrainStep's step counter): the least recent goes back first. */
  lastUsed: number;
  /** True once two captures of this shape recorded the same commands. */
  verified: boolean;
  replaysSinceCheck: number;
}

export interface TrainStepOptions {
  /** Replay captured steps (default: true unless EARLY_PHASE_REPLAY=0). */
  replay?: boolean;
  /** Capture and compare afresh after this many replays (default: EARLY_PHASE_REPLAY_VERIFY or 100). */
  verifyEvery?: number;
  /** Where a note goes when replay turns itself off (default: stderr). */
  warn?: (message: string) => void;
  /** How many batch shapes' captures may hold their buffers at once (default: EARLY_PHASE_REPLAY_HOLD or 2, the full and partial batches). */
  holdShapes?: number;
}

export interface TrainStepStats {
  /** Steps recorded the plain way (replay off, or a shape not captured). */
  plain: number;
  /** Steps recorded while capturing. */
  captured: number;
  replayed: number;
}

function envReplay(): boolean {
  return process.env.EARLY_PHASE_REPLAY !== '0';
}

/** A whole number >= 1 from the environment variable `name`, or `dflt` when it is unset. */
function envCount(name: string, dflt: number, what: string): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}=${v}: expected a whole number of ${what}, at least 1`);
  return n;
}

/**
 * Why two captures differ, or null when they record the same commands: same kinds, kernels,
 * pipelines, grids, offsets and sizes; the same non-pooled buffers (parameters, uniforms, data); and
 * pooled buffers matched one-to-one (a fresh capture may get other buffers from the pool).
 */
export function compareCaptures(a: readonly CapturedCommand[], b: readonly CapturedCommand[]): string | null {
  if (a.length !== b.length) return `${a.length} commands, then ${b.length}`;
  const forward = new Map<GpuBuffer, GpuBuffer>();
  const reverse = new Map<GpuBuffer, GpuBuffer>();
  const same = (x: BufferRange, y: BufferRange): boolean => {
    if (x.offset !== y.offset || x.bytes !== y.bytes) return false;
    if (!x.buf.pooled || !y.buf.pooled) return x.buf === y.buf;
    const fx = forward.get(x.buf);
    const ry = reverse.get(y.buf);
    if (fx === undefined && ry === undefined) {
      forward.set(x.buf, y.buf);
      reverse.set(y.buf, x.buf);
      return x.buf.size === y.buf.size;
    }
    return fx === y.buf && ry === x.buf;
  };
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    const what = `command ${i} (${x.kind === 'dispatch' ? x.name : 'copy'})`;
    if (x.kind === 'copy' || y.kind === 'copy') {
      if (x.kind !== y.kind) return `${what}: a ${x.kind}, then a ${y.kind}`;
      if (x.kind === 'copy' && y.kind === 'copy' && !(x.bytes === y.bytes && same(x.src, y.src) && same(x.dst, y.dst))) return `${what}: other buffers`;
      continue;
    }
    if (x.name !== y.name || x.pipeline !== y.pipeline) return `${what}: then ${y.name}, or another pipeline`;
    if (x.grid.some((g, k) => g !== y.grid[k])) return `${what}: grid ${x.grid.join('x')}, then ${y.grid.join('x')}`;
    if (x.ranges.length !== y.ranges.length || x.ranges.some((r, k) => !same(r, y.ranges[k]))) return `${what}: other buffers or uniforms`;
    const tx = x.textureCopies ?? [];
    const ty = y.textureCopies ?? [];
    if (tx.length !== ty.length || tx.some((c, k) => c.texture !== ty[k].texture || !same(c.src, ty[k].src))) return `${what}: other texture mirrors`;
  }
  return null;
}

/** The training step, captured once per batch shape and replayed (see the top of this file). */
export class TrainStep {
  readonly replay: boolean;
  readonly verifyEvery: number;
  readonly holdShapes: number;
  readonly stats: TrainStepStats = { plain: 0, captured: 0, replayed: 0 };
  /** Why replay turned itself off (null while it is on or was never on). */
  offReason: string | null = null;
  private readonly slots = new Map<string, Slot>();
  private generation = convConfigGeneration();
  private clock = 0;
  private readonly warn: (message: string) => void;

  constructor(
    readonly network: Network,
    readonly data: TrainData,
    readonly sgd: SgdMasked,
    options: TrainStepOptions = {},
  ) {
    this.replay = options.replay ?? envReplay();
    this.verifyEvery = options.verifyEvery ?? envCount('EARLY_PHASE_REPLAY_VERIFY', 100, 'replays');
    this.holdShapes = options.holdShapes ?? envCount('EARLY_PHASE_REPLAY_HOLD', 2, 'captures');
    if (!Number.isInteger(this.holdShapes) || this.holdShapes < 1) throw new Error(`TrainStep: holdShapes must be a whole number >= 1, got ${this.holdShapes}`);
    this.warn = options.warn ?? ((m) => process.stderr.write(m + '\n'));
  }

  /** Record (or replay) iteration t and submit it. Call inside a Scope; the loss lives until it closes. */
  record(iteration: number): { loss: Tensor; count: number } {
    const gpu = this.network.gpu;
    const { images, labels, count } = this.data.trainBatch(iteration);
    let loss: Tensor;
    if (!this.replay || this.offReason !== null || gpu.dev.debug) {
      loss = trainOnBatch(this.network, this.sgd, images, labels);
      this.stats.plain++;
    } else {
      loss = this.replayOrCapture(images, labels, iteration);
    }
    this.network.buffers.numBatchesTracked++;
    gpu.submit();
    return { loss, count };
  }

  private replayOrCapture(images: Tensor, labels: Tensor, iteration: number): Tensor {
    if (this.generation !== convConfigGeneration()) {
      this.releaseAll();
      this.generation = convConfigGeneration();
    }
    const key = `${images.dtype}[${images.shape.join(',')}] ${labels.dtype}[${labels.shape.join(',')}]`;
    const slot = this.slots.get(key);
    const now = ++this.clock;
    if (slot?.held && slot.verified && slot.replaysSinceCheck < this.verifyEvery) {
      slot.replaysSinceCheck++;
      slot.lastUsed = now;
      this.stats.replayed++;
      return this.run(slot.held, images, labels);
    }
    // Capture: the first step of this shape, its check, a periodic re-check, or the return of a shape
    // whose capture went back. This shape's held capture goes back first (the new one mostly gets
    // the same buffers again), then the least recently used ones while holdShapes are held.
    if (slot?.held) {
      this.release(slot.held);
      slot.held = null;
    }
    this.releaseLeastRecent(this.holdShapes - 1);
    const fresh = this.capture(images, labels);
    if (!fresh) {
      this.stats.plain++;
      return trainOnBatch(this.network, this.sgd, images, labels);
    }
    this.stats.captured++;
    const loss = this.lossCopy(fresh);
    if (fresh.unreplayable) {
      // recorded in full and submitted below like any step, but a replay could not keep its inputs
      this.release(fresh);
      this.turnOff(`the step cannot be replayed (${fresh.unreplayable})`);
      return loss;
    }
    if (!slot) {
      this.slots.set(key, { commands: fresh.commands, held: fresh, verified: false, replaysSinceCheck: 0, lastUsed: now });
      return loss;
    }
    const diff = compareCaptures(slot.commands, fresh.commands);
    if (diff === null) {
      Object.assign(slot, { commands: fresh.commands, held: fresh, verified: true, replaysSinceCheck: 0, lastUsed: now });
      return loss;
    }
    this.release(fresh);
    this.slots.delete(key);
    if (slot.verified) {
      this.network.gpu.submit(); // this step was recorded afresh, in full: let it run like any other
      throw new Error(
        `step replay: iteration ${iteration} recorded other commands than the step replayed since the last check (${diff}), ` +
          'so those replays may have computed the wrong thing. Rerun with EARLY_PHASE_REPLAY=0, and report it.',
      );
    }
    this.turnOff(`two steps of the same shape recorded different commands (${diff})`);
    return loss;
  }

  /** Record every step the plain way from now on, and say why. */
  private turnOff(reason: string): void {
    this.offReason = reason;
    this.releaseAll();
    this.warn(`step replay off: ${reason}; every step is recorded afresh (slower on a fast GPU, same results)`);
  }

  /**
   * Record the step on graph-owned copies of the batch while capturing; keep every pooled buffer it
   * touches. Null when the step cannot be captured (it writes or reads from the host): nothing of it
   * was submitted, and the caller records it the plain way.
   */
  private capture(images: Tensor, labels: Tensor): Capture | null {
    const gpu = this.network.gpu;
    const scope = Scope.open();
    let done: Omit<Capture, 'owned' | 'claimed'> | null = null;
    let owned: Tensor[] = [];
    try {
      const inImages = Tensor.empty(gpu, images.shape, images.dtype, 'step:images');
      const inLabels = Tensor.empty(gpu, labels.shape, labels.dtype, 'step:labels');
      gpu.copy(images, inImages);
      gpu.copy(labels, inLabels);
      gpu.beginCapture();
      let loss: Tensor;
      try {
        loss = trainOnBatch(this.network, this.sgd, inImages, inLabels);
      } catch (e) {
        gpu.abortCapture();
        if (e instanceof CaptureRefused) {
          this.turnOff(`the step cannot be captured (${e.message})`);
          return null;
        }
        throw e;
      }
      done = { commands: gpu.endCapture(), images: inImages, labels: inLabels, loss };
    } finally {
      owned = scope.detach();
      if (!done) for (let i = owned.length - 1; i >= 0; i--) owned[i].release();
    }
    const live = new Set(liveBuffers(owned));
    const claimed: GpuBuffer[] = [];
    const outside: string[] = [];
    for (const c of done.commands) {
      const ranges = c.kind === 'copy' ? [c.src, c.dst] : c.ranges;
      for (const r of ranges) {
        if (!r.buf.pooled || live.has(r.buf)) continue;
        if (gpu.pool.claim(r.buf)) {
          live.add(r.buf);
          claimed.push(r.buf);
        } else outside.push(c.kind === 'copy' ? 'copy' : c.name);
      }
    }
    const cap: Capture = { ...done, owned, claimed };
    if (outside.length > 0) cap.unreplayable = `it reads pooled tensors made before it, in ${[...new Set(outside)].join(', ')}`;
    return cap;
  }

  private run(c: Capture, images: Tensor, labels: Tensor): Tensor {
    const gpu = this.network.gpu;
    gpu.copy(images, c.images);
    gpu.copy(labels, c.labels);
    gpu.replay(c.commands);
    return this.lossCopy(c);
  }

  private lossCopy(c: Capture): Tensor {
    const out = Tensor.empty(this.network.gpu, c.loss.shape, c.loss.dtype, 'loss');
    this.network.gpu.copy(c.loss, out);
    return out;
  }

  private release(c: Capture): void {
    for (const b of c.claimed) this.network.gpu.pool.release(b);
    for (let i = c.owned.length - 1; i >= 0; i--) c.owned[i].release();
    c.claimed.length = 0;
    c.owned.length = 0;
  }

  /** Give back the held captures least recently used first until at most `keep` hold buffers. */
  private releaseLeastRecent(keep: number): void {
    const held = [...this.slots.values()].filter((slot) => slot.held).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const slot of held.slice(0, Math.max(0, held.length - keep))) {
      this.release(slot.held!);
      slot.held = null;
    }
  }

  private releaseAll(): void {
    this.releaseLeastRecent(0);
    this.slots.clear();
  }

  /**
   * Run fn (an evaluation between steps) with the held captures' buffers back in the pool, so that
   * fn's tensors reuse them instead of the pool growing by a second set of activations; afterwards
   * each capture claims exactly its buffers again. A capture that cannot (fn kept one of them) is
   * dropped without touching the pool, and its shape is captured afresh when it next comes. Safe
   * because a step never depends on what its pooled buffers held before it (the capture itself ran
   * on whatever the pool handed out), and the queue runs fn's work between the replays.
   */
  async lendBuffers<T>(fn: () => Promise<T>): Promise<T> {
    const pool = this.network.gpu.pool;
    const lent: { slot: Slot; bufs: GpuBuffer[] }[] = [];
    for (const slot of this.slots.values()) {
      if (!slot.held) continue;
      const c = slot.held;
      const bufs = [...new Set([...liveBuffers(c.owned), ...c.claimed])].filter((b) => b.pooled);
      for (const b of bufs) pool.release(b);
      lent.push({ slot, bufs });
    }
    try {
      return await fn();
    } finally {
      for (const { slot, bufs } of lent) {
        const got = bufs.filter((b) => pool.claim(b));
        if (got.length === bufs.length) continue;
        // some buffer is still in use by fn's tensors: the capture lets go of the ones it got back and
        // forgets its tensors (their buffers belong to the pool now), and its shape is captured again
        for (const b of got) pool.release(b);
        slot.held = null;
      }
    }
  }

  /** Give every held buffer back to the pool (safe at any time: later work is queued after the replays). */
  destroy(): void {
    this.releaseAll();
  }
}
