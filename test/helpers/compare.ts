// Compare GPU output with a float64 reference: |a - e| <= atol + rtol * |e| everywhere, no NaN.
// The message names the worst element so a failure says where and by how much.
import { expect } from 'vitest';

export interface Tolerance {
  atol?: number;
  rtol?: number;
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance = {}, label = ''): void {
  const atol = tol.atol ?? 1e-5;
  const rtol = tol.rtol ?? 1e-4;
  expect(actual.length, `${label}: length`).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  let bad = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const excess = Number.isFinite(a) ? Math.abs(a - e) - (atol + rtol * Math.abs(e)) : Infinity;
    if (excess > 0 || Number.isNaN(a)) {
      bad++;
      if (excess > worstExcess || worst < 0) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  if (bad > 0) {
    expect.fail(`${label}: ${bad}/${expected.length} elements out of tolerance (atol ${atol}, rtol ${rtol}); worst at [${worst}]: got ${actual[worst]}, expected ${expected[worst]}`);
  }
}
