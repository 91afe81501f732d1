// Float64 references for the reductions. Each returns the value and the sum of |terms|, which bounds
// the rounding error of any f32 summation order (error <= depth * eps * sum|terms|).
export interface RefSum {
  value: number;
  scale: number;
}

function accumulate(n: number, term: (i: number) => number, mask?: ArrayLike<number>): RefSum {
  let value = 0, scale = 0;
  for (let i = 0; i < n; i++) {
    if (mask && mask[i] === 0) continue;
    const t = term(i);
    value += t;
    scale += Math.abs(t);
  }
  return { value, scale };
}

export const sumRef = (a: ArrayLike<number>, m?: ArrayLike<number>) => accumulate(a.length, (i) => a[i], m);
export const sumAbsRef = (a: ArrayLike<number>, m?: ArrayLike<number>) => accumulate(a.length, (i) => Math.abs(a[i]), m);
export const sumSquaresRef = (a: ArrayLike<number>, m?: ArrayLike<number>) => accumulate(a.length, (i) => a[i] * a[i], m);
export const dotRef = (a: ArrayLike<number>, b: ArrayLike<number>, m?: ArrayLike<number>) => accumulate(a.length, (i) => a[i] * b[i], m);
export const squaredDistanceRef = (a: ArrayLike<number>, b: ArrayLike<number>, m?: ArrayLike<number>) => accumulate(a.length, (i) => (a[i] - b[i]) ** 2, m);
export const signChangesRef = (a: ArrayLike<number>, b: ArrayLike<number>, m?: ArrayLike<number>) => accumulate(a.length, (i) => (Math.sign(a[i]) !== Math.sign(b[i]) ? 1 : 0), m).value;
