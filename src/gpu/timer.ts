// GPU timing with timestamp queries (the 'timestamp-query' feature; Dawn's timestamp quantization is
// turned off by the instance toggle in device.ts, so the values are the driver's own nanoseconds).
//
// A GpuTimer owns a query set of `capacity` (begin, end) pairs. Each measurement is one slot:
//   region(fn)  records what fn dispatches into ONE compute pass whose timestampWrites bracket it
//               (throws if fn ended that pass, e.g. with a copy or a queue write: use span() then);
//   span(fn)    an empty pass writing the begin timestamp, whatever fn records (copies, several
//               passes), an empty pass writing the end timestamp. The begin timestamp of an empty
//               pass may be taken before earlier work has drained on some GPUs; use it for copies.
// read() resolves every recorded slot (one resolveQuerySet + one copy, submitted with the recorded
// work), waits, and returns the durations in milliseconds in slot order; the slots are then free.
import type { Gpu } from './runtime.js';

export class GpuTimer {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuf: GPUBuffer;
  private readonly readBuf: GPUBuffer;
  private used = 0;
  private destroyed = false;

  constructor(
    readonly gpu: Gpu,
    /** Measurements that can be recorded before a read(). */
    readonly capacity = 256,
  ) {
    if (!GpuTimer.supported(gpu)) throw new Error("GpuTimer: the device lacks the 'timestamp-query' feature");
    const device = gpu.device;
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * capacity, label: 'timer' });
    this.resolveBuf = device.createBuffer({ size: 16 * capacity, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC, label: 'timer:resolve' });
    this.readBuf = device.createBuffer({ size: 16 * capacity, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'timer:read' });
  }

  static supported(gpu: Gpu): boolean {
    return gpu.device.features.has('timestamp-query');
  }

  /** Slots recorded since the last read(). */
  get pending(): number {
    return this.used;
  }

  private slot(): number {
    if (this.destroyed) throw new Error('GpuTimer used after destroy()');
    if (this.used >= this.capacity) throw new Error(`GpuTimer: more than ${this.capacity} measurements recorded before read()`);
    return this.used++;
  }

  /** Time the dispatches fn records, as one compute pass with timestamps at its start and end. Returns the slot. */
  region(fn: () => void): number {
    const i = this.slot();
    const pass = this.gpu.beginPass({ querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 });
    try {
      fn();
    } catch (e) {
      this.gpu.commandEncoder();
      throw e;
    }
    if (this.gpu.currentPass !== pass) throw new Error('GpuTimer.region: the timed code ended the compute pass (a copy, write or submit); time it with span()');
    this.gpu.commandEncoder(); // ends the timed pass
    return i;
  }

  /** Time everything fn records (copies and passes included) between two empty timestamped passes. Returns the slot. */
  span(fn: () => void): number {
    const i = this.slot();
    this.gpu.beginPass({ querySet: this.querySet, beginningOfPassWriteIndex: 2 * i });
    this.gpu.commandEncoder();
    fn();
    this.gpu.beginPass({ querySet: this.querySet, endOfPassWriteIndex: 2 * i + 1 });
    this.gpu.commandEncoder();
    return i;
  }

  /** Submit, wait, and return the durations (ms) of the slots recorded since the last read(). */
  async read(): Promise<number[]> {
    const n = this.used;
    if (n === 0) return [];
    const enc = this.gpu.commandEncoder();
    enc.resolveQuerySet(this.querySet, 0, 2 * n, this.resolveBuf, 0);
    enc.copyBufferToBuffer(this.resolveBuf, 0, this.readBuf, 0, 16 * n);
    this.gpu.submit();
    this.used = 0;
    try {
      await this.readBuf.mapAsync(GPUMapMode.READ, 0, 16 * n);
    } catch (e) {
      this.gpu.dev.check(); // a lost device's recorded reason says more than the map's AbortError
      throw e;
    }
    try {
      this.gpu.dev.check();
    } catch (e) {
      this.readBuf.unmap();
      throw e;
    }
    const ts = new BigUint64Array(this.readBuf.getMappedRange(0, 16 * n).slice(0));
    this.readBuf.unmap();
    const out: number[] = [];
    for (let k = 0; k < n; k++) {
      const begin = ts[2 * k];
      const end = ts[2 * k + 1];
      // A zero or backwards pair means the timestamps were not written (or the counter wrapped).
      out.push(end >= begin && begin > 0n ? Number(end - begin) / 1e6 : NaN);
    }
    return out;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.querySet.destroy();
    this.resolveBuf.destroy();
    this.readBuf.destroy();
  }
}

export interface TimingOptions {
  /** Untimed runs first (pipelines, pool, caches). */
  warmup?: number;
  /** Timed repetitions; the result is their median. */
  reps?: number;
  /** 'region' (one pass, default) or 'span' (copies, several passes). */
  mode?: 'region' | 'span';
}

export interface Timing {
  /** Median over the repetitions, ms. */
  ms: number;
  min: number;
  max: number;
  samples: number[];
}

export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Median GPU time of `record` (which records the work to time, e.g. dispatches): `warmup` runs
 * submitted and waited for, then `reps` timed runs recorded back to back in one submission.
 */
export async function timeGpu(timer: GpuTimer, record: () => void, opts: TimingOptions = {}): Promise<Timing> {
  const { warmup = 1, reps = 5, mode = 'region' } = opts;
  if (timer.pending) throw new Error('timeGpu: the timer has unread measurements');
  if (reps > timer.capacity) throw new Error(`timeGpu: ${reps} reps exceed the timer's ${timer.capacity} slots`);
  for (let i = 0; i < warmup; i++) record();
  if (warmup) await timer.gpu.sync();
  try {
    for (let i = 0; i < reps; i++) {
      if (mode === 'region') timer.region(record);
      else timer.span(record);
    }
  } catch (e) {
    await timer.read().catch(() => undefined); // free the slots
    throw e;
  }
  const samples = await timer.read();
  const ok = samples.filter((x) => !Number.isNaN(x));
  return { ms: median(samples), min: ok.length ? Math.min(...ok) : NaN, max: ok.length ? Math.max(...ok) : NaN, samples };
}
