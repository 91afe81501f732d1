// Permutation ops: gather, scatter, and seeded random permutations within segments on the GPU (the
// weight shuffles of Figs. 5-6).
//
// permuteSegments(values, segIds, numSegments, seed) moves each segment's values among that
// segment's positions by a uniformly random bijection (segment = positions with equal id; id
// 0xffffffff, or any id >= numSegments, marks a fixed position). It makes two stable LSD radix sorts
// of the positions (4-bit digits; per-chunk digit counts, a multi-level exclusive scan, a stable
// scatter; integer arithmetic only, so deterministic):
//   ordered  = positions sorted by segment                         (ceil(bits(numSegments) / 4) passes)
//   shuffled = positions sorted by 32-bit Philox keys, then stably by segment   (8 + that many passes)
// and writes out[ordered[j]] = values[shuffled[j]]. Within a segment, `shuffled` lists its positions
// in a uniformly random order (up to ties of the 32-bit keys, which keep position order: about
// m^2 / 2^33 tied pairs in a segment of m, e.g. ~40 of 600k), so the result is a uniform random
// permutation. Cost is O(n) per pass: about 10-12 passes for n up to 11M weights.
//
// segmentIds(...) builds the ids for the paper's structural elements (layer, output filter, input
// channel, kernel position), excluding pruned positions, optionally splitting each by sign.
import { grid1d } from '../gpu/runtime.js';
import { Scope } from '../tensor/scope.js';
import { shapeStr, Tensor } from '../tensor/tensor.js';
import { expectDtype, expectSameShape, ShapeError } from './check.js';
import { seedKey } from './rng.js';

/** Segment id of a position that must not move (e.g. a pruned weight). */
export const SEGMENT_FIXED = 0xffffffff;

/** Elements one invocation of the radix passes handles serially. */
const RADIX_CHUNK = 256;
const SCAN_BLOCK = 1024;

/** out[i] = src[idx[i]] (any 32-bit dtype; out has idx's shape; an index past src gives 0xffffffff bits). */
export function gather(src: Tensor, idx: Tensor): Tensor {
  expectDtype('gather', 'idx', idx, 'u32');
  if (src.size === 0 && idx.size > 0) throw new ShapeError('gather', `src ${shapeStr(src.shape)} is empty but idx ${shapeStr(idx.shape)} is not`);
  const out = Tensor.empty(src.gpu, idx.shape, src.dtype, 'gather');
  src.gpu.dispatch('gather', { bindings: { src, idx, out }, uniforms: { n: idx.size, nsrc: src.size }, workgroups: grid1d(idx.size, 256) });
  return out;
}

/** out[idx[i]] = src[i] in place (indices past out are skipped; idx must not repeat). Returns out. */
export function scatterInto(src: Tensor, idx: Tensor, out: Tensor): Tensor {
  expectDtype('scatter', 'idx', idx, 'u32');
  expectSameShape('scatter', src, idx, ['src', 'idx']);
  if (out.dtype !== src.dtype) throw new ShapeError('scatter', `out ${out.dtype} ${shapeStr(out.shape)} must have src's dtype ${src.dtype}`);
  src.gpu.dispatch('scatter', { bindings: { src, idx, out }, uniforms: { n: src.size, nout: out.size }, workgroups: grid1d(src.size, 256) });
  return out;
}

/** A new tensor of `shape`, zero where no index lands, with out[idx[i]] = src[i]. */
export function scatter(src: Tensor, idx: Tensor, shape: readonly number[]): Tensor {
  const out = Tensor.zeros(src.gpu, shape, src.dtype, 'scatter');
  return scatterInto(src, idx, out);
}

/** In-place exclusive prefix sum of a u32 tensor (multi-level; integer, exact). */
export function exclusiveScanU32(data: Tensor): void {
  expectDtype('exclusiveScanU32', 'data', data, 'u32');
  const n = data.size;
  if (n === 0) return;
  const blocks = Math.ceil(n / SCAN_BLOCK);
  const sums = Tensor.empty(data.gpu, [blocks], 'u32', 'scan:sums');
  data.gpu.dispatch('permute_scan_blocks', { bindings: { data, sums }, uniforms: { n }, workgroups: grid1d(n, SCAN_BLOCK) });
  if (blocks > 1) {
    exclusiveScanU32(sums);
    data.gpu.dispatch('permute_scan_add', { bindings: { data, sums }, uniforms: { n }, workgroups: grid1d(n, 256) });
  }
}

interface SortState {
  keys: Tensor;
  idx: Tensor;
}

/** One stable LSD pass by the 4-bit digit at `shift`, from `src` into `dst`; `counts` is scratch. */
function radixPass(src: SortState, dst: SortState, counts: Tensor, shift: number): void {
  const gpu = src.keys.gpu;
  const n = src.keys.size;
  const numChunks = Math.ceil(n / RADIX_CHUNK);
  const uniforms = { n, shift, numChunks, chunk: RADIX_CHUNK };
  gpu.dispatch('permute_radix_count', { bindings: { keys: src.keys, counts }, uniforms, workgroups: grid1d(numChunks, 64) });
  exclusiveScanU32(counts);
  gpu.dispatch('permute_radix_scatter', {
    bindings: { keysIn: src.keys, idxIn: src.idx, offsets: counts, keysOut: dst.keys, idxOut: dst.idx },
    uniforms,
    workgroups: grid1d(numChunks, 64),
  });
}

/** Number of 4-bit digits needed for keys in [0, numSegments] (numSegments is the fixed key). */
function segmentDigits(numSegments: number): number {
  let bits = 1;
  while (bits < 32 && 2 ** bits <= numSegments) bits++;
  return Math.ceil(bits / 4);
}

/**
 * Permute `values` within segments: positions with equal segIds[i] < numSegments exchange their
 * values by a uniformly random permutation determined by (seed, stream); positions with
 * segIds[i] >= numSegments (SEGMENT_FIXED) keep theirs. Any 32-bit dtype. Returns a new tensor.
 */
export function permuteSegments(values: Tensor, segIds: Tensor, numSegments: number, seed: number, stream = 0): Tensor {
  expectDtype('permuteSegments', 'segIds', segIds, 'u32');
  if (values.size !== segIds.size) throw new ShapeError('permuteSegments', `values ${shapeStr(values.shape)} and segIds ${shapeStr(segIds.shape)} must have the same size`);
  if (!Number.isInteger(numSegments) || numSegments < 1 || numSegments > SEGMENT_FIXED) throw new ShapeError('permuteSegments', `numSegments ${numSegments} must be an integer in [1, 2^32 - 1] (values ${shapeStr(values.shape)})`);
  if (!Number.isInteger(stream) || stream < 0 || stream > 0xffffffff) throw new ShapeError('permuteSegments', `stream ${stream} must be a u32`);
  const [key0, key1] = seedKey(seed);
  const gpu = values.gpu;
  const n = values.size;
  if (n === 0) return Tensor.empty(gpu, values.shape, values.dtype, 'permuteSegments');
  return Scope.run(
    () => {
      const digits = segmentDigits(numSegments);
      // Scratch: two key buffers and three index buffers, ping-ponged by the passes.
      const u32 = (label: string) => Tensor.empty(gpu, [n], 'u32', label);
      const keys = [u32('permute:keysA'), u32('permute:keysB')];
      const idx = [u32('permute:idxA'), u32('permute:idxB'), u32('permute:idxC')];
      const counts = Tensor.empty(gpu, [16 * Math.ceil(n / RADIX_CHUNK)], 'u32', 'permute:counts');
      /** Sort from (keys[0], idx[ia]) through `shifts`, ping-ponging with (keys[1], idx[ib]); says which index buffer holds the result. */
      const sort = (ia: number, ib: number, shifts: number[]): { final: number; spare: number } => {
        let a = 0, b = 1;
        for (const shift of shifts) {
          radixPass({ keys: keys[a], idx: idx[ia] }, { keys: keys[b], idx: idx[ib] }, counts, shift);
          [a, b] = [b, a];
          [ia, ib] = [ib, ia];
        }
        return { final: ia, spare: ib };
      };
      const start = (mode: number, into: number) => {
        gpu.dispatch('permute_keys', {
          bindings: { seg: segIds, keys: keys[0], idx: idx[into] },
          uniforms: { n, mode, key0, key1, stream, numSegments },
          workgroups: grid1d(Math.ceil(n / 4), 256),
        });
      };
      const segShifts = Array.from({ length: digits }, (_, d) => 4 * d);
      // Positions in segment order, increasing within each segment.
      start(1, 0);
      const ordered = sort(0, 1, segShifts).final;
      const [ra, rb] = [0, 1, 2].filter((i) => i !== ordered);
      // Positions in random order (8 passes), then stably in segment order.
      start(0, ra);
      const rnd = sort(ra, rb, [0, 4, 8, 12, 16, 20, 24, 28]);
      gpu.dispatch('permute_seg_keys', { bindings: { seg: segIds, idx: idx[rnd.final], keys: keys[0] }, uniforms: { n, numSegments }, workgroups: grid1d(n, 256) });
      const shuffled = sort(rnd.final, rnd.spare, segShifts).final;
      const out = Tensor.empty(gpu, values.shape, values.dtype, 'permuteSegments');
      gpu.dispatch('permute_segments', {
        bindings: { values, seg: segIds, ordered: idx[ordered], shuffled: idx[shuffled], out },
        uniforms: { n, numSegments },
        workgroups: grid1d(n, 256),
      });
      return out;
    },
    (out) => [out],
  );
}

/** The structural element a shuffle stays within (Figs. 5-6). */
export type SegmentStructure = 'layer' | 'filter' | 'input_channel' | 'kernel_position';
/** Every structural element a shuffle can run within; the index is permute_segment_ids's `mode`. */
export const SEGMENT_STRUCTURES: readonly SegmentStructure[] = ['layer', 'filter', 'input_channel', 'kernel_position'];

/**
 * Segment ids for shuffling a weight ([O, I, ...kernel] conv, [out, in] fc, or any shape for
 * 'layer') within a structural element, among its unpruned positions (mask != 0), optionally only
 * among values of the same sign. Feed the result to permuteSegments.
 */
export function segmentIds(weight: Tensor, mask: Tensor, structure: SegmentStructure, sameSign = false): { ids: Tensor; numSegments: number } {
  const op = 'segmentIds';
  expectDtype(op, 'weight', weight, 'f32');
  expectDtype(op, 'mask', mask, 'f32');
  expectSameShape(op, weight, mask, ['weight', 'mask']);
  const mode = SEGMENT_STRUCTURES.indexOf(structure);
  if (mode < 0) throw new ShapeError(op, `unknown structure '${structure}'`);
  if (mode !== 0 && weight.rank < 2) throw new ShapeError(op, `structure '${structure}' needs a weight of rank >= 2, got ${shapeStr(weight.shape)}`);
  const out = weight.rank >= 2 ? weight.shape[0] : 1;
  const channels = weight.rank >= 2 ? weight.shape[1] : 1;
  const inner = weight.rank >= 2 ? weight.shape.slice(2).reduce((a, b) => a * b, 1) : weight.size;
  const count = [1, out, channels, inner][mode] * (sameSign ? 2 : 1);
  const ids = Tensor.empty(weight.gpu, weight.shape, 'u32', 'segmentIds');
  weight.gpu.dispatch('permute_segment_ids', {
    bindings: { w: weight, mask, ids },
    uniforms: { n: weight.size, channels: Math.max(1, channels), inner: Math.max(1, inner), mode, sameSign: sameSign ? 1 : 0 },
    workgroups: grid1d(weight.size, 256),
  });
  return { ids, numSegments: Math.max(1, count) };
}

/**
 * Figs. 5-6 in one call: a copy of `weight` whose unpruned values (mask != 0) are shuffled among the
 * unpruned positions of each structural element (optionally only among equal signs). Pruned
 * positions keep their values.
 */
export function shuffleWeights(weight: Tensor, mask: Tensor, structure: SegmentStructure, seed: number, opts: { sameSign?: boolean; stream?: number } = {}): Tensor {
  return Scope.run(
    () => {
      const { ids, numSegments } = segmentIds(weight, mask, structure, opts.sameSign ?? false);
      return permuteSegments(weight, ids, numSegments, seed, opts.stream ?? 0);
    },
    (out) => [out],
  );
}
