// CPU references for the permutation ops. permuteSegmentsRef runs the same algorithm as the GPU in
// plain sorts: ordered = positions by (segment, position); shuffled = positions by (segment, Philox
// key, position); out[ordered[j]] = values[shuffled[j]]. Segment key = min(id, numSegments).
import { cpuRandomBits } from '../../src/ops/rng.js';

export const FIXED = 0xffffffff;

export function gatherRef(src: ArrayLike<number>, idx: ArrayLike<number>, nanBits: number): number[] {
  return Array.from(idx, (j) => (j < src.length ? src[j] : nanBits));
}

export function scatterRef(src: ArrayLike<number>, idx: ArrayLike<number>, out: number[]): number[] {
  const o = out.slice();
  for (let i = 0; i < src.length; i++) if (idx[i] < o.length) o[idx[i]] = src[i];
  return o;
}

export function permuteSegmentsRef(values: ArrayLike<number>, seg: ArrayLike<number>, numSegments: number, seed: number, stream: number): number[] {
  const n = values.length;
  const key = (p: number) => Math.min(seg[p], numSegments);
  const rnd = cpuRandomBits(n, seed, stream);
  const pos = Array.from({ length: n }, (_, p) => p);
  const ordered = pos.slice().sort((a, b) => key(a) - key(b) || a - b);
  const shuffled = pos.slice().sort((a, b) => key(a) - key(b) || rnd[a] - rnd[b] || a - b);
  const out = Array.from(values);
  for (let j = 0; j < n; j++) if (key(ordered[j]) < numSegments) out[ordered[j]] = values[shuffled[j]];
  return out;
}

/** Segment ids as permute_segment_ids builds them, for [O, I, S] weights. */
export function segmentIdsRef(w: ArrayLike<number>, mask: ArrayLike<number>, shape: number[], structure: string, sameSign: boolean): number[] {
  const O = shape.length >= 2 ? shape[0] : 1;
  const I = shape.length >= 2 ? shape[1] : 1;
  const S = w.length / (O * I);
  return Array.from(w, (v, i) => {
    if (mask[i] === 0) return FIXED;
    const o = Math.floor(i / (I * S)), c = Math.floor(i / S) % I, k = i % S;
    let id = structure === 'filter' ? o : structure === 'input_channel' ? c : structure === 'kernel_position' ? k : 0;
    if (sameSign) id = 2 * id + (v < 0 ? 1 : 0);
    return id;
  });
}

/** Sorted multiset of values per segment id (fixed positions by position). */
export function segmentMultisets(values: ArrayLike<number>, seg: ArrayLike<number>, numSegments: number): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (let i = 0; i < values.length; i++) {
    const k = seg[i] >= numSegments ? `fixed@${i}` : `s${seg[i]}`;
    let l = m.get(k);
    if (!l) m.set(k, (l = []));
    l.push(values[i]);
  }
  for (const l of m.values()) l.sort((a, b) => a - b);
  return m;
}
