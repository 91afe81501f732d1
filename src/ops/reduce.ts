// Deterministic reductions for metrics and telemetry: fixed-order tree reductions (no atomics), so the
// same inputs always give the same bits. A first pass reduces 16384-element tiles to one partial each
// (shaders/reduce_<what>.wgsl, tiling in include/reduce_f32_tile.wgsl); reduce_sum / reduce_sum_u32 then repeat over the partials until one
// value is left. Results are small GPU tensors (shape [1]) read back only when the caller wants them;
// `into` writes the result into element `at` of a caller's tensor instead, so many telemetry scalars
// can be gathered into one tensor and read back together.
import { grid1d, type BufferRange } from '../gpu/runtime.js';
import { shapeStr, Tensor } from '../tensor/tensor.js';
import { expectDtype, expectSameShape, ShapeError } from './check.js';

/** vec4s each invocation adds, one run (a uniform of the kernels, `steps`: a constant trip count got unrolled). */
const REDUCE_STEPS = 64;
/** Elements one workgroup reduces (64 invocations x 64 vec4s). */
export const REDUCE_TILE = 64 * 4 * REDUCE_STEPS;

export interface ReduceOptions {
  /** Only elements where mask != 0 count (same shape as the inputs, f32). */
  mask?: Tensor;
  /** Write the result to element `at` of this tensor (f32, or u32 for counts) instead of a new [1] tensor. */
  into?: Tensor;
  at?: number;
}

/** The tensor's range widened to whole vec4s (always inside the buffer: offsets are 256-aligned, sizes 64-multiples). */
function vec4Range(op: string, t: Tensor): BufferRange {
  const bytes = Math.ceil(t.size / 4) * 16;
  if (t.offset + bytes > t.buf.size) throw new ShapeError(op, `${t} at byte ${t.offset} cannot be read as vec4s (buffer ${t.buf.size} bytes)`);
  return { buf: t.buf, offset: t.offset, bytes };
}

function output(op: string, dtype: 'f32' | 'u32', opts: ReduceOptions, gpuOf: Tensor): { out: Tensor; at: number } {
  if (!opts.into) {
    if (opts.at !== undefined && opts.at !== 0) throw new ShapeError(op, `at=${opts.at} given without into`);
    return { out: Tensor.empty(gpuOf.gpu, [1], dtype, op), at: 0 };
  }
  const at = opts.at ?? 0;
  expectDtype(op, 'into', opts.into, dtype);
  if (!Number.isInteger(at) || at < 0 || at >= opts.into.size) throw new ShapeError(op, `at=${at} outside into ${shapeStr(opts.into.shape)}`);
  return { out: opts.into, at };
}

/**
 * Run a first-pass kernel, then reduce its partials with `finalKernel` until one value remains at
 * out[at]. Every pass has the same structure, so the order of additions depends only on n.
 */
function reduce(op: string, kernel: string, inputs: Record<string, Tensor>, n: number, opts: ReduceOptions, dtype: 'f32' | 'u32'): Tensor {
  const first = Object.values(inputs)[0];
  const { out, at } = output(op, dtype, opts, first);
  if (n === 0) {
    if (at === 0 && out.size === 1) out.fillBits(0);
    else throw new ShapeError(op, 'empty input with into/at is not supported');
    return out;
  }
  const masked = opts.mask !== undefined;
  if (opts.mask) {
    expectDtype(op, 'mask', opts.mask, 'f32');
    expectSameShape(op, first, opts.mask, ['input', 'mask']);
  }
  const bindings: Record<string, BufferRange> = {};
  for (const [k, t] of Object.entries(inputs)) bindings[k] = vec4Range(op, t);
  if (kernel !== 'reduce_sum_u32') bindings.mask = opts.mask ? vec4Range(op, opts.mask) : bindings.a;
  const finalKernel = dtype === 'f32' ? 'reduce_sum' : 'reduce_sum_u32';
  let groups = Math.ceil(n / REDUCE_TILE);
  let target = groups === 1 ? out : Tensor.empty(first.gpu, [groups], dtype, `${op}:partials`);
  const launch = (name: string, b: Record<string, BufferRange>, count: number, dst: Tensor, offset: number, useMask: boolean) => {
    const uniforms: Record<string, number> = name === 'reduce_sum_u32' ? { n: count, outOffset: offset, steps: REDUCE_STEPS } : { n: count, masked: useMask ? 1 : 0, outOffset: offset, steps: REDUCE_STEPS };
    first.gpu.dispatch(name, { bindings: { ...b, out: dst }, uniforms, workgroups: grid1d(count, REDUCE_TILE) });
  };
  launch(kernel, bindings, n, target, groups === 1 ? at : 0, masked);
  while (groups > 1) {
    const src = target;
    const count = groups;
    groups = Math.ceil(count / REDUCE_TILE);
    target = groups === 1 ? out : Tensor.empty(first.gpu, [groups], dtype, `${op}:partials`);
    const a = vec4Range(op, src);
    launch(finalKernel, finalKernel === 'reduce_sum' ? { a, mask: a } : { a }, count, target, groups === 1 ? at : 0, false);
  }
  return out;
}

function unary(op: string, kernel: string, a: Tensor, opts: ReduceOptions): Tensor {
  expectDtype(op, 'a', a, 'f32');
  return reduce(op, kernel, { a }, a.size, opts, 'f32');
}

function binary(op: string, kernel: string, a: Tensor, b: Tensor, opts: ReduceOptions, dtype: 'f32' | 'u32'): Tensor {
  expectDtype(op, 'a', a, 'f32');
  expectDtype(op, 'b', b, 'f32');
  expectSameShape(op, a, b);
  return reduce(op, kernel, { a, b }, a.size, opts, dtype);
}

/** sum_i a[i] (over mask != 0 when masked): f32 [1]. */
export function sum(a: Tensor, opts: ReduceOptions = {}): Tensor {
  return unary('sum', 'reduce_sum', a, opts);
}

/** sum_i |a[i]|: f32 [1]. */
export function sumAbs(a: Tensor, opts: ReduceOptions = {}): Tensor {
  return unary('sumAbs', 'reduce_sum_abs', a, opts);
}

/** sum_i a[i]^2: f32 [1]. */
export function sumSquares(a: Tensor, opts: ReduceOptions = {}): Tensor {
  return unary('sumSquares', 'reduce_sum_squares', a, opts);
}

/** sum_i a[i] * b[i]: f32 [1]. */
export function dot(a: Tensor, b: Tensor, opts: ReduceOptions = {}): Tensor {
  return binary('dot', 'reduce_dot', a, b, opts, 'f32');
}

/** sum_i (a[i] - b[i])^2: f32 [1]. */
export function squaredDistance(a: Tensor, b: Tensor, opts: ReduceOptions = {}): Tensor {
  return binary('squaredDistance', 'reduce_squared_distance', a, b, opts, 'f32');
}

/** Number of i with sign(a[i]) != sign(b[i]) (sign in {-1, 0, +1}): u32 [1]. */
export function countSignChanges(a: Tensor, b: Tensor, opts: ReduceOptions = {}): Tensor {
  return binary('countSignChanges', 'reduce_sign_changes', a, b, opts, 'u32');
}

/** Sum of u32 counts (e.g. to total per-layer counts): u32 [1]. */
export function sumU32(a: Tensor, opts: Omit<ReduceOptions, 'mask'> = {}): Tensor {
  expectDtype('sumU32', 'a', a, 'u32');
  return reduce('sumU32', 'reduce_sum_u32', { a }, a.size, opts, 'u32');
}
