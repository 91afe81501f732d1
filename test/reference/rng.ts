// Float64 references for the RNG tests: Philox known-answer vectors (Random123's kat_vectors) and
// sample statistics.

/** Random123 kat_vectors for philox4x32-10: [counter, key, expected output]. */
export const PHILOX_KAT: [number[], number[], number[]][] = [
  [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
  [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
  [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
];

export function moments(x: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let s = 0, min = Infinity, max = -Infinity;
  for (let i = 0; i < x.length; i++) {
    s += x[i];
    min = Math.min(min, x[i]);
    max = Math.max(max, x[i]);
  }
  const mean = s / x.length;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (x[i] - mean) ** 2;
  return { mean, std: Math.sqrt(v / (x.length - 1)), min, max };
}

/** Pearson chi-square statistic of observed counts against equal expected counts. */
export function chiSquareUniform(counts: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  const e = total / counts.length;
  let chi = 0;
  for (let i = 0; i < counts.length; i++) chi += (counts[i] - e) ** 2 / e;
  return chi;
}

/**
 * A generous upper bound for a chi-square statistic with `dof` degrees of freedom: mean + 6 standard
 * deviations (Wilson-Hilferty puts the failure rate of a correct generator far below 1e-6).
 */
export function chiSquareBound(dof: number): number {
  return dof + 6 * Math.sqrt(2 * dof) + 10;
}
