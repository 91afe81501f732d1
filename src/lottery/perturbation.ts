// Statistics of a perturbation of the rewinding state: Delta = w' - w_k over the unpruned weights of
// every prunable layer, raw and normalised by the layer's initialisation scale sigma_l = sqrt(2/fan_in)
// (paper.md, Fig. 8), per layer and count-weighted over layers. Computed on the GPU with the
// deterministic reductions; one readback for all layers.
import { dot, squaredDistance, sum } from '../ops/reduce.js';
import type { Network } from '../nn/network.js';
import { Scope } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';

export interface DeltaStats {
  mean: number;
  std: number;
  mean_normalized: number;
  std_normalized: number;
  count: number;
}

export interface PerturbationStats extends DeltaStats {
  layers: Record<string, DeltaStats & { sigma: number }>;
}

export function initSigma(shape: readonly number[]): number {
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  return Math.sqrt(2 / fanIn);
}

/** Delta statistics between the network's current weights and `reference` (w_k), over `names`. */
export async function perturbationStats(network: Network, reference: Map<string, Float32Array>, names: string[]): Promise<PerturbationStats> {
  const gpu = network.gpu;
  const scope = Scope.open();
  // Per layer: sum(w' * m), sum(w_k * m), sum((w' - w_k)^2 * m), count = sum(m * m).
  const sums = Tensor.empty(gpu, [names.length * 4], 'f32', 'perturbation.sums');
  names.forEach((name, l) => {
    const e = network.params.get(name);
    const ref = Tensor.fromArray(gpu, reference.get(name)!, e.shape, 'f32', `${name}@k`);
    sum(e.value, { mask: e.mask, into: sums, at: 4 * l });
    sum(ref, { mask: e.mask, into: sums, at: 4 * l + 1 });
    squaredDistance(e.value, ref, { mask: e.mask, into: sums, at: 4 * l + 2 });
    dot(e.mask, e.mask, { into: sums, at: 4 * l + 3 });
  });
  const s = await sums.readF32();
  scope.close();
  const layers: PerturbationStats['layers'] = {};
  let count = 0, sumD = 0, sumD2 = 0, sumN = 0, sumN2 = 0;
  names.forEach((name, l) => {
    const [sw, sk, sq, n] = [s[4 * l], s[4 * l + 1], s[4 * l + 2], Math.round(s[4 * l + 3])];
    const sigma = initSigma(network.params.get(name).shape);
    const mean = n ? (sw - sk) / n : 0;
    const variance = n ? Math.max(0, sq / n - mean * mean) : 0;
    layers[name] = { mean, std: Math.sqrt(variance), mean_normalized: mean / sigma, std_normalized: Math.sqrt(variance) / sigma, count: n, sigma };
    count += n;
    sumD += sw - sk;
    sumD2 += sq;
    sumN += (sw - sk) / sigma;
    sumN2 += sq / (sigma * sigma);
  });
  const mean = count ? sumD / count : 0;
  const meanN = count ? sumN / count : 0;
  return {
    mean,
    std: count ? Math.sqrt(Math.max(0, sumD2 / count - mean * mean)) : 0,
    mean_normalized: meanN,
    std_normalized: count ? Math.sqrt(Math.max(0, sumN2 / count - meanN * meanN)) : 0,
    count,
    layers,
  };
}
