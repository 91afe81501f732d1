// Compare GPU output with a float64 reference: |a - e| <= atol + rtol * |e| everywhere, no NaN.
// The message names the worst element so a failure says where and by how much.
import { expect } from 'vitest';
import { closeness } from '../reference/closeness.js';

export interface Tolerance {
  atol?: number;
  rtol?: number;
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance = {}, label = ''): void {
  const atol = tol.atol ?? 1e-5;
  const rtol = tol.rtol ?? 1e-4;
  expect(actual.length, `${label}: length`).toBe(expected.length);
  const c = closeness(actual, expected, atol, rtol);
  if (c.bad > 0) {
    expect.fail(`${label}: ${c.bad}/${c.n} elements out of tolerance (atol ${atol}, rtol ${rtol}); worst at [${c.worst_index}]: got ${c.worst_got}, expected ${c.worst_expected}`);
  }
}

/** The raw bits of float32 values, to compare two results for bit-for-bit equality. */
export function bitsOf(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}
