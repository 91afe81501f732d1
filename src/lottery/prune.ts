// Global magnitude pruning (IMP, paper.md): at level L >= 1, remove ceil(f * remaining) of the
// remaining prunable weights with the smallest |w|, over all prunable tensors at once, using level
// L-1's final weights, intersected with L-1's mask. Ties are broken by position in the concatenated
// weights (model order, then row-major), so the remaining count is exact and the result deterministic.
//
// Cost: one pass to collect |w| of the unpruned weights as f32 bit patterns (for non-negative floats
// the u32 order is the float order), one typed-array sort of that copy to find the threshold,
// one pass to mark. O(n log n), fine for 11M weights (about a second).

export interface PruneInput {
  name: string;
  weights: Float32Array;
  mask: Float32Array;
}

export function pruneCount(remaining: number, fraction: number): number {
  if (!(fraction >= 0 && fraction <= 1)) throw new Error(`pruning fraction ${fraction} must be in [0, 1]`);
  return Math.min(remaining, Math.ceil(fraction * remaining - 1e-9));
}

/** New masks (same names and sizes) after pruning `fraction` of the remaining weights globally. */
export function magnitudePrune(tensors: PruneInput[], fraction: number): Map<string, Float32Array> {
  let remaining = 0;
  for (const t of tensors) {
    if (t.weights.length !== t.mask.length) throw new Error(`prune: ${t.name} has ${t.weights.length} weights and ${t.mask.length} mask entries`);
    for (let i = 0; i < t.mask.length; i++) {
      const m = t.mask[i];
      if (m !== 0 && m !== 1) throw new Error(`prune: mask of ${t.name} holds ${m}; masks must be 0/1`);
      remaining += m;
    }
  }
  const toPrune = pruneCount(remaining, fraction);
  const bits = new Uint32Array(remaining);
  const view = new Uint32Array(1);
  const f = new Float32Array(view.buffer);
  let k = 0;
  for (const t of tensors) {
    for (let i = 0; i < t.weights.length; i++) {
      if (t.mask[i] === 0) continue;
      f[0] = Math.abs(t.weights[i]);
      bits[k++] = view[0];
    }
  }
  const out = new Map<string, Float32Array>();
  for (const t of tensors) out.set(t.name, t.mask.slice());
  if (toPrune === 0) return out;
  const sorted = bits.slice().sort();
  const threshold = sorted[toPrune - 1];
  let below = 0;
  for (let i = 0; i < toPrune; i++) if (sorted[i] < threshold) below++;
  let tiesToPrune = toPrune - below;
  k = 0;
  for (const t of tensors) {
    const m = out.get(t.name)!;
    for (let i = 0; i < t.weights.length; i++) {
      if (t.mask[i] === 0) continue;
      const b = bits[k++];
      if (b < threshold) m[i] = 0;
      else if (b === threshold && tiesToPrune > 0) {
        m[i] = 0;
        tiesToPrune--;
      }
    }
  }
  return out;
}

export interface Sparsity {
  total: number;
  remaining: number;
  fraction_remaining: number;
}

export function sparsityOf(masks: Iterable<Float32Array>): Sparsity {
  let total = 0;
  let remaining = 0;
  for (const m of masks) {
    total += m.length;
    for (const v of m) remaining += v;
  }
  return { total, remaining, fraction_remaining: total ? remaining / total : 0 };
}
