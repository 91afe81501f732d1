// Ceilings of this adapter, measured in the same run with our own micro-kernels (shaders/bench_*.wgsl):
//   fma_gflops        peak FMA throughput, best of several (workgroup, independent vec4 chains) shapes
//   read_gbps         storage-buffer read bandwidth (bench_read: sum a large buffer)
//   write_gbps        storage-buffer write bandwidth (bench_write: fill a large buffer)
//   copy_gbps         storage read+write bandwidth of a copy kernel (bytes read + bytes written)
//   copy_buffer_gbps  copyBufferToBuffer, counted the same way (read + written)
//   dispatch          µs per empty dispatch (GPU timestamps over many in one pass), per empty pass with
//                     timestamps, CPU µs to record one dispatch, µs per submit (an empty command
//                     buffer), submit+wait round trip
// Every kernel entry of the benchmark names one of these ceilings. With `--passes N` the ceilings are
// measured N times, like the kernels, and bestCeilings keeps each one's best.
import { grid1d, type BufferRange, type Gpu } from '../src/gpu/runtime.js';
import { median, timeGpu, type GpuTimer } from '../src/gpu/timer.js';

export interface FmaShape {
  wg: number;
  chains: number;
  /** Chain steps per trip of the kernel's loop (default 1). */
  unroll?: number;
}

/** Record bench_fma over `threads` invocations (out needs `threads` floats); returns the iterations run (iters rounded up to a multiple of the unroll). */
export function recordFma(gpu: Gpu, out: BufferRange, threads: number, iters: number, shape: FmaShape, m = 0.9999, c = 1e-4, f16 = false): number {
  const UNROLL = shape.unroll ?? 1;
  const run = Math.ceil(iters / UNROLL) * UNROLL;
  gpu.dispatch('bench_fma', { bindings: { out }, uniforms: { threads, iters: run, m, c }, workgroups: grid1d(threads, shape.wg), overrides: { WG: shape.wg, CHAINS: shape.chains, UNROLL }, variant: f16 ? 'f16' : undefined });
  return run;
}

function fmaLabel(s: FmaShape): string {
  return `wg${s.wg} x ${s.chains}${(s.unroll ?? 1) > 1 ? `, unrolled x${s.unroll}` : ''}`;
}

export interface StreamShape {
  wg: number;
  /** Elements per invocation. */
  per: number;
  /** vec4s per element: 1, or 4 (the kernels' `wide` variant: one 64-byte access). */
  width?: 1 | 4;
  /**
   * Each invocation takes PER consecutive elements (its own run) instead of every threads-th one. On
   * lavapipe, where every access is a per-lane loop, this moved 1.5-1.8x more than the strided shapes
   * (2026-12-06): without it BatchNorm's passes read up to 158% of the "ceiling".
   */
  contiguous?: boolean;
}

/** Invocations that move n4 vec4s (a multiple of the shape's width) in this shape. */
export const streamThreads = (n4: number, per: number, width = 1) => Math.ceil(n4 / width / per);
const variantOf = (s: StreamShape) => (s.width === 4 ? 'wide' : undefined);
const shapeThreads = (n4: number, s: StreamShape) => {
  if (n4 % (s.width ?? 1) !== 0) throw new Error(`stream of ${n4} vec4s is not a multiple of the width ${s.width}`);
  return streamThreads(n4, s.per, s.width);
};
/** A shape's name in the tables. */
export const streamShapeName = (s: StreamShape) => `wg${s.wg} x ${s.per} ${s.width === 4 ? '64-byte structs' : 'vec4'}/invocation${s.contiguous ? ', contiguous' : ''}`;
const streamOverrides = (s: StreamShape) => ({ WG: s.wg, PER: s.per, CONTIG: s.contiguous ? 1 : 0 });

/** Record bench_read over n4 vec4s of src (out needs streamThreads(n4, per) floats). */
export function recordRead(gpu: Gpu, src: BufferRange, out: BufferRange, n4: number, shape: StreamShape): void {
  const threads = shapeThreads(n4, shape);
  gpu.dispatch('bench_read', { bindings: { src, out }, uniforms: { n4, threads }, workgroups: grid1d(threads, shape.wg), overrides: streamOverrides(shape), variant: variantOf(shape) });
}

export function recordWrite(gpu: Gpu, dst: BufferRange, n4: number, shape: StreamShape, value: number): void {
  const threads = shapeThreads(n4, shape);
  gpu.dispatch('bench_write', { bindings: { dst }, uniforms: { n4, threads, value }, workgroups: grid1d(threads, shape.wg), overrides: streamOverrides(shape), variant: variantOf(shape) });
}

export function recordCopyKernel(gpu: Gpu, src: BufferRange, dst: BufferRange, n4: number, shape: StreamShape): void {
  const threads = shapeThreads(n4, shape);
  gpu.dispatch('bench_copy', { bindings: { src, dst }, uniforms: { n4, threads }, workgroups: grid1d(threads, shape.wg), overrides: streamOverrides(shape), variant: variantOf(shape) });
}

export function recordEmpty(gpu: Gpu): void {
  gpu.dispatch('bench_empty', { bindings: {}, workgroups: 1 });
}

export interface ShapeResult {
  shape: string;
  ms: number;
  value: number;
}

export interface Ceilings {
  fma_gflops: number;
  /** The same FMA chains in f16 (null without 'shader-f16'): whether half precision would pay here. */
  fma_f16_gflops: number | null;
  read_gbps: number;
  write_gbps: number;
  copy_gbps: number;
  /**
   * The copy kernel's bandwidth at smaller working sets (bytes read + written, ascending), with the
   * best shape of copy_gbps's 128 MiB measurement: a kernel that moves a few MiB runs from the CPU's
   * caches, and against the 128 MiB figure alone it read over 100%. An entry timed against copy_gbps
   * is held to the bandwidth at the smallest working set that holds its bytes (copyCeilingFor).
   * Absent in older files.
   */
  copy_gbps_by_size?: { bytes: number; gbps: number }[];
  copy_buffer_gbps: number;
  empty_dispatch_us: number;
  empty_pass_us: number;
  dispatch_encode_cpu_us: number;
  /**
   * Wall µs per submit of an EMPTY command buffer through the runtime (Gpu.commandEncoder() then
   * Gpu.submit(): createCommandEncoder, finish, queue.submit), `details.submits` of them back to back
   * and then one wait for the queue, divided by their number: what a submit costs beyond the work it
   * carries. Files without details.submit_empty_dispatch_us put one empty dispatch in each command
   * buffer (its recording, a compute pass and the dispatch's run on the GPU included); that figure
   * is now details.submit_empty_dispatch_us.
   */
  submit_us: number;
  /** One empty dispatch submitted, then a wait for onSubmittedWorkDone, µs (median). */
  submit_roundtrip_us: number;
  details: {
    fma: ShapeResult[];
    fma_f16: ShapeResult[];
    read: ShapeResult[];
    write: ShapeResult[];
    copy: ShapeResult[];
    bandwidth_buffer_mib: number;
    fma_threads: number;
    empty_dispatches_per_pass: number;
    /** Repetitions whose median gives empty_dispatch_us and empty_pass_us (absent: older files, 5 each). */
    fixed_cost_reps?: { dispatch: number; pass: number };
    submits: number;
    /**
     * The submit as older files measured submit_us: one empty dispatch in each command buffer (µs per
     * submit, same count, same wait). Against submit_us it shows what the dispatch added. Absent in older files.
     */
    submit_empty_dispatch_us?: number;
    /**
     * How many times the ceilings were measured in this run (--passes N: before each kernel pass);
     * each headline value is the best of them (bestCeilings). Absent in older files: once.
     */
    passes?: number;
    /** With several passes, each pass's headline values in pass order (what bestCeilings chose from). */
    by_pass?: CeilingValues[];
  };
}

/** The headline numbers of one measurement of the ceilings. */
export type CeilingValues = Pick<Ceilings, (typeof THROUGHPUTS)[number] | (typeof FIXED_COSTS)[number]>;

/** Ceilings where more is better: the best of several passes is the highest. */
export const THROUGHPUTS = ['fma_gflops', 'fma_f16_gflops', 'read_gbps', 'write_gbps', 'copy_gbps', 'copy_buffer_gbps'] as const;
/** Fixed costs (µs): the best of several passes is the lowest. */
export const FIXED_COSTS = ['empty_dispatch_us', 'empty_pass_us', 'dispatch_encode_cpu_us', 'submit_us', 'submit_roundtrip_us'] as const;

/**
 * Combine several measurements of the ceilings (one per pass, as the kernels are timed once per pass
 * and keep their lowest median) into one: each throughput its highest value, each fixed cost its
 * lowest, each working-set copy figure its highest at that size. A ceiling's shape details come from
 * the pass that gave its headline value (so the table's best shape is the one behind the number).
 * details.passes says how many there were, details.by_pass what each gave.
 */
export function bestCeilings(runs: readonly Ceilings[]): Ceilings {
  if (runs.length === 0) throw new Error('bestCeilings: no measurements');
  const first = runs[0];
  if (runs.length === 1) return { ...first, details: { ...first.details, passes: first.details.passes ?? 1 } };
  const finite = (x: number | null | undefined): x is number => x != null && Number.isFinite(x);
  const pick = (value: (c: Ceilings) => number | null, higher: boolean): Ceilings => {
    let best = first;
    for (const c of runs) {
      const v = value(c);
      const b = value(best);
      if (finite(v) && (!finite(b) || (higher ? v > b : v < b))) best = c;
    }
    return best;
  };
  const out: Ceilings = { ...first, details: { ...first.details } };
  const set = out as unknown as Record<string, number | null>;
  for (const k of THROUGHPUTS) set[k] = pick((c) => c[k], true)[k];
  for (const k of FIXED_COSTS) set[k] = pick((c) => c[k], false)[k];
  out.details.fma = pick((c) => c.fma_gflops, true).details.fma;
  out.details.fma_f16 = pick((c) => c.fma_f16_gflops, true).details.fma_f16;
  out.details.read = pick((c) => c.read_gbps, true).details.read;
  out.details.write = pick((c) => c.write_gbps, true).details.write;
  out.details.copy = pick((c) => c.copy_gbps, true).details.copy;
  if (runs.some((c) => c.copy_gbps_by_size)) {
    const sizes = [...new Set(runs.flatMap((c) => (c.copy_gbps_by_size ?? []).map((x) => x.bytes)))].sort((a, b) => a - b);
    out.copy_gbps_by_size = sizes.map((bytes) => ({ bytes, gbps: Math.max(...runs.map((c) => c.copy_gbps_by_size?.find((x) => x.bytes === bytes)?.gbps ?? -Infinity)) }));
  }
  const submits = runs.map((c) => c.details.submit_empty_dispatch_us).filter(finite);
  if (submits.length) out.details.submit_empty_dispatch_us = Math.min(...submits);
  out.details.passes = runs.reduce((n, c) => n + (c.details.passes ?? 1), 0);
  out.details.by_pass = runs.flatMap((c) => c.details.by_pass ?? [ceilingValues(c)]);
  return out;
}

function ceilingValues(c: Ceilings): CeilingValues {
  const v: Partial<Record<keyof CeilingValues, number | null>> = {};
  for (const k of [...THROUGHPUTS, ...FIXED_COSTS]) v[k] = c[k];
  return v as CeilingValues;
}

export type CeilingName = 'fma_gflops' | 'read_gbps' | 'write_gbps' | 'copy_gbps' | 'copy_buffer_gbps';

export const FMA_SHAPES: FmaShape[] = [
  { wg: 64, chains: 8 },
  { wg: 64, chains: 16 },
  { wg: 256, chains: 16 },
  { wg: 64, chains: 8, unroll: 4 },
  { wg: 64, chains: 16, unroll: 4 },
  { wg: 256, chains: 16, unroll: 4 },
  { wg: 64, chains: 8, unroll: 8 },
];
export const STREAM_SHAPES: StreamShape[] = [
  { wg: 256, per: 4 },
  { wg: 256, per: 16 },
  { wg: 64, per: 8 },
  { wg: 64, per: 2, width: 4 },
  { wg: 64, per: 4, width: 4 },
  { wg: 64, per: 8, contiguous: true },
  { wg: 64, per: 2, width: 4, contiguous: true },
  { wg: 64, per: 4, width: 4, contiguous: true },
];

export interface CeilingOptions {
  reps: number;
  /** GPU ms each FMA / bandwidth timing aims at (iterations are scaled to it). */
  targetMs?: number;
  log?: (line: string) => void;
}

function best(rs: ShapeResult[]): number {
  return Math.max(...rs.map((r) => (Number.isFinite(r.value) ? r.value : 0)));
}

export async function measureCeilings(gpu: Gpu, timer: GpuTimer, opts: CeilingOptions): Promise<Ceilings> {
  const { reps } = opts;
  const targetMs = opts.targetMs ?? 25;
  const log = opts.log ?? (() => undefined);
  const created: GPUBuffer[] = [];
  const buffer = (bytes: number, label: string): BufferRange => {
    const b = gpu.createBuffer(bytes, label);
    created.push(b.buffer);
    return { buf: b, offset: 0, bytes };
  };
  try {
    // --- FMA peak ---
    const threads = 1 << 18;
    const out = buffer(threads * 4, 'bench:fma-out');
    // iterations scaled so one timing takes about targetMs; the iterations run are a multiple of the unroll
    const timeFma = async (shape: FmaShape, f16: boolean): Promise<ShapeResult> => {
      let iters = 64;
      const probe = await timeGpu(timer, () => recordFma(gpu, out, threads, iters, shape, 0.9999, 1e-4, f16), { warmup: 1, reps: 1 });
      iters = Math.max(64, Math.min(1 << 20, Math.round((iters * targetMs) / Math.max(probe.ms, 1e-3))));
      let run = iters;
      const t = await timeGpu(timer, () => void (run = recordFma(gpu, out, threads, iters, shape, 0.9999, 1e-4, f16)), { warmup: 1, reps });
      const gflops = (threads * run * shape.chains * 8) / (t.ms * 1e6);
      log(`  fma${f16 ? ' f16' : ''}  ${fmaLabel(shape)} chains: ${gflops.toFixed(1)} GFLOP/s`);
      return { shape: `${fmaLabel(shape)} vec4${f16 ? '<f16>' : ''} chains, ${run} iters`, ms: t.ms, value: gflops };
    };
    const fma: ShapeResult[] = [];
    for (const shape of FMA_SHAPES) fma.push(await timeFma(shape, false));
    // The f16 variant at the best f32 shape and at 16 chains (f16 halves the register footprint).
    const fma16: ShapeResult[] = [];
    if (gpu.device.features.has('shader-f16')) {
      const bestShape = FMA_SHAPES[fma.indexOf(fma.reduce((a, b) => (b.value > a.value ? b : a)))];
      const same = (x: FmaShape, y: FmaShape) => x.wg === y.wg && x.chains === y.chains && (x.unroll ?? 1) === (y.unroll ?? 1);
      for (const shape of [bestShape, { wg: 64, chains: 16 }].filter((x, i, all) => all.findIndex((y) => same(x, y)) === i)) fma16.push(await timeFma(shape, true));
    }

    // --- bandwidth ---
    const limits = gpu.device.limits;
    const maxBytes = Math.min(Number(limits.maxStorageBufferBindingSize), Number(limits.maxBufferSize));
    const bytes = Math.min(128 << 20, Math.floor(maxBytes / (1 << 20)) << 20);
    const n4 = bytes / 16;
    const a = buffer(bytes, 'bench:bw-a');
    const b = buffer(bytes, 'bench:bw-b');
    const partial = buffer(Math.max(...STREAM_SHAPES.map((s) => streamThreads(n4, s.per, s.width))) * 4, 'bench:bw-out');
    recordWrite(gpu, a, n4, STREAM_SHAPES[0], 1); // defined contents (finite, no denormals)
    const gbps = (moved: number, ms: number) => moved / (ms * 1e6);
    const read: ShapeResult[] = [];
    const write: ShapeResult[] = [];
    const copy: ShapeResult[] = [];
    for (const s of STREAM_SHAPES) {
      const name = streamShapeName(s);
      const r = await timeGpu(timer, () => recordRead(gpu, a, partial, n4, s), { reps });
      read.push({ shape: name, ms: r.ms, value: gbps(bytes, r.ms) });
      const w = await timeGpu(timer, () => recordWrite(gpu, b, n4, s, 2), { reps });
      write.push({ shape: name, ms: w.ms, value: gbps(bytes, w.ms) });
      const c = await timeGpu(timer, () => recordCopyKernel(gpu, a, b, n4, s), { reps });
      copy.push({ shape: name, ms: c.ms, value: gbps(2 * bytes, c.ms) });
      log(`  bandwidth ${name}: read ${gbps(bytes, r.ms).toFixed(1)}, write ${gbps(bytes, w.ms).toFixed(1)}, copy ${gbps(2 * bytes, c.ms).toFixed(1)} GB/s`);
    }
    // The same copy at working sets of a few MiB (several dispatches a timed pass, so a pass lasts
    // about as long as the 128 MiB one), with the best shape above.
    const bestCopy = STREAM_SHAPES[copy.indexOf(copy.reduce((x, y) => (y.value > x.value ? y : x)))];
    const bySize: { bytes: number; gbps: number }[] = [];
    for (const mib of COPY_SIZES_MIB) {
      const moved = mib << 20; // read + written
      const m4 = moved / 32; // vec4s in each of the two halves
      const times = Math.max(1, Math.round(bytes / moved));
      const t = await timeGpu(timer, () => {
        for (let i = 0; i < times; i++) recordCopyKernel(gpu, a, b, m4, bestCopy);
      }, { reps });
      bySize.push({ bytes: moved, gbps: gbps(moved * times, t.ms) });
      log(`  copy at a ${mib} MiB working set: ${gbps(moved * times, t.ms).toFixed(1)} GB/s`);
    }
    const cb = await timeGpu(timer, () => gpu.copy(a, b, bytes), { reps, mode: 'span' });
    const copyBuffer = gbps(2 * bytes, cb.ms);
    log(`  copyBufferToBuffer: ${copyBuffer.toFixed(1)} GB/s`);

    // --- dispatch overhead ---
    // The empty pass: the median of 4x as many repetitions, since a median of 5 once came out 212 µs
    // against 23-31 µs in the runs around it on lavapipe (and the kernels' launch-bound verdicts,
    // which compare with this floor, flipped). Not the lowest: that was 2 µs, an empty pass recorded
    // behind another on a busy queue thread, while a kernel's timed region pays the typical cost.
    const K = 1000;
    const ed = await timeGpu(timer, () => {
      for (let i = 0; i < K; i++) recordEmpty(gpu);
    }, { reps });
    const ep = await timeGpu(timer, () => undefined, { reps: Math.min(4 * reps, timer.capacity) });
    // CPU time to record one dispatch through the runtime (pipeline and bind group cached).
    const enc: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      for (let i = 0; i < K; i++) recordEmpty(gpu);
      enc.push(((performance.now() - t0) * 1000) / K);
      await gpu.sync();
    }
    // Submits: S empty command buffers through the runtime's own submit path (createCommandEncoder,
    // finish, queue.submit; Dawn accepts an empty one and still submits it to the queue), then one
    // wait for the queue to drain, per submit: the overhead of a submit without the work it carries.
    // The same with one empty dispatch in each (how older files measured submit_us) pays
    // for recording the dispatch, a compute pass and the dispatch's run on the GPU too; on lavapipe,
    // where the "GPU" is the CPU's cores, that run sets the pace of 200 submits back to back.
    const S = 200;
    const submitUs = median(await timeSubmits(gpu, S, reps, false));
    const submitDispatchUs = median(await timeSubmits(gpu, S, reps, true));
    const rt: number[] = [];
    for (let r = 0; r < 4 * reps; r++) {
      const t0 = performance.now();
      recordEmpty(gpu);
      await gpu.sync();
      rt.push((performance.now() - t0) * 1000);
    }
    const c: Ceilings = {
      fma_gflops: best(fma),
      fma_f16_gflops: fma16.length ? best(fma16) : null,
      read_gbps: best(read),
      write_gbps: best(write),
      copy_gbps: best(copy),
      copy_gbps_by_size: bySize,
      copy_buffer_gbps: copyBuffer,
      empty_dispatch_us: (ed.ms * 1000) / K,
      empty_pass_us: ep.ms * 1000,
      dispatch_encode_cpu_us: median(enc),
      submit_us: submitUs,
      submit_roundtrip_us: median(rt),
      details: { fma, fma_f16: fma16, read, write, copy, bandwidth_buffer_mib: bytes / (1 << 20), fma_threads: threads, empty_dispatches_per_pass: K, fixed_cost_reps: { dispatch: ed.samples.length, pass: ep.samples.length }, submits: S, submit_empty_dispatch_us: submitDispatchUs, passes: 1 },
    };
    log(`  dispatch: ${c.empty_dispatch_us.toFixed(2)} µs/empty dispatch (GPU), ${c.dispatch_encode_cpu_us.toFixed(2)} µs to record (CPU), ${c.submit_us.toFixed(1)} µs/submit (${submitDispatchUs.toFixed(1)} with an empty dispatch), ${c.submit_roundtrip_us.toFixed(0)} µs submit+wait`);
    return c;
  } finally {
    await gpu.sync().catch(() => undefined);
    for (const b of created) b.destroy();
  }
}

/**
 * Wall µs per submit, `reps` times: `count` submits back to back through the runtime (Gpu.submit),
 * each of an empty command buffer (Gpu.commandEncoder() with nothing recorded) or, withDispatch, of
 * one empty dispatch in a compute pass; then one wait for the queue, all divided by `count`.
 */
export async function timeSubmits(gpu: Gpu, count: number, reps: number, withDispatch: boolean): Promise<number[]> {
  const us: number[] = [];
  for (let r = 0; r < reps; r++) {
    await gpu.sync();
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      if (withDispatch) recordEmpty(gpu);
      else gpu.commandEncoder(); // an encoder with nothing recorded
      gpu.submit();
    }
    await gpu.sync();
    us.push(((performance.now() - t0) * 1000) / count);
  }
  return us;
}

/** Working sets (MiB read + written) at which the copy bandwidth is also measured. */
export const COPY_SIZES_MIB = [2, 8, 32];

/**
 * The copy bandwidth a kernel moving `bytes` is held to: the one measured at the smallest working set
 * that holds them, never below the 128 MiB streaming figure (copy_gbps); copy_gbps where the sizes
 * were not measured (older files) or the kernel moves more.
 */
export function copyCeilingFor(c: Ceilings, bytes: number): number {
  const at = (c.copy_gbps_by_size ?? []).find((x) => x.bytes >= bytes);
  return Math.max(c.copy_gbps, at?.gbps ?? 0);
}

export const CEILING_LABEL: Record<CeilingName, string> = {
  fma_gflops: 'FMA peak',
  read_gbps: 'read BW',
  write_gbps: 'write BW',
  copy_gbps: 'copy BW',
  copy_buffer_gbps: 'copyB2B BW',
};
