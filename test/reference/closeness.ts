// The comparison rule of every GPU-vs-reference check: |a - e| <= atol + rtol * |e| elementwise,
// NaN and +-Infinity always out of tolerance. Plain (no vitest), so bench/gpu/check.ts, which runs
// on machines without the test suite, applies the same rule as test/helpers/compare.ts.

export interface Closeness {
  n: number;
  /** Elements out of tolerance (a length mismatch counts the missing or extra ones). */
  bad: number;
  nan: number;
  /** The element furthest out of tolerance (or closest to it when none is out), -1 when empty. */
  worst_index: number;
  worst_got: number | null;
  worst_expected: number | null;
}

export function closeness(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number): Closeness {
  let bad = 0;
  let nan = 0;
  let worst = -1;
  let worstExcess = -Infinity;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const excess = Number.isFinite(a) ? Math.abs(a - e) - (atol + rtol * Math.abs(e)) : Infinity;
    if (!Number.isFinite(a)) nan++;
    if (excess > 0) bad++;
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (actual.length !== expected.length) bad += Math.abs(actual.length - expected.length);
  return { n: expected.length, bad, nan, worst_index: worst, worst_got: worst >= 0 ? actual[worst] : null, worst_expected: worst >= 0 ? expected[worst] : null };
}
